"""AffectNet loaders on small release-format and folder-format trees written here."""

import numpy as np
import pytest
import torch
from PIL import Image

from biogrn.core import DataError
from biogrn.data import AffectNet

HEADER = "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal"


def release(tmp_path, rows, validation_rows=()):
    images = tmp_path / "Manually_Annotated_Images" / "17"
    images.mkdir(parents=True)
    for i in range(6):
        picture = np.zeros((100, 120), dtype=np.uint8)
        picture[20:60, 30:70] = 40 * i + 10  # the face box holds one grey level per image
        Image.fromarray(picture).save(images / f"{i}.png")
    (tmp_path / "training.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    (tmp_path / "validation.csv").write_text("\n".join([HEADER, *validation_rows]) + "\n")
    return tmp_path


def row(i, expression, box="30,20,40,40"):
    return f"17/{i}.png,{box},1;2;3,{expression},0.1,-0.2"


def test_release_crops_to_the_face_box_and_counts_what_it_leaves_out(tmp_path):
    root = release(tmp_path, [row(0, 1), row(1, 7), row(2, 8), row(3, 9), row(4, 10), row(5, 6)], [row(0, 3)])
    eight = AffectNet(root, "train", classes=8, val_fraction=0.0)
    assert sorted(eight.labels.tolist()) == [1, 6, 7]
    assert dict(eight.excluded) == {"None": 1, "Uncertain": 1, "No-Face": 1}
    x, y = eight.tensors()
    assert x.shape == (3, 1, 48, 48)
    for image, label in zip(x, y):  # every crop is the uniform face box of its file
        expected = {1: 10, 7: 50, 6: 210}[int(label)]
        assert torch.allclose(image, torch.full_like(image, expected / 255), atol=1e-6)
    seven = AffectNet(root, "train", classes=7, val_fraction=0.0)
    assert sorted(seven.labels.tolist()) == [1, 6] and seven.excluded["Contempt"] == 1
    test = AffectNet(root, "test")
    assert test.labels.tolist() == [3]


def test_train_and_val_are_a_seeded_partition(tmp_path):
    root = release(tmp_path, [row(i, i % 3) for i in range(6)])
    train, val = AffectNet(root, "train", val_fraction=0.5, seed=3), AffectNet(root, "val", val_fraction=0.5, seed=3)
    assert len(train) == len(val) == 3
    assert sorted(train.labels.tolist()) == sorted(val.labels.tolist()) == [0, 1, 2]  # stratified: one of each


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (row(9, 1), r"line 3: image .*9.png not found"),
        (row(1, "happy"), r"line 3: expression 'happy' is not an integer"),
        (row(1, 11), r"line 3: expression 11 is not an id 0-10"),
        (row(1, 2, box="100,20,40,40"), r"line 3: face box x=100 y=20 w=40 h=40 leaves the 120x100 image"),
        (row(1, 2, box="30,20,0,40"), r"line 3: face box .* is empty or negative"),
        (row(1, 2, box="30,inf,40,40"), r"line 3: face_y 'inf' is not an integer"),
        (row(1, 2, box="30,20,1e400,40"), r"line 3: face_width '1e400' is not an integer"),
    ],
)
def test_bad_rows_name_file_and_line_or_are_skipped(tmp_path, bad, message):
    root = release(tmp_path, [row(0, 1), bad])
    with pytest.raises(DataError, match=message) as raised:
        AffectNet(root, "train", val_fraction=0.0)
    assert "training.csv" in str(raised.value)
    with pytest.warns(UserWarning, match="skipped 1 example"):
        dataset = AffectNet(root, "train", val_fraction=0.0, on_error="skip")
    assert len(dataset) == 1 and dataset.skipped == 1


def test_redistributed_class_folders(tmp_path):
    for part, ids in (("train", [0, 5, 7]), ("val", [2, 9])):
        for label in ids:
            folder = tmp_path / part / str(label)
            folder.mkdir(parents=True)
            Image.fromarray(np.full((64, 64), 100, dtype=np.uint8)).save(folder / "a.jpg")
    assert sorted(AffectNet(tmp_path, "train", val_fraction=0.0).labels.tolist()) == [0, 5, 7]
    test = AffectNet(tmp_path, "test")
    assert test.labels.tolist() == [2] and test.excluded["Uncertain"] == 1
    (tmp_path / "train" / "happy").mkdir()
    with pytest.raises(DataError, match="folder names must be expression ids"):
        AffectNet(tmp_path, "train")


def test_a_run_config_reads_affectnet(tmp_path):
    from biogrn.runs import load_data, parse_run_config

    root = release(tmp_path, [row(i, i % 2) for i in range(6)], [row(0, 3), row(1, 4)])
    config = parse_run_config(
        {"data": {"name": "affectnet", "path": ".", "classes": 7, "image_size": 24, "val_fraction": 0.34}}, base=root
    )
    splits = load_data(config.data, 0)
    assert (splits.n_features, splits.n_classes) == (24 * 24, 7)
    assert [len(s) for s in (splits.train, splits.val, splits.test)] == [4, 2, 2]


def test_affectnet_examples_carry_groups(tmp_path):
    root = release(tmp_path, [row(0, 1), row(1, 2)])
    data = AffectNet(root, "train", val_fraction=0.0, groups={"17/0.png": "north", "17/1.png": "south"})
    assert data.keys == ["17/0.png", "17/1.png"] and data.groups.tolist() == ["north", "south"]
    with pytest.raises(DataError, match="have no group; the first key is '17/1.png'"):
        AffectNet(root, "train", val_fraction=0.0, groups={"17/0.png": "north"})


def huge_png(path, width=100_000, height=100_000):
    """A valid 1x1 PNG whose header then declares `width` x `height` pixels (its CRC fixed)."""
    import struct
    import zlib

    Image.fromarray(np.zeros((1, 1), dtype=np.uint8)).save(path)
    data = bytearray(path.read_bytes())
    start = data.index(b"IHDR")
    data[start + 4 : start + 12] = struct.pack(">II", width, height)
    data[start + 17 : start + 21] = struct.pack(">I", zlib.crc32(bytes(data[start : start + 17])) & 0xFFFFFFFF)
    path.write_bytes(bytes(data))
    return path


def test_an_image_declaring_too_many_pixels_is_reported_before_any_is_decoded(tmp_path):
    """A PNG declaring 10^5 x 10^5 pixels gave a traceback even with on_error='skip' (issue 37)."""
    for label in (0, 1):
        folder = tmp_path / "train" / str(label)
        folder.mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((64, 64), 100, dtype=np.uint8)).save(folder / f"{i}.jpg")
    huge_png(tmp_path / "train" / "0" / "huge.png")
    with pytest.raises(DataError, match=r"huge.png: declares 100000 x 100000 pixels|huge.png.*more pixels"):
        AffectNet(tmp_path, "train", val_fraction=0.0)
    with pytest.warns(UserWarning, match="skipped 1"):
        skipped = AffectNet(tmp_path, "train", val_fraction=0.0, on_error="skip")
    assert len(skipped.labels) == 6 and skipped.skipped == 1


@pytest.mark.parametrize("path", ["/etc/hostname", "../outside.png", "17/../../../outside.png"])
def test_an_index_row_may_not_read_outside_the_release(tmp_path, path):
    """An AffectNet row with an absolute path, or ../, read a file from outside the root (issue 37)."""
    rows = [row(i % 6, i % 2) for i in range(12)] + [f"{path},30,20,40,40,1;2;3,1,0.1,-0.2"]
    release(tmp_path, rows)
    with pytest.raises(DataError, match="line 14: image path .* leaves"):
        AffectNet(tmp_path, "train", val_fraction=0.0)
