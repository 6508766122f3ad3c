import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from biogrn.data import DATASET_LABELS, SHARED_EMOTIONS, from_shared, to_shared


@pytest.mark.parametrize("dataset", sorted(DATASET_LABELS))
def test_round_trip_through_the_shared_vocabulary(dataset):
    own = np.arange(len(DATASET_LABELS[dataset]))
    assert np.array_equal(from_shared(dataset, to_shared(dataset, own)), own)
    assert len(set(to_shared(dataset, own))) == len(own)  # distinct emotions stay distinct


def test_known_correspondences():
    assert SHARED_EMOTIONS[to_shared("fer2013", [6])[0]] == "neutral"
    assert SHARED_EMOTIONS[to_shared("affectnet", [6])[0]] == "anger"
    assert SHARED_EMOTIONS[to_shared("ravdess", [7])[0]] == "surprise"  # file id 08 surprised
    assert from_shared("fer2013", to_shared("affectnet", [7]))[0] == -1  # FER-2013 has no contempt
    assert to_shared("ravdess", [1], calm_as_neutral=True)[0] == SHARED_EMOTIONS.index("neutral")
    with pytest.raises(ValueError, match="7 is not a fer2013 label id"):
        to_shared("fer2013", [7])


@given(st.lists(st.integers(-1, 6), max_size=30))
def test_fer_to_affectnet_and_back(labels):
    via = from_shared("fer2013", to_shared("affectnet", from_shared("affectnet", to_shared("fer2013", labels))))
    assert np.array_equal(via, np.asarray(labels))
