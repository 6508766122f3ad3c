"""Reference architectures.

- `mlp`: the seed paper's listing model.
- `cnn1d`: the MNIST-1D paper's 1-D convolutional net, for signals.
- `resnet18`: He et al.'s ResNet-18 in its 32x32-image form (a 3x3 stem, no max pool), with
  batch norm and residual additions: the conv net that structured compaction is measured on.
- `bionic`: a BioNIC-style network for images: a retinotopic convolutional front end, then
  "cortical" Linear layers under a laminar connectome mask, Dale's law with graded inhibition,
  synaptic noise and LayerNorm; each feature can be switched off (simulations/bionic_ablation.py).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from biogrn.biology import FixedMask, apply_dale, apply_noise, laminar_mask

__all__ = ["BasicBlock", "Residual", "bionic", "cnn1d", "cnn1d_kernels", "cnn1d_length", "mlp", "resnet18"]

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


class Residual(nn.Module):
    """$x + f(x)$: a block whose output has its input's width."""

    def __init__(self, block: nn.Module):
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class BasicBlock(nn.Module):
    r"""$\mathrm{relu}(\mathrm{bn}_2(W_2 * \mathrm{relu}(\mathrm{bn}_1(W_1 * x))) + s(x))$, with $s$ the
    identity, or a strided 1x1 convolution and batch norm where the width or resolution changes."""

    def __init__(self, inputs: int, outputs: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(outputs)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(outputs)
        self.shortcut = nn.Sequential()
        if stride != 1 or inputs != outputs:
            self.shortcut = nn.Sequential(nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(hidden)) + self.shortcut(x))


def resnet18(classes: int = 10, channels: int = 3, width: int = 64) -> nn.Sequential:
    """ResNet-18 for small images (CIFAR's form): 11.2 M parameters at width 64 with 3 input channels.

    A 3x3 stem of `width` channels, four stages of two `BasicBlock`s at widths `width` x 1, 2, 4,
    8 (the last three halve the resolution), global average pooling and a Linear classifier.
    """
    if min(classes, channels, width) < 1:
        raise ValueError(f"classes, channels, width: must be positive, got {classes}, {channels}, {width}")
    blocks, inputs = [], width
    for scale, stride in ((1, 1), (2, 2), (4, 2), (8, 2)):
        blocks += [BasicBlock(inputs, width * scale, stride), BasicBlock(width * scale, width * scale, 1)]
        inputs = width * scale
    return nn.Sequential(
        nn.Conv2d(channels, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(), *blocks,
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(inputs, classes),
    )  # fmt: skip


def mlp(sizes: list[int], activation: str = "relu", dropout: float = 0.0, residual: bool = False) -> nn.Sequential:
    r"""Linear layers of the given widths with an activation (and dropout) between them.

    `mlp([64, 128, 64, 10])` is the seed paper's listing model on 64 inputs and 10 classes. With
    `residual`, a hidden layer after the first that is as wide as its input adds it, $h + \phi(W h + b)$: the MNIST-1D
    paper's MLP is `mlp([40, 100, 100, 10], residual=True)`.
    """
    if len(sizes) < 2:
        raise ValueError(f"sizes: need an input and an output width, got {sizes}")
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation: {activation!r} is unknown; choose from {sorted(_ACTIVATIONS)}")
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i == len(sizes) - 2:
            layers.append(nn.Linear(a, b))
            break
        hidden: list[nn.Module] = [nn.Linear(a, b), _ACTIVATIONS[activation]()]
        if dropout > 0:
            hidden.append(nn.Dropout(dropout))
        if residual and a == b and i > 0:
            layers.append(Residual(nn.Sequential(*hidden)))
        else:
            layers.extend(hidden)
    return nn.Sequential(*layers)


def cnn1d_length(length: int, channels: tuple[int, ...]) -> int:
    r"""Positions left after `cnn1d`'s convolutions: each maps $L$ to $\lfloor (L + 2 - k)/2 \rfloor + 1$."""
    for kernel in cnn1d_kernels(len(channels)):
        length = (length + 2 - kernel) // 2 + 1
    return length


def cnn1d_kernels(n: int) -> list[int]:
    """Kernel sizes of `cnn1d`'s `n` convolutions: 5, then 3."""
    return [5] + [3] * (n - 1)


def cnn1d(
    length: int,
    n_classes: int,
    channels: tuple[int, ...] = (25, 25, 25),
    hidden: tuple[int, ...] = (),
    activation: str = "relu",
) -> nn.Sequential:
    """The MNIST-1D paper's CNN on flat signals of `length` samples.

    Flat input -> `(1, length)` -> for each width in `channels`: Conv1d (kernel 5 first, then 3;
    stride 2, padding 1) -> activation; then flatten, Linear layers of the `hidden` widths with the
    activation, and the Linear read-out. The defaults (three convolutions of 25 channels, no hidden
    layer: 5,210 parameters on 40 samples) are the paper's `ConvBase`.

    Raises:
        ValueError: no convolution, or `length` too short for them.
    """
    if not channels:
        raise ValueError("channels: cnn1d needs at least one convolution")
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation: {activation!r} is unknown; choose from {sorted(_ACTIVATIONS)}")
    remaining = cnn1d_length(length, channels)
    if remaining < 1:
        raise ValueError(f"channels: {len(channels)} stride-2 convolutions leave nothing of {length} samples")
    layers: list[nn.Module] = [nn.Unflatten(1, (1, length))]
    width = 1
    for out, kernel in zip(channels, cnn1d_kernels(len(channels))):
        layers += [nn.Conv1d(width, out, kernel, stride=2, padding=1), _ACTIVATIONS[activation]()]
        width = out
    layers.append(nn.Flatten())
    return nn.Sequential(*layers, *mlp([width * remaining, *hidden, n_classes], activation))


def bionic(
    image_shape: tuple[int, int, int],
    n_classes: int,
    hidden: tuple[int, ...] = (256, 128),
    connectome_density: float = 0.3,
    dale: bool = True,
    inhibitory_fraction: float = 0.2,
    inhibitory_gain: float = 1.0,
    noise: float = 0.0,
    layernorm: bool = True,
    seed: int = 0,
) -> nn.Sequential:
    """A BioNIC-style network; returns it with `model.allow` (`{weight name: mask}`) for the regulator.

    Front end: flat input -> `(c, h, w)` -> Conv 3x3 (16) -> ReLU -> MaxPool 2 -> Conv 3x3 (32)
    -> ReLU -> adaptive average pool to 4x4 (retinotopic: local receptive fields). Cortex: for each
    width in `hidden`, Linear -> (LayerNorm) -> ReLU, then the Linear read-out. The cortical
    Linear layers between hidden populations carry a laminar mask: each hidden layer is split into
    two populations (input-like "L4" and output-like "L2/3") with connection probabilities
    {L4 -> L2/3: 2d, L2/3 -> L2/3: d, L4 -> L4: d, L2/3 -> L4: d/2} for density d (capped at 1);
    Dale's law (`inhibitory_fraction`, `inhibitory_gain`) and synaptic noise act on the same layers.
    """

    generator = torch.Generator().manual_seed(seed)
    c, _, _ = image_shape
    layers: list[nn.Module] = [
        nn.Unflatten(1, tuple(image_shape)),
        nn.Conv2d(c, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2, ceil_mode=True),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(4),
        nn.Flatten(),
    ]
    width, cortical = 32 * 16, []
    for size in hidden:
        layers.append(nn.Linear(width, size))
        cortical.append(len(layers) - 1)
        if layernorm:
            layers.append(nn.LayerNorm(size))
        layers.append(nn.ReLU())
        width = size
    layers.append(nn.Linear(width, n_classes))
    model = nn.Sequential(*layers)
    model.allow = {}
    d = connectome_density
    for first, second in zip(cortical[:-1], cortical[1:]):  # hidden -> hidden: the laminar connectome
        pre, post = model[first].out_features, model[second].out_features
        pre_layers, post_layers = {"L4": pre // 2, "L23": pre - pre // 2}, {"L4": post // 2, "L23": post - post // 2}
        table = {"L4": {"L23": min(1.0, 2 * d), "L4": d}, "L23": {"L23": d, "L4": d / 2}}
        mask = laminar_mask(pre_layers, post_layers, table, generator)
        parametrize.register_parametrization(model[second], "weight", FixedMask(mask))
        model.allow[f"{second}.weight"] = mask
    for index in cortical[1:] + [len(layers) - 1]:  # layers whose inputs are cortical units
        if dale:
            apply_dale(model[index], inhibitory_fraction, inhibitory_gain, generator)
        if noise > 0:
            apply_noise(model[index], additive=noise, multiplicative=noise)
    return model
