"""AffectNet (Mollahosseini et al. 2017), the manually annotated release and the common
redistribution in class-numbered folders.

- Release layout: `ROOT/Manually_Annotated_Images/<subDirectory_filePath>` with annotations
  `ROOT/training.csv` and `ROOT/validation.csv`, columns `subDirectory_filePath, face_x, face_y,
  face_width, face_height, facial_landmarks, expression, valence, arousal`. Each image is cropped
  to its face box. Splits: `train` = training.csv less a seeded `val_fraction`, `val` = that
  fraction, `test` = validation.csv (the release has no public test set).
- Redistributed layout: `ROOT/train/<id>/*.jpg` and `ROOT/val/<id>/*.jpg` (folders named by the
  expression id); `test` = `val/`, and `val` is carved from `train/` as above.

Expression ids: 0 Neutral, 1 Happy, 2 Sad, 3 Surprise, 4 Fear, 5 Disgust, 6 Anger, 7 Contempt;
8 None, 9 Uncertain and 10 No-Face are left out and counted in `excluded`; with `classes=7`
Contempt is left out (and counted) too. Images become `size` x `size` grayscale in [0, 1].
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from biogrn.core import DataError, inside_root, quoted, read_table
from biogrn.data._groups import assign_groups
from biogrn.data._images import open_image
from biogrn.data._problems import Problems
from biogrn.data._splits import GrayscaleImages, stratified_cut

__all__ = ["AFFECTNET_EXPRESSIONS", "AffectNet"]

AFFECTNET_EXPRESSIONS = (
    "Neutral",
    "Happy",
    "Sad",
    "Surprise",
    "Fear",
    "Disgust",
    "Anger",
    "Contempt",
    "None",
    "Uncertain",
    "No-Face",
)
COLUMNS = ("subDirectory_filePath", "face_x", "face_y", "face_width", "face_height", "expression")


class AffectNet(GrayscaleImages):
    """One split of AffectNet: `x` is `(1, size, size)` in [0, 1], `y` the expression id.

    Args:
        root: the folder holding training.csv / validation.csv and Manually_Annotated_Images/,
            or train/ and val/ with class-numbered folders.
        split: `train`, `val` or `test`.
        classes: 8 (with Contempt) or 7.
        size: side of the square output image.
        on_error: `raise` at a malformed row or a missing or unreadable image, or `skip` it
            (counted in `skipped`, reported in a warning).
        val_fraction, seed: the validation carve-out of the training annotations.
        groups: `{key: group}` (e.g. from `read_groups`) keyed by `subDirectory_filePath` (the
            release) or by path relative to `root` (folders); sets `self.groups`.
        outside_root: let an index row name, or a folder hold a link to, an image outside the
            release (by default refused: an absolute path or `../` reads another file).
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        classes: int = 8,
        size: int = 48,
        on_error: str = "raise",
        val_fraction: float = 0.1,
        seed: int = 0,
        groups: dict[str, str] | None = None,
        outside_root: bool = False,
    ):
        if split not in ("train", "val", "test"):
            raise ValueError(f"split: {split!r} is unknown; choose 'train', 'val' or 'test'")
        if classes not in (7, 8):
            raise ValueError(f"classes: {classes} is not 7 or 8")
        self.root, self.classes, self.size, self.outside_root = Path(root), classes, size, outside_root
        self.problems = Problems(on_error, self.root)
        self.excluded: Counter = Counter()
        if (self.root / "training.csv").exists() or (self.root / "validation.csv").exists():
            entries = self._annotated("validation.csv" if split == "test" else "training.csv")
        elif (self.root / "train").is_dir():
            entries = self._folders("val" if split == "test" else "train")
        else:
            raise DataError(f"{self.root}: neither training.csv/validation.csv nor train/ and val/ folders")
        if split != "test":
            rest, val = stratified_cut(
                np.arange(len(entries)),
                np.array([entry[2] for entry in entries]),
                int(round(val_fraction * len(entries))),
                seed,
                str(self.root),
                "val",
            )
            entries = [entries[i] for i in sorted(val if split == "val" else rest)]
        images, labels, self.keys = [], [], []
        for file, box, label, where, key in entries:
            image = self._load(file, box, where)
            if image is not None:
                images.append(image)
                labels.append(label)
                self.keys.append(key)
        self.skipped = len(self.problems)
        self.problems.warn("example(s)")
        self.images = torch.from_numpy(np.stack(images)) if images else torch.zeros(0, size, size, dtype=torch.uint8)
        self.labels = torch.as_tensor(labels, dtype=torch.long)
        self.groups = assign_groups(self.keys, groups, str(self.root)) if groups is not None else None

    def _keep(self, label: int) -> bool:
        if label >= 8 or (self.classes == 7 and label == 7):
            self.excluded[AFFECTNET_EXPRESSIONS[label]] += 1
            return False
        return True

    def _annotated(self, name: str) -> list:
        import pandas as pd

        path = self.root / name
        if not path.is_file():
            raise DataError(f"{path}: annotation file not found")
        table = read_table(path, COLUMNS)
        numbers = table[list(COLUMNS[1:])].apply(pd.to_numeric, errors="coerce")
        entries = []
        images = self.root / "Manually_Annotated_Images"
        for row in range(len(table)):
            where = f"{path}: line {row + 2}"
            values = numbers.iloc[row]
            not_integer = (~np.isfinite(values.to_numpy(np.float64))) | (values != values.round()).to_numpy()
            if not_integer.any():
                column = values.index[not_integer][0]
                self.problems.report(f"{where}: {column} {table[column].iloc[row]!r} is not an integer")
                continue
            x, y, w, h, label = (int(v) for v in values)
            if not 0 <= label < len(AFFECTNET_EXPRESSIONS):
                self.problems.report(f"{where}: expression {label} is not an id 0-10")
                continue
            if w <= 0 or h <= 0 or x < 0 or y < 0:
                self.problems.report(f"{where}: face box x={x} y={y} w={w} h={h} is empty or negative")
                continue
            if self._keep(label):
                relative = table["subDirectory_filePath"].iloc[row]
                try:  # an absolute path or ../ would read a file outside the release
                    file = inside_root(images, relative, "the image path", self.outside_root)
                except DataError:
                    self.problems.report(f"{where}: image path {quoted(relative)} leaves {images}")
                    continue
                entries.append((file, (x, y, w, h), label, where, relative))
        return entries

    def _folders(self, part: str) -> list:
        folder = self.root / part
        if not folder.is_dir():
            raise DataError(f"{folder}: no such folder")
        entries = []
        for class_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
            if not re.fullmatch("[0-9]{1,2}", class_dir.name) or int(class_dir.name) >= len(AFFECTNET_EXPRESSIONS):
                raise DataError(f"{class_dir}: folder names must be expression ids 0-10")
            label = int(class_dir.name)
            files = sorted(p for p in class_dir.iterdir() if p.is_file())
            for file in files:
                if self._keep(label):
                    entries.append((file, None, label, str(file), file.relative_to(self.root).as_posix()))
        return entries

    def _load(self, file: Path, box, where: str) -> np.ndarray | None:
        from PIL import Image

        if not file.is_file():
            self.problems.report(f"{where}: image {file} not found")
            return None
        try:
            if box is None:  # a folder's file may be a link out (an index row was checked as it was read)
                inside_root(self.root, file, "the image", self.outside_root)
            with open_image(file) as image:
                image = image.convert("L")
                width, height = image.size
                fits = box is None or (box[0] + box[2] <= width and box[1] + box[3] <= height)
                if fits and box is not None:
                    x, y, w, h = box
                    image = image.crop((x, y, x + w, y + h))
                if fits:
                    pixels = np.asarray(image.resize((self.size, self.size), Image.BILINEAR), dtype=np.uint8)
        except DataError as error:
            self.problems.report(f"{where}: {error}" if where != str(file) else str(error))
            return None
        if not fits:
            x, y, w, h = box
            self.problems.report(
                f"{where}: face box x={x} y={y} w={w} h={h} leaves the {width}x{height} image {file.name}"
            )
            return None
        return pixels
