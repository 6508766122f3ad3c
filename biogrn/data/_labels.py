"""One emotion vocabulary for FER-2013, AffectNet and RAVDESS, so a model trained on one data set
can be evaluated on another.

| shared id | emotion | FER-2013 | AffectNet | RAVDESS |
|---|---|---|---|---|
| 0 | neutral | 6 Neutral | 0 Neutral | 01 neutral |
| 1 | happy | 3 Happy | 1 Happy | 03 happy |
| 2 | sad | 4 Sad | 2 Sad | 04 sad |
| 3 | surprise | 5 Surprise | 3 Surprise | 08 surprised |
| 4 | fear | 2 Fear | 4 Fear | 06 fearful |
| 5 | disgust | 1 Disgust | 5 Disgust | 07 disgust |
| 6 | anger | 0 Angry | 6 Anger | 05 angry |
| 7 | contempt | - | 7 Contempt | - |
| 8 | calm | - | - | 02 calm |

RAVDESS's *calm* has no counterpart in the face sets; `calm_as_neutral=True` folds it into
neutral. A label a data set does not have maps to -1 going the other way (`from_shared`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["DATASET_LABELS", "SHARED_EMOTIONS", "from_shared", "to_shared"]

SHARED_EMOTIONS = ("neutral", "happy", "sad", "surprise", "fear", "disgust", "anger", "contempt", "calm")

DATASET_LABELS: dict[str, tuple[str, ...]] = {
    # the data set's own label id -> shared emotion name, in id order
    "fer2013": ("anger", "disgust", "fear", "happy", "sad", "surprise", "neutral"),
    "affectnet": ("neutral", "happy", "sad", "surprise", "fear", "disgust", "anger", "contempt"),
    # RAVDESS ids 01-08 are stored 0-based (id - 1)
    "ravdess": ("neutral", "calm", "happy", "sad", "anger", "fear", "disgust", "surprise"),
}


def _table(dataset: str) -> tuple[str, ...]:
    if dataset not in DATASET_LABELS:
        raise ValueError(f"dataset: {dataset!r} is unknown; choose from {sorted(DATASET_LABELS)}")
    return DATASET_LABELS[dataset]


def to_shared(dataset: str, labels, calm_as_neutral: bool = False) -> np.ndarray:
    """The data set's label ids as shared ids (-1 stays -1, for unlabelled examples).

    Raises:
        ValueError: an unknown data set, or a label id the data set does not have.
    """
    names = _table(dataset)
    lookup = np.asarray([SHARED_EMOTIONS.index(n) for n in names])
    if calm_as_neutral:
        lookup[lookup == SHARED_EMOTIONS.index("calm")] = SHARED_EMOTIONS.index("neutral")
    labels = np.asarray(labels, dtype=np.int64)
    bad = (labels < -1) | (labels >= len(names))
    if bad.any():
        raise ValueError(f"labels: {labels[bad][0]} is not a {dataset} label id (0-{len(names) - 1})")
    return np.where(labels >= 0, lookup[np.clip(labels, 0, None)], -1)


def from_shared(dataset: str, shared) -> np.ndarray:
    """Shared ids as the data set's own ids; -1 where the data set has no such emotion."""
    names = _table(dataset)
    inverse = np.full(len(SHARED_EMOTIONS), -1, dtype=np.int64)
    for own, name in enumerate(names):
        inverse[SHARED_EMOTIONS.index(name)] = own
    shared = np.asarray(shared, dtype=np.int64)
    return np.where(shared >= 0, inverse[np.clip(shared, 0, None)], -1)
