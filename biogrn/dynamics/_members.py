r"""Dormand-Prince 5(4) with a step size and an error test per member of a batch.

torchdiffeq's `odeint` advances a batch with one step size, chosen by one root-mean-square error
over every member: the member that needs the smallest steps sets them for all, and a member whose
error is large can hide in the mean. Here each member $i$ of `y` `(members, variables)` keeps its
own time $t_i$ and step $h_i$. One Runge-Kutta step for all of them at once,

$$y_i^{(5)} = y_i + h_i \sum_j b_j k_{ij}, \qquad
  \mathrm{err}_i = \Big\lVert \frac{h_i \sum_j e_j k_{ij}}
  {a_{tol} + r_{tol} \max(|y_i|, |y_i^{(5)}|)} \Big\rVert_{\mathrm{rms}},$$

is accepted for the members with $\mathrm{err}_i < 1$, and every member's next step is
$h_i \cdot \min(10, \max(0.2, 0.9\,\mathrm{err}_i^{-1/5}))$, and no larger than $h_i$ on a
rejection and on the step after one (the controller of Hairer, Norsett and Wanner, as scipy's RK45
uses it: each member's steps are the ones RK45 takes for it alone). Steps do not stop at the
output times: the states there come from Dormand and Prince's continuous extension of the step
that passes them, a polynomial of order 4 in $\theta = (t_{out} - t_i) / h_i$ (`_interpolate`), as
in scipy's RK45 and torchdiffeq's dopri5, so many output times cost no extra steps and the steps,
hence the last state, do not depend on them. Only the last output time is landed on. Members
that reach it leave the batch: when a quarter of the batch has finished, the rest is gathered
into a smaller one (the field too, through its `subset(index)`), so the work is the sum of each
member's own steps, not the batch size times the slowest member's. Every decision of an
iteration (outputs passed, a step underflowed, members finished or at rest) waits on one read of
a few flags from the device, so a GPU runs an iteration's kernels without waiting in between.

The field must be autonomous or read `t` as each member's own time, shape `(members, 1)`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from biogrn.core import DivergedError
from biogrn.dynamics._steady_states import settle_at_rest

__all__ = ["check_finite_members", "integrate_members"]

_NODES = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0)
_STAGES = (
    (),
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
)
_WEIGHTS = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84)
_ERROR = (-71 / 57600, 0.0, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525, 1 / 40)  # y5 - y4, k7 last
_SAFETY, _MIN_FACTOR, _MAX_FACTOR = 0.9, 0.2, 10.0
# Dormand and Prince's continuous extension of order 4 (Shampine 1986; scipy's RK45 uses it): row j gives
# stage k_j's weight for theta, theta^2, theta^3, theta^4; each row sums to the step's weight b_j
_DENSE = (
    (1.0, -8048581381 / 2820520608, 8663915743 / 2820520608, -12715105075 / 11282082432),
    (0.0, 0.0, 0.0, 0.0),
    (0.0, 131558114200 / 32700410799, -68118460800 / 10900136933, 87487479700 / 32700410799),
    (0.0, -1754552775 / 470086768, 14199869525 / 1410260304, -10690763975 / 1880347072),
    (0.0, 127303824393 / 49829197408, -318862633887 / 49829197408, 701980252875 / 199316789632),
    (0.0, -282668133 / 205662961, 2019193451 / 616988883, -1453857185 / 822651844),
    (0.0, 40617522 / 29380423, -110615467 / 29380423, 69997945 / 29380423),
)
# stop_at_rest: the chord method runs once 1/64 of the batch waits for it, or every 16 iterations
_CHORD_SHARE, _CHORD_EVERY = 64, 16
_COMPACT_BELOW = 0.75  # gather the unfinished members once fewer than this share of the batch remain


def _combine(coefficients, stages: list[Tensor]) -> Tensor:
    total = None
    for c, k in zip(coefficients, stages):
        if c == 0.0:
            continue
        total = k * c if total is None else total.add_(k, alpha=c)
    return total


def _rms(x: Tensor) -> Tensor:
    return x.square().mean(dim=1, keepdim=True).sqrt_()


def _initial_step(field, t: Tensor, y: Tensor, f0: Tensor, rtol: float, atol: float) -> Tensor:
    r"""Hairer, Norsett and Wanner's starting step (II.4) per member: $(0.01 / \max(d_1, d_2))^{1/5}$ <= $100 h_0$."""
    scale = atol + y.abs() * rtol
    d0, d1 = _rms(y / scale), _rms(f0 / scale)
    h0 = torch.where((d0 < 1e-5) | (d1 < 1e-5), torch.full_like(d0, 1e-6), 0.01 * d0 / d1)
    f1 = field(t + h0, y + h0 * f0)
    d2 = _rms((f1 - f0) / scale) / h0
    largest = torch.maximum(d1, d2)
    h1 = torch.where(largest <= 1e-15, torch.maximum(torch.full_like(h0, 1e-6), h0 * 1e-3), (0.01 / largest) ** 0.2)
    return torch.minimum(100 * h0, h1)


def _expand(first: Tensor, stop: Tensor) -> tuple[Tensor, Tensor]:
    """For rows r with index ranges first[r] <= i < stop[r]: every (r, i), as two flat tensors."""
    counts = stop - first
    rows_of = torch.repeat_interleave(torch.arange(len(first), device=first.device), counts)
    starts = counts.cumsum(0) - counts
    return rows_of, torch.arange(len(rows_of), device=first.device) - starts[rows_of] + first[rows_of]


def _interpolate(
    dense: Tensor, stages: list[Tensor], y: Tensor, proposal: Tensor, step: Tensor, offset: Tensor, rows_of: Tensor
) -> Tensor:
    r"""The states at `offset` `(points, 1)` into the step of row `rows_of`:
    $y + h \sum_{p=1}^{4} \theta^p \sum_j k_j P_{jp}$ with $\theta = \text{offset} / h$ and $P$ =
    `dense` (`_DENSE` as a tensor), and the step's own result where the offset is the whole step."""
    weights = torch.stack(stages, dim=-1) @ dense  # (rows, variables, 4)
    h = step[rows_of]
    theta = offset / h
    powers = torch.cat([theta, theta.square()], dim=1)
    powers = torch.cat([powers, powers * theta.square()], dim=1)  # theta, theta^2, theta^3, theta^4
    states = torch.addcmul(y[rows_of], h, (weights[rows_of] @ powers.unsqueeze(2)).squeeze(2))
    return torch.where(offset == h, proposal[rows_of], states)


class _Rows:
    """The field of some members of `field`'s batch, for a field without `subset`: the others stay at `y`."""

    def __init__(self, field, t: Tensor, y: Tensor, rows: Tensor):
        self.field, self.t, self.y, self.rows = field, t, y, rows

    def __call__(self, t, y_rows: Tensor) -> Tensor:
        return self.field(self.t, self.y.index_put((self.rows,), y_rows))[self.rows]


def _field_of(field, rows: Tensor, t: Tensor, y: Tensor):
    return field.subset(rows) if hasattr(field, "subset") else _Rows(field, t, y, rows)


def _settles_by(y: Tensor, steady: Tensor, scale: Tensor, decay: Tensor, horizon: Tensor) -> Tensor:
    r"""Whether each member will be within its tolerance of its steady state by its next output:
    $d\, e^{-\lambda \Delta t / 2} \le 1$ for $d = \lVert (y - y^*) / \text{scale} \rVert_{\mathrm{rms}}$,
    the slowest decay rate $\lambda$ halved against the linearisation's error; $d \le 1$ at any horizon."""
    distance = _rms((y - steady) / scale)
    return (distance.log() <= 0.5 * decay * horizon).squeeze(1)


def check_finite_members(solution: Tensor, who: str) -> None:
    """Raise `DivergedError` naming how many members of `solution` `(times, members, variables)` left
    the finite numbers, and the first of them; nothing when every state is finite."""
    diverged = ~torch.isfinite(solution).all(dim=0).all(dim=1)
    if bool(diverged.any()):
        raise DivergedError(
            f"{who}: {int(diverged.sum())} of {len(diverged)} member(s) left the finite numbers, the first "
            f"member {int(diverged.nonzero()[0])}"
        )


def integrate_members(
    field,
    y0: Tensor,
    times: Tensor,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    max_steps: int = 100_000,
    stop_at_rest: bool = False,
) -> Tensor:
    r"""Solve $\dot y = f(t, y)$ for every member from `times[0]`, each with its own steps.

    Args:
        field: `field(t, y)` for `y` `(members, variables)`; with a `subset(index)` method giving
            the field of those members, finished members leave the batch (else they ride along).
        y0: `(members, variables)`.
        times: increasing output times, the first being the start.
        rtol, atol: each member's error test, as scipy's `solve_ivp` reads them.
        max_steps: attempted steps (iterations of the batch) before giving up.
        stop_at_rest: end each member once it is within its tolerance of a stable steady state,
            the steady-state event of GRiNS and diffrax made exact. After an accepted step whose
            field is within the tolerance, $\lVert f(y) / (a_{tol} + r_{tol}|y|)
            \rVert_{\mathrm{rms}} \le 1$, the chord method (Newton's with one Jacobian) finds
            the steady state $y^*$ there (`settle_at_rest`, one `torch.func.jacrev` per call:
            the field must be differentiable by it; it runs once 1/64 of the batch waits for
            it, or every 16 iterations). If $y^*$ is stable, the member ends at the first
            accepted step from which it will be within its tolerance of $y^*$ at its next
            output time, $d\,e^{-\lambda \Delta t / 2} \le 1$ for $d = \lVert (y - y^*) /
            (a_{tol} + r_{tol}|y|) \rVert_{\mathrm{rms}}$ (the norm of the step's own error
            test), $\lambda$ the slowest decay rate of the Jacobian and $\Delta t$ the time to
            that output (a slow decay leaves $y$ many tolerances away when its field first is
            within one), and its later outputs are $y^*$. By a saddle, or where the chord
            method fails, it goes on and is tested again once its time since `times[0]` has
            doubled. A member placed by a stable state that then moves elsewhere runs to the end.

    Returns:
        `(len(times), members, variables)`, like `torchdiffeq.odeint`.

    Raises:
        ValueError: `times` not increasing, `y0` not two-dimensional or not finite (naming the
            member), a tolerance not above 0, or `max_steps` below 1.
        DivergedError: a member's state left the finite numbers, or its step underflowed (naming
            the member).
        RuntimeError: `max_steps` ran out (naming how many members were unfinished).
    """
    if max_steps < 1:
        raise ValueError(f"max_steps: must be >= 1, got {max_steps}")
    if not (rtol > 0 and atol > 0):  # atol = 0 would divide 0 by 0 for a variable that stays at 0
        raise ValueError(f"rtol, atol: both must be > 0, got {rtol}, {atol}")
    if y0.dim() != 2:
        raise ValueError(f"y0: expected (members, variables), got shape {tuple(y0.shape)}")
    if times.dim() != 1 or len(times) < 1 or (len(times) > 1 and not bool((times.diff() > 0).all())):
        raise ValueError("times: expected a one-dimensional, strictly increasing tensor")
    finite = torch.isfinite(y0).all(dim=1)
    if not bool(finite.all()):
        raise ValueError(f"y0: member {int((~finite).nonzero()[0])} has a state that is not finite")
    times = times.to(y0)
    n_members = y0.shape[0]
    out = y0.new_empty(len(times), *y0.shape)
    out[0] = y0
    if len(times) == 1 or n_members == 0:
        return out
    members = torch.arange(n_members, device=y0.device)
    last = len(times) - 1
    end = times[last]
    y = y0.clone()
    t = times[0].expand(n_members, 1).clone()
    output = torch.ones(n_members, dtype=torch.long, device=y0.device)  # index of the next output time
    k1 = field(t, y)
    h = _initial_step(field, t, y, k1, rtol, atol)
    retried = torch.zeros_like(h, dtype=torch.bool)
    dense = torch.tensor(_DENSE, dtype=y0.dtype, device=y0.device)
    working = n_members
    # stop_at_rest: each member's stable steady state and its slowest decay rate, once the chord method has found
    # them (`known`), and the time since times[0] before which a member where it found none is not tested again
    steady, known = torch.zeros_like(y), torch.zeros(n_members, dtype=torch.bool, device=y0.device)
    decay = torch.zeros_like(h)
    next_rest_test = torch.zeros_like(h)
    iterations_since_chord = 0
    for _ in range(max_steps):
        active = (output <= last).unsqueeze(1)
        remaining = end - t  # 0 for a finished member that rides along: its step is 0
        lands = h >= remaining
        step = torch.where(lands, remaining, h)
        stages = [k1]
        for node, row in zip(_NODES[1:], _STAGES[1:]):
            stages.append(field(t + node * step, torch.addcmul(y, step, _combine(row, stages))))
        proposal = torch.addcmul(y, step, _combine(_WEIGHTS, stages))
        y_before = y
        k7 = field(t + step, proposal)
        stages.append(k7)
        error = _combine(_ERROR, stages).mul_(step)
        scale = torch.maximum(y.abs(), proposal.abs()).mul_(rtol).add_(atol)
        error_norm = _rms(error.div_(scale)).nan_to_num_(nan=float("inf"))  # a NaN trial step is retried smaller
        accept = error_norm < 1.0
        reached = torch.where(lands, end, t + step)
        moved = (accept & active).squeeze(1)
        after = torch.searchsorted(times, reached, right=True).squeeze(1)  # outputs up to `reached`
        passed = moved & (after > output)
        y = torch.where(accept, proposal, y)
        k1 = torch.where(accept, k7, k1)
        t_before, t = t, torch.where(accept, reached, t)
        factor = (error_norm.clamp_min(1e-30) ** -0.2).mul_(_SAFETY).clamp_(_MIN_FACTOR, _MAX_FACTOR)
        h = step * torch.where(accept & ~retried, factor, factor.clamp_max(1.0))  # no growth right after a rejection
        retried = ~accept
        # scipy's floor, ten floating-point spacings at t: a float32 member can need steps of 1e-6 at t = 0
        underflow = (active & ~accept & (step <= 10 * (torch.nextafter(t, end) - t))).squeeze(1)
        output_next = torch.where(passed, after, output)
        flags = [passed.any(), underflow.any(), (output_next <= last).sum()]
        if stop_at_rest:
            ready = moved & (output_next <= last)
            y_scale = y.abs().mul_(rtol).add_(atol)
            horizon = times[output_next.clamp_max(last)].unsqueeze(1) - t  # to the next output to be written
            near = ready & known & _settles_by(y, steady, y_scale, decay, horizon)
            candidates = ready & ~known & (t - times[0] >= next_rest_test).squeeze(1)
            candidates &= _rms(k1 / y_scale).squeeze(1) <= 1.0
            flags += [candidates.sum(), near.any()]
        # one read from the device per iteration: every decision below waits on these flags
        any_passed, any_underflow, n_unfinished, *rest_flags = torch.stack([f.long() for f in flags]).tolist()
        if any_underflow:
            member, when = int(members[underflow][0]), float(t[underflow][0])
            raise DivergedError(
                f"integrate_members: the step of member {member} underflowed at t = {when:g}; its field is not "
                "finite there or too stiff for an explicit method"
            )
        if any_passed:
            rows = passed.nonzero().squeeze(1)
            rows_of, index = _expand(output[rows], after[rows])
            row = rows[rows_of]
            offset = times[index].unsqueeze(1) - t_before[row]
            stages_of = [k[rows] for k in stages]
            states = _interpolate(dense, stages_of, y_before[rows], proposal[rows], step[rows], offset, rows_of)
            out[index, members[row]] = states
        output = output_next
        if stop_at_rest:
            n_candidates, any_near = rest_flags
            iterations_since_chord += 1
            # the chord method in batches: each call costs a Jacobian's fixed overhead, waiting a candidate a few steps
            if n_candidates * _CHORD_SHARE >= working or (n_candidates and iterations_since_chord >= _CHORD_EVERY):
                iterations_since_chord = 0
                rows = candidates.nonzero().squeeze(1)
                states, stable, rates = settle_at_rest(_field_of(field, rows, t, y), y[rows], rtol, atol)
                steady[rows], known[rows], decay[rows] = states, stable, rates.unsqueeze(1)
                next_rest_test[rows] = 2 * (t[rows] - times[0])  # by a saddle, or the chord failed: later
                near |= candidates & known & _settles_by(y, steady, y_scale, decay, horizon)
                any_near = bool(near.any())
            if any_near:
                rows = near.nonzero().squeeze(1)
                rows_of, index = _expand(output[rows], torch.full_like(rows, last + 1))
                out[index, members[rows[rows_of]]] = steady[rows[rows_of]]
                output[rows] = last + 1
                t[rows] = end
                n_unfinished -= len(rows)  # each was unfinished (`ready`), and is now done
        if n_unfinished == 0:
            check_finite_members(out, "integrate_members")
            return out
        if n_unfinished < _COMPACT_BELOW * working and hasattr(field, "subset"):
            keep = (output <= last).nonzero().squeeze(1)
            field = field.subset(keep)
            y, k1, t, h, retried, output, members = (x[keep] for x in (y, k1, t, h, retried, output, members))
            steady, known, decay, next_rest_test = steady[keep], known[keep], decay[keep], next_rest_test[keep]
            working = n_unfinished
    raise RuntimeError(
        f"integrate_members: {n_unfinished} of {n_members} members had not reached t = {float(times[-1]):g} "
        f"after max_steps = {max_steps} steps; raise max_steps, or loosen rtol/atol"
    )
