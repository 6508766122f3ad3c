"""Run checkpoints: one file holding everything a killed run needs to continue identically.

A checkpoint is a plain dictionary of tensors, numbers, strings and lists, saved with
`torch.save` through `biogrn.core.atomic_write` and read with `torch.load(weights_only=True)`,
so loading one runs no pickled code.
"""

from __future__ import annotations

from pathlib import Path

import torch

from biogrn.core import CheckpointError, atomic_write, reading

__all__ = [
    "CHECKPOINT_VERSION",
    "CheckpointError",
    "load_checkpoint",
    "read_tensors",
    "restore_rng",
    "rng_states",
    "save_checkpoint",
]

CHECKPOINT_VERSION = 1


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Write `state` (with this module's version) at `path`, atomically."""
    state = {"version": CHECKPOINT_VERSION, **state}
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint onto the CPU with `torch.load(weights_only=True)`.

    Raises:
        CheckpointError: no file, an unreadable file, or another checkpoint version.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint here")
    state = read_tensors(path, "checkpoint")
    if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
        found = state.get("version") if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(f"{path}: checkpoint version {found!r}, this biogrn reads {CHECKPOINT_VERSION}")
    return state


def read_tensors(path: Path, what: str):
    """What `torch.save` wrote at `path`, read onto the CPU with `weights_only=True`, every tensor
    within what the file could hold.

    Raises:
        CheckpointError: `PATH: not a readable WHAT (...)`, or a tensor too large (its entry named).
    """
    with reading(path, what, CheckpointError):  # torch's unpickler raises many kinds (IndexError for one byte)
        state = torch.load(path, map_location="cpu", weights_only=True)
    _refuse_expanded(state, path, max(MOST_TENSOR_BYTES, 64 * path.stat().st_size))
    return state


MOST_TENSOR_BYTES = 1 << 30
"""A tensor of a checkpoint may span at most this (or 64 times the file): an expanded view of one
stored element can declare 4e12 elements, which the first copy of it would allocate."""


def _refuse_expanded(value, path: Path, bound: int, where: str = "") -> None:
    """Every tensor in a loaded checkpoint spans what the file could hold.

    Raises:
        CheckpointError: naming the entry (`records.trace.0`) and its shape.
    """
    if isinstance(value, torch.Tensor):
        if value.numel() * value.element_size() > bound:
            raise CheckpointError(
                f"{path}: {where or 'a tensor'} declares shape {tuple(value.shape)} "
                f"({value.numel() * value.element_size() / 2**30:.3g} GiB) in a file of {path.stat().st_size} bytes"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_expanded(item, path, bound, f"{where}.{key}" if where else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _refuse_expanded(item, path, bound, f"{where}.{index}" if where else str(index))


def rng_states(*generators: torch.Generator) -> dict:
    """The global torch RNG (CPU and every initialised CUDA device) and the given generators."""
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else [],
        "generators": [g.get_state() for g in generators],
    }


def restore_rng(states: dict, *generators: torch.Generator) -> None:
    """Undo `rng_states`: the same generators, in the same order."""
    torch.set_rng_state(states["torch"])
    if states["cuda"]:
        torch.cuda.set_rng_state_all(states["cuda"])
    for generator, state in zip(generators, states["generators"], strict=True):
        generator.set_state(state)
