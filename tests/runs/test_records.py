import numpy as np
import pytest
import torch
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from biogrn.core import atomic_write
from biogrn.models import mlp
from biogrn.regulation import regulate
from biogrn.runs import VARIABLES, ConnectionTrace, EpochResult, Recorder, quantiles, read_records, write_records


@given(
    values=arrays(np.float64, st.integers(1, 300), elements=st.floats(-1e6, 1e6)),
    qs=st.lists(st.floats(0, 1), min_size=1, max_size=6),
)
def test_quantiles_match_numpy(values, qs):
    got = quantiles(torch.tensor(values), torch.tensor(qs, dtype=torch.float64))
    assert np.allclose(got.numpy(), np.quantile(values, qs), rtol=1e-12, atol=1e-9)


def test_quantiles_per_row():
    x = torch.rand(3, 101, dtype=torch.float64)
    got = quantiles(x, torch.tensor([0.1, 0.5]))
    assert np.allclose(got.numpy(), np.quantile(x.numpy(), [0.1, 0.5], axis=1).T)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "f.txt"
    atomic_write(path, lambda tmp: tmp.write_text("old"))

    def half_then_fail(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half_then_fail)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]  # no temporary file left behind


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_atomic_write_gives_the_permissions_a_plain_open_gives(tmp_path, umask):
    """Not the temporary file's private 0600: a collaborator reads the figures (umask 022 gives 0644)."""
    import os
    import stat

    previous = os.umask(umask)
    try:
        atomic_write(tmp_path / "atomic.txt", lambda tmp: tmp.write_text("x"))
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(previous)
    mode = lambda name: stat.S_IMODE((tmp_path / name).stat().st_mode)
    assert mode("atomic.txt") == mode("plain.txt") == 0o666 & ~umask


def regulated_model(seed=0):
    torch.manual_seed(seed)
    model = mlp([6, 8, 3])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    return model, optimizer, regulate(model, optimizer=optimizer, start_epoch=1, epochs=4, integrate_every=2)


def train_a_little(model, optimizer, regulator, trace, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(torch.randn(5, 6)), torch.randint(0, 3, (5,)))
        loss.backward()
        optimizer.step()
        regulator.step()
        trace()


def test_trace_records_the_sampled_connections_exactly():
    model, optimizer, regulator = regulated_model()
    targets = regulator.tensors
    trace = ConnectionTrace([t.original for t in targets], [t.name for t in targets], 20, 3, 0, regulator)
    for _ in range(2):  # pruning starts after start_epoch = 1 epoch
        train_a_little(model, optimizer, regulator, trace, 4)
        regulator.epoch_end(0.5)
    train_a_little(model, optimizer, regulator, trace, 1)
    values = trace.values()
    assert trace.steps == [3, 6, 9] and values.shape == (3, 4, 20)
    names = [t.name for t in targets]
    for j, (layer, index) in enumerate(zip(trace.layer_names, trace.index)):
        target = targets[names.index(layer)]
        sl = regulator.genes.slices[names.index(layer)]
        assert values[-1, 0, j] == target.original.detach().reshape(-1)[index]
        assert values[-1, 1, j] == regulator.genes.y[0, sl][index]
        assert values[-1, 2, j] == regulator.genes.y[1, sl][index]
        assert values[-1, 3, j] == regulator.mask[sl][index]
    pairs = list(zip(trace.layer_names, trace.index))
    assert len(set(pairs)) == 20  # a sample without repeats
    assert (values[-1, 3] == 0).any()  # the epoch-end prune reached some traced connections


def test_trace_state_round_trip_continues_identically():
    model, optimizer, regulator = regulated_model()
    targets = regulator.tensors
    make = lambda: ConnectionTrace([t.original for t in targets], [t.name for t in targets], 10, 2, 1, regulator)
    a = make()
    train_a_little(model, optimizer, regulator, a, 5)
    b = make()
    b.load_state_dict(a.state_dict())
    a(), b()
    a(), b()
    assert a.steps == b.steps and torch.equal(a.values(), b.values())


def recorded_dataset():
    model, optimizer, regulator = regulated_model()
    targets = regulator.tensors
    trace = ConnectionTrace([t.original for t in targets], [t.name for t in targets], 12, 2, 0, regulator)
    recorder = Recorder([t.name for t in targets], (0.1, 0.5, 0.9))
    for epoch in range(1, 4):
        train_a_little(model, optimizer, regulator, trace, 4)
        regulator.epoch_end(0.5 + epoch / 10)
        recorder.add_epoch(
            EpochResult(epoch, 1.0 / epoch, 0.5, 1.1 / epoch, 0.5 + epoch / 10, regulator.sparsity()),
            0.01,
            regulator.step_count,
            regulator,
        )
    return recorder.to_dataset({"config": "{}", "seed": 0}, trace, test=(0.9, 0.7)), regulator


def test_records_have_the_schema_and_the_regulators_values():
    ds, regulator = recorded_dataset()
    assert set(VARIABLES) <= set(ds.data_vars)
    for name, (dims, units, _) in VARIABLES.items():
        assert ds[name].dims == dims and ds[name].attrs["units"] == units
    assert ds.sizes["epoch"] == 3 and list(ds["layer"].values) == [t.name for t in regulator.tensors]
    assert ds.sizes["update"] == len(regulator.history) == 2  # updates after epochs 2 and 3
    assert np.allclose(ds["sparsity"][-1], list(regulator.layer_sparsity().values()))
    assert (ds["n_pruned"].sum("epoch") == ds["update_n_pruned"].sum("update")).all()
    assert np.isnan(ds["tau"][0]).all() and np.isfinite(ds["tau"][1:]).all()
    p = regulator.genes.y[1, regulator.genes.slices[0]].numpy()
    assert np.allclose(ds["p_quantiles"][-1, 0], np.quantile(p, [0.1, 0.5, 0.9]), rtol=1e-6)
    assert ds.attrs["complete"] == 1 and float(ds["test_accuracy"]) == 0.7


def test_records_file_round_trip_is_identical(tmp_path):
    ds, _ = recorded_dataset()
    write_records(ds, tmp_path / "records.nc")
    again = read_records(tmp_path)
    xr.testing.assert_identical(ds, again)
    with xr.open_dataset(tmp_path / "records.nc") as opened:  # the default engine reads it too
        assert opened.sizes == ds.sizes


def test_read_records_names_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no records file"):
        read_records(tmp_path)


def test_every_variable_is_documented():
    from pathlib import Path

    page = (Path(__file__).parents[2] / "docs" / "records.md").read_text()
    assert all(f"`{name}`" in page for name in VARIABLES)


def test_damaged_records_are_refused_in_one_line_before_anything_is_allocated(tmp_path):
    """Issue 37: records.nc declaring 10^9 epochs made report allocate 7.45 GiB per variable; records
    without tau, with complete='yes' or a float epoch gave tracebacks."""
    from biogrn.core import DataError
    from biogrn.runs import run

    records = run(
        {"model": {"hidden": [8]}, "training": {"epochs": 2}, "regulator": {"start_epoch": 1}},
        tmp_path / "run",
        quiet=True,
        figures=False,
    )
    base = records.drop_encoding()

    def refused(dataset, match, name):
        path = tmp_path / f"{name}.nc"
        dataset.to_netcdf(path, engine="netcdf4")
        with pytest.raises(DataError, match=match) as raised:
            read_records(path)
        assert "\n" not in str(raised.value)

    refused(base.drop_vars("tau"), "lacks tau", "no_tau")
    refused(base.assign_attrs(complete="yes"), "attribute complete is 'yes'", "complete_yes")
    refused(base.assign_coords(epoch=base["epoch"].astype(float)), "epoch holds float64", "float_epoch")
    import netCDF4

    path = tmp_path / "huge.nc"

    with netCDF4.Dataset(path, "w") as handle:  # a dimension of 10^9 declared, nothing written
        handle.createDimension("epoch", 10**9)
        handle.createVariable("train_loss", "f8", ("epoch",))
    with pytest.raises(DataError, match=r"huge.nc: declares 7.5 GiB of records in a file of \d+ bytes"):
        read_records(path)


@pytest.mark.parametrize("kind", ["external", "soft"])
def test_records_holding_a_link_are_refused_before_it_is_followed(tmp_path, kind):
    """netCDF follows HDF5 external links: a crafted records.nc read another file's data (issue 37)."""
    import h5py

    from biogrn.core import DataError
    from biogrn.runs import run

    records = run(
        {"model": {"hidden": [8]}, "training": {"epochs": 2}, "regulator": {"start_epoch": 1}},
        tmp_path / "run",
        quiet=True,
        figures=False,
    )
    assert records.sizes["epoch"] == 2
    path = tmp_path / "run" / "records.nc"
    with h5py.File(tmp_path / "secret.h5", "w") as secret:
        secret["data"] = np.arange(5.0)
    with h5py.File(path, "a") as crafted:
        if kind == "external":
            crafted["leaked"] = h5py.ExternalLink(str(tmp_path / "secret.h5"), "/data")
        else:
            crafted["again"] = h5py.SoftLink("/train_loss")
    with pytest.raises(DataError, match=r"is a link to .*; a records file holds no links"):
        read_records(path)


def test_records_whose_attributes_or_counts_a_report_cannot_use_are_refused(tmp_path):
    """`biogrn report` printed a traceback for a records file whose config attribute was not JSON
    (issue 37's fuzzing, round two); the attributes and counts it uses are checked with the schema."""
    import netCDF4

    from biogrn._commands import format_report
    from biogrn.core import DataError
    from biogrn.runs import run

    run(
        {"model": {"hidden": [8]}, "training": {"epochs": 2}, "regulator": {"start_epoch": 0}},
        tmp_path / "run",
        quiet=True,
        figures=False,
    )
    path = tmp_path / "run" / "records.nc"
    format_report(read_records(path))
    original = path.read_bytes()
    for attribute, value, message in [
        ("config", "{not json", "attribute config is not JSON"),
        ("config", "[1, 2]", "attribute config is a list; a run writes its sections"),
        ("epochs_planned", "many", "attribute epochs_planned is 'many'; a run writes an integer"),
    ]:
        path.write_bytes(original)
        with netCDF4.Dataset(path, "a") as crafted:
            crafted.setncattr(attribute, value)
        with pytest.raises(DataError, match=rf"records.nc: {message}"):
            read_records(path)
    path.write_bytes(original)
    with netCDF4.Dataset(path, "a") as crafted:
        crafted.renameVariable("n_pruned", "n_pruned_counts")
        crafted.createVariable("n_pruned", "f8", ("epoch", "layer"))[:] = 0.5
    with pytest.raises(DataError, match=r"records.nc: n_pruned holds float64 values; a run writes integers"):
        read_records(path)


def test_records_a_report_cannot_draw_are_refused(tmp_path):
    """Records that passed the schema and broke the figures (the third audit): no layer or quantile,
    a layer named twice, a config whose model is not a section, a probe epoch stored as a float."""
    import json

    from biogrn.core import DataError
    from biogrn.runs import run

    run(
        {"model": {"hidden": [8]}, "training": {"epochs": 2}, "regulator": {"start_epoch": 0}},
        tmp_path / "run",
        quiet=True,
        figures=False,
    )
    records = xr.load_dataset(tmp_path / "run" / "records.nc").drop_encoding()
    config = dict(records.attrs, config=json.dumps({"model": 1}))
    for edited, message in [
        (records.isel(quantile=slice(0, 0)), "no quantile at all"),
        (records.isel(layer=slice(0, 0)), "no layer at all"),
        (records.assign_coords(layer=["same", "same"]), "layer 'same' is named twice"),
        (records.assign_attrs(config), "attribute config holds model = '1'"),
        (records.assign(step=records["step"].astype(float)), "step holds float64 values; a run writes integers"),
    ]:
        path = tmp_path / "edited.nc"
        edited.to_netcdf(path, engine="netcdf4")
        with pytest.raises(DataError, match=rf"edited.nc: {message}"):
            read_records(path)
