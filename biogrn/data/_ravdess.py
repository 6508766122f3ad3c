"""RAVDESS speech audio (Livingstone & Russo 2018): `Actor_NN/MM-VC-EE-II-SS-RR-AA.wav`.

The seven two-digit fields of a file name: modality (01 audio-video, 02 video, 03 audio), vocal
channel (01 speech, 02 song), emotion (01 neutral, 02 calm, 03 happy, 04 sad, 05 angry,
06 fearful, 07 disgust, 08 surprised), intensity (01 normal, 02 strong), statement (01, 02),
repetition (01, 02), actor (01-24; odd male, even female). The audio is 48 kHz, 16-bit.

Features: a log-mel spectrogram (librosa) of a fixed duration, in decibels,
$10 \\log_{10} \\max(S, 10^{-10})$ clipped 80 dB below its maximum. Splits are by actor, so no
speaker is in two splits. Labels are the emotion id minus one (0-7).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from biogrn.core import DataError, inside_root, reading
from biogrn.data._groups import assign_groups
from biogrn.data._problems import Problems
from biogrn.data._splits import Splits, flat_splits

__all__ = ["RAVDESS", "RAVDESS_EMOTIONS", "RavdessFile", "actor_splits", "log_mel", "parse_name", "ravdess_splits"]

RAVDESS_EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
NAME = re.compile(r"(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)\.wav")
RANGES = {
    "modality": (1, 3),
    "vocal_channel": (1, 2),
    "emotion": (1, 8),
    "intensity": (1, 2),
    "statement": (1, 2),
    "repetition": (1, 2),
    "actor": (1, 24),
}


@dataclass(frozen=True)
class RavdessFile:
    path: Path
    modality: int
    vocal_channel: int
    emotion: int
    intensity: int
    statement: int
    repetition: int
    actor: int

    @property
    def label(self) -> int:
        return self.emotion - 1

    @property
    def sex(self) -> str:
        return "male" if self.actor % 2 else "female"


def parse_name(path: str | Path) -> RavdessFile:
    """The seven fields of a RAVDESS file name.

    Raises:
        DataError: the name does not follow `MM-VC-EE-II-SS-RR-AA.wav`, a field is out of range,
            or the actor differs from the `Actor_NN` folder.
    """
    path = Path(path)
    match = NAME.fullmatch(path.name)
    if match is None:
        raise DataError(f"{path}: the name does not follow MM-VC-EE-II-SS-RR-AA.wav (seven two-digit fields)")
    values = dict(zip(RANGES, (int(g) for g in match.groups())))
    for field, (low, high) in RANGES.items():
        if not low <= values[field] <= high:
            raise DataError(f"{path}: {field} {values[field]:02d} is outside {low:02d}-{high:02d}")
    if values["emotion"] == 1 and values["intensity"] == 2:
        raise DataError(f"{path}: neutral has no strong intensity (02)")
    folder = re.fullmatch(r"Actor_(\d\d)", path.parent.name)
    if folder is not None and int(folder.group(1)) != values["actor"]:
        raise DataError(f"{path}: actor {values['actor']:02d} in a folder of actor {folder.group(1)}")
    return RavdessFile(path, **values)


def _librosa():
    try:
        import librosa
    except ImportError as error:
        raise ImportError("RAVDESS features need librosa: pip install 'biogrn[audio]'") from error
    return librosa


def log_mel(
    signal: np.ndarray, sample_rate: int, n_mels: int = 64, window: float = 0.025, hop: float = 0.010
) -> np.ndarray:
    """`(n_mels, frames)` log-mel spectrogram in dB (80 dB range below the maximum)."""
    librosa = _librosa()

    power = librosa.feature.melspectrogram(
        y=signal.astype(np.float32),
        sr=sample_rate,
        n_fft=round(window * sample_rate),
        hop_length=round(hop * sample_rate),
        n_mels=n_mels,
        power=2.0,
    )
    return librosa.power_to_db(power, ref=1.0, amin=1e-10, top_db=80.0).astype(np.float32)


def _read(file: Path, sample_rate: int, seconds: float) -> np.ndarray:
    """Mono float audio at `sample_rate`, cut or zero-padded to `seconds`."""
    from scipy.io import wavfile

    with reading(file, "WAV file"):  # scipy raises many kinds (an UnboundLocalError among them) for a damaged file
        _check_chunks(file)
        rate, data = wavfile.read(file)
    if rate <= 0:
        raise DataError(f"{file}: sample rate {rate} Hz in its header; a recording has a positive rate")
    if len(data) == 0:
        raise DataError(f"{file}: holds no samples")
    if data.dtype.kind == "u":  # 8-bit WAV is unsigned, centred at 128 (RIFF's rule): 0..255 -> -1..1
        data = (data.astype(np.float32) - 128.0) / 128.0
    elif data.dtype.kind == "i":
        data = data.astype(np.float32) / np.iinfo(data.dtype).max
    data = data.astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(data.reshape(len(data), -1)).all(axis=1))
    if bad.size:  # float wav files can hold them; log-mel features would be NaN
        raise DataError(f"{file}: sample {bad[0]} of {len(data)} is not finite")
    if data.ndim == 2:
        data = data.mean(axis=1)
    if rate != sample_rate:
        data = _librosa().resample(data, orig_sr=rate, target_sr=sample_rate)
    length = round(seconds * sample_rate)
    return np.pad(data[:length], (0, max(0, length - len(data))))


def _check_chunks(file: Path) -> None:
    """Every RIFF chunk a WAV file declares fits inside the file: sizes checked from the headers
    before anything is read into memory (a fmt chunk claiming 4 GB made the reader fail deep inside).

    Raises:
        DataError: not RIFF/WAVE, or a chunk whose declared size runs past the end of the file.
    """
    import struct

    size = file.stat().st_size
    with open(file, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise DataError(f"{file}: not a RIFF/WAVE file")
        position = 12
        while position + 8 <= size:
            handle.seek(position)
            name, length = struct.unpack("<4sI", handle.read(8))
            if position + 8 + length > size:
                raise DataError(
                    f"{file}: chunk {name.decode('latin-1')!r} at byte {position} declares {length:,} bytes, past the "
                    f"file's end ({size:,} bytes)"
                )
            position += 8 + length + (length & 1)  # chunks are padded to even sizes


def actor_splits(actors: list[int], val_fraction: float, test_fraction: float, seed: int) -> dict[str, list[int]]:
    """A seeded partition of the actors into train / val / test (each at least one actor)."""
    actors = sorted(set(actors))
    if len(actors) < 3:
        raise DataError(f"actors: {len(actors)} actor(s) cannot make three speaker-disjoint splits")
    order = [actors[i] for i in np.random.default_rng(seed).permutation(len(actors))]
    n_test = max(1, round(test_fraction * len(actors)))
    n_val = max(1, round(val_fraction * len(actors)))
    return {
        "test": sorted(order[:n_test]),
        "val": sorted(order[n_test : n_test + n_val]),
        "train": sorted(order[n_test + n_val :]),
    }


class RAVDESS(Dataset):
    """Log-mel features of RAVDESS speech files: `x` is `(1, n_mels, frames)`, `y` the emotion 0-7.

    Args:
        root: the folder holding `Actor_01/` ... `Actor_24/`.
        actors: which actors to include (None: all found).
        vocal_channel: 1 speech (default), 2 song, None both.
        sample_rate, seconds, n_mels: the features' resampling rate, fixed duration and mel bands.
        on_error: `raise` at a badly named or unreadable file, or `skip` it (counted in `skipped`).
        groups: `{file name: group}` (e.g. from `read_groups`), or `"sex"` for the actors' sex
            (odd male, even female); sets `self.groups`.
        outside_root: let a file in the folders be a link to one outside `root`.
    """

    def __init__(
        self,
        root: str | Path,
        actors: list[int] | None = None,
        vocal_channel: int | None = 1,
        sample_rate: int = 16_000,
        seconds: float = 3.0,
        n_mels: int = 64,
        on_error: str = "raise",
        groups: dict[str, str] | str | None = None,
        outside_root: bool = False,
    ):
        root = Path(root)
        files = sorted(root.glob("Actor_*/*.wav"))
        if not files:
            raise DataError(f"{root}: no Actor_NN/*.wav files")
        problems, parsed = Problems(on_error, root), []
        for file in files:
            try:
                parsed.append(parse_name(file))
            except DataError as error:
                if problems.raising:
                    raise
                problems.report(str(error))
        self.files = [
            f
            for f in parsed
            if (actors is None or f.actor in actors) and (vocal_channel is None or f.vocal_channel == vocal_channel)
        ]
        features, kept = [], []
        for f in self.files:
            try:
                inside_root(root, f.path, "the WAV file", outside_root)  # a link in the folder may lead out
                signal = _read(f.path, sample_rate, seconds)
            except DataError as error:
                problems.report(str(error))
                continue
            features.append(log_mel(signal, sample_rate, n_mels))
            kept.append(f)
        self.files, self.skipped = kept, len(problems)
        problems.warn("file(s)")
        self.features = torch.from_numpy(np.stack(features)) if features else torch.zeros(0, n_mels, 0)
        self.labels = torch.as_tensor([f.label for f in kept], dtype=torch.long)
        self.actors = torch.as_tensor([f.actor for f in kept], dtype=torch.long)
        self.keys = [f.path.name for f in kept]
        if groups == "sex":
            self.groups = np.asarray([f.sex for f in kept], dtype=object)
        else:
            self.groups = assign_groups(self.keys, groups, str(root)) if groups is not None else None

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.features[index].unsqueeze(0), self.labels[index]

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.features.unsqueeze(1), self.labels


def ravdess_splits(
    root: str | Path,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
    on_error: str = "raise",
    outside_root: bool = False,
) -> Splits:
    """Speaker-disjoint train / val / test of RAVDESS speech as flat log-mel features."""
    actors = set()
    for file in Path(root).glob("Actor_*/*.wav"):
        try:
            actors.add(parse_name(file).actor)
        except DataError:
            if on_error == "raise":
                raise
    actors = sorted(actors)
    groups = actor_splits(actors, val_fraction, test_fraction, seed)
    parts = {
        split: RAVDESS(root, groups[split], on_error=on_error, outside_root=outside_root)
        for split in ("train", "val", "test")
    }
    return flat_splits(parts, len(RAVDESS_EMOTIONS), f"RAVDESS {root}")
