import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from biogrn.core import DataError
from biogrn.data import GroupShift, read_groups


def test_read_groups_and_its_errors(tmp_path):
    path = tmp_path / "groups.csv"
    path.write_text("file,group,extra\na.png,east,1\nb.png, west ,2\n")
    assert read_groups(path, "file") == {"a.png": "east", "b.png": "west"}
    path.write_text("file,group\na.png,east\na.png,west\n")
    with pytest.raises(DataError, match=r"groups.csv: line 3: file 'a.png' is given twice"):
        read_groups(path, "file")
    path.write_text("file,group\na.png,\n")
    with pytest.raises(DataError, match=r"line 2: empty group"):
        read_groups(path, "file")
    with pytest.raises(DataError, match=r"missing column\(s\) \['row'\]"):
        read_groups(path, "row")


@given(seed=st.integers(0, 1000), strength=st.floats(0, 1))
def test_group_shift_stays_in_range_and_leaves_group_0_alone(seed, strength):
    images = torch.rand(12, 1, 8, 8, generator=torch.Generator().manual_seed(seed))
    groups = torch.arange(12) % 3
    out = GroupShift(3, strength, seed)(images, groups)
    assert out.shape == images.shape and out.min() >= 0 and out.max() <= 1
    assert torch.allclose(out[groups == 0], images[groups == 0])


def test_group_shift_changes_other_groups_deterministically():
    images = torch.rand(10, 1, 8, 8)
    groups = torch.tensor([0, 1] * 5)
    a, b = GroupShift(2, 1.0, seed=5)(images, groups), GroupShift(2, 1.0, seed=5)(images, groups)
    assert torch.equal(a, b) and not torch.allclose(a[groups == 1], images[groups == 1])
    assert torch.allclose(GroupShift(2, 0.0, seed=5)(images, groups), images)
    with pytest.raises(ValueError, match=r"groups: ids must be in 0..1"):
        GroupShift(2)(images, groups + 1)
