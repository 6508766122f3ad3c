"""A file a data folder holds as a link to somewhere else is not read unless the user says so
(issue 37, goal 2): FER-2013's folders, AffectNet's class folders and RAVDESS's actor folders."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

from biogrn.core import DataError
from biogrn.data import FER2013, RAVDESS, AffectNet
from biogrn.runs import load_data, parse_run_config

from .test_ravdess import write_corpus


def _image(path, value=90, side=48):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((side, side), value, dtype=np.uint8)).save(path)


def _image_folders(root, outside, parts, classes):
    """`root/part/class/i.png` for each part and class, and a link out of the last folder."""
    for part in parts:
        for name in classes:
            for i in range(4):
                _image(root / part / name / f"{i}.png", 10 * i)
    (root / parts[0] / classes[-1] / "linked.png").symlink_to(outside)


def _fer_folders(root, outside):
    _image_folders(root, outside, ("train", "test"), ("angry", "happy"))


def _affectnet_folders(root, outside):
    _image_folders(root, outside, ("train", "val"), ("0", "1"))


def _ravdess(root, outside):
    write_corpus(root, actors=(1, 2, 3))
    (root / "Actor_02" / "03-01-05-01-01-02-02.wav").symlink_to(outside)


@pytest.mark.parametrize(
    "make, load, folder",
    [
        (_fer_folders, lambda root, **kw: FER2013(root, "train", val_fraction=0.0, **kw), "train/happy/linked.png"),
        (_affectnet_folders, lambda root, **kw: AffectNet(root, "train", val_fraction=0.0, **kw), "train/1/linked.png"),
        (_ravdess, lambda root, **kw: RAVDESS(root, **kw), "Actor_02/03-01-05-01-01-02-02.wav"),
    ],
    ids=["fer2013", "affectnet", "ravdess"],
)
def test_a_link_out_of_the_data_folder_is_refused_skipped_or_read_when_allowed(tmp_path, make, load, folder):
    root, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    elsewhere.mkdir()
    if folder.endswith(".wav"):
        write_corpus(elsewhere, actors=(9,))
        outside = next(elsewhere.glob("Actor_09/03-01-01-*.wav"))
    else:
        outside = elsewhere / "face.png"
        _image(outside, 200)
    make(root, outside)
    refusal = rf"{folder}: the \w+ file|{folder}: the image"
    with pytest.raises(
        DataError, match=rf"({refusal}) resolves to .*elsewhere.*, outside .*data; set data.outside_root"
    ):
        load(root)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        skipped = load(root, on_error="skip")
    assert skipped.skipped == 1 and "outside" in str(caught[0].message)
    allowed = load(root, outside_root=True)
    assert len(allowed) == len(skipped) + 1 and allowed.skipped == 0


def test_a_run_config_says_outside_root(tmp_path):
    root, outside = tmp_path / "data", tmp_path / "face.png"
    _image(outside, 200)
    _fer_folders(root, outside)
    config = {"data": {"name": "fer2013", "path": str(root), "val_fraction": 0.25}}
    with pytest.raises(DataError, match="set data.outside_root = true"):
        load_data(parse_run_config(config).data, 0)
    config["data"]["outside_root"] = True
    splits = load_data(parse_run_config(config).data, 0)
    assert len(splits.train) + len(splits.val) == 9
