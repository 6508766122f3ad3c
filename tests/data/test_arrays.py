import numpy as np
import pytest
import torch

from biogrn.core import DataError
from biogrn.data import digits, read_csv, read_npz, split_arrays


def test_digits_splits_are_disjoint_scaled_and_70_15_15():
    splits = digits(seed=0)
    sizes = [len(s) for s in (splits.train, splits.val, splits.test)]
    assert sizes == [1257, 270, 270]
    assert (splits.n_features, splits.n_classes) == (64, 10)
    x = torch.cat([s.tensors[0] for s in (splits.train, splits.val, splits.test)])
    assert x.min() >= 0 and x.max() <= 1
    assert len(torch.unique(x, dim=0)) == len(
        torch.unique(torch.cat([splits.train.tensors[0], splits.test.tensors[0], splits.val.tensors[0]]), dim=0)
    )


def test_split_is_a_seeded_permutation():
    x = np.arange(100, dtype=np.float32)[:, None]
    y = np.arange(100) % 3
    a, b, c = (
        split_arrays(x, y, 0.2, 0.1, 7, "t"),
        split_arrays(x, y, 0.2, 0.1, 7, "t"),
        split_arrays(x, y, 0.2, 0.1, 8, "t"),
    )
    assert torch.equal(a.train.tensors[0], b.train.tensors[0])
    assert not torch.equal(a.train.tensors[0], c.train.tensors[0])
    seen = torch.cat([a.train.tensors[0], a.val.tensors[0], a.test.tensors[0]]).flatten()
    assert sorted(seen.tolist()) == list(range(100))
    assert [len(a.train), len(a.val), len(a.test)] == [70, 20, 10]
    labels = torch.cat([a.train.tensors[1], a.val.tensors[1], a.test.tensors[1]])
    assert torch.equal(labels, seen.long() % 3)  # labels travel with their examples


def test_too_few_examples_for_three_splits():
    with pytest.raises(DataError, match="empty split"):
        split_arrays(np.zeros((3, 2)), np.zeros(3, dtype=int), 0.15, 0.15, 0, "tiny.npz")


def test_npz_round_trip_flattens_examples(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.random((50, 4, 3)), rng.integers(0, 5, 50)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    splits = read_npz(tmp_path / "d.npz", 0.2, 0.2, 0)
    assert splits.n_features == 12 and splits.n_classes == int(y.max()) + 1
    got = torch.cat([splits.train.tensors[0], splits.val.tensors[0], splits.test.tensors[0]])
    assert np.allclose(np.sort(got.numpy(), axis=0), np.sort(x.reshape(50, -1).astype(np.float32), axis=0))


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x": np.zeros((4, 2))}, r"missing array\(s\) \['y'\]"),
        ({"x": np.zeros((4, 2)), "y": np.zeros(5, int)}, "one label per example"),
        ({"x": np.array([[0.0, np.nan]] * 4), "y": np.zeros(4, int)}, "example 0 of x, feature 1: nan is not finite"),
        ({"x": np.array([[0.0, 1.0]] * 3 + [[1e300, 0]]), "y": np.zeros(4, int)}, "example 3 of x, feature 0: 1e"),
        ({"x": np.zeros((4, 2)), "y": np.array([0, 1, -1, 0])}, "example 2: label -1 is negative"),
        ({"x": np.zeros((4, 2)), "y": np.array([0, 0.5, 1, 0])}, "example 1: label 0.5 is not an integer"),
    ],
)
def test_bad_npz_is_refused_naming_the_file(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=message) as raised:
        read_npz(path, 0.2, 0.2, 0)
    assert str(path) in str(raised.value)


def test_not_an_npz(tmp_path):
    (tmp_path / "junk.npz").write_text("hello")
    with pytest.raises(DataError, match="junk.npz: not a readable .npz"):
        read_npz(tmp_path / "junk.npz", 0.2, 0.2, 0)


def test_csv_reads_features_and_labels(tmp_path):
    rows = ["a,label,b"] + [f"{i},{i % 2},{i * 0.5}" for i in range(20)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    splits = read_csv(tmp_path / "d.csv", "label", 0.25, 0.25, 0)
    assert (splits.n_features, splits.n_classes) == (2, 2)
    x = torch.cat([splits.train.tensors[0], splits.val.tensors[0], splits.test.tensors[0]])
    y = torch.cat([splits.train.tensors[1], splits.val.tensors[1], splits.test.tensors[1]])
    assert torch.equal(y, x[:, 0].long() % 2) and torch.allclose(x[:, 1], x[:, 0] * 0.5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,label\n1,0\n2,x\n", r"line 3, column 'label': 'x' is not a number"),
        ("a,label\n1,0\n,1\n", r"line 3, column 'a': '' is not a number"),
        ("a,label\n1,0\n2,1.5\n", r"line 3: label 1.5 is not an integer"),
        ("a,label\n1,-2\n", r"line 2: label -2 is negative"),
        ("a,y\n1,0\n", r"missing column\(s\) \['label'\]"),
        ("a,label\n", "no rows"),
        ("a,label\n1,0\ninf,1\n", r"line 3, column 'a': 'inf' is not finite"),
        ("a,b,label\n1,0,0\n2,1e400,1\n", r"line 3, column 'b': '1e400' is not finite"),
        ("a,b,label\n1,-Infinity,0\n", r"line 2, column 'b': '-Infinity' is not finite"),
        ("label\n1\n0\n", "no feature columns"),
        ("a,label\n1,0\n-1e300,1\n", r"line 3, column 'a': '-1e300' overflows float32"),
    ],
)
def test_bad_csv_names_file_line_and_column(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as raised:
        read_csv(path, "label", 0.2, 0.2, 0)
    assert str(path) in str(raised.value)


def test_an_npz_that_decompresses_beyond_memory_is_refused_from_its_headers(tmp_path):
    import io
    import zipfile

    header = io.BytesIO()  # claims 10**6 x 10**6 float64 (8 TB) in a file of a few hundred bytes
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
    labels = io.BytesIO()
    np.save(labels, np.zeros(3, dtype=np.int64))
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.npy", header.getvalue() + bytes(1000))
        archive.writestr("y.npy", labels.getvalue())
    with pytest.raises(DataError, match=r"bomb.npz: arrays x and y of 7.3 TiB: needs about 21.8 TiB"):
        read_npz(tmp_path / "bomb.npz", 0.2, 0.2, 0)


def test_an_npz_whose_members_lack_the_npy_suffix_reads(tmp_path):
    """Writers other than numpy.savez may name the members `x` and `y`: read as the same arrays."""
    import io
    import zipfile

    x, y = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32), np.arange(30) % 3
    with zipfile.ZipFile(tmp_path / "bare.npz", "w") as archive:
        for name, array in (("x", x), ("y", y)):
            buffer = io.BytesIO()
            np.save(buffer, array)
            archive.writestr(name, buffer.getvalue())
    splits = read_npz(tmp_path / "bare.npz", 0.2, 0.2, 0)
    assert sum(len(part) for part in (splits.train, splits.val, splits.test)) == 30


def test_a_csv_names_the_real_line_past_blank_lines_and_ragged_rows(tmp_path):
    from biogrn.core import DataError
    from biogrn.data import read_csv

    path = tmp_path / "d.csv"
    path.write_text("a,label\n1,0\n\n2,x\n")
    with pytest.raises(DataError, match="line 4, column 'a'|line 4, column 'label': 'x' is not a number"):
        read_csv(path, "label", 0.2, 0.2, 0)
    path.write_text("a,label\n1,0\n2,1,7\n")
    with pytest.raises(DataError, match="line 3: 3 fields, the header has 2"):
        read_csv(path, "label", 0.2, 0.2, 0)


def test_an_error_repeats_little_of_the_file(tmp_path):
    """data.path = '../../secret.txt' printed the file's first line, a password hash, in the message
    (issue 37): what a message quotes from the file is cut to 24 characters."""
    from biogrn.core import DataError
    from biogrn.data import read_csv

    secret = tmp_path / "secret.txt"
    secret.write_text("root:$6$" + "x" * 80 + ":19000:0:99999:7:::\n")
    with pytest.raises(DataError) as raised:
        read_csv(secret, "label", 0.2, 0.2, 0)
    assert "x" * 20 not in str(raised.value) and "missing column(s) ['label']" in str(raised.value)
