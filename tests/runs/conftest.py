"""What several run tests share: a crash in the middle of training."""

import pytest

import biogrn


@pytest.fixture
def crash_in_epoch(monkeypatch):
    """`crash_in_epoch(epoch)` makes `train_epoch` raise "power cut" when epoch `epoch` of the next
    run starts; it returns the undo, which puts the real loop back."""

    def install(epoch: int):
        real = biogrn.runs._trainer.train_epoch
        calls = {"n": 0}

        def crashing(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == epoch:
                raise RuntimeError("power cut")
            return real(*args, **kwargs)

        monkeypatch.setattr(biogrn.runs._trainer, "train_epoch", crashing)
        return lambda: monkeypatch.setattr(biogrn.runs._trainer, "train_epoch", real)

    return install
