import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from biogrn.core import mask_bits, segment_nonzero, segment_sums, sparse_nonzero


@given(st.integers(0, 300), st.integers(0, 9), st.floats(0.0, 1.0), st.integers(0, 2**31 - 1))
def test_sparse_nonzero_is_nonzero_for_any_length_offset_and_density(n, offset, density, seed):
    generator = torch.Generator().manual_seed(seed)
    base = torch.rand(n + offset, generator=generator) < density
    mask = base[offset:]  # views that do not start on an eight-entry word take nonzero itself
    assert torch.equal(sparse_nonzero(mask), mask.nonzero().squeeze(1))


def test_sparse_nonzero_refuses_what_is_not_a_flat_boolean():
    with pytest.raises(ValueError, match="mask: expected a flat boolean"):
        sparse_nonzero(torch.zeros(4))
    with pytest.raises(ValueError, match="mask: expected a flat boolean"):
        sparse_nonzero(torch.zeros(2, 4, dtype=torch.bool))


@given(st.lists(st.integers(0, 40), min_size=1, max_size=5), st.integers(0, 2**31 - 1))
def test_segment_nonzero_counts_each_slice_as_a_comparison_would(sizes, seed):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randint(-2, 3, (sum(sizes),), generator=generator, dtype=torch.int32)
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    slices = [slice(a, a + n) for a, n in zip(starts, sizes)]
    expected = [int((x[s] != 0).sum()) for s in slices]
    assert segment_nonzero(x, slices).tolist() == expected
    assert segment_sums(x != 0, slices).tolist() == expected


@given(
    st.integers(0, 300),
    st.floats(0.0, 1.0),
    st.sampled_from([torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.bool]),
    st.integers(0, 2**31 - 1),
)
def test_mask_bits_count_the_set_entries_of_a_zero_one_mask(n, density, dtype, seed):
    set_entries = torch.rand(n, generator=torch.Generator().manual_seed(seed)) < density
    mask = set_entries.to(dtype)
    bits = mask_bits(mask)
    assert bits.element_size() == mask.element_size() and bits.data_ptr() == mask.data_ptr()  # a view
    assert int(torch.count_nonzero(bits)) == int(set_entries.sum())
