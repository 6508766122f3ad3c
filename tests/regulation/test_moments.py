"""The drive's interval read from the optimizer's second moment (biogrn.regulation.OptimizerMoments)."""

import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import biogrn
from biogrn.regulation import OptimizerMoments, UnreachableSettingWarning, reset_optimizer_entries

F64 = torch.float64

OPTIMIZERS = {
    "adam": lambda p, beta: torch.optim.Adam([p], lr=1e-3, betas=(0.9, beta)),
    "adamw": lambda p, beta: torch.optim.AdamW([p], lr=1e-3, betas=(0.9, beta)),
    "nadam": lambda p, beta: torch.optim.NAdam([p], lr=1e-3, betas=(0.9, beta)),
    "radam": lambda p, beta: torch.optim.RAdam([p], lr=1e-3, betas=(0.9, beta)),
    "rmsprop": lambda p, beta: torch.optim.RMSprop([p], lr=1e-3, alpha=beta),
    "adagrad": lambda p, beta: torch.optim.Adagrad([p], lr=1e-3, initial_accumulator_value=0.3),
}


def decay_of(name: str, beta: float) -> float:
    return 1.0 if name == "adagrad" else beta


@st.composite
def interval(draw):
    name = draw(st.sampled_from(sorted(OPTIMIZERS)))
    beta = draw(st.floats(0.5, 0.9999))
    warmup = draw(st.integers(0, 5))  # steps before the interval starts: v_0 is not zero
    steps = draw(st.integers(1, 25))
    skipped = draw(st.lists(st.booleans(), min_size=steps, max_size=steps))  # GradScaler skips
    seed = draw(st.integers(0, 2**16))
    return name, beta, warmup, steps, skipped, seed


@settings(max_examples=60, deadline=None)
@given(interval())
def test_the_interval_read_from_moments_is_the_weighted_mean_square_gradient(case):
    name, beta, warmup, steps, skipped, seed = case
    gen = torch.Generator().manual_seed(seed)
    param = nn.Parameter(torch.randn(4, 5, generator=gen, dtype=F64))
    optimizer = OPTIMIZERS[name](param, beta)
    for _ in range(warmup):
        param.grad = torch.randn(4, 5, generator=gen, dtype=F64)
        optimizer.step()
    moments = OptimizerMoments(optimizer, param, torch.empty_like(param))
    taken = []
    for skip in skipped:
        grad = torch.randn(4, 5, generator=gen, dtype=F64) * 3
        if not skip:  # a skipped step never reaches the optimizer, and adds nothing
            param.grad = grad
            optimizer.step()
            taken.append(grad)
    weight = moments.read()
    b = decay_of(name, beta)
    weights = [b ** (len(taken) - 1 - t) for t in range(len(taken))]
    if not taken:
        assert weight == 0 or weight == 0.0
        assert (moments.snapshot == 0).all()
        return
    expected_sum = sum(w * g * g for w, g in zip(weights, taken))
    assert weight == pytest.approx(sum(weights) * (1 - b if b < 1 else 1), rel=1e-12)
    mean = moments.snapshot / weight
    assert torch.allclose(mean, expected_sum / sum(weights), rtol=1e-8, atol=1e-12)
    # against the plain mean of the recording path: within the weights' spread [b^(T-1), 1]
    plain = sum(g * g for g in taken) / len(taken)
    spread = b ** (len(taken) - 1)
    assert (mean >= plain * spread * (1 - 1e-9)).all() and (mean <= plain / spread * (1 + 1e-9)).all()


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(sorted(OPTIMIZERS)),
    beta=st.floats(0.5, 0.999),
    before=st.integers(0, 8),
    after=st.integers(1, 8),
    rows=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_a_reset_of_moments_within_the_interval_keeps_its_gradients(name, beta, before, after, rows, seed):
    """`rebase` and then zeroing the moments at some entries (what a prune or a regrowth does)
    leaves the interval's weighted sum of every entry as if nothing had been reset."""
    gen = torch.Generator().manual_seed(seed)
    param = nn.Parameter(torch.randn(6, 3, generator=gen, dtype=F64))
    optimizer = OPTIMIZERS[name](param, beta)
    param.grad = torch.randn(6, 3, generator=gen, dtype=F64)
    optimizer.step()
    moments = OptimizerMoments(optimizer, param, torch.empty_like(param))
    grads = [torch.randn(6, 3, generator=gen, dtype=F64) for _ in range(before + after)]
    for grad in grads[:before]:
        param.grad = grad
        optimizer.step()
    if rows:  # unit genes reset whole rows
        reset = torch.randperm(6, generator=gen)[:2]
        moments.rebase(reset, axis=0)
        where = torch.zeros(6, 3, dtype=torch.bool)
        where[reset] = True
    else:
        reset = torch.randperm(18, generator=gen)[:5]
        moments.rebase(reset)
        where = torch.zeros(18, dtype=torch.bool)
        where[reset] = True
        where = where.view(6, 3)
    reset_optimizer_entries(optimizer, param, where)
    for grad in grads[before:]:
        param.grad = grad
        optimizer.step()
    weight = moments.read()
    b = decay_of(name, beta)
    n = len(grads)
    weights = [b ** (n - 1 - t) for t in range(n)]
    expected = sum(w * g * g for w, g in zip(weights, grads)) / sum(weights)
    assert weight == pytest.approx(sum(weights) * (1 - b if b < 1 else 1), rel=1e-12)
    assert torch.allclose(moments.snapshot / weight, expected, rtol=1e-8, atol=1e-12)


def make_run(source, optimizer="adagrad", seed=0, **overrides):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(10, 24), nn.ReLU(), nn.Linear(24, 3)).double()
    if optimizer == "adagrad":
        opt = torch.optim.Adagrad(model.parameters(), lr=0.05)
    elif optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
    settings_ = dict(epochs=6, start_epoch=1, integrate_every=4, seed=seed, drive_source=source)
    settings_.update(overrides)
    return model, opt, biogrn.regulate(model, optimizer=opt, **settings_)


def train(model, opt, reg, epochs=6, steps=10, end_epochs=True):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(steps * 16, 10, generator=gen, dtype=F64)
    y = (x[:, :3] + 0.3 * torch.randn(steps * 16, 3, generator=gen, dtype=F64)).argmax(1)
    for _ in range(epochs):
        for i in range(steps):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[16 * i : 16 * i + 16]), y[16 * i : 16 * i + 16]).backward()
            opt.step()
            reg.step()
        if end_epochs:
            reg.epoch_end(0.5)


@pytest.mark.parametrize("policy, overrides", [("paper", {}), ("target", {"update_every": 6})])
def test_adagrad_moments_give_the_recorded_drive_and_the_same_run(policy, overrides):
    """Adagrad's second moment is the plain sum of g^2: reading it must give the run that recording
    every gradient gives, with updates that reset moments in the middle of intervals (update_every
    6 against intervals of 4) as well as at their ends."""
    runs = {}
    for source in ("gradients", "optimizer"):
        model, opt, reg = make_run(source, policy=policy, **overrides)
        assert reg.drive_sources == [source, source]
        train(model, opt, reg)
        runs[source] = reg
    recorded, read = runs["gradients"], runs["optimizer"]
    assert len(read.history) >= 5 and read.sparsity() > 0.2
    assert torch.equal(recorded.mask, read.mask)
    assert torch.allclose(recorded.genes.y, read.genes.y, rtol=1e-9, atol=1e-12)


def test_adam_moments_keep_the_run_close_to_recording():
    """Adam weighs the interval's steps by beta_2^(T-t), within 0.3% of each other over 4 steps:
    the expression stays within that of the recorded run's."""
    runs = {}
    for source in ("gradients", "optimizer"):
        with pytest.warns(UnreachableSettingWarning, match="pruning never starts"):  # on purpose: no pruning
            model, opt, reg = make_run(source, optimizer="adam", epochs=3, start_epoch=10)
        train(model, opt, reg, epochs=3)
        runs[source] = reg.genes.y
    assert torch.allclose(runs["gradients"], runs["optimizer"], rtol=1e-3)
    assert not torch.equal(runs["gradients"], runs["optimizer"])


def test_a_step_reads_nothing_when_the_drive_reads_moments():
    model, opt, reg = make_run("optimizer", optimizer="adam")
    train(model, opt, reg, epochs=1, steps=4)  # ends with an integration: a fresh snapshot
    snapshots = [r.grad_sq.clone() for r in reg.records]
    x = torch.randn(16, 10, dtype=F64)
    for _ in range(3):
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
        reg.step()
    assert all(torch.equal(s, r.grad_sq) for s, r in zip(snapshots, reg.records))


@pytest.mark.parametrize(
    "optimizer, overrides, sources",
    [
        ("adam", {}, ["optimizer", "optimizer"]),
        ("sgd", {}, ["gradients", "gradients"]),
        ("adam", {"gate": "hill"}, ["gradients", "gradients"]),
        ("adam", {"record_every": 2}, ["gradients", "gradients"]),
    ],
)
def test_auto_reads_moments_where_it_can(optimizer, overrides, sources):
    _, _, reg = make_run("auto", optimizer=optimizer, **overrides)
    assert reg.drive_sources == sources


def test_half_precision_weights_record_their_gradients():
    """A bfloat16 second moment moves by (1 - beta_2) v per step, below its own resolution: it is
    not read. `auto` records; an explicit 'optimizer' is refused naming the dtype."""
    model = nn.Sequential(nn.Linear(10, 24), nn.ReLU(), nn.Linear(24, 3)).to(torch.bfloat16)
    opt = torch.optim.Adam(model.parameters())
    assert biogrn.regulate(model, optimizer=opt).drive_sources == ["gradients", "gradients"]
    model = nn.Sequential(nn.Linear(10, 24), nn.ReLU(), nn.Linear(24, 3)).to(torch.bfloat16)
    opt = torch.optim.Adam(model.parameters())
    with pytest.raises(ValueError, match="the regulated weights are torch.bfloat16"):
        biogrn.regulate(model, optimizer=opt, drive_source="optimizer")


@pytest.mark.parametrize(
    "optimizer, overrides, message",
    [
        ("sgd", {}, "SGD keeps no second moment"),
        ("adam", {"gate": "hill"}, r"\['0.weight', '2.weight'\] record through a gate"),
        (None, {}, "no optimizer is attached"),
    ],
)
def test_an_optimizer_source_that_cannot_be_read_is_refused_with_its_reason(optimizer, overrides, message):
    model = nn.Sequential(nn.Linear(10, 24), nn.ReLU(), nn.Linear(24, 3))
    opt = None
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
    elif optimizer == "adam":
        opt = torch.optim.Adam(model.parameters())
    with pytest.raises(ValueError, match=f"drive_source: 'optimizer' cannot be read: {message}"):
        biogrn.regulate(model, optimizer=opt, drive_source="optimizer", **overrides)


def test_record_every_and_an_optimizer_source_are_refused_together():
    with pytest.raises(ValueError, match="record_every: 2 subsamples recorded gradients"):
        biogrn.regulate(nn.Linear(3, 2), drive_source="optimizer", record_every=2)


def test_a_wrapped_optimizer_is_read_through_its_optimizer_attribute():
    """Accelerate and Lightning hand callbacks a wrapper that keeps the torch optimizer as `.optimizer`."""

    class Wrapper:
        def __init__(self, inner):
            self.optimizer = inner

        @property
        def param_groups(self):
            return self.optimizer.param_groups

        @property
        def state(self):
            return self.optimizer.state

    model = nn.Sequential(nn.Linear(10, 24), nn.ReLU(), nn.Linear(24, 3))
    inner = torch.optim.AdamW(model.parameters())
    reg = biogrn.regulate(model, optimizer=Wrapper(inner), drive_source="optimizer")
    assert reg.drive_sources == ["optimizer", "optimizer"]
    assert reg.records[0].moments.optimizer is inner


def test_a_state_is_refused_by_a_regulator_that_reads_its_drive_elsewhere():
    _, _, reading = make_run("optimizer", optimizer="adam")
    _, _, recording = make_run("gradients", optimizer="adam")
    with pytest.raises(ValueError, match=r"from \['optimizer', 'optimizer'\], this Regulator's from \['gradients'"):
        recording.load_state_dict(reading.state_dict())
    older = recording.state_dict()
    del older["drive_moments"]  # a state taken before the drive could read moments
    recording.load_state_dict(older)
    with pytest.raises(ValueError, match=r"from \['gradients', 'gradients'\], this Regulator's from \['optimizer'"):
        reading.load_state_dict(older)  # drive_source 'optimizer' was asked for explicitly


def test_a_state_taken_before_moments_resumes_as_it_was_taken_under_auto():
    """A checkpoint from before `drive_source` recorded every gradient; a default ('auto') regulator
    that loads it records again, and continues exactly as the recording run does."""
    settings_ = dict(optimizer="adam", update_every=6, policy="target", start_epoch=0)
    model, opt, reg = make_run("gradients", **settings_)
    train(model, opt, reg, epochs=1, steps=7)
    train(model, opt, reg, epochs=1, steps=6, end_epochs=False)  # mid-interval
    state = copy.deepcopy({"model": model.state_dict(), "opt": opt.state_dict(), "reg": reg.state_dict()})
    del state["reg"]["drive_moments"]
    train(model, opt, reg, epochs=2, steps=7)
    model2, opt2, reg2 = make_run("auto", **settings_)
    assert reg2.drive_sources == ["optimizer", "optimizer"]
    model2.load_state_dict(state["model"])
    opt2.load_state_dict(state["opt"])
    reg2.load_state_dict(state["reg"])
    assert reg2.drive_sources == ["gradients", "gradients"]
    train(model2, opt2, reg2, epochs=2, steps=7)
    assert torch.equal(reg.genes.y, reg2.genes.y)
    assert torch.equal(reg.mask, reg2.mask)


def test_resuming_mid_interval_from_moments_continues_bit_identically():
    settings_ = dict(optimizer="adam", update_every=6, policy="target", start_epoch=0)
    model, opt, reg = make_run("optimizer", **settings_)
    train(model, opt, reg, epochs=1, steps=7)
    train(model, opt, reg, epochs=1, steps=6, end_epochs=False)  # step 13: an update at 12 rebased the interval
    assert reg.records[0].moments.carried > 0
    state = copy.deepcopy({"model": model.state_dict(), "opt": opt.state_dict(), "reg": reg.state_dict()})
    train(model, opt, reg, epochs=2, steps=7)
    model2, opt2, reg2 = make_run("optimizer", **settings_)
    model2.load_state_dict(state["model"])
    opt2.load_state_dict(state["opt"])
    reg2.load_state_dict(state["reg"])
    train(model2, opt2, reg2, epochs=2, steps=7)
    assert torch.equal(reg.genes.y, reg2.genes.y)
    assert torch.equal(reg.mask, reg2.mask)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), model2.parameters()))


def test_a_step_count_kept_on_the_device_gives_the_same_interval(monkeypatch):
    """Capturable and fused CUDA optimizers keep the step count on the device; the interval is then
    computed with tensor powers and no host read. Here the CPU stands in for the device."""
    from biogrn.regulation import _moments

    results = []
    for on_device in (False, True):
        if on_device:
            monkeypatch.setattr(_moments, "host_number", lambda step: step)
        gen = torch.Generator().manual_seed(3)
        param = nn.Parameter(torch.randn(4, 5, generator=gen, dtype=F64))
        optimizer = torch.optim.Adam([param], betas=(0.9, 0.99))
        param.grad = torch.randn(4, 5, generator=gen, dtype=F64)
        optimizer.step()
        moments = OptimizerMoments(optimizer, param, torch.empty_like(param))
        for step in range(7):
            if step == 3:
                moments.rebase(torch.tensor([0, 7, 19]))
                reset_optimizer_entries(optimizer, param, torch.rand(4, 5, generator=gen) < 0)
            param.grad = torch.randn(4, 5, generator=gen, dtype=F64)
            optimizer.step()
        weight = moments.read()
        assert torch.is_tensor(weight) == on_device
        results.append((moments.snapshot.clone(), float(weight)))
    assert torch.allclose(results[0][0], results[1][0], rtol=1e-6, atol=0)  # beta^T in float32
    assert results[0][1] == pytest.approx(results[1][1], rel=1e-6)  # the step count is float32
