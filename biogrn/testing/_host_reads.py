"""Host reads of device state, counted on the CPU: the CUDA synchronisations a step would make.

A GPU step that reads a device tensor back to the host (`.item()`, `float(t)`, `bool(t)`,
`nonzero`, a boolean index, `unique`, `.tolist()`, `.cpu()`) waits for the device to finish:
a host synchronisation. CUDA's sync debug mode finds them, but only on a GPU. `DeviceReads`
finds the same reads on the CPU, so that a CPU-only test suite guards them: every tensor
reachable from the given roots (model parameters, buffers and gradients, optimizer state, and the
tensors a biogrn object holds) counts as device state, and so does every tensor an operation
computes from device state. State is followed by storage, not by tensor: a view of device state
is device state, and so is a buffer that device state was written into through a view (`out=`).
An operation that would read such a tensor back is counted, with the innermost line outside
torch that asked for it.

What it cannot see: a tensor made from nothing in the roots (a factory call) and read back before
it meets device state; on a GPU that is a device tensor too. Tensors that stay on the CPU by
design on a GPU as well are left out with `exclude`; an optimizer's step counters, which PyTorch
keeps there unless `capturable` or `fused`, are left out without being named.
"""

from __future__ import annotations

import collections
import traceback
from collections.abc import Iterable

import torch
from torch import nn
from torch.multiprocessing.reductions import StorageWeakRef
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

__all__ = ["DeviceReads", "optimizer_host_tensors", "reachable_tensors"]

# ATen operations whose result depends on a tensor's values on the host: each is a CUDA sync
_READS = frozenset(
    {
        "_local_scalar_dense",  # .item(), float(t), int(t), bool(t)
        "is_nonzero",
        "nonzero",  # also boolean indexing and masked_select
        "nonzero_static",
        "masked_select",
        "_unique",
        "_unique2",
        "unique_dim",
        "unique_consecutive",
        "equal",
        "allclose",
        "repeat_interleave",  # without output_size
    }
)
# indexing with a boolean mask finds the mask's nonzeros first
_INDEXING = frozenset({"index", "index_put", "index_put_", "_index_put_impl_"})
# Tensor methods that read values back without an ATen call on a CPU tensor
_METHODS = ("tolist", "numpy", "cpu", "__array__")


def reachable_tensors(roots: Iterable, exclude: Iterable[torch.Tensor] = ()) -> list[torch.Tensor]:
    """Every tensor reachable from `roots` through containers, modules (parameters, buffers,
    gradients), optimizers (their state, less `optimizer_host_tensors`) and the attributes of biogrn
    objects, except those in `exclude` (by identity)."""
    excluded = {id(t) for t in exclude}
    seen, found, stack = set(), [], list(roots)
    while stack:
        item = stack.pop()
        if id(item) in seen or item is None:
            continue
        seen.add(id(item))
        if isinstance(item, torch.Tensor):
            found.append(item)
            if item.grad is not None and id(item) not in excluded:  # an excluded tensor's gradient lives beside it
                stack.append(item.grad)
        elif isinstance(item, nn.Module):
            stack.extend(item.parameters())
            stack.extend(item.buffers())
        elif isinstance(item, torch.optim.Optimizer):  # its step counters on the host are not device state
            excluded.update(id(t) for t in optimizer_host_tensors(item))
            stack.extend(item.state.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif type(item).__module__.startswith("biogrn"):
            stack.extend(getattr(item, "__dict__", {}).values())
            stack.extend(getattr(item, name) for name in getattr(type(item), "__slots__", ()) if hasattr(item, name))
    return [t for t in found if id(t) not in excluded]  # after the walk: whichever path reached them first


def optimizer_host_tensors(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    """The step counters a PyTorch optimizer keeps on the CPU on a GPU too (not `capturable`, not `fused`)."""
    host = []
    for group in optimizer.param_groups:
        if group.get("capturable") or group.get("fused"):
            continue
        host += [optimizer.state[p]["step"] for p in group["params"] if "step" in optimizer.state.get(p, {})]
    return host


class DeviceReads(TorchDispatchMode):
    """Count the host reads of device state inside the `with` block.

        with DeviceReads([reg, model, optimizer]) as reads:
            reg.step()
        assert reads.total == 0, reads.sites

    Attributes:
        sites: Counter of (operation, "file:line") for each read.
    """

    def __init__(self, roots: Iterable, exclude: Iterable[torch.Tensor] = ()):
        super().__init__()
        self._storages: dict[int, StorageWeakRef] = {}
        for tensor in reachable_tensors(roots, exclude):
            self._mark(tensor)
        self.sites: collections.Counter = collections.Counter()
        self._saved: dict[str, object] = {}

    @property
    def total(self) -> int:
        return sum(self.sites.values())

    def _mark(self, tensor: torch.Tensor) -> None:
        if tensor.layout == torch.strided:
            storage = tensor.untyped_storage()
            self._storages[storage._cdata] = StorageWeakRef(storage)

    def _on_device(self, tensor) -> bool:
        """Whether `tensor` shares storage with device state. The weak reference held for each
        storage keeps its address from being reused while it is held, and a storage freed since
        it was marked is forgotten."""
        if not isinstance(tensor, torch.Tensor) or tensor.layout != torch.strided:
            return False
        key = tensor.untyped_storage()._cdata
        held = self._storages.get(key)
        if held is None:
            return False
        if held.expired():
            del self._storages[key]
            return False
        return True

    def _count(self, operation: str) -> None:
        frames = [f for f in traceback.extract_stack() if "/torch/" not in f.filename and f.filename != __file__]
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
        self.sites[(operation, where)] += 1

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        from_device = any(self._on_device(t) for t in tree_flatten((args, kwargs))[0])
        result = func(*args, **kwargs)
        if from_device:
            name = func.overloadpacket.__name__
            if name in _READS:
                self._count(name)
            elif name in _INDEXING and any(
                isinstance(index, torch.Tensor) and index.dtype in (torch.bool, torch.uint8) for index in args[1]
            ):
                self._count(f"{name} (boolean mask)")
            for tensor in tree_flatten(result)[0]:
                if isinstance(tensor, torch.Tensor):
                    self._mark(tensor)
        return result

    def __enter__(self):
        for name in _METHODS:
            original = getattr(torch.Tensor, name)
            self._saved[name] = original

            def counted(tensor, *args, _name=name, _original=original, **kwargs):
                if self._on_device(tensor):
                    self._count(_name)
                return _original(tensor, *args, **kwargs)

            setattr(torch.Tensor, name, counted)
        return super().__enter__()

    def __exit__(self, *exc):
        try:
            return super().__exit__(*exc)
        finally:
            for name, original in self._saved.items():
                setattr(torch.Tensor, name, original)
            self._saved.clear()
