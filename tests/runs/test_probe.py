"""What the expression knows: exact removal losses, the Taylor estimate, summaries, records."""

import numpy as np
import pytest
import torch
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import biogrn
from biogrn.core import ConfigError, stored_parameter
from biogrn.runs import parse_run_config, read_records, resume, run
from biogrn.runs._probe import probe_expression, probe_summary, removal_loss_changes


def trained(genes: str, gate: str, seed: int):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 3))
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    reg = biogrn.regulate(
        model,
        optimizer=optimizer,
        genes=genes,
        gate=gate,
        integrate_every=2,
        start_epoch=0,
        policy="target",
        target_sparsity=0.3,
        end_epoch=1,
        epochs=2,
    )
    x, y = torch.randn(48, 6), torch.randint(0, 3, (48,))
    for _ in range(4):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        reg.step()
    reg.epoch_end(0.5)
    return model, reg, x, y


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(["connection", "unit"]), st.sampled_from(["mask", "hill"]), st.integers(0, 2**16))
def test_the_batched_removal_loss_equals_zeroing_each_gene_by_hand(genes, gate, seed):
    model, reg, x, y = trained(genes, gate, seed)
    active = torch.nonzero(reg.mask > 0).ravel()
    chosen = active[torch.randperm(len(active), generator=torch.Generator().manual_seed(seed))[:10]].sort().values
    before = [r.grad_sq.clone() for r in reg.records if r.grad_sq is not None]
    changes, base = removal_loss_changes(reg, chosen, x, y, chunk_bytes=64)  # several chunks per tensor
    assert all(torch.equal(a, r.grad_sq) for a, r in zip(before, [r for r in reg.records if r.grad_sq is not None]))
    assert model.training  # the mode is given back
    for gene, change in zip(chosen.tolist(), changes.tolist()):
        layer = 0 if gene < reg.genes.slices[0].stop else 1
        module, index = model[2 * layer], gene - reg.genes.slices[layer].start
        weight, bias = stored_parameter(module, "weight"), stored_parameter(module, "bias")
        saved = weight.detach().clone(), bias.detach().clone()
        with torch.no_grad():
            if genes == "connection":
                weight.view(-1)[index] = 0
            else:
                weight[index] = 0
                bias[index] = 0
            model.eval()
            by_hand = nn.functional.cross_entropy(model(x), y).item() - base
            model.train()
            weight.copy_(saved[0])
            bias.copy_(saved[1])
        assert change == pytest.approx(by_hand, abs=2e-6)


def test_the_taylor_score_predicts_the_loss_change_when_weights_are_small():
    # one Linear layer at weights of 1e-3: the second-order term is about 1% of the first
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 5))
    with torch.no_grad():
        model[0].weight.normal_(0, 1e-3)
    reg = biogrn.regulate(model, integrate_every=2)
    x, y = torch.randn(256, 20), torch.randint(0, 5, (256,))
    measured = probe_expression(reg, (x, y), (x, y), 60, seed=1)  # one set for both: the closed form
    changes, taylor = measured["loss_change"], measured["taylor"]
    np.testing.assert_allclose(taylor, changes, atol=1e-6, rtol=0.05)  # atol: float32 losses of about 1.6
    assert probe_summary(measured)["spearman"]["taylor"] > 0.95


def test_a_score_equal_to_the_loss_change_ranks_perfectly_and_its_opposite_fails():
    change = np.linspace(-1, 1, 50)
    measured = {
        "loss_change": change,
        "expression": change,
        "magnitude": -change,
        "taylor": np.zeros(50),
        "fisher": change**2,
        "score": change,
    }
    summary = probe_summary(measured)
    assert summary["spearman"]["expression"] == pytest.approx(1) and summary["auroc"]["expression"] == 1
    assert summary["spearman"]["magnitude"] == pytest.approx(-1) and summary["auroc"]["magnitude"] == 0
    assert np.isnan(summary["spearman"]["taylor"])  # a constant score ranks nothing


@settings(max_examples=10, deadline=None)
@given(st.sampled_from(["connection", "unit"]), st.integers(0, 2**16))
def test_fisher_and_taylor_equal_their_closed_forms_example_by_example(genes, seed):
    """fisher = sum over the gene's weights of w^2 mean_i g_i^2, taylor = -sum w mean_i g_i, each
    example's gradient taken alone by autograd (a loop here, one vmap in the probe)."""
    model, reg, x, y = trained(genes, "mask", seed)
    estimate, reference = (x[:20], y[:20]), (x[20:], y[20:])
    measured = probe_expression(reg, estimate, reference, 15, seed=seed)
    modules = [model[0], model[2]]
    squares = [torch.zeros_like(m.weight) for m in modules] + [torch.zeros_like(m.bias) for m in modules]
    sums = [torch.zeros_like(t) for t in squares]
    model.eval()
    for xi, yi in zip(*estimate):
        parameters = [m.weight for m in modules] + [m.bias for m in modules]
        grads = torch.autograd.grad(nn.functional.cross_entropy(model(xi[None]), yi[None]), parameters)
        for k, g in enumerate(grads):
            squares[k] += g * g
            sums[k] += g
    model.train()
    n = len(estimate[0])
    for gene, fisher, taylor, layer in zip(measured["gene"], measured["fisher"], measured["taylor"], measured["layer"]):
        index = gene - reg.genes.slices[layer].start
        w, b = modules[layer].weight.detach(), modules[layer].bias.detach()
        if genes == "connection":
            row, column = divmod(int(index), w.shape[1])
            want_f = w[row, column] ** 2 * squares[layer][row, column] / n
            want_t = -w[row, column] * sums[layer][row, column] / n
        else:
            want_f = (w[index] ** 2 * squares[layer][index]).sum() / n + b[index] ** 2 * squares[2 + layer][index] / n
            want_t = -(w[index] * sums[layer][index]).sum() / n - b[index] * sums[2 + layer][index] / n
        assert fisher == pytest.approx(float(want_f), rel=1e-4, abs=1e-9)
        assert taylor == pytest.approx(float(want_t), rel=1e-4, abs=1e-9)


def test_the_loss_change_is_the_size_weighted_mean_of_its_halves_and_their_agreement_is_reported():
    model, reg, x, y = trained("connection", "mask", 3)
    measured = probe_expression(reg, (x[:8], y[:8]), (x[8:], y[8:]), 30, seed=0)
    whole, _ = removal_loss_changes(reg, torch.as_tensor(measured["gene"]), x[8:], y[8:])
    np.testing.assert_allclose(measured["loss_change"], whole.numpy(), rtol=0, atol=1e-6)  # float32 losses near 1
    summary = probe_summary(measured)
    first, second = measured["loss_change_first"], measured["loss_change_second"]
    assert summary["reliability"] == pytest.approx(float(__import__("scipy").stats.spearmanr(first, second).statistic))


def test_within_layer_correlation_is_the_mean_over_layers_and_can_differ_from_the_pooled_one():
    """Two layers whose scores sit on different scales: ranked within each layer the score is
    perfect, pooled it is not."""
    change = np.concatenate([np.linspace(0, 1, 30), np.linspace(0, 1, 30)])
    score = np.concatenate([np.linspace(0, 1, 30), np.linspace(5, 6, 30)])
    measured = {"loss_change": change, "layer": np.repeat([0, 1], 30)}
    measured.update({name: score for name in ("expression", "magnitude", "taylor", "fisher", "score")})
    summary = probe_summary(measured)
    assert summary["within_spearman"]["expression"] == pytest.approx(1.0)
    assert summary["spearman"]["expression"] < 0.9
    measured["layer"] = np.repeat([0, 1], [50, 10])  # a layer under MIN_LAYER_SAMPLE is left out
    assert np.isfinite(probe_summary(measured)["within_spearman"]["expression"])


def crashed_run(crash_in_epoch, epoch: int, config, out) -> None:
    """Run `config` into `out` until training raises as epoch `epoch` starts; the real loop is back after."""
    undo = crash_in_epoch(epoch)
    with pytest.raises(RuntimeError, match="power cut"):
        run(config, out, quiet=True, figures=False)
    undo()


PROBE_VARIABLES = ["probe_epoch", "probe_gene", "probe_loss_change", "probe_expression", "probe_spearman"]


def test_a_run_records_its_probes_and_resume_keeps_them(tmp_path, crash_in_epoch):
    config = parse_run_config(
        {
            "model": {"hidden": [16]},
            "training": {"epochs": 4},
            "regulator": {"policy": "target", "start_epoch": 1, "end_epoch": 3, "target_sparsity": 0.5},
            "records": {"probe_genes": 40, "probe_every": 2, "probe_examples": 64},
        }
    )
    records = run(config, tmp_path / "whole", quiet=True, figures=True)
    assert records["probe_epoch"].values.tolist() == [2, 4]
    assert records["probe_gene"].shape == (2, 40) and (records["probe_gene"].values >= 0).all()
    assert records["probe_spearman"].dims == ("probe", "score") and np.isfinite(records["probe_auroc"]).all()
    assert list(records["score"].values) == ["expression", "magnitude", "taylor", "fisher", "score"]
    assert np.isfinite(records["probe_reliability"]).all() and (records["probe_layer"].values >= 0).all()
    assert (tmp_path / "whole" / "probe.png").exists()
    # a crash in epoch 3, then resume: the same probes, the first one kept by the checkpoint
    crashed_run(crash_in_epoch, 3, config, tmp_path / "crashed")
    resumed = resume(tmp_path / "crashed", quiet=True, figures=False)
    xr.testing.assert_equal(resumed[PROBE_VARIABLES], records[PROBE_VARIABLES])


def test_the_probe_refuses_a_validation_split_that_leaves_no_reference_set(tmp_path):
    config = parse_run_config(
        {"regulator": {"policy": "target"}, "records": {"probe_genes": 10, "probe_examples": 100_000}}
    )
    with pytest.raises(ConfigError, match="records.probe_examples: 100000 of the .* validation examples leave"):
        run(config, tmp_path / "run", quiet=True, figures=False)
    assert not (tmp_path / "run" / "records.nc").exists()


def test_mnist1d_probe_signals_are_other_signals_of_the_same_generator():
    pytest.importorskip("mnist1d")
    from biogrn.data import Mnist1dSettings, mnist1d

    splits = mnist1d(Mnist1dSettings(num_samples=200), seed=0, probe_signals=150)
    probe_x, probe_y = splits.probe.tensors
    assert probe_x.shape == (150, 40) and set(probe_y.tolist()) == set(range(10))
    every = torch.cat([splits.train.tensors[0], splits.val.tensors[0], splits.test.tensors[0]])
    distances = torch.cdist(probe_x, every)
    assert float(distances.min()) > 1e-3  # none of the run's signals
    again = mnist1d(Mnist1dSettings(num_samples=200), seed=5, probe_signals=150).probe.tensors[0]
    assert torch.equal(again, probe_x)  # the generator's seed alone decides them


def test_a_dense_run_cannot_probe_expression():
    with pytest.raises(ConfigError, match="records.probe_genes"):
        parse_run_config({"pruning": "none", "records": {"probe_genes": 10}})


def test_writing_every_third_epoch_resumes_from_the_last_written_one(tmp_path, crash_in_epoch):
    config = parse_run_config(
        {
            "model": {"hidden": [16]},
            "training": {"epochs": 5},
            "regulator": {"policy": "target", "start_epoch": 1, "end_epoch": 4},
            "records": {"write_every": 3},
        }
    )
    whole = run(config, tmp_path / "whole", quiet=True, figures=False)
    crashed_run(crash_in_epoch, 5, config, tmp_path / "crashed")
    assert int(read_records(tmp_path / "crashed").attrs["epochs_done"]) == 3  # epoch 4 was trained, not written
    resumed = resume(tmp_path / "crashed", quiet=True, figures=False)
    xr.testing.assert_equal(resumed.drop_vars("epoch_seconds"), whole.drop_vars("epoch_seconds"))
