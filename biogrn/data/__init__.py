"""Data sets as users have them, each returned as train / val / test `Splits`.

- `_splits`: what every loader returns, and the seeded train / val / test cut.
- `_embedded`: scikit-learn's digits (ships offline).
- `_arrays`: `.npz` and CSV feature tables.
- `_fer2013`, `_affectnet`, `_ravdess`: the emotion data sets in the forms users download.
- `_labels`: one emotion vocabulary across the three.
- `_groups`: group labels per example (metadata CSV, or a labelled simulation).
- `_augment`, `_faces`: the seed paper's augmentation, face crops.
- `_series`: the time series that ship inside statsmodels, and lagged windows.
- `_problems`: what a loader does with a malformed row (`on_error`).
"""

from biogrn.core import DataError
from biogrn.data._affectnet import AFFECTNET_EXPRESSIONS, AffectNet
from biogrn.data._arrays import read_csv, read_npz
from biogrn.data._augment import Augment
from biogrn.data._embedded import digits
from biogrn.data._faces import FaceCropper
from biogrn.data._fer2013 import EMOTIONS, FER2013, fer2013_splits, read_fer_csv, read_fer_folders
from biogrn.data._groups import GroupShift, assign_groups, read_groups
from biogrn.data._labels import DATASET_LABELS, SHARED_EMOTIONS, from_shared, to_shared
from biogrn.data._ravdess import (
    RAVDESS,
    RAVDESS_EMOTIONS,
    RavdessFile,
    actor_splits,
    log_mel,
    parse_name,
    ravdess_splits,
)
from biogrn.data._series import SERIES, lagged, load_series
from biogrn.data._splits import GrayscaleImages, Splits, flat_splits, split_arrays, split_indices

__all__ = [
    "AFFECTNET_EXPRESSIONS",
    "DATASET_LABELS",
    "EMOTIONS",
    "FER2013",
    "RAVDESS",
    "RAVDESS_EMOTIONS",
    "SERIES",
    "SHARED_EMOTIONS",
    "AffectNet",
    "Augment",
    "DataError",
    "FaceCropper",
    "GrayscaleImages",
    "GroupShift",
    "RavdessFile",
    "Splits",
    "actor_splits",
    "assign_groups",
    "digits",
    "fer2013_splits",
    "flat_splits",
    "from_shared",
    "lagged",
    "load_series",
    "log_mel",
    "parse_name",
    "ravdess_splits",
    "read_csv",
    "read_fer_csv",
    "read_fer_folders",
    "read_groups",
    "read_npz",
    "split_arrays",
    "split_indices",
    "to_shared",
]
