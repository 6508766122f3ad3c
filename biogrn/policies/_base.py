r"""The contract between the regulator and a mask policy.

At each prune/rewire update the regulator hands its policy a `PolicyView`, a frozen read-only
picture of the genes (magnitudes, expression, masks, the allow-mask, the layer slices, the clock,
$\sigma_r$ and the random generator), and applies the `Decision` the policy returns the same way
for every policy: masks, zeroed weights, reset optimizer moments, records. A policy never sees
the regulator itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import Tensor

from biogrn.core import Scratch

__all__ = ["Decision", "Policy", "PolicyView"]


@dataclass(frozen=True)
class PolicyView:
    """What a policy may read at an update; every tensor is flat over genes, `(n_genes,)`.

    Policies read these tensors and must not write them: they answer with a `Decision`.
    """

    magnitude: Tensor
    """$|w|$ per gene (the fan-in mean of $|w|$ for unit genes)."""
    expression: Tensor
    """Protein level $p$ per gene, the expression of Eq. 2."""
    mask: Tensor
    """The binary mask $M$ (1 active, 0 pruned), in the weights' dtype."""
    allow: Tensor
    """Boolean structural allow-mask: nothing outside it is ever active."""
    slices: tuple[slice, ...]
    """Each regulated tensor's contiguous slice of the gene axis."""
    epoch: int
    """Completed epochs."""
    epochs_done: float
    """Completed epochs, with the fraction of the current one once an epoch's length is known."""
    time: float
    """Training progress $\\mathrm{Time}$ in $[0, 1]$."""
    sigma: float
    """The rewiring temperature $\\sigma_r$ of Eq. 3 now."""
    generator: torch.Generator
    """The regulator's random stream, on the genes' device."""
    last_gradient: Tensor | None = None
    """$|g|$ of the last backward pass per gene ($g$ the dense gradient of the effective weight);
    present only for policies that declare `needs_last_gradient`."""
    movement: Tensor | None = None
    """Movement pruning's accumulated score $S = -\\sum_t w_t g_t$ per gene since attachment ($w$
    the stored weight, $g$ the dense gradient of the effective one); present only for policies that
    declare `needs_movement`."""
    n_active: tuple[int, ...] | None = None
    """Active genes of each regulated tensor, when the regulator has them counted (else None:
    policies count `active` themselves)."""
    scratch: Scratch = field(default_factory=lambda: Scratch(hold=False))
    """Buffers for the decision's temporaries, kept between updates by the regulator (fresh
    ones by default)."""

    @property
    def active(self) -> Tensor:
        # the mask holds 0 and 1 only: a conversion, several times faster on a CPU than `mask > 0`
        return self.mask.bool()

    @property
    def n_genes(self) -> int:
        return self.mask.numel()

    @property
    def device(self) -> torch.device:
        return self.mask.device


@dataclass
class Decision:
    prune: Tensor
    """Boolean over genes: active genes to switch off."""
    grow: Tensor
    """Boolean over genes: inactive (or just pruned) genes to switch on."""
    tau: Tensor | None = None
    """Threshold per layer, or None for policies without one."""


class Policy(ABC):
    """What one prune/rewire update decides, and what the regulator must do for it.

    Class attributes tell the regulator what to maintain: `uses_expression` (integrate Eq. 1 and
    record the drive), `needs_last_gradient` (keep the last dense gradient), `needs_movement`
    (accumulate $-\\sum_t w_t g_t$ per gene), `zeroes_pruned` (zero pruned weights and reset their
    optimizer moments; `False` changes the mask only).
    """

    uses_expression: ClassVar[bool] = False
    needs_last_gradient: ClassVar[bool] = False
    needs_movement: ClassVar[bool] = False
    zeroes_pruned: ClassVar[bool] = True

    @property
    def frozen(self) -> bool:
        """Whether the threshold has stopped moving (recorded each epoch)."""
        return False

    def observe(self, metric: float | None) -> None:  # noqa: B027 (a hook; most policies ignore it)
        """Take an epoch's validation metric."""

    def initial_prune(self, view: PolicyView) -> Tensor | None:
        """Genes to prune when the regulator attaches (sparse starts), or None."""
        return None

    @abstractmethod
    def decide(self, view: PolicyView) -> Decision:
        """One update's decision."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:  # noqa: B027 (stateless by default)
        """Restore `state_dict`."""
