"""Data that ships inside an installed package, so runs and tests need no download."""

from __future__ import annotations

import numpy as np

from biogrn.data._splits import Splits, split_arrays

__all__ = ["digits"]


def digits(val_fraction: float = 0.15, test_fraction: float = 0.15, seed: int = 0) -> Splits:
    """scikit-learn's 1,797 8x8 digit images (the offline stand-in for the seed listing's MNIST).

    Pixels (0 to 16) are scaled to [0, 1]; 64 features, 10 classes.
    """
    from sklearn.datasets import load_digits

    data = load_digits()
    return split_arrays(
        data.data / 16.0,
        data.target.astype(np.int64),
        val_fraction,
        test_fraction,
        seed,
        "sklearn digits",
        image_shape=(1, 8, 8),
    )
