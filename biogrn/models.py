"""Reference architectures, built from a `ModelConfig` and the data's shapes."""

from __future__ import annotations

from torch import nn

__all__ = ["build_model", "mlp"]

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


def mlp(sizes: list[int], activation: str = "relu", dropout: float = 0.0) -> nn.Sequential:
    """Linear layers of the given widths with an activation (and dropout) between them.

    `mlp([64, 128, 64, 10])` is the seed paper's listing model on 64 inputs and 10 classes.
    """
    if len(sizes) < 2:
        raise ValueError(f"sizes: need an input and an output width, got {sizes}")
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation: {activation!r} is unknown; choose from {sorted(_ACTIVATIONS)}")
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(_ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def build_model(config, n_features: int, n_classes: int) -> nn.Module:
    """The network a `ModelConfig` names, for `n_features` inputs and `n_classes` outputs."""
    if config.name == "mlp":
        return mlp([n_features, *config.hidden, n_classes], config.activation, config.dropout)
    raise ValueError(f"model.name: {config.name!r} is unknown")
