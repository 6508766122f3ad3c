r"""How a regulator holds a model's regulated tensors: masks, gates, and the gradient records.

Two paths, chosen per tensor:

- **Stored zeros** (gate `mask`, for policies that zero what they prune, on a tensor with no
  parametrization of its own): nothing wraps the weight. Pruned entries are exact zeros in the
  stored tensor, kept so after every optimizer step by one multi-tensor multiply by the mask
  (`step`), and the drive reads the weight's own `.grad`, which is the dense gradient of the
  effective weight because the stored weight *is* the effective weight. The forward and backward
  passes cost what plain training costs.
- **Parametrization** (gate `hill`, the `listing` policy, which keeps pruned weights, and tensors
  already wrapped by Dale's law or synaptic noise, on which the mask must act last): a
  `GeneGate` computes $w \odot M\ (\odot H^+(p))$ in the forward pass and records $g^2$ in the
  backward pass.

With unit genes, the bias of a Linear or ConvNd layer is masked with its unit, and so are the
$\gamma$ and $\beta$ of the batch norm that reads the layer (`following_norms`), so that a pruned
unit is silent: its channel is exactly zero after the norm too.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from biogrn.core import stored_parameter
from biogrn.regulation._gate import GeneGate
from biogrn.regulation._gradients import GradientRecord, record_gradients
from biogrn.regulation._tensors import RegulatedTensor

__all__ = ["Attachment"]


class Attachment:
    """The regulated tensors of a model with their masks, gates and gradient records.

    Args:
        tensors: the regulated tensors.
        slices: each tensor's slice of the flat gene axis.
        mask, expression: the flat gene mask and protein level $p$ (gates and masks hold views).
        gate, half, hill: the gate (`mask` or `hill`) and its Hill constants.
        record: record $\\sum g^2$ for the drive.
        keep_last: keep the last dense gradient.
        unit_genes: one gene per output unit (biases are masked too).
        norms: with unit genes, the batch norm that reads each tensor's layer, or None; its affine
            parameters are masked with the unit.
        stored_zeros: the policy zeroes pruned weights, so the mask may live in the stored weights.
    """

    def __init__(
        self,
        tensors: list[RegulatedTensor],
        slices: list[slice],
        mask: Tensor,
        expression: Tensor,
        gate: str,
        half: float,
        hill: float,
        record: bool,
        keep_last: bool,
        unit_genes: bool,
        movement: bool = False,
        stored_zeros: bool = True,
        norms: list[nn.Module | None] | None = None,
    ):
        self.tensors = tensors
        self.records: list[GradientRecord] = []
        self.gates: list[GeneGate | None] = []
        self.bias_gates: list[GeneGate | None] = []
        # the stored-zeros tensors' weights and records, kept so that each step looks nothing up
        self._direct_weights: list[Tensor] = []
        self._direct_records: list[GradientRecord] = []
        self._direct_biases: dict[int, Tensor] = {}  # their unit biases, masked with them
        self.norms = norms if norms is not None else [None] * len(tensors)
        self.norm_gates: list[bool] = []  # whether tensor i's norm carries gates (else stored zeros)
        masked: list[tuple[Tensor, Tensor]] = []  # (stored tensor, mask view) kept zero at each step
        for index, (tensor, sl) in enumerate(zip(tensors, slices)):
            shape = tensor.gene_view_shape
            weight = tensor.original
            self.records.append(
                GradientRecord(tensor.weight_shape, mask.dtype, mask.device, record, keep_last, movement)
            )
            bias = self._unit_bias(tensor) if unit_genes else None
            norm = self.norms[index]
            direct = (
                gate == "mask"
                and stored_zeros
                and not parametrize.is_parametrized(tensor.module, tensor.param)
                and not (bias is not None and parametrize.is_parametrized(tensor.module, "bias"))
                and not (norm is not None and parametrize.is_parametrized(norm))
            )
            if norm is not None:
                self.norm_gates.append(not direct)
                if direct:
                    masked.extend([(norm.weight, mask[sl]), (norm.bias, mask[sl])])
                else:
                    for name in ("weight", "bias"):
                        parametrize.register_parametrization(
                            norm, name, GeneGate(mask[sl], expression[sl], gate, half, hill)
                        )
            else:
                self.norm_gates.append(False)
            if not direct and tensor.tied:
                raise ValueError(
                    f"layers: {tensor.name!r} is tied to {', '.join(tensor.tied)}; a gate (gate 'hill', a policy "
                    "that keeps pruned weights, a parametrization of its own) would act on one of its uses only: "
                    "regulate it with gate 'mask' and a policy that zeroes pruned weights"
                )
            if direct:
                self._direct_weights.append(weight)
                self._direct_records.append(self.records[-1])
                masked.append((weight, mask[sl].view(shape).expand(tensor.weight_shape)))
                if bias is not None:
                    masked.append((bias, mask[sl]))
                    self._direct_biases[index] = bias
                self.gates.append(None)
                self.bias_gates.append(None)
                continue
            weight_gate = GeneGate(
                mask[sl].view(shape), expression[sl].view(shape), gate, half, hill, record=self.records[-1]
            )
            parametrize.register_parametrization(tensor.module, tensor.param, weight_gate)
            self.gates.append(weight_gate)
            bias_gate = None
            if bias is not None:
                bias_gate = GeneGate(mask[sl], expression[sl], gate, half, hill)
                parametrize.register_parametrization(tensor.module, "bias", bias_gate)
            self.bias_gates.append(bias_gate)
        self._movement_hook = None  # an optimizer's pre-step hook recording movement (`record_movement_from`)
        self._masked_tensors = [t for t, _ in masked]
        self._mask_views = [m for _, m in masked]
        self.any_pruned = True
        """Whether some gene is pruned; while none is, the step skips the multiply by the mask.
        The regulator sets it after each change of the mask, from counts it reads anyway."""

    @staticmethod
    def _unit_bias(tensor: RegulatedTensor) -> Tensor | None:
        bias = getattr(tensor.module, "bias", None)
        if tensor.param == "weight" and isinstance(bias, torch.Tensor) and bias.shape == (tensor.weight_shape[0],):
            return bias
        return None

    @torch.no_grad()
    def step(self) -> None:
        """After an optimizer step: record the stored-zeros tensors' gradients, then re-zero pruned entries.

        The optimizer may have moved a pruned weight (its gradient is dense); multiplying by the
        mask puts it back to exactly zero before the next forward pass. Two multi-tensor
        operations for all tensors, no host synchronisation.
        """
        if not self._direct_weights:
            return
        present = [
            (r, w.grad)
            for r, w in zip(self._direct_records, self._direct_weights)
            if w.grad is not None
            and (r.summing or r.last_grad is not None or (r.movement is not None and not r.by_hook))
        ]
        if present:
            record_gradients([r for r, _ in present], [g for _, g in present])
        if self.any_pruned:
            torch._foreach_mul_(self._masked_tensors, self._mask_views)
        self.snapshot()

    def snapshot(self) -> None:
        """Keep each mask-path weight as the movement records' next $w_t$ (after every step and every
        edit of the mask: the weight the next forward pass reads), where no optimizer hook records it."""
        for record, weight in zip(self._direct_records, self._direct_weights):
            if record.movement is not None and not record.by_hook:
                record.snapshot(weight)

    def record_movement_from(self, optimizer: torch.optim.Optimizer | None) -> None:
        """Record the mask path's $\\sum_t w_t g_t$ in a pre-step hook of `optimizer`, where the
        weight is still $w_t$ and `.grad` is $g_t$: one multiply-add per step and no copy of the
        weights (None: from the snapshot the regulator keeps). A step the optimizer skips (GradScaler
        on an overflow) records nothing."""
        if self._movement_hook is not None:
            self._movement_hook.remove()
            self._movement_hook = None
        moving = [(r, w) for r, w in zip(self._direct_records, self._direct_weights) if r.movement is not None]
        for record, _ in moving:
            record.by_hook = optimizer is not None
            record.previous = None
        if optimizer is None or not moving:
            self.snapshot()
            return

        def record(*_) -> None:
            present = [(r, w) for r, w in moving if r.enabled and w.grad is not None]
            if present:
                grads = [w.grad for _, w in present]
                torch._foreach_addcmul_([r.movement for r, _ in present], [w.detach() for _, w in present], grads)
                for r, _ in present:
                    r.n_movement += 1

        self._movement_hook = optimizer.register_step_pre_hook(record)

    def read_moments(self, optimizer: torch.optim.Optimizer | None) -> None:
        """Take the stored-zeros tensors' intervals from `optimizer`'s second moments (None: record them).

        Only there is the optimizer's gradient the dense gradient of the effective weight; a gated
        tensor's optimizer sees the gradient through the gate, so it keeps recording.
        """
        for record, weight in zip(self._direct_records, self._direct_weights):
            if record.moments is not None:
                record.moments = None
                record.reset()
            if optimizer is not None and record.recording:
                record.read_moments(optimizer, weight)

    @property
    def gated_recording(self) -> list[str]:
        """Names of the tensors whose gate records $g^2$ in the backward pass."""
        return [t.name for t, g, r in zip(self.tensors, self.gates, self.records) if g is not None and r.recording]

    def stored_bias(self, index: int) -> Tensor | None:
        """The stored bias of tensor `index` when its unit gene masks it, else None."""
        if self.bias_gates[index] is not None:
            return self.tensors[index].module.parametrizations["bias"].original
        return self._direct_biases.get(index)

    def stored_norm(self, index: int) -> tuple[Tensor, Tensor] | None:
        r"""The stored $(\gamma, \beta)$ of the batch norm that tensor `index`'s unit gene masks, else None."""
        norm = self.norms[index]
        return None if norm is None else (stored_parameter(norm, "weight"), stored_parameter(norm, "bias"))

    def remove(self) -> None:
        """Bake every gate into a plain tensor and unregister it (stored zeros need nothing)."""
        if self._movement_hook is not None:
            self._movement_hook.remove()
            self._movement_hook = None
        for tensor, gate, bias_gate in zip(self.tensors, self.gates, self.bias_gates):
            if gate is not None:
                parametrize.remove_parametrizations(tensor.module, tensor.param, leave_parametrized=True)
            if bias_gate is not None:
                parametrize.remove_parametrizations(tensor.module, "bias", leave_parametrized=True)
        for norm, gated in zip(self.norms, self.norm_gates):
            if gated:
                for name in ("weight", "bias"):
                    parametrize.remove_parametrizations(norm, name, leave_parametrized=True)
