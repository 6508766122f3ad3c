r"""The drive $u$ of Eq. 1: what the training tells each gene between two integrations.

From the gradients $g_t = \partial L/\partial w^{\text{eff}}_t$ recorded over the $T$ backward
passes since the last integration (or their mean square read from the optimizer's second moment,
each step weighted by $\beta^{T-t}$: `OptimizerMoments`):

- `taylor` (default): $u = |w| \cdot \sqrt{\tfrac1T\sum_t g_t^2}$, a first-order Taylor saliency
  with the root-mean-square gradient (it equals $\overline{|g w|}$ when $|g|$ is steady, and is
  $|w|$ times the root of the empirical Fisher diagonal). A pruned connection has $w = 0$; it is
  driven by its dense gradient at the layer's mean active magnitude,
  $u = \overline{|w|}_{\text{active}} \sqrt{\overline{g^2}}$, so it can earn its way back.
- `grad`: $u = \sqrt{\overline{g^2}}$.
- `magnitude`: $u = |w|$ (zero for pruned connections).
- `fisher`: $u = w^2\,\overline{g^2}$, the empirical-Fisher (diagonal) estimate of the loss
  change of removing the connection (optimal brain damage with the Fisher for the Hessian): the
  square of `taylor`'s, pruned connections likewise at $\overline{|w|}_{\text{active}}$.
- `movement` (signed): $u = -\tfrac1T \sum_t w_t g_t$, movement pruning's score (Sanh, Wolf &
  Rush 2020) over the interval, with $w_t$ the weight of step $t$'s forward pass: positive where
  the weight moves away from zero, negative where training shrinks it. A pruned connection
  (stored zero) is driven by what a regrown weight moving with its gradient would score,
  $\overline{|w|}_{\text{active}} \sqrt{\overline{g^2}} \ge 0$.
- `hebbian`: pre/post co-activity with homeostasis (`HebbianRecorder`), on Linear layers; other
  regulated layers keep `taylor`.

For unit genes (one per output unit or channel) the drive is the mean over the unit's fan-in.
With `normalize_drive`, a non-negative $u$ is divided by its mean over the layer, so that the Hill
constant $K_u = 1$ means "the layer's average saliency"; a signed $u$ (`movement`) is divided by
its root mean square over the layer, keeping 0 as the neutral value, and drives
`SignedDriveActivation` ($v\,\sigma(u/K)$, basal at $u = 0$) instead of the Hill activation.

A gene whose drive is not finite (a gradient of the interval overflowed, as mixed precision's
scaled gradients do when GradScaler skips a step) takes the neutral value instead: the mean of
its layer's finite drives, 1 after normalisation (0 for a signed drive). It is counted (`GeneDrive.non_finite`, on the
device) and neither pushes its gene up nor down, so one bad sample never makes the gene state
NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from biogrn.core import mask_bits
from biogrn.regulation._gradients import GradientRecord
from biogrn.regulation._hebbian import HebbianRecorder
from biogrn.regulation._tensors import RegulatedTensor

__all__ = ["DRIVES", "DRIVE_KINDS", "DriveKind", "GeneDrive", "connection_drive", "reduce_to_units", "signed_drive"]


@dataclass(frozen=True)
class DriveKind:
    """One drive of Eq. 1: its closed form, its sign, what it records per step and what that costs."""

    name: str
    closed_form: str
    signed: bool
    """Whether $u$ may be negative (normalised by the layer's RMS, 0 neutral, `SignedDriveActivation`)."""
    records: str
    """What each training step adds (besides nothing): `g^2` (the drive's $\\sum g^2$, or the optimizer's
    second moment read once per interval), or `g^2, w g` (and $\\sum w_t g_t$, one more pass)."""


DRIVE_KINDS = {
    kind.name: kind
    for kind in (
        DriveKind("taylor", "|w| sqrt(mean g^2)", signed=False, records="g^2"),
        DriveKind("grad", "sqrt(mean g^2)", signed=False, records="g^2"),
        DriveKind("magnitude", "|w|", signed=False, records="nothing"),
        DriveKind("fisher", "w^2 mean g^2", signed=False, records="g^2"),
        DriveKind("movement", "-mean_t w_t g_t", signed=True, records="g^2, w g"),
    )
}
"""Every drive `connection_drive` computes (the `hebbian` drive reads co-activity instead)."""
DRIVES = tuple(DRIVE_KINDS)


def signed_drive(kind: str) -> bool:
    """Whether drive `kind` may be negative (`DriveKind.signed`; `hebbian` is not)."""
    return kind in DRIVE_KINDS and DRIVE_KINDS[kind].signed


def connection_drive(
    kind: str,
    weight: Tensor,
    grad_sq_sum: Tensor,
    n_backward: float | Tensor,
    active: Tensor,
    out: Tensor | None = None,
    scratch: Tensor | None = None,
    movement: Tensor | None = None,
    n_movement: int = 0,
) -> Tensor:
    """Per-connection drive, weight-shaped.

    Args:
        kind: one of `DRIVES`.
        weight: the stored weight; pruned entries are zero (the Regulator keeps them so).
        grad_sq_sum: $\\sum_t g_t^2$ over the recorded backward passes, weight-shaped (or their
            weighted sum, read from the optimizer's moments: `OptimizerMoments`).
        n_backward: number of backward passes recorded ($T$), or the total weight of the steps; 0
            gives zero gradient terms. A tensor (a count kept on the device) is not compared on
            the host: its interval's sum is zero when it is.
        active: broadcastable to the weight: True, or 1.0, where the connection is unpruned; a
            mask of +0.0 and 1.0 in the weight's dtype (the regulator's) is read as it is.
        out, scratch: weight-shaped buffers for the result and for $|w|$: the same operations
            in place, with no temporary tensors (the regulator reuses them every interval).
        movement, n_movement: $\\sum_t w_t g_t$ and its step count (`movement` only).
    """
    if kind not in DRIVES:
        raise ValueError(f"drive: {kind!r} is unknown; choose one of {DRIVES}")
    if kind == "movement":
        if movement is None:
            raise ValueError("drive: 'movement' needs the interval's sum of w g (a record that tracks movement)")
        reach = connection_drive("taylor", weight, grad_sq_sum, n_backward, active)  # pruned: ref |w| rms g
        moved = movement / max(n_movement, 1)
        return torch.where(active.bool(), -moved, reach)
    if kind == "fisher":
        return connection_drive("taylor", weight, grad_sq_sum, n_backward, active, out, scratch).square_()
    magnitude = torch.abs(weight, out=scratch) if scratch is not None else weight.abs()
    if kind == "magnitude":
        return magnitude if out is None else out.copy_(magnitude)
    if torch.is_tensor(n_backward):
        n_backward = n_backward.clamp_min(torch.finfo(grad_sq_sum.dtype).tiny)
    elif n_backward == 0:
        return torch.zeros_like(weight) if out is None else out.zero_()
    rms = (
        torch.div(grad_sq_sum, n_backward, out=out).sqrt_() if out is not None else grad_sq_sum.div(n_backward).sqrt_()
    )
    if kind == "grad":
        return rms
    per_gene = weight.numel() // active.numel()
    n_active = torch.count_nonzero(mask_bits(active)) * per_gene
    # Pruned weights are zero, so the sum of |w| is the sum over active ones. A layer with
    # nothing active falls back to 0 and is driven by nothing but its basal rate.
    reference = magnitude.sum() / n_active.clamp_min(1)
    # lerp by a 0/1 mask is exact at both ends (ATen evaluates end - (end - start) * 0 at weight
    # 1) and a tenth of the cost of torch.where with a scalar tensor on the CPU.
    return rms.mul_(torch.lerp(reference, magnitude, active.to(magnitude.dtype), out=magnitude))


def reduce_to_units(x: Tensor) -> Tensor:
    """Mean over every axis but the first (the unit / output-channel axis)."""
    return x.reshape(x.shape[0], -1).mean(dim=1) if x.dim() > 1 else x


class GeneDrive:
    r"""The drive of every gene, flat, from what the gates and the Hebbian hooks recorded.

    Args:
        tensors, records: the regulated tensors and the $\sum g^2$ record of each.
        mask: the flat gene mask.
        slices: each tensor's slice of the gene axis.
        kind: `taylor`, `grad`, `magnitude` or `hebbian`.
        hebbian: the co-activity recorder of the Linear tensors (kind `hebbian`), and which
            tensor index reads which recorder layer.
        normalize: divide by the layer mean.
    """

    def __init__(
        self,
        tensors: list[RegulatedTensor],
        records: list[GradientRecord],
        mask: Tensor,
        slices: list[slice],
        kind: str,
        hebbian: HebbianRecorder | None = None,
        hebbian_index: dict[int, int] | None = None,
        normalize: bool = True,
    ):
        self.tensors, self.records, self.mask, self.slices = tensors, records, mask, slices
        self.kind, self.normalize = kind, normalize
        self.signed = signed_drive(kind)
        self.hebbian, self.hebbian_index = hebbian, dict(hebbian_index or {})
        self._u: Tensor | None = None
        self._scratch: dict[int, Tensor] = {}
        self.non_finite = torch.zeros((), dtype=torch.long, device=mask.device)
        """Genes whose interval drive was not finite, summed over intervals (read it with `int`)."""
        self.host_checks = mask.device.type == "cpu"
        """Branch on the host over whether a drive is all finite (free on the CPU, a sync elsewhere)."""

    def __call__(self, dtype: torch.dtype) -> Tensor:
        """$u$ for every gene, in `dtype`, from the records since the last `reset`.

        Connection genes in the weights' dtype are written into buffers kept from one interval
        to the next; the result is one of them, valid until the next call.
        """
        n_genes = self.slices[-1].stop
        if self._u is None or self._u.dtype != dtype or self._u.device != self.mask.device:
            self._u = torch.empty(n_genes, dtype=dtype, device=self.mask.device)
            self._scratch = {}
        u = self._u
        for i, (tensor, record, sl) in enumerate(zip(self.tensors, self.records, self.slices)):
            if i in self.hebbian_index:
                u[sl] = tensor.per_gene(self.hebbian.drive(self.hebbian_index[i]))
                continue
            weight = tensor.original.detach()
            active = self.mask[sl].view(tensor.gene_view_shape)  # 0.0 and 1.0
            kind = "taylor" if self.kind == "hebbian" else self.kind  # conv layers: taylor
            grad_sq, n_backward = record.interval() if kind != "magnitude" else (record.grad_sq, 0)
            if kind == "movement":
                drive = connection_drive(
                    kind, weight, grad_sq, n_backward, active, movement=record.movement, n_movement=record.n_movement
                )
                u[sl] = tensor.per_gene(drive)
            elif tensor.genes == "connection" and weight.dtype == dtype:
                scratch = self._scratch.setdefault(i, torch.empty_like(weight))
                out = u[sl].view(tensor.weight_shape)
                connection_drive(kind, weight, grad_sq, n_backward, active, out=out, scratch=scratch)
            else:
                u[sl] = tensor.per_gene(connection_drive(kind, weight, grad_sq, n_backward, active))
        self._neutralise_and_normalize(u)
        return u

    def _neutralise_and_normalize(self, u: Tensor) -> None:
        """Non-finite entries to their layer's finite mean, counted; then $u / \bar u_{\text{layer}}$.

        Without a non-finite entry this is exactly the division by the layer mean. On a GPU all of
        it stays on the device (five passes over $u$, microseconds); on the CPU, where reading a
        number back costs nothing, the layer sums that the mean needs anyway say whether any entry
        is non-finite, and the common case takes the one division.
        """
        if self.signed:
            self._signed_neutralise_and_normalize(u)
            return
        if self.host_checks:
            sums = torch.stack([u[s].sum() for s in self.slices])
            if bool(torch.isfinite(sums).all()):
                if self.normalize:
                    tiny = torch.finfo(u.dtype).tiny
                    for s, total in zip(self.slices, sums):
                        torch.div(u[s], (total / (s.stop - s.start)).clamp_min(tiny), out=u[s])
                return
        finite = torch.isfinite(u)
        self.non_finite += finite.numel() - finite.sum()
        torch.nan_to_num_(u, nan=0.0, posinf=0.0, neginf=0.0)
        tiny, one = torch.finfo(u.dtype).tiny, u.new_ones(())
        for s in self.slices:  # layers are contiguous slices: no gather/scatter over genes
            part, ok = u[s], finite[s]
            mean = part.sum() / ok.sum().clamp_min(1)
            if self.normalize:
                torch.div(part, mean.clamp_min(tiny), out=part)
                torch.where(ok, part, one, out=part)
            else:
                torch.where(ok, part, mean, out=part)

    def _signed_neutralise_and_normalize(self, u: Tensor) -> None:
        r"""A signed drive: non-finite entries to 0 (neutral), counted; then $u / \sqrt{\overline{u^2}}$
        per layer (a layer of zeros stays zero)."""
        finite = torch.isfinite(u)
        self.non_finite += finite.numel() - finite.sum()
        torch.nan_to_num_(u, nan=0.0, posinf=0.0, neginf=0.0)
        if not self.normalize:
            return
        tiny = torch.finfo(u.dtype).tiny
        for s in self.slices:  # layers are contiguous slices
            part = u[s]
            torch.div(part, part.square().mean().sqrt().clamp_min(tiny), out=part)

    def reset(self) -> None:
        """Start a new interval: clear the gradient and co-activity records."""
        for record in self.records:
            record.reset()
        if self.hebbian is not None:
            self.hebbian.reset()
