"""Which tensors of a model are regulated, and how their genes are laid out.

A `RegulatedTensor` is one regulated weight: the module that owns it, the parameter name, and the shape of
its genes. Connection genes have the weight's shape (row-major, so the fan-in of an output unit
is contiguous); unit genes have one gene per entry of the weight's first axis (the output unit
or channel of Linear and ConvNd); input genes one per entry of its second axis (an input feature,
or input channel): pruning one removes the feature's whole column.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from biogrn.core import stored_parameter

__all__ = ["DEFAULT_TYPES", "RegulatedTensor", "select_tensors"]

DEFAULT_TYPES = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


@dataclass
class RegulatedTensor:
    name: str
    """Full parameter name in the model (`fc1.weight`)."""
    module: nn.Module
    param: str
    weight_shape: torch.Size
    genes: str
    tied: tuple[str, ...] = ()
    """Other names of the same tensor in the model (tied weights): it is regulated once, under `name`."""

    @property
    def gene_axis(self) -> int | None:
        """The weight axis whose entries are the genes (0: units, 1: inputs); None for connection genes."""
        return {"connection": None, "unit": 0, "input": 1}[self.genes]

    @property
    def n_genes(self) -> int:
        axis = self.gene_axis
        return self.weight_shape.numel() if axis is None else self.weight_shape[axis]

    @property
    def n_pools(self) -> int:
        """Pools of shared protein: output units for connection genes, the layer for unit and input genes."""
        return self.weight_shape[0] if self.genes == "connection" else 1

    @property
    def connections_per_gene(self) -> int:
        return self.weight_shape.numel() // self.n_genes

    @property
    def gene_view_shape(self) -> tuple[int, ...]:
        """Shape that broadcasts a layer's genes against its weight."""
        axis = self.gene_axis
        if axis is None:
            return tuple(self.weight_shape)
        return tuple(size if i == axis else 1 for i, size in enumerate(self.weight_shape))

    def gene_of(self, positions: Tensor) -> Tensor:
        """The gene (within this tensor) of each flat row-major position of the weight."""
        if self.genes == "connection":
            return positions
        if self.genes == "unit":
            return positions // self.connections_per_gene
        inner = self.weight_shape[2:].numel()
        return (positions // inner) % self.weight_shape[1]

    @property
    def original(self) -> nn.Parameter:
        """The stored (unmasked) parameter, under parametrization or not."""
        return stored_parameter(self.module, self.param)

    def per_gene(self, x: Tensor, reduce: str = "mean") -> Tensor:
        """A weight-shaped quantity as one value per gene, flat: itself for connection genes, the
        mean (or `reduce="sum"`) over each unit's fan-in (every axis but the first) for unit genes,
        over each input's fan-out (every axis but the second) for input genes."""
        if self.genes == "connection":
            return x.reshape(-1)
        if x.dim() == 1:
            return x
        rows = x if self.genes == "unit" else x.transpose(0, 1)
        rows = rows.reshape(rows.shape[0], -1)
        return rows.mean(dim=1) if reduce == "mean" else rows.sum(dim=1)


def select_tensors(model: nn.Module, layers: tuple[str, ...] | None, genes: str) -> list[RegulatedTensor]:
    """The tensors to regulate: every Linear/ConvNd weight, or those named in `layers`.

    A name is a module name (its `weight` is regulated) or a full parameter name. By default
    every Linear/ConvNd weight is regulated; with unit genes the last one (in module order) is
    left out, since its units are the model's outputs. Name it in `layers` to regulate it anyway.
    A tensor that several modules share (tied weights) is regulated once, under its first name.

    Raises:
        ValueError: a name matches neither a module with a `weight` nor a parameter, a tensor
            has fewer than one axis, one tensor is named twice (under two names when tied), or
            nothing is left to regulate.
    """
    modules = dict(model.named_modules())
    params = dict(model.named_parameters())
    chosen: list[tuple[str, nn.Module, str]] = []
    if layers is None:
        for name, module in modules.items():
            if isinstance(module, DEFAULT_TYPES):
                chosen.append((f"{name}.weight" if name else "weight", module, "weight"))
        if genes == "unit" and len(chosen) > 1:
            # the last layer's units are the model's outputs (classes): pruning one removes a class
            chosen.pop()
        if genes == "input":
            # the input features are the first layer's columns: later layers' inputs are hidden units
            chosen = chosen[:1]
    else:
        for name in layers:
            if name in modules and name and isinstance(getattr(modules[name], "weight", None), torch.Tensor):
                chosen.append((f"{name}.weight", modules[name], "weight"))
            elif name in params:
                owner, _, pname = name.rpartition(".")
                chosen.append((name, modules[owner], pname))
            else:
                available = [
                    n for n, m in modules.items() if isinstance(getattr(m, "weight", None), torch.Tensor) and n
                ]
                raise ValueError(
                    f"layers: {name!r} is neither a module with a weight nor a parameter of the model; "
                    f"modules with a weight: {available[:20]}" + (" ..." if len(available) > 20 else "")
                )
    if not chosen:
        raise ValueError("layers: the model has no Linear or ConvNd layer to regulate; name the tensors in `layers`")
    # every name of each tensor: tied weights (one Parameter used by several modules) are one tensor
    names_of: dict[int, list[str]] = {}
    for name, parameter in model.named_parameters(remove_duplicate=False):
        names_of.setdefault(id(parameter), []).append(name)
    seen, first_name = set(), {}
    selected = []
    for name, module, pname in chosen:
        if name in seen:
            raise ValueError(f"layers: {name!r} is named twice")
        seen.add(name)
        weight = getattr(module, pname)
        if weight.dim() < 1:
            raise ValueError(f"layers: {name!r} is a scalar; only tensors with at least one axis can be regulated")
        if id(weight) in first_name:
            if layers is not None:
                raise ValueError(
                    f"layers: {name!r} is the same tensor as {first_name[id(weight)]!r} (tied weights); name it once"
                )
            continue  # found again through another module: one tensor, one set of genes
        first_name[id(weight)] = name
        tied = tuple(n for n in names_of.get(id(weight), []) if n != name)
        selected.append(RegulatedTensor(name, module, pname, weight.shape, genes, tied))
    return selected
