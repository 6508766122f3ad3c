"""The stored tensor behind a module's parameter, whether or not a parametrization wraps it."""

from __future__ import annotations

from torch import nn

__all__ = ["stored_parameter"]


def stored_parameter(module: nn.Module, name: str) -> nn.Parameter:
    """`module.<name>` as the optimizer holds it: the `original` of a parametrized tensor.

    Under `torch.nn.utils.parametrize`, `module.<name>` is the transformed (masked, signed, noisy)
    tensor recomputed at each access; the parameter the optimizer updates is stored beneath it.
    """
    parametrizations = getattr(module, "parametrizations", None)
    if parametrizations is not None and name in parametrizations:
        return parametrizations[name].original
    return getattr(module, name)
