r"""The Eq. 1 vector field over the flat gene state."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from biogrn.dynamics._kinetics import Transcription
from biogrn.dynamics._state import GeneState

__all__ = ["GeneField"]


class GeneField(nn.Module):
    r"""The Eq. 1 vector field for a flat state $y = (m, p)$ of shape `(2, n_genes)`.

    $$\dot m = f(m, p, u) - \gamma_m m,\qquad \dot p = k_p m - \gamma_p p.$$

    The drive $u$ (shape `(n_genes,)`) is held constant over an integration interval: call
    `set_drive(u)` before integrating, which also evaluates the state-free terms of $f$ once.
    """

    def __init__(
        self, transcription: Transcription, gamma_m: float, gamma_p: float, k_p: float, state: GeneState | None = None
    ):
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
        self._forcing: Tensor | None = None

    @property
    def fastest_rate(self) -> float:
        return max(self.gamma_m, self.gamma_p)

    def set_drive(self, u: Tensor) -> None:
        """Hold the drive $u$ for the next integration interval."""
        self._u = u
        self._constant = None

    def _constant_part(self) -> tuple[Tensor, Tensor | None]:
        if self._u is None:
            raise RuntimeError("GeneField.set_drive(u) must be called before integrating")
        if self._constant is None:  # the state-free terms of f, once per interval
            self._constant = self.transcription.constant_part(self._u)
        return self._constant

    @property
    def drive(self) -> Tensor | None:
        """The drive $u$ held for the current interval."""
        return self._u

    def forcing(self) -> Tensor:
        """$f(u)$ per gene, for a transcription that reads no state (the fused step's forcing).

        Written into a buffer the field keeps, so that an integration allocates nothing.
        """
        return self.transcription.constant_rate(self._drive_or_raise(), out=self._forcing_buffer())

    def scaled_forcing(self, overwrite_drive: bool = False) -> tuple[Tensor, float]:
        r"""$g$ and $c$ with $f(u) = c\,g$ per gene (`Transcription.scaled_constant_rate`).

        $g$ goes into the field's buffer, or with `overwrite_drive` over the drive itself (one
        buffer less to touch; the drive is then spent: `set_drive` must come before the next use).
        """
        u = self._drive_or_raise()
        if overwrite_drive:
            self._u, self._constant = None, None
            return self.transcription.scaled_constant_rate(u, out=u)
        return self.transcription.scaled_constant_rate(u, out=self._forcing_buffer())

    def _drive_or_raise(self) -> Tensor:
        if self._u is None:
            raise RuntimeError("GeneField.set_drive(u) must be called before integrating")
        return self._u

    def _forcing_buffer(self) -> Tensor:
        u = self._u
        if (
            self._forcing is None
            or self._forcing.shape != u.shape
            or self._forcing.dtype != u.dtype
            or self._forcing.device != u.device
        ):
            self._forcing = torch.empty_like(u)
        return self._forcing

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        m, p = y[0], y[1]
        pool = self.state.pooled_mean(p) if self.transcription.uses_pool else None
        f = self.transcription.rate(m, p, self._u, self._constant_part(), pool)
        return torch.stack((f - self.gamma_m * m, self.k_p * m - self.gamma_p * p))
