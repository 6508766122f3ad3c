"""Sizes that cannot fit are refused before anything is allocated, with the estimate that says so.

A model of 10**9 hidden units, an archive that decompresses to more than the machine holds, or a
simulation of more members than memory takes would otherwise end in an out-of-memory kill that
leaves no message, or in a traceback from deep inside torch.
"""

from __future__ import annotations

import psutil
import torch

__all__ = ["available_bytes", "format_bytes", "require_memory"]


def available_bytes(device: torch.device | str = "cpu") -> int:
    """Memory that can be allocated now: free device memory for CUDA, available RAM otherwise."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    return int(psutil.virtual_memory().available)


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    raise AssertionError("unreachable")


def require_memory(needed: float, device: torch.device | str, what: str, error: type[Exception]) -> None:
    """Raise `error` naming `what` when `needed` bytes exceed what `device` has available.

    Raises:
        error: `what: needs about X; Y are available on DEVICE`.
    """
    have = available_bytes(device)
    if needed > have:
        raise error(f"{what}: needs about {format_bytes(needed)}; {format_bytes(have)} are available on {device}")
