r"""Pruned models compacted for inference: smaller dense layers, or CSR sparse weights.

- `compact_structured`: in a chain of `Linear` layers with element-wise activations between them,
  a hidden unit is removed when its outgoing column is all zero (nothing reads it), or when its
  incoming row is all zero: it then outputs the constant $a_j = \phi(b_j)$, which is folded into
  the next layer's bias, $b' = b + W_{:,j}\, a_j$. The result computes the same function with
  smaller dense matrices.
- `compact_unstructured`: every `Linear` weight is stored in compressed sparse row form (int32
  indices: 8 bytes per non-zero against 4 per dense entry, so it is smaller on disk only below
  50% density) and multiplied with `torch.sparse.mm`; exact up to summation order.

Both take a plain model (`Regulator.remove()` bakes the masks in first) and return a new one.
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import Tensor, nn
from torch.nn.utils import skip_init

__all__ = ["SparseLinear", "compact_structured", "compact_unstructured", "count_parameters"]

ELEMENTWISE = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.Softplus,
    nn.Identity,
    nn.Dropout,
)


class SparseLinear(nn.Module):
    """$y = x W^\\top + b$ with $W$ held as a CSR tensor (only the non-zero entries are stored)."""

    def __init__(self, weight: Tensor, bias: Tensor | None):
        super().__init__()
        self.in_features, self.out_features = weight.shape[1], weight.shape[0]
        with warnings.catch_warnings():  # torch labels CSR "beta"; the kernels used here are stable
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")
            csr = weight.detach().to_sparse_csr()
            index = torch.int32 if max(weight.shape) < 2**31 and csr.values().numel() < 2**31 else torch.int64
            # int32 indices: 8 bytes per non-zero instead of 12, so CSR is smaller than dense below 50% density
            # built by torch itself: no check. Said by the context too, since torch 2.11 warns that checks
            # are "implicitly disabled" when only the argument says so
            with torch.sparse.check_sparse_tensor_invariants(enable=False):
                csr = torch.sparse_csr_tensor(
                    csr.crow_indices().to(index),
                    csr.col_indices().to(index),
                    csr.values(),
                    csr.shape,
                    check_invariants=False,
                )
            self.weight = nn.Parameter(csr, requires_grad=False)
        self.bias = nn.Parameter(bias.detach().clone(), requires_grad=False) if bias is not None else None

    def forward(self, x: Tensor) -> Tensor:
        flat = x.reshape(-1, self.in_features)
        y = torch.sparse.mm(self.weight, flat.T).T
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, nnz={self.weight.values().numel()}"


def count_parameters(model: nn.Module) -> int:
    """Stored numbers: every dense parameter entry, and only the non-zeros of CSR weights."""
    total = 0
    for p in model.parameters():
        total += p.values().numel() if p.layout == torch.sparse_csr else p.numel()
    return total


def compact_unstructured(model: nn.Module) -> nn.Module:
    """A copy of `model` with every `nn.Linear` replaced by a `SparseLinear`."""
    compact = copy.deepcopy(model)
    for module in list(compact.modules()):
        for child_name, child in list(module.named_children()):
            if type(child) is nn.Linear:
                setattr(module, child_name, SparseLinear(child.weight, child.bias))
    return compact.eval()


def compact_structured(model: nn.Sequential) -> nn.Sequential:
    """A copy of the chain `model` with dead hidden units removed (same outputs, smaller layers).

    Raises:
        TypeError: `model` is not an `nn.Sequential` of `Linear` layers and element-wise modules.
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(
            f"model: compact_structured takes an nn.Sequential, got {type(model).__name__}; "
            "biogrn.integrations.channels.compact_channels takes any traceable model"
        )
    for i, module in enumerate(model):
        if not isinstance(module, (nn.Linear, *ELEMENTWISE)):
            raise TypeError(
                f"model[{i}]: {type(module).__name__} is neither Linear nor element-wise; use compact_unstructured, "
                "or biogrn.integrations.channels.compact_channels for conv nets with batch norm"
            )
    modules = [copy.deepcopy(m) for m in model]
    linear_at = [i for i, m in enumerate(modules) if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for this, following in zip(linear_at[:-1], linear_at[1:]):
            layer, nxt = modules[this], modules[following]
            between = nn.Sequential(*modules[this + 1 : following]).eval()
            reads = nxt.weight.abs().sum(dim=0) > 0
            driven = layer.weight.abs().sum(dim=1) > 0
            constant = ~driven & reads
            if constant.any():
                bias = layer.bias if layer.bias is not None else torch.zeros(layer.out_features)
                outputs = between(bias.unsqueeze(0)).squeeze(0)  # phi(b) of every unit
                shift = nxt.weight[:, constant] @ outputs[constant]
                if nxt.bias is None:
                    nxt.bias = nn.Parameter(shift)
                else:
                    nxt.bias += shift
            keep = driven & reads
            modules[this] = _select_rows(layer, keep)
            modules[following] = _select_columns(nxt, keep)
    return nn.Sequential(*modules).eval()


def _linear(in_features: int, out_features: int, bias: bool) -> nn.Linear:
    """An uninitialised Linear (a layer whose units all died has zero width; that is legitimate)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Initializing zero-element tensors is a no-op")
        return skip_init(nn.Linear, in_features, out_features, bias=bias)


def _select_rows(layer: nn.Linear, keep: Tensor) -> nn.Linear:
    smaller = _linear(layer.in_features, int(keep.sum()), layer.bias is not None)
    smaller.weight.data = layer.weight.data[keep].clone()
    if layer.bias is not None:
        smaller.bias.data = layer.bias.data[keep].clone()
    return smaller


def _select_columns(layer: nn.Linear, keep: Tensor) -> nn.Linear:
    smaller = _linear(int(keep.sum()), layer.out_features, layer.bias is not None)
    smaller.weight.data = layer.weight.data[:, keep].clone()
    if layer.bias is not None:
        smaller.bias.data = layer.bias.data.clone()
    return smaller
