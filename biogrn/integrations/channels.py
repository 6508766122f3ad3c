r"""Silent channels removed from conv nets with batch norm and residual connections (`biogrn[export]`).

    model = reg.remove()                                   # unit genes baked into plain weights
    smaller, report = compact_channels(model, example_batch)

A unit gene that is off zeroes its unit's weights and bias, and the $\gamma$, $\beta$ of the
batch norm that reads it (`biogrn.regulation.following_norms`), so the unit's channel is exactly
zero. Removing it changes nothing, provided every layer that writes into the same channel is
silent on it: in a residual network the blocks of a stage add into one stream, so a stream
channel goes only when the stem (or the downsampling shortcut) and every block of the stage are
silent on it. Torch-Pruning's dependency graph (Fang et al. 2023, "DepGraph") finds these coupled
groups, and removes a channel from every layer that writes it and every layer that reads it.

A channel of a group is silent when, in every layer of the group that writes channels, it is:
a Linear or ConvNd unit with all-zero weights and bias, or a batch norm with $\gamma = \beta = 0$.
Any other writer with parameters (LayerNorm, GroupNorm, PReLU...) keeps the channel; operations
between writers (ReLU, addition, pooling) map zero to zero. The compacted model is run on the
example beside the original and must match it, which catches an operation that does not (a
sigmoid inside a group); otherwise nothing is returned.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from biogrn.regulation import count_parameters, gated_modules

__all__ = ["ChannelReport", "compact_channels"]

_UNITS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


@dataclass(frozen=True)
class ChannelReport:
    """What `compact_channels` removed."""

    removed: dict[str, int]
    """Output channels removed from each layer that writes them (module name: count)."""
    parameters_before: int
    parameters_after: int
    largest_difference: float
    """Largest absolute difference of the two models' outputs on the example."""


def compact_channels(
    model: nn.Module,
    example: Tensor,
    keep_layers: list[str] | None = None,
    rtol: float = 1e-4,
    atol: float = 1e-5,
) -> tuple[nn.Module, ChannelReport]:
    """A copy of `model` (evaluation mode) without its silent channels, checked on `example`.

    Args:
        model: a plain model (`Regulator.remove()` first).
        example: an input batch; the graph is traced on it, and both models are compared on it.
        keep_layers: names of modules whose output channels stay whatever they hold; by default
            the last Linear or ConvNd (in module order), whose outputs are the model's.
        rtol, atol: the tolerance of the comparison (summation order changes with the widths).

    Raises:
        ValueError: the model still carries a gene gate, a name in `keep_layers` is not a module,
            or the compacted model's output differs from the original's (then a writer of a
            silent channel maps zero to something else, such as a sigmoid inside a group).
    """
    import torch_pruning as tp

    gated = gated_modules(model)
    if gated:
        raise ValueError(f"model: {', '.join(gated)} still carry a gene gate; compact the model reg.remove() returns")
    compact = copy.deepcopy(model).eval()
    names = {module: name for name, module in compact.named_modules()}
    by_name = dict(compact.named_modules())
    if keep_layers is None:
        units = [m for m in compact.modules() if isinstance(m, _UNITS)]
        kept = units[-1:]
    else:
        unknown = [n for n in keep_layers if n not in by_name]
        if unknown:
            raise ValueError(f"keep_layers: {unknown} are not modules of the model")
        kept = [by_name[n] for n in keep_layers]
    was_training = model.training
    with torch.no_grad():
        expected = model.eval()(example)
    model.train(was_training)
    graph = tp.DependencyGraph().build_dependency(compact, example_inputs=example)  # it traces through autograd
    with torch.no_grad():
        removed: dict[str, int] = {}
        for group in list(graph.get_all_groups(ignored_layers=kept, root_module_types=_UNITS)):
            width = len(group[0].idxs)
            silent = torch.ones(width, dtype=torch.bool)
            for item in group:
                module = item.dep.target.module
                if not graph.is_out_channel_pruning_fn(item.dep.handler) or not _holds_parameters(module):
                    continue  # a reader of the channels, or an operation (ReLU, add, pooling) between writers
                zero = _silent_outputs(module)
                roots = torch.as_tensor(item.root_idxs, dtype=torch.long)
                if zero is None:
                    silent[roots] = False
                else:
                    silent[roots] &= zero[torch.as_tensor(item.idxs, dtype=torch.long)]
            dead = silent.nonzero().flatten()
            if dead.numel() == width:  # a layer keeps one channel (zero-width layers are not valid modules)
                dead = dead[1:]
            if dead.numel() == 0:
                continue
            for item in group:
                if graph.is_out_channel_pruning_fn(item.dep.handler) and isinstance(item.dep.target.module, _UNITS):
                    name = names[item.dep.target.module]
                    removed[name] = removed.get(name, 0) + dead.numel()
            group.prune(idxs=dead.tolist())
        got = compact(example)
    if got.shape != expected.shape:
        raise ValueError(
            f"model: removing its silent channels changed the output's shape from {tuple(expected.shape)} to "
            f"{tuple(got.shape)}; name the output layer in keep_layers"
        )
    difference = float((got - expected).abs().max()) if got.numel() else 0.0
    if not torch.allclose(got, expected, rtol=rtol, atol=atol):
        raise ValueError(
            f"model: removing its silent channels changed the output by up to {difference:.3g}; a layer in a "
            "coupled group maps a zero channel to something else, so nothing was removed"
        )
    report = ChannelReport(removed, count_parameters(model), count_parameters(compact), difference)
    return compact, report


def _holds_parameters(module) -> bool:
    return isinstance(module, nn.Module) and any(True for _ in module.parameters(recurse=False))


def _silent_outputs(module: nn.Module) -> Tensor | None:
    """Per output channel of a writer, whether it is exactly zero whatever its input; None: none is."""
    if isinstance(module, _UNITS):  # weights are (out, in, *kernel) for Linear and ConvNd alike
        zero = module.weight.detach().flatten(1).eq(0).all(dim=1)
        if module.bias is not None:
            zero &= module.bias.detach().eq(0)
        return zero.cpu()
    if isinstance(module, _BatchNorm) and module.affine:
        return (module.weight.detach().eq(0) & module.bias.detach().eq(0)).cpu()
    return None
