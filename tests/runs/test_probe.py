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
    measured = probe_expression(reg, x, y, 60, seed=1)
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
        "score": change,
    }
    summary = probe_summary(measured)
    assert summary["spearman"]["expression"] == pytest.approx(1) and summary["auroc"]["expression"] == 1
    assert summary["spearman"]["magnitude"] == pytest.approx(-1) and summary["auroc"]["magnitude"] == 0
    assert np.isnan(summary["spearman"]["taylor"])  # a constant score ranks nothing


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
    assert (tmp_path / "whole" / "probe.png").exists()
    # a crash in epoch 3, then resume: the same probes, the first one kept by the checkpoint
    crashed_run(crash_in_epoch, 3, config, tmp_path / "crashed")
    resumed = resume(tmp_path / "crashed", quiet=True, figures=False)
    xr.testing.assert_equal(resumed[PROBE_VARIABLES], records[PROBE_VARIABLES])


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
