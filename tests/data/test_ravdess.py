"""RAVDESS on wav files written here with the corpus's names, rate and sample format."""

import numpy as np
import pytest
import torch
from scipy.io import wavfile

from biogrn.core import DataError
from biogrn.data import RAVDESS, actor_splits, parse_name, ravdess_splits


def write_corpus(root, actors=(1, 2, 3, 4, 5, 6), emotions=(1, 3, 5)):
    rate = 48_000
    t = np.arange(int(0.3 * rate)) / rate
    for actor in actors:
        folder = root / f"Actor_{actor:02d}"
        folder.mkdir(parents=True)
        for emotion in emotions:
            tone = 0.3 * np.sin(2 * np.pi * (200 + 100 * emotion) * t)
            wavfile.write(
                folder / f"03-01-{emotion:02d}-01-01-01-{actor:02d}.wav", rate, (tone * 32767).astype(np.int16)
            )
        wavfile.write(folder / f"03-02-03-01-01-01-{actor:02d}.wav", rate, np.zeros(100, dtype=np.int16))  # song
    return root


def test_parse_name_reads_the_seven_fields():
    f = parse_name("Actor_07/03-01-06-02-01-02-07.wav")
    assert (f.modality, f.vocal_channel, f.emotion, f.intensity, f.statement, f.repetition, f.actor) == (
        3,
        1,
        6,
        2,
        1,
        2,
        7,
    )
    assert f.label == 5 and f.sex == "male" and parse_name("03-01-06-02-01-02-08.wav").sex == "female"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Actor_01/03-01-06-02-01-02.wav", "does not follow MM-VC-EE-II-SS-RR-AA.wav"),
        ("Actor_01/03-01-09-01-01-01-01.wav", "emotion 09 is outside 01-08"),
        ("Actor_01/03-01-01-02-01-01-01.wav", "neutral has no strong intensity"),
        ("Actor_01/03-01-03-01-01-01-25.wav", "actor 25 is outside 01-24"),
        ("Actor_02/03-01-03-01-01-01-01.wav", "actor 01 in a folder of actor 02"),
    ],
)
def test_bad_names_are_refused_naming_the_file(name, message):
    with pytest.raises(DataError, match=message) as raised:
        parse_name(name)
    assert name.split("/")[-1] in str(raised.value)


def test_features_labels_and_speech_only(tmp_path):
    root = write_corpus(tmp_path, actors=(1, 2))
    data = RAVDESS(root, seconds=0.5, n_mels=32)
    assert len(data) == 6  # the song files are left out
    x, y = data.tensors()
    assert x.shape[:3] == (6, 1, 32) and torch.isfinite(x).all()
    assert sorted(y.tolist()) == [0, 0, 2, 2, 4, 4]
    # a higher tone puts its energy in a higher mel band
    low, high = data.features[data.labels == 0][0], data.features[data.labels == 4][0]
    assert int(low.mean(1).argmax()) < int(high.mean(1).argmax())


def test_splits_never_share_a_speaker(tmp_path):
    root = write_corpus(tmp_path)
    groups = actor_splits([1, 2, 3, 4, 5, 6], 0.2, 0.2, seed=4)
    assert sorted(a for split in groups.values() for a in split) == [1, 2, 3, 4, 5, 6]
    assert all(len(groups[s]) >= 1 for s in groups)
    splits = ravdess_splits(root, 0.2, 0.2, seed=4)
    assert [len(s) for s in (splits.train, splits.val, splits.test)] == [
        3 * len(groups[s]) for s in ("train", "val", "test")
    ]
    assert splits.n_classes == 8
    with pytest.raises(DataError, match="cannot make three speaker-disjoint splits"):
        actor_splits([1, 2], 0.2, 0.2, 0)


def test_a_badly_named_file_stops_the_load_or_is_skipped_and_counted(tmp_path):
    root = write_corpus(tmp_path, actors=(1,))
    (root / "Actor_01" / "notes.wav").write_bytes(b"")
    with pytest.raises(DataError, match="notes.wav: the name does not follow"):
        RAVDESS(root, seconds=0.2)
    with pytest.warns(UserWarning, match="skipped 1 file"):
        data = RAVDESS(root, seconds=0.2, on_error="skip")
    assert data.skipped == 1 and len(data) == 3


def test_ravdess_groups_by_sex_or_metadata(tmp_path):
    root = write_corpus(tmp_path, actors=(1, 2), emotions=(3,))
    by_sex = RAVDESS(root, seconds=0.1, groups="sex")
    assert sorted(zip(by_sex.actors.tolist(), by_sex.groups.tolist())) == [(1, "male"), (2, "female")]
    named = RAVDESS(root, seconds=0.1, groups={"03-01-03-01-01-01-01.wav": "a", "03-01-03-01-01-01-02.wav": "b"})
    assert sorted(named.groups.tolist()) == ["a", "b"]


def test_a_float_wav_with_a_non_finite_sample_is_refused_naming_it(tmp_path):
    root = write_corpus(tmp_path, actors=(1, 2, 3))
    broken = root / "Actor_02" / "03-01-03-01-01-01-02.wav"
    samples = np.full(4800, 0.1, dtype=np.float32)
    samples[1234] = np.inf
    wavfile.write(broken, 48_000, samples)
    with pytest.raises(DataError, match=r"03-01-03-01-01-01-02.wav: sample 1234 of 4800 is not finite"):
        RAVDESS(root)


@pytest.mark.parametrize(
    ("dtype", "scale", "offset"),
    [(np.uint8, 127, 128), (np.int16, 32767, 0), (np.int32, 2**31 - 1, 0), (np.float32, 1.0, 0)],
)
def test_every_pcm_width_reads_as_the_same_signal_in_minus_1_to_1(tmp_path, dtype, scale, offset):
    """8-bit WAV is unsigned around 128 (read as 1..254 before, not -1..1); 16- and 32-bit are signed."""
    from biogrn.data._ravdess import _read

    tone = 0.5 * np.sin(np.linspace(0, 20 * np.pi, 4800))
    samples = np.round(tone * scale + offset).astype(dtype) if dtype != np.float32 else tone.astype(dtype)
    wavfile.write(tmp_path / "tone.wav", 48_000, samples)
    read = _read(tmp_path / "tone.wav", 48_000, 0.1)
    assert np.abs(read - tone).max() < 1.5 / scale + 1e-6 and abs(float(read.mean())) < 0.01


def test_a_wav_whose_chunk_claims_more_than_the_file_is_named_not_a_traceback(tmp_path):
    """A fmt chunk claiming 4 GB ended in scipy's UnboundLocalError (issue 37): chunk sizes are
    checked against the file from the headers, before anything is read."""
    import struct

    root = write_corpus(tmp_path / "corpus", actors=(1, 2, 3), emotions=(1, 3))
    damaged = root / "Actor_01" / "03-01-01-01-01-01-01.wav"
    data = bytearray(damaged.read_bytes())
    at = data.index(b"fmt ")
    data[at + 4 : at + 8] = struct.pack("<I", 0xFFFFFFF0)
    damaged.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"03-01-01-01-01-01-01.wav: .*chunk 'fmt ' at byte 12 declares 4,294,967,280"):
        RAVDESS(root, actors=[1, 2, 3])
    with pytest.warns(UserWarning):
        kept = RAVDESS(root, actors=[1, 2, 3], on_error="skip")
    assert len(kept) == 5
