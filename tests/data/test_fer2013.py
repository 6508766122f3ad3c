"""FER-2013 loaders on small files written here in the exact formats users have."""

import numpy as np
import pytest
import torch
from PIL import Image

from biogrn.core import DataError
from biogrn.data import EMOTIONS, FER2013, fer2013_splits
from biogrn.runs import load_data, parse_run_config

USAGES = ["Training"] * 6 + ["PublicTest"] * 3 + ["PrivateTest"] * 3


def faces(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 48, 48), dtype=np.uint8)


def write_fer_csv(path, images, labels, usages, header=("emotion", "pixels", "Usage"), extra_rows=()):
    rows = [",".join(header)]
    for image, label, usage in zip(images, labels, usages):
        fields = {"emotion": str(label), "pixels": " ".join(map(str, image.reshape(-1))), "Usage": usage}
        rows.append(",".join(fields[h.strip()] for h in header))
    rows.extend(extra_rows)
    path.write_text("\n".join(rows) + "\n")
    return path


def test_fer2013_csv_splits_by_usage_with_exact_pixels(tmp_path):
    images, labels = faces(12), np.arange(12) % 7
    path = write_fer_csv(tmp_path / "fer2013.csv", images, labels, USAGES)
    for split, rows in (("train", range(0, 6)), ("val", range(6, 9)), ("test", range(9, 12))):
        dataset = FER2013(path, split)
        x, y = dataset.tensors()
        assert x.shape == (len(rows), 1, 48, 48) and 0 <= x.min() and x.max() <= 1
        assert torch.equal(y, torch.as_tensor(labels[list(rows)]))
        assert torch.equal((x * 255).round().to(torch.uint8).squeeze(1), torch.as_tensor(images[list(rows)]))
    first_x, first_y = FER2013(path, "train")[0]
    assert first_x.shape == (1, 48, 48) and int(first_y) == 0


def test_icml_variant_with_spaces_in_the_header(tmp_path):
    images, labels = faces(12, 1), np.arange(12) % 7
    plain = write_fer_csv(tmp_path / "fer2013.csv", images, labels, USAGES)
    icml = write_fer_csv(
        tmp_path / "icml_face_data.csv", images, labels, USAGES, header=("emotion", " Usage", " pixels")
    )
    for split in ("train", "val", "test"):
        a, b = FER2013(plain, split).tensors(), FER2013(icml, split).tensors()
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_kaggle_train_csv_is_partitioned_and_unlabelled_test_csv_is_read_whole(tmp_path):
    images = faces(20, 2)
    train = write_fer_csv(tmp_path / "train.csv", images, [3] * 20, [""] * 20, header=("emotion", "pixels"))
    test = write_fer_csv(tmp_path / "test.csv", images, [0] * 20, [""] * 20, header=("pixels",))
    parts = {
        split: FER2013(train, split, val_fraction=0.2, test_fraction=0.25, seed=4) for split in ("train", "val", "test")
    }
    assert [len(parts[s]) for s in ("train", "val", "test")] == [11, 4, 5]
    rows = [set(parts[s].keys) for s in ("train", "val", "test")]
    assert not (rows[0] & rows[1] or rows[0] & rows[2] or rows[1] & rows[2])
    assert set.union(*rows) == {str(i) for i in range(1, 21)}
    again = FER2013(train, "test", val_fraction=0.2, test_fraction=0.25, seed=4)
    assert again.keys == parts["test"].keys and (parts["train"].labels == 3).all()
    assert len(FER2013(test, "all")) == 20 and (FER2013(test, "all").labels == -1).all()
    with pytest.raises(DataError, match="no labelled examples"):
        fer2013_splits(test)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("0," + " ".join(["1"] * 2303) + ",Training", r"line 3: 2303 pixel values, expected 2304"),
        ("0," + " ".join(["1"] * 2303 + ["x"]) + ",Training", r"line 3: pixel 2303 is 'x', not an integer 0-255"),
        ("0," + " ".join(["1"] * 2303 + ["256"]) + ",Training", r"line 3: pixel 2303 is '256'"),
        ("9," + " ".join(["1"] * 2304) + ",Training", r"line 3: emotion '9' is not a label 0-6"),
        ("2," + " ".join(["1"] * 2304) + ",Validation", r"line 3: Usage 'Validation' is not one of"),
    ],
)
def test_malformed_rows_name_file_and_line_or_are_skipped_and_counted(tmp_path, row, message):
    path = write_fer_csv(tmp_path / "fer2013.csv", faces(1), [0], ["Training"], extra_rows=[row])
    with pytest.raises(DataError, match=message) as raised:
        FER2013(path)
    assert "fer2013.csv" in str(raised.value)
    with pytest.warns(UserWarning, match="skipped 1 malformed row"):
        dataset = FER2013(path, on_error="skip")
    assert len(dataset) == 1 and dataset.skipped == 1


def test_image_folders_map_emotion_names_to_the_csv_ids(tmp_path):
    images = faces(6, 3)
    names = ["neutral", "angry", "Happy"]  # not alphabetical order: neutral is 6, angry 0, happy 3
    for part in ("train", "test"):
        for i, name in enumerate(names):
            folder = tmp_path / part / name
            folder.mkdir(parents=True)
            for j in range(2):
                Image.fromarray(images[2 * i + j]).save(folder / f"{j}.png")
    test = FER2013(tmp_path, "test")
    assert sorted(test.labels.tolist()) == [0, 0, 3, 3, 6, 6]
    train, val = FER2013(tmp_path, "train", val_fraction=0.5), FER2013(tmp_path, "val", val_fraction=0.5)
    assert len(train) == len(val) == 3
    assert sorted(train.labels.tolist() + val.labels.tolist()) == [0, 0, 3, 3, 6, 6]
    x, y = test.tensors()
    index = int(torch.nonzero(y == 6)[0])
    assert any(torch.equal((x[index, 0] * 255).round().to(torch.uint8), torch.as_tensor(images[k])) for k in (0, 1))
    assert EMOTIONS[6] == "Neutral"


def test_bad_folders_and_images(tmp_path):
    (tmp_path / "train" / "bored").mkdir(parents=True)
    with pytest.raises(DataError, match="'bored' is not an emotion"):
        FER2013(tmp_path, "train")
    (tmp_path / "train" / "bored").rmdir()
    (tmp_path / "train" / "sad").mkdir()
    Image.fromarray(faces(1)[0][:40, :40]).save(tmp_path / "train" / "sad" / "small.png")
    (tmp_path / "train" / "sad" / "broken.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match=r"broken.png: not a readable image"):
        FER2013(tmp_path, "train")
    with pytest.warns(UserWarning, match="skipped 2 image"), pytest.raises(DataError, match="no images found"):
        FER2013(tmp_path, "train", on_error="skip")


def test_a_run_config_trains_on_fer2013(tmp_path):
    write_fer_csv(tmp_path / "fer2013.csv", faces(12), np.arange(12) % 7, USAGES)
    config = parse_run_config({"data": {"name": "fer2013", "path": "fer2013.csv"}}, base=tmp_path)
    splits = load_data(config.data, 0)
    assert (splits.n_features, splits.n_classes) == (2304, 7)
    assert [len(s) for s in (splits.train, splits.val, splits.test)] == [6, 3, 3]


def test_examples_carry_groups_from_a_metadata_csv(tmp_path):
    from biogrn.data import read_groups

    path = write_fer_csv(tmp_path / "fer2013.csv", faces(12), np.arange(12) % 7, USAGES)
    (tmp_path / "groups.csv").write_text(
        "row,group\n" + "\n".join(f"{r},{'east' if r % 2 else 'west'}" for r in range(1, 13)) + "\n"
    )
    groups = read_groups(tmp_path / "groups.csv", "row")
    val = FER2013(path, "val", groups=groups)  # rows 7-9 (PublicTest)
    assert val.keys == ["7", "8", "9"] and val.groups.tolist() == ["east", "west", "east"]
    del groups["8"]
    with pytest.raises(DataError, match="1 example\\(s\\) have no group; the first key is '8'"):
        FER2013(path, "val", groups=groups)
