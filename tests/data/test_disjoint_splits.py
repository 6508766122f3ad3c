"""Every loader's train, validation and test splits are disjoint and lose no example.

Each file is written in its users' format with examples that differ in content (a constant grey
level, a distinct first feature, a distinct tone), so an example found in two splits is a leak
whatever the loader's bookkeeping says.
"""

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy.io import wavfile

from biogrn.core import DataError
from biogrn.data import split_indices
from biogrn.runs import load_data, parse_run_config

fractions = st.tuples(st.floats(0.05, 0.4), st.floats(0.05, 0.4))
seeds = st.integers(0, 2**32)


def contents(splits) -> list[set[bytes]]:
    return [{row.numpy().tobytes() for row in part.tensors[0]} for part in (splits.train, splits.val, splits.test)]


def assert_partition(splits, n_examples: int) -> None:
    train, val, test = contents(splits)
    assert not (train & val or train & test or val & test)
    assert len(train) + len(val) + len(test) == n_examples == len(splits.train) + len(splits.val) + len(splits.test)


def load(data: dict, root: Path, seed: int):
    return load_data(parse_run_config({"data": data}, base=root).data, seed)


def assert_partition_or_refused(data: dict, root: Path, seed: int, n_examples: int) -> None:
    """A partition, or (a split empty, or too small to hold one example of each class) a refusal
    that says so."""
    try:
        splits = load(data, root, seed)
    except DataError as refused:
        assert "stratified split needs" in str(refused) or "give an empty split" in str(refused)
        return
    assert_partition(splits, n_examples)


@given(st.integers(3, 400), fractions, seeds)
def test_split_indices_partition_the_examples(n, vt, seed):
    try:
        parts = split_indices(n, *vt, seed, "x")
    except ValueError:
        return  # too few examples for three splits: refused, not leaked
    together = np.concatenate(list(parts.values()))
    assert sorted(together.tolist()) == list(range(n))


@given(st.integers(20, 400), fractions, seeds, st.integers(2, 6), st.integers(0, 2**32))
def test_stratified_split_keeps_every_class_share(n, vt, seed, n_classes, draw):
    labels = np.random.default_rng(draw).integers(0, n_classes, n)
    try:
        parts = split_indices(n, *vt, seed, "x", labels=labels)
    except ValueError as refused:  # a split too small for one of each class, or a lone class: said, not skipped
        assert "class" in str(refused) or "empty split" in str(refused)
        return
    together = np.concatenate(list(parts.values()))
    assert sorted(together.tolist()) == list(range(n))
    again = split_indices(n, *vt, seed, "x", labels=labels)
    assert all(np.array_equal(parts[k], again[k]) for k in parts)  # the same seed, the same split
    test_share = len(parts["test"]) / n
    val_share = len(parts["val"]) / (n - len(parts["test"]))
    for c in np.unique(labels):
        in_class = labels == c
        in_test = in_class[parts["test"]].sum()
        assert abs(in_test - in_class.sum() * test_share) <= 1  # each class keeps its share, within one example
        rest = in_class.sum() - in_test
        assert abs(in_class[parts["val"]].sum() - rest * val_share) <= 1


@settings(max_examples=15)
@given(st.integers(12, 80), fractions, seeds, st.sampled_from(["npz", "csv"]))
def test_array_files(n, vt, seed, form):
    x = np.column_stack([np.arange(n), np.random.default_rng(seed).normal(size=(n, 3))]).astype(np.float32)
    y = np.arange(n) % 3
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        if form == "npz":
            np.savez(root / "d.npz", x=x, y=y)
        else:
            rows = ["a,b,c,d,label"] + [",".join(map(repr, map(float, r))) + f",{c}" for r, c in zip(x, y)]
            (root / "d.csv").write_text("\n".join(rows) + "\n")
        data = {"name": form, "path": f"d.{form}", "val_fraction": vt[0], "test_fraction": vt[1]}
        assert_partition_or_refused(data, root, seed, n)


def grey(level: int, size: int = 48) -> np.ndarray:
    return np.full((size, size), level, dtype=np.uint8)


@settings(max_examples=10)
@given(st.integers(12, 60), fractions, seeds, st.sampled_from(["usage", "kaggle", "folders"]))
def test_fer2013_in_each_form(n, vt, seed, form):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        if form == "folders":
            for part, levels in (("train", range(n)), ("test", range(n, n + 7))):
                for level in levels:
                    emotion = root / part / ("angry", "happy", "sad")[level % 3]
                    emotion.mkdir(parents=True, exist_ok=True)
                    Image.fromarray(grey(level)).save(emotion / f"{level}.png")
            path, total = ".", n + 7
        else:
            usages = ["Training", "PublicTest", "PrivateTest"]
            header = "emotion,pixels,Usage" if form == "usage" else "emotion,pixels"
            rows = [header] + [
                f"{i % 3}," + " ".join([str(i)] * 2304) + (f",{usages[i % 3]}" if form == "usage" else "")
                for i in range(n)
            ]
            (root / "fer.csv").write_text("\n".join(rows) + "\n")
            path, total = "fer.csv", n
        data = {"name": "fer2013", "path": path, "val_fraction": vt[0], "test_fraction": vt[1]}
        assert_partition_or_refused(data, root, seed, total)


@settings(max_examples=8)
@given(st.integers(12, 40), st.floats(0.1, 0.4), seeds, st.sampled_from(["release", "folders"]))
def test_affectnet_in_each_form(n, val_fraction, seed, form):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        if form == "release":
            (root / "Manually_Annotated_Images").mkdir()
            lines = {"training.csv": [], "validation.csv": []}
            for level in range(n + 5):
                Image.fromarray(grey(level, 32)).save(root / "Manually_Annotated_Images" / f"{level}.png")
                annotation = f"{level}.png,0,0,32,32,1;2,{level % 3},0.1,0.2"
                lines["training.csv" if level < n else "validation.csv"].append(annotation)
            header = (
                "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal"
            )
            for name, body in lines.items():
                (root / name).write_text("\n".join([header, *body]) + "\n")
        else:
            for part, levels in (("train", range(n)), ("val", range(n, n + 5))):
                for level in levels:
                    expression = root / part / str(level % 3)
                    expression.mkdir(parents=True, exist_ok=True)
                    Image.fromarray(grey(level, 32)).save(expression / f"{level}.png")
        data = {"name": "affectnet", "path": ".", "val_fraction": val_fraction, "image_size": 32, "classes": 7}
        assert_partition_or_refused(data, root, seed, n + 5)


@settings(max_examples=4)
@given(st.integers(3, 8), fractions, seeds)
def test_ravdess_by_actor(actors, vt, seed):
    rate = 16_000
    t = np.arange(int(0.2 * rate)) / rate
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for actor in range(1, actors + 1):
            (root / f"Actor_{actor:02d}").mkdir()
            for emotion in (1, 4):
                tone = 0.3 * np.sin(2 * np.pi * (150 + 40 * actor + 500 * emotion) * t)
                name = f"03-01-{emotion:02d}-01-01-01-{actor:02d}.wav"
                wavfile.write(root / f"Actor_{actor:02d}" / name, rate, (tone * 32767).astype(np.int16))
        data = {"name": "ravdess", "path": ".", "val_fraction": vt[0], "test_fraction": vt[1]}
        try:
            splits = load(data, root, seed)
        except ValueError as error:
            assert "speaker-disjoint" in str(error)
            return
        assert_partition(splits, 2 * actors)
