r"""The batch norm that normalises a regulated unit, gated with the unit's gene.

A unit gene masks its unit's weights and bias, so the unit's pre-activation is zero. When a batch
norm reads that output, zero is not what comes out: in training the normalised channel is
$\gamma \cdot 0 + \beta$, in evaluation $\beta - \gamma \mu / \sqrt{\sigma^2 + \epsilon}$, a constant the
following layers learn to use. The unit is then not pruned, only frozen to a constant. Masking
the norm's $\gamma$ and $\beta$ with the unit's gene makes the channel exactly zero in both modes,
$y_j = M_j(\gamma_j \hat x_j + \beta_j) = 0$, so that a pruned channel can be removed from the
network without changing its function (`biogrn.integrations.channels.compact_channels`).

Which norm reads which unit is read from the model's graph (`torch.fx.symbolic_trace`): a norm is
paired with a unit layer when every call of the layer feeds that norm and nothing else, and the
norm normalises as many channels as the layer has units.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from biogrn.regulation._tensors import RegulatedTensor

__all__ = ["following_norms"]


def following_norms(model: nn.Module, tensors: list[RegulatedTensor]) -> list[_BatchNorm | None]:
    r"""For each regulated unit tensor, the affine batch norm that alone reads its layer's output.

    Returns None for a tensor no batch norm reads (and for every tensor when the model has no batch
    norm, without tracing it).

    Warns:
        UserWarning: the model holds batch norms but cannot be traced by `torch.fx`; its units'
            norms are then not gated, and a pruned unit before a norm outputs a constant.

    Raises:
        ValueError: a regulated layer is read by a batch norm without affine parameters (nothing
            to gate: its pruned units would output $-\mu / \sigma$).
    """
    if not any(isinstance(m, _BatchNorm) for m in model.modules()):
        return [None] * len(tensors)
    try:
        graph = torch.fx.symbolic_trace(model).graph
    except Exception as error:  # fx raises many types for Python it cannot trace
        warnings.warn(
            f"model: torch.fx cannot trace it ({type(error).__name__}: {str(error)[:200]}), so the batch norms "
            "after unit genes are not gated; a pruned unit before a batch norm outputs the norm's constant",
            UserWarning,
            stacklevel=3,
        )
        return [None] * len(tensors)
    modules = dict(model.named_modules())
    calls: dict[str, list[torch.fx.Node]] = {}
    for node in graph.nodes:
        if node.op == "call_module":
            calls.setdefault(str(node.target), []).append(node)
    found: list[_BatchNorm | None] = []
    for tensor in tensors:
        layer = tensor.name.rpartition(".")[0]
        readers = set()
        for node in calls.get(layer, []) if tensor.param == "weight" else []:
            users = list(node.users)
            only = users[0] if len(users) == 1 else None
            target = modules.get(str(only.target)) if only is not None and only.op == "call_module" else None
            readers.add(target if isinstance(target, _BatchNorm) else None)
        norm = readers.pop() if len(readers) == 1 else None
        if norm is not None and norm.num_features != tensor.weight_shape[0]:
            norm = None
        if norm is not None and not norm.affine:
            raise ValueError(
                f"layers: {tensor.name}'s units are read by a batch norm without affine parameters, which "
                "cannot be gated with them; give the norm affine=True or regulate connection genes"
            )
        found.append(norm)
    shared = [n for n in found if n is not None]
    if len({id(n) for n in shared}) != len(shared):
        raise ValueError("layers: one batch norm reads two regulated unit layers; it cannot carry two genes a channel")
    return found
