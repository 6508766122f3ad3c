r"""2:4-sparse linear layers onto NVIDIA's sparse tensor cores, checked before anything is converted.

    model = reg.remove().half().cuda()                   # a model trained with policy="nm" (2:4)
    report = to_semi_structured(model)                   # every exactly-2:4 nn.Linear, in place
    report.converted, report.dense                       # what was swapped, and what stayed dense and why

A weight is 2:4 when every group of four consecutive inputs of an output row holds at most two
nonzeros, the pattern `policy="nm"` leaves after every update:

    \#\{ j \in \{4g, \dots, 4g + 3\} : w_{ij} \ne 0 \} \le 2 \quad \text{for every row } i \text{ and group } g

`torch.sparse.to_sparse_semi_structured` does not check this: given a weight with three nonzeros
in a group it compresses it all the same and the product is silently wrong. This module checks the
pattern of every layer first and names the layer, row and input columns of the first group that
breaks it. The format itself needs a CUDA device of compute capability 8.0 or newer, a float16 or
bfloat16 (or int8) weight and both sides multiples of the backend's block (PyTorch's own checks,
reported here with the layer's name). Inference only: the swapped weight takes no gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from torch import Tensor, nn

from biogrn.regulation import gated_modules

__all__ = ["SemiStructuredReport", "first_group_over", "to_semi_structured"]

GROUP, KEPT = 4, 2  # the only pattern NVIDIA's sparse tensor cores run


@dataclass
class SemiStructuredReport:
    """What `to_semi_structured` did: the layers swapped, and those left dense with the reason."""

    converted: list[str] = field(default_factory=list)
    dense: dict[str, str] = field(default_factory=dict)


def first_group_over(weight: Tensor, kept: int = KEPT, group: int = GROUP) -> tuple[int, int] | None:
    """The (row, first column) of the first group of `group` consecutive inputs holding more than
    `kept` nonzeros, or None when the 2-D `weight` is `kept`:`group` throughout.

    Raises:
        ValueError: `weight` is not 2-D or its inputs do not split into groups of `group`.
    """
    if weight.dim() != 2:
        raise ValueError(f"a {weight.dim()}-D weight: the semi-structured format takes 2-D weights")
    rows, columns = weight.shape
    if columns % group:
        raise ValueError(f"{columns} inputs do not split into groups of {group}")
    counts = (weight.detach() != 0).view(rows, columns // group, group).sum(dim=2)
    over = (counts > kept).view(-1).nonzero()
    if not len(over):
        return None
    row, index = divmod(int(over[0]), columns // group)
    return row, index * group


def to_semi_structured(model: nn.Module, layers: Sequence[str] | None = None) -> SemiStructuredReport:
    """Swap the weights of `model`'s 2:4-sparse `nn.Linear` layers for the semi-structured format, in place.

    Args:
        model: a plain model (what `Regulator.remove()` returns), on a CUDA device, in float16,
            bfloat16 or int8.
        layers: names of `nn.Linear` modules (as `named_modules` gives them) that must be swapped:
            any that cannot be is an error. None: every `nn.Linear` that can be; the others stay
            dense and the report says why (not 2:4, or a shape, dtype or device the format refuses).

    Returns:
        The report: `converted` in module order, `dense` as name -> reason.

    Raises:
        ValueError: the model still carries a gene gate, a named layer is not an `nn.Linear` of
            `model`, or a named layer cannot be swapped (the message names the layer and why:
            the row and columns of its first group over 2 nonzeros, or the format's own refusal).
    """
    from torch.sparse import to_sparse_semi_structured

    gated = gated_modules(model)
    if gated:
        raise ValueError(f"model: {', '.join(gated)} still carry a gene gate; convert the model reg.remove() returns")
    linears = {name: module for name, module in model.named_modules() if isinstance(module, nn.Linear)}
    if layers is not None:
        unknown = [name for name in layers if name not in linears]
        if unknown:
            raise ValueError(f"layers: {', '.join(map(repr, unknown))} are not nn.Linear modules of the model")
    chosen = set(linears) if layers is None else set(layers)
    report = SemiStructuredReport()
    for name, linear in linears.items():
        if name not in chosen:
            continue
        reason = _refusal(linear.weight)
        if reason is None:
            try:
                sparse = to_sparse_semi_structured(linear.weight.detach().contiguous())
            except (RuntimeError, NotImplementedError) as error:  # the format's own device, dtype and shape rules
                reason = str(error).splitlines()[0]
        if reason is not None:
            if layers is not None:
                raise ValueError(f"layers: {name!r} cannot take the semi-structured format: {reason}")
            report.dense[name] = reason
            continue
        linear.weight = nn.Parameter(sparse, requires_grad=False)
        report.converted.append(name)
    return report


def _refusal(weight: Tensor) -> str | None:
    """Why `weight` breaks the 2:4 pattern, or None when it keeps it."""
    try:
        first = first_group_over(weight)
    except ValueError as error:
        return str(error)
    if first is None:
        return None
    row, column = first
    return f"not 2:4: row {row}, inputs {column} to {column + GROUP - 1} hold more than {KEPT} nonzeros"
