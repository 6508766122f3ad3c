"""Grids of runs for studies: each point is a base configuration with dotted-path overrides.

    points = grid({"regulator.gamma_m": [0.01, 0.02], "regulator.alpha": [0.0, 0.5]})
    summaries = sweep(base, points, "runs/sweep", workers=2)          # local processes
    summaries = sweep(base, points, "runs/sweep", ray_address="auto")  # a Ray cluster

Every point is an ordinary run (records, checkpoint) in its own directory under `out`, named
from its overrides. A study is resumable: a finished point is read back, not trained again, and
an unfinished one resumes from its checkpoint. On a Ray cluster `out` must be on a file system
that every node sees.
"""

from __future__ import annotations

import copy
import itertools
import math
import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from biogrn.core import ConfigError
from biogrn.runs._files import CONFIG_FILE, RECORDS_FILE
from biogrn.runs._records import config_of, read_records
from biogrn.runs._run_config import parse_run_config
from biogrn.runs._trainer import resume, run

__all__ = ["grid", "in_processes", "point_name", "summarize", "sweep", "sweep_point", "with_overrides"]


def grid(axes: Mapping[str, Sequence]) -> list[dict]:
    """Every combination of the axes' values, as override dicts (last axis varies fastest)."""
    names = list(axes)
    return [dict(zip(names, values)) for values in itertools.product(*(axes[n] for n in names))]


def with_overrides(base: Mapping, overrides: Mapping) -> dict:
    """`base` with each dotted path of `overrides` set (`{"regulator.gamma_m": 0.01}`)."""
    merged = copy.deepcopy(dict(base))
    for path, value in overrides.items():
        node = merged
        *parents, leaf = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ValueError(f"{path}: {key!r} is not a section")
        node[leaf] = value
    return merged


def point_name(overrides: Mapping) -> str:
    """A directory name from the overrides: `gamma_m=0.01,alpha=0.5`."""
    if not overrides:
        return "base"
    return ",".join(f"{path.split('.')[-1]}={value}" for path, value in overrides.items())


def summarize(records: xr.Dataset) -> dict:
    """The numbers a study compares, from one run's records."""
    frozen = np.flatnonzero(records["frozen"].values > 0)
    return {
        "test_accuracy": float(records["test_accuracy"]),
        "val_accuracy": float(records["val_accuracy"][-1]) if records.sizes["epoch"] else math.nan,
        "sparsity": float(records["total_sparsity"][-1]) if records.sizes["epoch"] else math.nan,
        "n_pruned": int(records["n_pruned"].sum()),
        "n_regrown": int(records["n_regrown"].sum()),
        "freeze_epoch": float(records["epoch"].values[frozen[0]]) if frozen.size else math.nan,
        "train_seconds": float(records["epoch_seconds"].sum()),
    }


def sweep_point(
    base: Mapping, overrides: Mapping, out: str | Path, name: str | None = None, threads: int | None = None
) -> dict:
    """Run (or read back, or resume) one point; returns its `summarize` dict.

    Raises:
        ConfigError: an override names an unknown field or gives a bad value, or the point's
            directory holds a finished run of another configuration.
    """
    if threads is not None:
        torch.set_num_threads(threads)
    name = name or point_name(overrides)
    config = parse_run_config(with_overrides(base, overrides), source=name)
    directory = Path(out) / name
    records = read_records(directory) if (directory / RECORDS_FILE).exists() else None
    if records is not None and records.attrs.get("complete") == 1:
        try:  # through the parser: a field added since the run was written takes its default
            finished_as = parse_run_config(config_of(records)).to_json()
        except ConfigError:
            finished_as = None
        if finished_as != config.to_json():
            # reading it back would pass old numbers off as this configuration's
            raise ConfigError(
                f"{directory}: finished under another configuration than point {name!r} now has; "
                "give the study a new output directory, or remove this one to run it again"
            )
    elif (directory / CONFIG_FILE).exists():
        records = resume(directory, config, quiet=True, figures=False)
    else:
        records = run(config, directory, quiet=True, figures=False)
    return summarize(records)


def sweep(
    base: Mapping,
    points: Sequence[Mapping],
    out: str | Path,
    workers: int = 1,
    ray_address: str | None = None,
    names: Sequence[str] | None = None,
) -> list[dict]:
    """Run every point; locally (`workers` processes, one torch thread each) or on Ray.

    Every point's configuration is validated before any is trained.

    Raises:
        ConfigError: a point's configuration is invalid (its name is in the message).
        ImportError: `ray_address` is given but Ray is not installed.
    """
    names = list(names) if names is not None else [point_name(p) for p in points]
    if len(set(names)) != len(names):
        raise ValueError("points: two points have the same name; pass distinct `names`")
    for point, name in zip(points, names):
        parse_run_config(with_overrides(base, point), source=name)
    Path(out).mkdir(parents=True, exist_ok=True)
    if ray_address is not None:
        try:
            import ray
        except ImportError as error:
            raise ImportError("ray_address: Ray is not installed; pip install 'biogrn[cluster]'") from error
        ray.init(address=ray_address, ignore_reinit_error=True, log_to_driver=False)
        remote = ray.remote(num_cpus=1)(sweep_point)
        return ray.get([remote.remote(dict(base), dict(p), str(out), n, 1) for p, n in zip(points, names)])
    if workers <= 1:
        return [sweep_point(base, p, out, n) for p, n in zip(points, names)]
    return in_processes(sweep_point, [(dict(base), dict(p), str(out), n, 1) for p, n in zip(points, names)], workers)


def in_processes(function, jobs: Sequence[tuple], workers: int) -> list:
    """`[function(*job) for job in jobs]`, in `workers` local processes (in this one for 1), in order.

    `function` must be importable by name (a module-level function): the processes are spawned,
    not forked, since a forked child inherits torch's thread pools in an undefined state. Each
    worker uses one torch thread; run in this process, the calls leave its thread count alone.
    """
    if workers <= 1:
        return [function(*job) for job in jobs]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=torch.set_num_threads, initargs=(1,)
    ) as pool:
        futures = [pool.submit(function, *job) for job in jobs]
        return [f.result() for f in futures]
