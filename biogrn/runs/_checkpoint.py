"""Run checkpoints: one file holding everything a killed run needs to continue identically.

A checkpoint is a plain dictionary of tensors, numbers, strings and lists, saved with
`torch.save` through `biogrn.core.atomic_write` and read with `torch.load(weights_only=True)`,
so loading one runs no pickled code.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from biogrn.core import CheckpointError, atomic_write, cause

__all__ = ["CHECKPOINT_VERSION", "CheckpointError", "load_checkpoint", "restore_rng", "rng_states", "save_checkpoint"]

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
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError) as error:  # truncated or damaged
        raise CheckpointError(f"{path}: not a readable checkpoint ({cause(error)})") from None
    if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
        found = state.get("version") if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(f"{path}: checkpoint version {found!r}, this biogrn reads {CHECKPOINT_VERSION}")
    return state


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
