"""The gates a regulator places on a model, and their removal.

Every regulated tensor gets a `GeneGate` parametrization whose mask and expression are views
of the regulator's flat gene buffers; with unit genes, a Linear or ConvNd layer's bias gets one
too, so that a pruned unit is silent.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn.utils import parametrize

from biogrn.regulation._gate import GeneGate
from biogrn.regulation._tensors import RegulatedTensor

__all__ = ["Attachment"]


class Attachment:
    """Gates on the regulated tensors of a model, registered at construction.

    Args:
        tensors: the regulated tensors.
        slices: each tensor's slice of the flat gene axis.
        mask, expression: the flat gene mask and protein level $p$ (the gates hold views).
        gate, half, hill: the gate (`mask` or `hill`) and its Hill constants.
        record: gates record $\\sum g^2$ for the drive.
        keep_last: gates keep the last dense gradient.
        unit_genes: one gene per output unit (biases are gated too).
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
    ):
        self.tensors = tensors
        self.gates: list[GeneGate] = []
        self.bias_gates: list[GeneGate | None] = []
        for tensor, sl in zip(tensors, slices):
            shape = tensor.gene_view_shape
            weight_gate = GeneGate(
                mask[sl].view(shape),
                expression[sl].view(shape),
                gate,
                half,
                hill,
                record=record,
                weight_shape=tensor.weight_shape,
                keep_last=keep_last,
            )
            parametrize.register_parametrization(tensor.module, tensor.param, weight_gate)
            self.gates.append(weight_gate)
            bias_gate = None
            if unit_genes and self._has_unit_bias(tensor):
                bias_gate = GeneGate(mask[sl], expression[sl], gate, half, hill, record=False)
                parametrize.register_parametrization(tensor.module, "bias", bias_gate)
            self.bias_gates.append(bias_gate)

    @staticmethod
    def _has_unit_bias(tensor: RegulatedTensor) -> bool:
        bias = getattr(tensor.module, "bias", None)
        return tensor.param == "weight" and isinstance(bias, torch.Tensor) and bias.shape == (tensor.weight_shape[0],)

    def stored_bias(self, index: int) -> Tensor | None:
        """The stored bias of tensor `index` when its unit gene gates it, else None."""
        if self.bias_gates[index] is None:
            return None
        return self.tensors[index].module.parametrizations["bias"].original

    def remove(self) -> None:
        """Bake every gate into a plain tensor and unregister it."""
        for tensor, bias_gate in zip(self.tensors, self.bias_gates):
            parametrize.remove_parametrizations(tensor.module, tensor.param, leave_parametrized=True)
            if bias_gate is not None:
                parametrize.remove_parametrizations(tensor.module, "bias", leave_parametrized=True)
