"""Hebbian co-activity with homeostasis: as the gene drive, and as a learning rule."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import biogrn
from biogrn.regulation import HebbianRecorder


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), target=st.floats(0.01, 2.0))
def test_the_hebbian_drive_is_non_negative_and_the_mean_coactivity(seed, target):
    torch.manual_seed(seed)
    layer = nn.Linear(5, 4)
    recorder = HebbianRecorder([layer], target=target, rate=1.0)
    xs = [torch.randn(8, 5) for _ in range(3)]
    for x in xs:
        layer(x)
        recorder.count_step()
    u = recorder.drive(0)
    assert (u >= 0).all()
    expected = sum(layer(x).detach().clamp_min(0).T @ x.clamp_min(0) / 8 for x in xs) / 3
    activity = layer(xs[-1]).detach().clamp_min(0).mean(0)  # rate 1: the last batch's mean
    assert torch.allclose(u, (target / (activity + 1e-6)).unsqueeze(1) * expected, rtol=1e-4, atol=1e-6)


def test_no_recording_in_evaluation_mode():
    layer = nn.Linear(3, 2)
    recorder = HebbianRecorder([layer])
    layer.eval()
    layer(torch.rand(4, 3))
    assert (recorder.coactivity[0] == 0).all()


def test_the_regulator_runs_on_the_hebbian_drive_and_resumes():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    reg = biogrn.regulate(model, optimizer=optimizer, drive="hebbian", integrate_every=3, start_epoch=1, epochs=4)
    p0 = reg.genes.p.clone()
    for _ in range(2):
        for _ in range(6):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(torch.rand(8, 6)), torch.randint(0, 3, (8,))).backward()
            optimizer.step()
            reg.step()
        reg.epoch_end(0.5)
    assert not torch.equal(reg.genes.p, p0) and reg.sparsity() > 0
    state = reg.state_dict()
    assert state["hebbian"]["steps"] == 0 and len(state["hebbian"]["activity"]) == 2
    reg.remove()
    assert not model[0]._forward_hooks  # the hooks leave with the regulator
