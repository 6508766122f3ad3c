r"""The gene state of a model and its Eq. 1 dynamics, integrated through torchdiffeq.

All genes of a model live in one flat state `y` of shape `(2, n_genes)`: row 0 is mRNA $m$,
row 1 is protein $p$. Each regulated layer owns a contiguous slice, so per-layer tensors are
views and one `torchdiffeq.odeint` call advances every gene of the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torchdiffeq
from torch import Tensor, nn

from biogrn.kinetics import Transcription

__all__ = ["METHODS", "MethodInfo", "GeneState", "GeneField", "check_stability", "integrate", "method_info"]


@dataclass(frozen=True)
class MethodInfo:
    r"""What biogrn needs to know of a torchdiffeq method.

    `decay_bound` is the largest $h\gamma_{max}$ at which a fixed step keeps the two-stage cascade
    $\dot m = f - \gamma_m m$, $\dot p = k_p m - \gamma_p p$ non-negative for any non-negative
    forcing $f$, with pure decay non-increasing; `None` for adaptive methods, which choose $h$.
    For a Runge-Kutta method with stability polynomial $R$ the step map is $R(hA)$ with $A$
    lower-triangular, and the conditions on $[-h\gamma_{max}, 0]$ are $0 \le R \le 1$ (decay),
    $R' \ge 0$ (the off-diagonal $k_p$ coupling, a divided difference of $R$) and
    $\big((R(z) - 1)/z\big)' \ge 0$ (the forcing reaching $p$).
    """

    fixed: bool
    order: int
    decay_bound: float | None


# Runge-Kutta bounds from those conditions: Euler 1 (R >= 0); RK2 1 (R' = 1 + z >= 0);
# RK3 1.5 (((R - 1)/z)' = 1/2 + z/3 >= 0); RK4 1.596 (R' = the RK3 polynomial, root -1.5961).
# The Adams bounds were measured on torchdiffeq 0.2.5 (40 to 60 steps). tests/test_expression.py
# checks all of them against torchdiffeq, and that the Runge-Kutta ones are sharp.
METHODS: dict[str, MethodInfo] = {
    "euler": MethodInfo(True, 1, 1.0),
    "midpoint": MethodInfo(True, 2, 1.0),
    "heun2": MethodInfo(True, 2, 1.0),
    "heun3": MethodInfo(True, 3, 1.5),
    "rk4": MethodInfo(True, 4, 1.596),
    "explicit_adams": MethodInfo(True, 4, 0.013),
    "implicit_adams": MethodInfo(True, 4, 0.121),
    "fixed_adams": MethodInfo(True, 4, 0.121),
    "adaptive_heun": MethodInfo(False, 2, None),
    "fehlberg2": MethodInfo(False, 2, None),
    "bosh3": MethodInfo(False, 3, None),
    "dopri5": MethodInfo(False, 5, None),
    "dopri8": MethodInfo(False, 8, None),
}


def method_info(method: str) -> MethodInfo:
    """`METHODS[method]`.

    Raises:
        ValueError: the method is not one biogrn supports.
    """
    if method not in METHODS:
        raise ValueError(f"method: {method!r} is not supported; choose one of {sorted(METHODS)}")
    return METHODS[method]


def check_stability(method: str, step: float, rate: float, what: str = "step") -> None:
    """Refuse a fixed step outside the method's admissible region for the fastest decay rate.

    Raises:
        ValueError: `step * rate` exceeds `METHODS[method].decay_bound`.
    """
    bound = method_info(method).decay_bound
    if bound is not None and step * rate > bound:
        raise ValueError(
            f"{what}: {step:g} times the fastest decay rate {rate:g} is {step * rate:g}, outside the "
            f"admissible region of {method!r} (h*gamma <= {bound}); use a step <= {bound / rate:g} "
            f"(step_size, or a smaller dt * integrate_every), or an adaptive method such as 'dopri5'"
        )


class GeneState:
    """One flat buffer of $(m, p)$ for every gene, with a contiguous slice per regulated layer.

    Args:
        sizes: number of genes of each layer, in order.
        pools_per_layer: number of pools (units sharing a protein pool) of each layer; the genes of
            a layer are split into that many equal consecutive pools.
        device, dtype: where the state lives.
    """

    def __init__(self, sizes: list[int], pools_per_layer: list[int], device=None, dtype=torch.float32):
        if len(sizes) != len(pools_per_layer):
            raise ValueError("sizes and pools_per_layer must have one entry per layer")
        self.sizes = list(sizes)
        offsets = [0]
        for n in sizes:
            offsets.append(offsets[-1] + n)
        self.offsets = offsets
        self.slices = [slice(a, b) for a, b in zip(offsets[:-1], offsets[1:])]
        self.n_genes = offsets[-1]
        self.y = torch.zeros(2, self.n_genes, device=device, dtype=dtype)
        index, counts, first = [], [], 0
        for layer, (n, pools) in enumerate(zip(sizes, pools_per_layer)):
            if pools < 1 or n % pools:
                raise ValueError(f"layer {layer}: {n} genes cannot form {pools} equal pools")
            per_pool = n // pools
            index.append(torch.arange(first, first + pools, device=device).repeat_interleave(per_pool))
            counts.append(torch.full((pools,), per_pool, device=device, dtype=dtype))
            first += pools
        self.pool_index = torch.cat(index)
        self.pool_count = torch.cat(counts)

    @property
    def m(self) -> Tensor:
        return self.y[0]

    @property
    def p(self) -> Tensor:
        return self.y[1]

    def layer(self, i: int) -> tuple[Tensor, Tensor]:
        """Views of layer `i`'s mRNA and protein."""
        return self.y[0, self.slices[i]], self.y[1, self.slices[i]]

    def pooled_mean(self, x: Tensor) -> Tensor:
        """Mean of `x` over each gene's pool, gathered back to genes (shape `(n_genes,)`)."""
        sums = torch.zeros_like(self.pool_count).index_add_(0, self.pool_index, x)
        return (sums / self.pool_count)[self.pool_index]


class GeneField(nn.Module):
    r"""The Eq. 1 vector field for a flat state $y = (m, p)$ of shape `(2, n_genes)`.

    $$\dot m = f(m, p, u) - \gamma_m m,\qquad \dot p = k_p m - \gamma_p p.$$

    The drive $u$ (shape `(n_genes,)`) is held constant over an integration interval: call
    `set_drive(u)` before integrating, which also evaluates the state-free terms of $f$ once.
    """

    def __init__(self, transcription: Transcription, gamma_m: float, gamma_p: float, k_p: float,
                 state: GeneState | None = None):
        super().__init__()
        if transcription.uses_pool and state is None:
            raise ValueError("a PoolRepression term needs the GeneState that defines the pools")
        self.transcription = transcription
        self.gamma_m = float(gamma_m)
        self.gamma_p = float(gamma_p)
        self.k_p = float(k_p)
        self.state = state
        self._u: Tensor | None = None
        self._constant: tuple[Tensor, Tensor | None] | None = None

    @property
    def fastest_rate(self) -> float:
        return max(self.gamma_m, self.gamma_p)

    def set_drive(self, u: Tensor) -> None:
        self._u = u
        self._constant = self.transcription.constant_part(u)

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        if self._constant is None:
            raise RuntimeError("GeneField.set_drive(u) must be called before integrating")
        m, p = y[0], y[1]
        pool = self.state.pooled_mean(p) if self.transcription.uses_pool else None
        f = self.transcription.rate(m, p, self._u, self._constant, pool)
        return torch.stack((f - self.gamma_m * m, self.k_p * m - self.gamma_p * p))


def _solve(field: GeneField, y0: Tensor, drive: Tensor | None, t: Tensor, method: str, rtol: float,
           atol: float, options: dict) -> Tensor:
    if drive is not None:
        field.set_drive(drive)
    return torchdiffeq.odeint(field, y0, t, method=method, rtol=rtol, atol=atol, options=options)[-1]


_compiled_solve = None


def integrate(field: GeneField, y0: Tensor, duration: float, method: str = "rk4",
              step_size: float | None = None, rtol: float = 1e-5, atol: float = 1e-7,
              drive: Tensor | None = None, compile: bool = False) -> Tensor:
    """Advance the whole state by `duration` in one `torchdiffeq.odeint` call; returns $y(T)$.

    Fixed-step methods take one step over the interval unless `step_size` is given. With
    `compile`, the call (the field's state-free terms, every solver stage and torchdiffeq's
    bookkeeping) goes through `torch.compile`, which fuses the elementwise work of the stages;
    the first call pays the compilation.

    Raises:
        ValueError: unknown method, or a fixed step outside the method's admissible region.
    """
    global _compiled_solve
    info = method_info(method)
    options = {}
    if info.fixed:
        step = duration if step_size is None else min(step_size, duration)
        check_stability(method, step, field.fastest_rate)
        if step_size is not None:
            options["step_size"] = step_size
    t = torch.tensor([0.0, duration], dtype=y0.dtype, device=y0.device)
    solve = _solve
    if compile:
        if _compiled_solve is None:
            # static shapes: a recompile for a second model or size must not go dynamic (inductor
            # failed on a symbolic-size addmm on CUDA, torch 2.11)
            _compiled_solve = torch.compile(_solve, dynamic=False)
        solve = _compiled_solve
    with torch.no_grad():
        return solve(field, y0, drive, t, method, rtol, atol, options)
