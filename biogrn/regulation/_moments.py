r"""The drive's mean square gradient read from the optimizer's own second moment, at no cost per step.

Adam (AdamW, NAdam, RAdam), RMSprop and Adagrad keep, for every entry, a running second moment of
the gradient they step with,

$$v_t = \beta\, v_{t-1} + c\, g_t^2 \qquad (\text{Adam: } \beta = \beta_2,\ c = 1 - \beta_2;\
\text{RMSprop: } \beta = \alpha,\ c = 1 - \alpha;\ \text{Adagrad: } \beta = c = 1).$$

From a snapshot $S = v_0$ taken when an interval starts, after $T$ optimizer steps

$$v_T - \beta^T S = c \sum_{t=1}^{T} \beta^{T-t} g_t^2 ,$$

so one pass at the end of the interval gives the weighted mean square gradient

$$\overline{g^2} = \frac{\sum_t \beta^{T-t} g_t^2}{\sum_t \beta^{T-t}} = \frac{v_T - \beta^T S}{c\,W_T},
\qquad c\,W_T = 1 - \beta^T \ (\beta < 1), \quad c\,W_T = T \ (\beta = 1),$$

which the recording path (`GradientRecord`) would get only by reading every gradient once more at
every step. Adagrad's is the plain mean; Adam's weights lie in $[\beta_2^{T-1}, 1]$ (0.952 to 1 over
the default interval of 50 steps at $\beta_2 = 0.999$): the recent steps count up to 5% more.
$g$ is the gradient the optimizer steps with: with Adam's (not AdamW's) `weight_decay` it includes
$\lambda w$, which is zero on pruned connections. $T$ is the optimizer's own step count, so a step
that GradScaler skips adds nothing. A pruned connection's dense gradient enters $v$ as it enters
the recorded sum: the optimizer steps the stored weight, which the regulator then re-zeroes.

When the regulator resets the moments of changed connections within an interval, `rebase` first
moves the interval's origin to that step, $S \leftarrow \beta^s S - v_s$ on the reset entries and
$S \leftarrow \beta^s S$ elsewhere, and carries the weight $c\,W_s$ of the steps before it, which keeps
the identity above exact with no negative power of $\beta$.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["OptimizerMoments", "second_moment_of"]

# optimizer type -> (state key of the second moment, its decay beta from the param group, its gain c)
_SECOND_MOMENTS = {
    torch.optim.Adam: ("exp_avg_sq", lambda g: g["betas"][1], lambda beta: 1.0 - beta),
    torch.optim.AdamW: ("exp_avg_sq", lambda g: g["betas"][1], lambda beta: 1.0 - beta),
    torch.optim.NAdam: ("exp_avg_sq", lambda g: g["betas"][1], lambda beta: 1.0 - beta),
    torch.optim.RAdam: ("exp_avg_sq", lambda g: g["betas"][1], lambda beta: 1.0 - beta),
    torch.optim.RMSprop: ("square_avg", lambda g: g["alpha"], lambda beta: 1.0 - beta),
    torch.optim.Adagrad: ("sum", lambda g: 1.0, lambda beta: 1.0),
}


def unwrap_optimizer(optimizer: object) -> torch.optim.Optimizer | None:
    """The torch optimizer inside wrappers that keep it as `.optimizer` (Accelerate's, Lightning's)."""
    seen = 0
    while optimizer is not None and type(optimizer) not in _SECOND_MOMENTS and seen < 4:
        optimizer = getattr(optimizer, "optimizer", None)
        seen += 1
    return optimizer if type(optimizer) in _SECOND_MOMENTS else None


def second_moment_of(optimizer: object) -> str | None:
    """Why `optimizer` cannot give the drive its mean square gradient, or None when it can.

    Exactly the types above: a subclass may change the update, so it is not trusted.
    """
    if unwrap_optimizer(optimizer) is None:
        names = ", ".join(sorted(t.__name__ for t in _SECOND_MOMENTS))
        return f"{type(optimizer).__name__} keeps no second moment biogrn can read (it reads {names})"
    return None


def host_number(step: float | Tensor) -> float | Tensor:
    """A step count kept on the host (the default) as a float, read for free; one kept on a device
    (capturable or fused CUDA optimizers) stays a tensor there, so that reading it syncs nothing."""
    if torch.is_tensor(step) and step.device.type == "cpu":
        return float(step)
    return step


class OptimizerMoments:
    r"""One regulated weight's interval of $g^2$, from its optimizer's second moment.

    Args:
        optimizer: one of the optimizers `second_moment_of` accepts (or a wrapper of one).
        param: the stored weight it steps.
        snapshot: a weight-shaped buffer for $S$ (the record's own; it holds $S$ between intervals
            and the interval's weighted sum while the drive reads it).
    """

    def __init__(self, optimizer: torch.optim.Optimizer, param: Tensor, snapshot: Tensor):
        inner = unwrap_optimizer(optimizer)
        if inner is None:
            raise ValueError(f"optimizer: {second_moment_of(optimizer)}")
        self.optimizer, self.param, self.snapshot = inner, param, snapshot
        self.key, self._decay, self._gain = _SECOND_MOMENTS[type(inner)]
        self.group = next(g for g in inner.param_groups if any(p is param for p in g["params"]))
        self.origin: float | Tensor = 0.0
        """The optimizer's step count when the interval (or its last `rebase`) began."""
        self.carried: float | Tensor = 0.0
        r"""$c\,W$ of the interval's steps before the origin, as of the origin (0 without a `rebase`)."""
        self.start()

    @property
    def beta(self) -> float:
        return float(self._decay(self.group))  # read each time: a schedule may change it

    def _moment(self) -> tuple[Tensor | None, float | Tensor]:
        """$v$ and the step count; (None, 0) before the optimizer's first step."""
        state = self.optimizer.state.get(self.param)
        if not state or self.key not in state:
            return None, 0.0
        return state[self.key], host_number(state["step"])

    def start(self) -> None:
        """Begin an interval here: $S = v$, origin = the step count."""
        v, step = self._moment()
        if v is None:
            self.snapshot.zero_()
        else:
            self.snapshot.copy_(v)
        self.origin = step.clone() if torch.is_tensor(step) else step
        self.carried = 0.0

    def _powers(self, step: float | Tensor) -> tuple[float | Tensor, float | Tensor]:
        r"""$\beta^T$ and $c\,W_T$ for the steps since the origin."""
        beta, steps = self.beta, step - self.origin
        if beta == 1.0:
            return 1.0, steps * self._gain(beta)
        power = beta**steps if not torch.is_tensor(steps) else torch.pow(beta, steps)
        return power, (1.0 - power) * self._gain(beta) / (1.0 - beta)

    def read(self) -> float | Tensor:
        r"""Write $v_T - \beta^T S$ over the snapshot and return $c\,W_T$ (0 when no step was taken).

        The snapshot is consumed: call `start` before the next interval.
        """
        v, step = self._moment()
        if v is None:
            self.snapshot.zero_()
            return 0.0
        power, weight = self._powers(step)
        weight = self.carried * power + weight
        if torch.is_tensor(power):
            torch.addcmul(v, self.snapshot, power, value=-1.0, out=self.snapshot)
        else:
            torch.add(v, self.snapshot, alpha=-power, out=self.snapshot)
        # the subtraction of two rounded moments may leave -ulp where the interval's gradient was zero
        self.snapshot.clamp_min_(0.0)
        return weight

    def rebase(self, reset: tuple[Tensor, ...] | Tensor, axis: int | None = None) -> None:
        r"""Move the interval's origin to this step before the moments at `reset` are zeroed.

        $S \leftarrow \beta^s S$, then $S \leftarrow S - v_s$ at `reset` (flat indices of the weight,
        or indices along `axis`: rows for unit genes, columns for input genes), so that
        $v_T - \beta^{T-s} S$ is still the interval's weighted sum.
        """
        v, step = self._moment()
        if v is None:
            return
        power, weight = self._powers(step)
        self.carried = self.carried * power + weight
        if torch.is_tensor(power) or power != 1.0:  # an update right after an integration moves nothing
            self.snapshot.mul_(power)
        if axis is not None:
            self.snapshot.index_add_(axis, reset, v.index_select(axis, reset), alpha=-1.0)
        else:
            index = torch.unravel_index(reset, self.snapshot.shape)
            self.snapshot.index_put_(index, v[index].neg(), accumulate=True)
        self.origin = step.clone() if torch.is_tensor(step) else step

    def state_dict(self) -> dict:
        values = {"origin": self.origin, "carried": self.carried}
        return {k: v.clone() if torch.is_tensor(v) else v for k, v in values.items()}

    def load_state_dict(self, state: dict) -> None:
        for key in ("origin", "carried"):
            value = state[key]
            setattr(self, key, value.to(self.param.device) if torch.is_tensor(value) else float(value))
