"""Whole runs: configuration, building the pieces, the training loop, records, checkpoints, sweeps.

- `_run_config`: `RunConfig` (data, model, training, regulator, records), from TOML, YAML or a dict.
- `_build`: device, data, model and optimizer from a configuration.
- `_loop`: one epoch of training, evaluation, `fit`; what is minimised is an `Objective`.
- `_records`: the records of a run as one `xarray.Dataset`, written as NetCDF.
- `_checkpoint`: atomic checkpoints that load without running pickled code.
- `_trainer`: `Trainer`, `run` and `resume`: a run directory from start to finish.
- `_sweep`: grids of runs for studies, locally or on Ray.
- `_metrics`: group-wise evaluation and forecast errors.
- `_figures`: the figures of a run (matplotlib, loaded only when drawn).
- `_files`: the names of a run directory's files.
- `_ranks`: `biogrn run` under torchrun: shards, the process group, launching.
- `_statistics`: means with t intervals, paired tests of methods on the same seeds.
- `_probe`: what the expression knows: the exact loss change of removing sampled genes.
- `_directories`: output directories that are new or empty, default names that are free, locks.
"""

from biogrn.runs._build import (
    build_model,
    load_data,
    load_initial_weights,
    make_optimizer,
    parameter_count,
    resolve_device,
    training_bytes,
)
from biogrn.runs._checkpoint import CHECKPOINT_VERSION, load_checkpoint, restore_rng, rng_states, save_checkpoint
from biogrn.runs._directories import LOCK_FILE, claim_directory, free_name, locked
from biogrn.runs._files import CHECKPOINT_FILE, CONFIG_FILE, RECORDS_FILE
from biogrn.runs._loop import CLASSIFICATION, REGRESSION, EpochResult, Objective, evaluate, fit, train_epoch
from biogrn.runs._metrics import forecast_errors, group_metrics, predict, seasonal_naive
from biogrn.runs._ranks import (
    RankShard,
    launch_torchrun,
    launched_by_torchrun,
    process_group_backend,
    process_group_from_environment,
)
from biogrn.runs._records import (
    VARIABLES,
    ConnectionTrace,
    Recorder,
    config_of,
    package_versions,
    quantiles,
    read_records,
    write_records,
)
from biogrn.runs._run_config import (
    DataConfig,
    Mnist1dConfig,
    ModelConfig,
    RecordsConfig,
    RunConfig,
    TrainingConfig,
    load_run_config,
    parse_run_config,
)
from biogrn.runs._statistics import PairedComparison, adjust, detectable_difference, mean_interval, paired_comparison
from biogrn.runs._sweep import grid, in_processes, point_name, summarize, sweep, sweep_point, with_overrides
from biogrn.runs._trainer import Trainer, resume, run

__all__ = [
    "CHECKPOINT_FILE",
    "CHECKPOINT_VERSION",
    "CLASSIFICATION",
    "CONFIG_FILE",
    "LOCK_FILE",
    "RECORDS_FILE",
    "REGRESSION",
    "VARIABLES",
    "ConnectionTrace",
    "DataConfig",
    "EpochResult",
    "Mnist1dConfig",
    "ModelConfig",
    "Objective",
    "PairedComparison",
    "RankShard",
    "Recorder",
    "RecordsConfig",
    "RunConfig",
    "Trainer",
    "TrainingConfig",
    "adjust",
    "build_model",
    "claim_directory",
    "config_of",
    "detectable_difference",
    "evaluate",
    "fit",
    "forecast_errors",
    "free_name",
    "grid",
    "group_metrics",
    "in_processes",
    "launch_torchrun",
    "launched_by_torchrun",
    "load_checkpoint",
    "load_data",
    "load_initial_weights",
    "load_run_config",
    "locked",
    "make_optimizer",
    "mean_interval",
    "package_versions",
    "paired_comparison",
    "parameter_count",
    "parse_run_config",
    "point_name",
    "predict",
    "process_group_backend",
    "process_group_from_environment",
    "quantiles",
    "read_records",
    "resolve_device",
    "restore_rng",
    "resume",
    "rng_states",
    "run",
    "save_checkpoint",
    "seasonal_naive",
    "summarize",
    "sweep",
    "sweep_point",
    "train_epoch",
    "training_bytes",
    "with_overrides",
    "write_records",
]
