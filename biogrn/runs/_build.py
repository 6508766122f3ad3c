"""The pieces of a run, built from its configuration: device, data, model, optimizer."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from torch import nn

from biogrn.core import CheckpointError, ConfigError, DataError, reading
from biogrn.data import (
    AffectNet,
    Mnist1dSettings,
    Splits,
    anndata,
    digits,
    fer2013_splits,
    flat_splits,
    mnist1d,
    ravdess_splits,
    read_csv,
    read_npz,
)
from biogrn.models import bionic, cnn1d, cnn1d_kernels, cnn1d_length, mlp
from biogrn.runs._checkpoint import read_tensors

__all__ = [
    "build_model",
    "load_data",
    "load_initial_weights",
    "make_optimizer",
    "parameter_count",
    "resolve_device",
    "training_bytes",
]


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` is CUDA when present, else the CPU; other names as torch reads them.

    Raises:
        ValueError: the named device is not available here.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {name!r} asked for, but CUDA is not available here")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(
            f"device: {name!r} asked for, but this machine has {torch.cuda.device_count()} CUDA "
            f"device(s), cuda:0 to cuda:{torch.cuda.device_count() - 1}"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device: {name!r} asked for, but MPS is not available here")
    return device


def load_data(config, seed: int) -> Splits:
    """The splits a `DataConfig` describes, shuffled with `seed`.

    Raises:
        DataError: the file is malformed (the message names the file and line).
    """
    if config.name == "digits":
        return digits(config.val_fraction, config.test_fraction, seed)
    if config.name == "mnist1d":
        settings = config.mnist1d.model_dump()
        probe_signals = settings.pop("probe_signals")
        return mnist1d(Mnist1dSettings(**settings), config.val_fraction, seed, probe_signals)
    if config.name == "npz":
        return read_npz(config.path, config.val_fraction, config.test_fraction, seed)
    if config.name == "anndata":
        return anndata(config.path, config.label_key, config.layer, config.val_fraction, config.test_fraction, seed)
    if config.name == "csv":
        return read_csv(config.path, config.label_column, config.val_fraction, config.test_fraction, seed)
    if config.name == "fer2013":
        return fer2013_splits(
            config.path, config.val_fraction, seed, config.on_error, config.test_fraction, config.outside_root
        )
    if config.name == "affectnet":
        parts = {
            split: AffectNet(
                config.path,
                split,
                config.classes,
                config.image_size,
                config.on_error,
                config.val_fraction,
                seed,
                outside_root=config.outside_root,
            )
            for split in ("train", "val", "test")
        }
        return flat_splits(parts, config.classes, f"AffectNet {config.path}")
    if config.name == "ravdess":
        return ravdess_splits(
            config.path, config.val_fraction, config.test_fraction, seed, config.on_error, config.outside_root
        )
    raise DataError(f"data.name: {config.name!r} is unknown")


def build_model(
    config, n_features: int, n_classes: int, image_shape: tuple[int, ...] | None = None, seed: int = 0
) -> nn.Module:
    """The network a `ModelConfig` names, for `n_features` inputs and `n_classes` outputs.

    Raises:
        ValueError: `bionic` on data that are not images.
    """
    if config.name == "mlp":
        return mlp([n_features, *config.hidden, n_classes], config.activation, config.dropout, config.residual)
    if config.name == "cnn1d":
        return cnn1d(n_features, n_classes, config.channels, config.hidden, config.activation)
    if config.name == "bionic":
        if image_shape is None:
            raise ValueError("model.name: 'bionic' needs image data (digits, fer2013, affectnet)")
        return bionic(
            image_shape,
            n_classes,
            config.hidden,
            config.connectome_density,
            config.dale,
            config.inhibitory_fraction,
            config.inhibitory_gain,
            config.noise,
            config.layernorm,
            seed,
        )
    raise ValueError(f"model.name: {config.name!r} is unknown")


BIONIC_FRONT_WIDTH = 32 * 16
"""Features the BioNIC front end hands to the cortex: 32 channels pooled to 4x4."""
OPTIMIZER_STATES = {"adam": 2, "adamw": 2, "sgd": 1}
GENE_FLOATS = 8
"""Per regulated connection: m, p, the gradient record, the drive, the mask, the importance and
two buffers of the integration; an upper estimate (docs/reliability.md)."""


def parameter_count(config, n_features: int, n_classes: int, image_shape: tuple[int, ...] | None) -> int:
    """The parameters `build_model` would allocate, counted from the widths alone."""
    widths = [n_features, *config.hidden, n_classes]
    front = 0
    if config.name == "bionic":
        channels = image_shape[0] if image_shape else 1
        front = 16 * channels * 9 + 16 + 32 * 16 * 9 + 32
        widths[0] = BIONIC_FRONT_WIDTH
        front += 2 * sum(config.hidden) if config.layernorm else 0
    if config.name == "cnn1d":
        kernels = cnn1d_kernels(len(config.channels))
        front = sum((a * k + 1) * b for a, k, b in zip([1, *config.channels[:-1]], kernels, config.channels))
        widths[0] = config.channels[-1] * cnn1d_length(n_features, config.channels)
    return front + sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:]))


def training_bytes(
    config, n_features: int, n_classes: int, image_shape: tuple[int, ...] | None, n_train: int | None = None
) -> int:
    """Bytes a run of `config` (a `RunConfig`) holds on its device: weights, gradients, optimizer
    state and, when regulated, the genes; activations of a batch (forward and backward) on top, a
    batch never larger than the `n_train` training examples."""
    n = parameter_count(config.model, n_features, n_classes, image_shape)
    floats = 2 + OPTIMIZER_STATES[config.training.optimizer] + (GENE_FLOATS if config.pruning == "gene" else 0)
    batch = min(config.training.batch_size, n_train) if n_train is not None else config.training.batch_size
    activations = 3 * batch * (n_features + sum(config.model.hidden) + n_classes)
    return 4 * (n * floats + activations)


def make_optimizer(config, parameters) -> torch.optim.Optimizer:
    """The optimizer a `TrainingConfig` names."""
    if config.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(parameters, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)


def load_initial_weights(model: nn.Module, path: str | Path) -> str:
    """Copy the weights in `path` into `model` (all or nothing); returns the file's SHA-256.

    `path` holds a biogrn run checkpoint (its `model` entry is used) or a plain `state_dict`; it is
    read with `torch.load(weights_only=True)`, so no pickled code runs.

    Raises:
        ConfigError: naming `model.weights` and the file: unreadable, not a state of tensors, a
            missing or extra entry, a shape or kind of number (or a sparse layout) that differs
            from the model's, or a non-finite value.
    """
    path = Path(path)
    where = f"model.weights: {path}"
    try:  # the checkpoints' reader: any damage one line, no tensor larger than the file could hold
        state = read_tensors(path, "weights file")
    except CheckpointError as error:
        raise ConfigError(f"model.weights: {error}") from None
    if isinstance(state, dict) and "version" in state and isinstance(state.get("model"), dict):
        state = state["model"]  # a run's checkpoint
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConfigError(f"{where}: holds no state_dict of tensors (nor a biogrn checkpoint)")
    expected = model.state_dict()
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        said = "; ".join(
            part
            for part in (
                f"lacks {', '.join(missing[:5])}" if missing else "",
                f"has no place for {', '.join(extra[:5])}" if extra else "",
            )
            if part
        )
        raise ConfigError(f"{where}: does not fit the configured model: {said}")
    for name, tensor in expected.items():
        if state[name].layout != torch.strided:  # a sparse tensor copies into nothing
            raise ConfigError(f"{where}: {name} is a {state[name].layout} tensor; save dense weights")
        if state[name].is_floating_point() != tensor.is_floating_point() or state[name].is_complex():
            # int64 weights were truncated, bool ones became 0/1, complex ones lost their imaginary part
            raise ConfigError(f"{where}: {name} holds {state[name].dtype} values, the model's are {tensor.dtype}")
        if tuple(state[name].shape) != tuple(tensor.shape):
            raise ConfigError(
                f"{where}: {name} has shape {tuple(state[name].shape)}, the model's is {tuple(tensor.shape)}"
            )
        if state[name].is_floating_point() and not bool(state[name].isfinite().all()):
            raise ConfigError(f"{where}: {name} holds a non-finite value")
    model.load_state_dict(state)
    with reading(path, "weights file", ConfigError), open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
