"""Damaged files of every format biogrn reads (issue 37, goal 5): hypothesis mutates a valid file
(truncation, byte flips, inserted and deleted bytes, a Latin-1 tail) and the reader either reads
it or refuses it with the one refusal of the reading boundary (`core.reading`) in one line naming
the file, in bounded time; it never raises anything else and never changes the file. (Network and
rule files: tests/grn/test_file_fuzzing.py.)"""

from __future__ import annotations

import functools
import io
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from biogrn.core import CheckpointError, ConfigError, DataError


@functools.cache
def valid_files() -> dict[str, bytes]:
    """One small valid file of each format, made once."""
    rng = np.random.default_rng(0)
    files = {}
    rows = [",".join(f"{v:.3f}" for v in rng.normal(size=3)) + f",{i % 2}" for i in range(12)]
    files["features.csv"] = ("a,b,c,label\n" + "\n".join(rows) + "\n").encode()
    buffer = io.BytesIO()
    np.savez(buffer, x=rng.normal(size=(12, 3)).astype(np.float32), y=np.arange(12) % 2)
    files["arrays.npz"] = buffer.getvalue()
    buffer = io.BytesIO()
    torch.save({"version": 1, "model": {"w": torch.randn(4, 3)}, "epoch": 1}, buffer)
    files["checkpoint.pt"] = buffer.getvalue()
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(buffer, format="PNG")
    files["face.png"] = buffer.getvalue()
    from scipy.io import wavfile

    buffer = io.BytesIO()
    wavfile.write(buffer, 16_000, (3000 * np.sin(np.arange(800) / 7)).astype(np.int16))
    files["speech.wav"] = buffer.getvalue()
    files["run.toml"] = b'[data]\nname = "digits"\n[model]\nhidden = [16, 8]\n[training]\nepochs = 8\n'
    files["run.yaml"] = b"data: &d\n  name: digits\nmodel:\n  hidden: [16, 8]\ntraining:\n  epochs: 8\n"
    files["groups.csv"] = b"key,group\n1,a\n2,b\n3,a\n"
    files["connectome.csv"] = b"pre,post\n0,1\n2,0\n3,2\n"
    files["training.csv"] = b"subDirectory_filePath,face_x,face_y,face_width,face_height,expression\n" + b"".join(
        b"1/%d.png,0,0,8,8,%d\n" % (i, i % 3) for i in range(12)
    )
    import scipy.sparse

    buffer = io.BytesIO()
    scipy.sparse.save_npz(buffer, scipy.sparse.random(4, 3, density=0.5, random_state=0, format="csr"))
    files["adjacency.npz"] = buffer.getvalue()
    pixels = " ".join(map(str, rng.integers(0, 255, 48 * 48)))
    usages = ["Training"] * 4 + ["PublicTest"] * 2 + ["PrivateTest"] * 2
    files["fer2013.csv"] = (
        "emotion,pixels,Usage\n" + "".join(f"{i % 7},{pixels},{u}\n" for i, u in enumerate(usages))
    ).encode()
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        from biogrn.runs import run

        config = {"model": {"hidden": [8]}, "training": {"epochs": 2}, "regulator": {"start_epoch": 0}}
        run(config, Path(scratch) / "run", quiet=True, figures=False)
        files["records.nc"] = (Path(scratch) / "run" / "records.nc").read_bytes()
        files["config.json"] = (Path(scratch) / "run" / "config.json").read_bytes()
        try:
            import anndata
            import pandas as pd
        except ImportError:
            return files
        obs = pd.DataFrame({"cell_type": ["B", "T"] * 10}, index=[f"c{i}" for i in range(20)])
        cells = anndata.AnnData(rng.normal(size=(20, 5)).astype(np.float32), obs=obs)
        cells.write_h5ad(Path(scratch) / "cells.h5ad")
        files["cells.h5ad"] = (Path(scratch) / "cells.h5ad").read_bytes()
    return files


def read(name: str, path: Path):
    """Read `path` as the format `name` stands for, with biogrn's reader of it."""
    if name == "features.csv":
        from biogrn.data import read_csv

        return read_csv(path, "label", 0.25, 0.25, 0)
    if name == "arrays.npz":
        from biogrn.data import read_npz

        return read_npz(path, 0.25, 0.25, 0)
    if name == "checkpoint.pt":
        from biogrn.runs import load_checkpoint

        return load_checkpoint(path)
    if name == "face.png":
        from biogrn.data._images import open_image

        with open_image(path) as image:  # as the FER-2013 and AffectNet loaders read one
            return np.asarray(image.convert("L"))
    if name == "speech.wav":
        from biogrn.data._ravdess import _read

        return _read(path, 16_000, 0.05)  # what RAVDESS reads; librosa's features are not the reader
    if name in ("run.toml", "run.yaml"):
        from biogrn.runs import load_run_config

        return load_run_config(path)
    if name == "config.json":
        from biogrn.runs._trainer import stored_config

        return stored_config(path.parent)
    if name == "groups.csv":
        from biogrn.data import read_groups

        return read_groups(path, "key")
    if name == "connectome.csv":
        from biogrn.biology import mask_from_edge_list

        return mask_from_edge_list(path, 4, 4)
    if name == "adjacency.npz":
        from biogrn.biology import mask_from_sparse

        return mask_from_sparse(path, 4, 3)
    if name == "training.csv":
        from biogrn.data import AffectNet

        images = path.parent / "Manually_Annotated_Images" / "1"
        images.mkdir(parents=True, exist_ok=True)
        for i in range(12):
            (images / f"{i}.png").write_bytes(valid_files()["face.png"])
        return AffectNet(path.parent, "train", val_fraction=0.25)
    if name == "fer2013.csv":
        from biogrn.data import read_fer_csv

        return read_fer_csv(path)
    if name == "records.nc":
        from biogrn._commands import format_report
        from biogrn.runs import read_records

        return format_report(read_records(path))  # what `biogrn report` prints
    if name == "cells.h5ad":
        from biogrn.data import anndata

        return anndata(path, "cell_type")
    raise AssertionError(name)


REFUSALS = {
    "features.csv": DataError,
    "arrays.npz": DataError,
    "checkpoint.pt": CheckpointError,
    "face.png": DataError,
    "speech.wav": DataError,
    "fer2013.csv": DataError,
    "records.nc": DataError,
    "cells.h5ad": DataError,
    "run.toml": ConfigError,
    "run.yaml": ConfigError,
    "config.json": (CheckpointError, ConfigError),
    "groups.csv": DataError,
    "connectome.csv": DataError,
    "adjacency.npz": DataError,
    "training.csv": DataError,
}


NAMES = sorted(REFUSALS)
MUTATION = st.tuples(
    st.sampled_from(["truncate", "flip", "insert", "delete", "latin1"]),
    st.floats(0.0, 1.0, exclude_max=True),
    st.sampled_from([b"\x00", b"\xff\xfe", b",", b"\n", b"\xff\xff\xff\x7f", b"1e400", b"\x80"]),
)


def mutated(data: bytes, mutations) -> bytes:
    """`data` after each (kind, where as a fraction of the length, bytes) mutation in turn."""
    data = bytearray(data)
    for kind, where, piece in mutations:
        at = int(where * len(data))
        if kind == "truncate":
            del data[at:]
        elif kind == "flip" and data:
            data[at] = piece[0]
        elif kind == "insert":
            data[at:at] = piece
        elif kind == "delete":
            del data[at : at + 1 + len(piece)]
        elif kind == "latin1":
            data += "Ä,1\n".encode("latin-1")
    return bytes(data)


@settings(max_examples=450, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(NAMES), st.lists(MUTATION, min_size=1, max_size=3))
def test_a_damaged_file_reads_or_is_refused_in_one_line(tmp_path, name, mutations):
    files = valid_files()
    assume(name in files)  # .h5ad needs anndata, which the test extra installs
    data = mutated(files[name], mutations)
    path = tmp_path / name
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # readers may warn about what they skip; that is not a failure
        try:
            read(name, path)
        except REFUSALS[name] as error:
            message = str(error)
            # AffectNet names its folder when too few rows are left for its splits
            assert message.startswith(str(path.parent if name == "training.csv" else path)), message
            assert "\n" not in message, message
            assert len(message) < (2000 if isinstance(error, ConfigError) else 600), message  # a config: each field
        except (zipfile.BadZipFile, EOFError) as error:  # pragma: no cover - would be a finding
            raise AssertionError(f"{name}: {type(error).__name__} escaped the reader: {error}") from None
    assert path.read_bytes() == data  # reading never changes the file


def test_the_valid_files_read():
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        for name, data in valid_files().items():
            path = Path(scratch) / name
            path.write_bytes(data)
            read(name, path)
