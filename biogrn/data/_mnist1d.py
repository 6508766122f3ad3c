"""MNIST-1D (Greydanus & Kobak, ICML 2024): ten 1-D digit templates padded, scaled, translated,
sheared and noised into signals of length 40, generated procedurally by the `mnist1d` package.

The generator's own train / test cut is kept (4,000 and 1,000 signals by default: the published
protocol); the validation split is carved from its training part with the run's seed. Nothing is
downloaded: `mnist1d.data.make_dataset` builds the signals from its templates.
"""

from __future__ import annotations

import functools
import random
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
from torch.utils.data import TensorDataset

from biogrn.core import ConfigError, DataError, require_memory
from biogrn.data._splits import Splits

__all__ = ["MNIST1D_PUBLISHED", "Mnist1dSettings", "mnist1d"]

MNIST1D_PUBLISHED = {"logistic": 0.32, "mlp": 0.68, "cnn": 0.94, "gru": 0.91, "human": 0.96}
"""Test accuracies the MNIST-1D paper reports on the default 4,000 + 1,000 signals."""


@dataclass(frozen=True)
class Mnist1dSettings:
    """The generator's parameters (`mnist1d.data.get_dataset_args`); the defaults give the
    published data set."""

    num_samples: int = 5000
    train_split: float = 0.8
    template_len: int = 12
    padding: tuple[int, int] = (36, 60)
    scale_coeff: float = 0.4
    max_translation: int = 48
    corr_noise_scale: float = 0.25
    iid_noise_scale: float = 2e-2
    shear_scale: float = 0.75
    shuffle_seq: bool = False
    final_seq_length: int = 40
    seed: int = 42


@functools.lru_cache(maxsize=2)
def _generate(settings: Mnist1dSettings) -> dict[str, np.ndarray]:
    """The generator's arrays; cached because every run of a study with the same settings (and
    any seed) reads the same signals, and 50,000 of them take half a minute to make."""
    from mnist1d.data import get_dataset_args, make_dataset

    longest = max(settings.final_seq_length, settings.template_len + settings.padding[1])
    # the generator holds each signal at its longest in float64, several times over (templates,
    # padding, shear, noise, interpolation): eight copies is what it peaks at
    require_memory(
        8 * 8 * settings.num_samples * longest,
        "cpu",
        f"data.mnist1d: {settings.num_samples} signals of {longest} samples",
        ConfigError,
    )
    args = get_dataset_args()
    for name, value in asdict(settings).items():
        setattr(args, name, list(value) if name == "padding" else value)
    # make_dataset seeds the global NumPy and random streams; a caller's streams are left as found
    numpy_state, python_state = np.random.get_state(), random.getstate()  # noqa: NPY002 - the legacy stream it seeds
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(numpy_state)  # noqa: NPY002
        random.setstate(python_state)
    return {key: data[key] for key in ("x", "y", "x_test", "y_test")}


PROBE_SEED_OFFSET = 1
"""A probe set is made by the same generator with its seed moved by this much: other signals, drawn
the same way."""


def mnist1d(
    settings: Mnist1dSettings | None = None, val_fraction: float = 0.15, seed: int = 0, probe_signals: int = 0
) -> Splits:
    """MNIST-1D as train / val / test `Splits`: 40 features (`final_seq_length`), 10 classes.

    Test is the generator's test part; val is `val_fraction` of its training part, drawn with
    `seed` (the run's seed), train the rest. The signals depend on `settings.seed` alone. With
    `probe_signals`, `Splits.probe` holds that many more signals, made by the generator with seed
    `settings.seed + PROBE_SEED_OFFSET` (its training and test parts together): a held-out set for
    the expression probe, as large as a reliable removal cost needs.
    """
    settings = settings or Mnist1dSettings()
    data = _generate(settings)
    source = f"MNIST-1D ({settings.num_samples} signals, generator seed {settings.seed})"
    if not (np.isfinite(data["x"]).all() and np.isfinite(data["x_test"]).all()):
        raise DataError(f"{source}: the generator made non-finite signals; lower its noise or shear scales")
    order = np.random.default_rng(seed).permutation(len(data["y"]))
    n_val = int(val_fraction * len(order))
    if n_val == 0 or n_val == len(order) or len(data["y_test"]) == 0:
        raise DataError(
            f"{source}: train_split {settings.train_split} and val_fraction {val_fraction} "
            "leave an empty train, val or test split"
        )
    parts = {"val": order[:n_val], "train": order[n_val:]}
    x, y = torch.as_tensor(data["x"], dtype=torch.float32), torch.as_tensor(data["y"], dtype=torch.long)
    test = TensorDataset(
        torch.as_tensor(data["x_test"], dtype=torch.float32), torch.as_tensor(data["y_test"], dtype=torch.long)
    )
    return Splits(
        TensorDataset(x[parts["train"]], y[parts["train"]]),
        TensorDataset(x[parts["val"]], y[parts["val"]]),
        test,
        n_features=x.shape[1],
        n_classes=10,
        source=source,
        probe=_probe_signals(settings, probe_signals) if probe_signals else None,
    )


def _probe_signals(settings: Mnist1dSettings, count: int) -> TensorDataset:
    """`count` signals of the generator at seed `settings.seed + PROBE_SEED_OFFSET`."""
    # the generator makes num_samples rounded down to a multiple of 10 (a tenth per class), split
    # into its training and test parts: both together are the probe set
    total = max(-(-count // 10) * 10, 20)
    data = _generate(replace(settings, seed=settings.seed + PROBE_SEED_OFFSET, num_samples=total))
    x = np.concatenate([data["x"], data["x_test"]])[:count]
    y = np.concatenate([data["y"], data["y_test"]])[:count]
    return TensorDataset(torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long))
