import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from biogrn.data import Augment

images = arrays(
    "float32",
    st.tuples(st.integers(1, 4), st.just(1), st.integers(2, 20), st.integers(2, 20)),
    elements=st.floats(0, 1, width=32),
)


@given(x=images, seed=st.integers(0, 2**32 - 1))
def test_any_image_stays_in_the_unit_interval_and_keeps_its_shape(x, seed):
    x = torch.from_numpy(x)
    out = Augment()(x, torch.Generator().manual_seed(seed))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert out.min() >= 0 and out.max() <= 1


@given(x=images, seed=st.integers(0, 2**32 - 1))
def test_same_generator_state_same_augmentation(x, seed):
    x = torch.from_numpy(x)
    a = Augment()(x, torch.Generator().manual_seed(seed))
    b = Augment()(x, torch.Generator().manual_seed(seed))
    assert torch.equal(a, b)


def test_each_transformation_alone():
    x = torch.rand(8, 1, 12, 12)
    g = torch.Generator().manual_seed(0)
    assert torch.allclose(Augment(rotation=0, flip=0, brightness=0)(x, g), x)
    flipped = Augment(rotation=0, flip=1, brightness=0)(x, g)
    assert torch.equal(flipped, x.flip(-1))
    bright = Augment(rotation=0, flip=0, brightness=0.2)(torch.full((500, 1, 2, 2), 0.5), g)
    factors = bright[:, 0, 0, 0] / 0.5
    assert factors.min() >= 0.8 - 1e-6 and factors.max() <= 1.2 + 1e-6 and factors.std() > 0.05
    rotated = Augment(rotation=15, flip=0, brightness=0)(x, g)
    assert not torch.allclose(rotated, x)


def test_small_rotations_move_a_point_by_at_most_the_angle():
    x = torch.zeros(200, 1, 41, 41)
    x[:, 0, 20, 36] = 1.0  # 16 pixels right of the centre
    out = Augment(rotation=15, flip=0, brightness=0)(x, torch.Generator().manual_seed(1))
    rows, cols = torch.meshgrid(torch.arange(41.0), torch.arange(41.0), indexing="ij")
    mass = out.sum((1, 2, 3))
    angle = torch.atan2((out[:, 0] * (rows - 20)).sum((1, 2)) / mass, (out[:, 0] * (cols - 20)).sum((1, 2)) / mass)
    assert angle.abs().max() <= torch.deg2rad(torch.tensor(15.0)) + 0.02
    assert angle.abs().max() > torch.deg2rad(torch.tensor(10.0))  # the range is used


def test_bad_settings_and_shapes():
    with pytest.raises(ValueError, match="rotation >= 0"):
        Augment(rotation=-1)
    with pytest.raises(ValueError, match=r"expected \(n, c, h, w\)"):
        Augment()(torch.rand(3, 3))
