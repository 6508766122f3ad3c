"""biogrn: gene-regulated, ODE-driven dynamic pruning and rewiring for PyTorch models.

The public API, flat: `biogrn.regulate(model, ...)` attaches a `Regulator`; `biogrn.run` and
`biogrn.resume` train a whole run from a `RunConfig`. The layers, bottom to top, are namespaces
of their own (docs/architecture.md draws them):

    biogrn.core         errors, atomic files, random streams, tables, segment reductions
    biogrn.dynamics     Eq. 1: kinetics, the gene state, its vector field, the solvers
    biogrn.policies     Eq. 2 and Eq. 3: scores, thresholds, rewiring, the policies
    biogrn.regulation   the regulation of a model: tensors, gates, drive, Regulator, compaction
    biogrn.biology      connectome masks, Dale's law, synaptic noise, Hebbian plasticity
    biogrn.models       reference architectures
    biogrn.grn          gene regulatory networks: forms, simulation, steady states, inference
    biogrn.data         data sets as users have them
    biogrn.runs         run configuration, training loop, records, checkpoints, sweeps
    biogrn.cli          the `biogrn` command

`import biogrn` loads the regulation stack (torch, torchdiffeq, pydantic); the run machinery
(xarray, pandas, tqdm) and the other namespaces load on first use.
"""

from __future__ import annotations

import importlib

from biogrn._version import __version__
from biogrn.core import CheckpointError, ConfigError, DataError, DivergedError
from biogrn.regulation import Regulator, RegulatorConfig, regulate

_NAMESPACES = (
    "biology",
    "cli",
    "core",
    "data",
    "dynamics",
    "grn",
    "models",
    "policies",
    "regulation",
    "runs",
    "testing",
)
_FROM_RUNS = ("RunConfig", "load_run_config", "read_records", "resume", "run")

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "DivergedError",
    "Regulator",
    "RegulatorConfig",
    "RunConfig",
    "__version__",
    "biology",
    "core",
    "data",
    "dynamics",
    "grn",
    "load_run_config",
    "models",
    "policies",
    "read_records",
    "regulate",
    "regulation",
    "resume",
    "run",
    "runs",
]


def __getattr__(name: str):
    # PEP 562: the heavy layers load when first touched, so `import biogrn` stays light
    if name in _NAMESPACES:
        return importlib.import_module(f"biogrn.{name}")
    if name in _FROM_RUNS:
        return getattr(importlib.import_module("biogrn.runs"), name)
    raise AttributeError(f"module 'biogrn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
