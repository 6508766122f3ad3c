"""Data sets as users have them, each returned as train / val / test `Splits`."""

from __future__ import annotations

from biogrn.data.affectnet import AFFECTNET_EXPRESSIONS, AffectNet
from biogrn.data.arrays import read_csv, read_npz
from biogrn.data.dataset import DataError, Splits, flat_splits, split_arrays
from biogrn.data.embedded import digits
from biogrn.data.ravdess import RAVDESS, RAVDESS_EMOTIONS, parse_name, ravdess_splits
from biogrn.data.fer2013 import EMOTIONS, FER2013, fer2013_splits, read_fer_csv, read_fer_folders

__all__ = ["RAVDESS", "RAVDESS_EMOTIONS", "parse_name", "ravdess_splits", "AFFECTNET_EXPRESSIONS", "AffectNet", "EMOTIONS", "FER2013", "flat_splits", "DataError", "Splits", "digits", "fer2013_splits", "load_data", "read_csv",
           "read_fer_csv", "read_fer_folders", "read_npz", "split_arrays"]


def load_data(config, seed: int) -> Splits:
    """The splits a `DataConfig` describes, shuffled with `seed`.

    Raises:
        DataError: the file is malformed (the message names the file and line).
    """
    if config.name == "digits":
        return digits(config.val_fraction, config.test_fraction, seed)
    if config.name == "npz":
        return read_npz(config.path, config.val_fraction, config.test_fraction, seed)
    if config.name == "csv":
        return read_csv(config.path, config.label_column, config.val_fraction, config.test_fraction, seed)
    if config.name == "fer2013":
        return fer2013_splits(config.path, config.val_fraction, seed, config.on_error)
    if config.name == "affectnet":
        parts = {split: AffectNet(config.path, split, config.classes, config.image_size, config.on_error,
                                  config.val_fraction, seed) for split in ("train", "val", "test")}
        return flat_splits(parts, config.classes, f"AffectNet {config.path}")
    if config.name == "ravdess":
        return ravdess_splits(config.path, config.val_fraction, config.test_fraction, seed, config.on_error)
    raise DataError(f"data.name: {config.name!r} is unknown")
