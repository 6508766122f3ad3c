"""Data sets as users have them, each returned as train / val / test `Splits`."""

from __future__ import annotations

from biogrn.data.arrays import read_csv, read_npz
from biogrn.data.dataset import DataError, Splits, split_arrays
from biogrn.data.embedded import digits
from biogrn.data.fer2013 import EMOTIONS, FER2013, fer2013_splits, read_fer_csv, read_fer_folders

__all__ = ["EMOTIONS", "FER2013", "DataError", "Splits", "digits", "fer2013_splits", "load_data", "read_csv",
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
    raise DataError(f"data.name: {config.name!r} is unknown")
