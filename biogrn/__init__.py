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
    biogrn.genomics     marker genes of cells: gene-regulated input pruning on AnnData
    biogrn.data         data sets as users have them
    biogrn.runs         run configuration, training loop, records, checkpoints, sweeps
    biogrn.cli          the `biogrn` command

`import biogrn` loads nothing heavy: each name and namespace loads on first use (PEP 562), so the
`biogrn` command answers `--help` without importing torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from biogrn._version import __version__

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from biogrn.core import CheckpointError, ConfigError, DataError, DivergedError
    from biogrn.regulation import Regulator, RegulatorConfig, regulate
    from biogrn.runs import RunConfig, load_run_config, read_records, resume, run

_NAMESPACES = (
    "biology",
    "cli",
    "core",
    "data",
    "dynamics",
    "genomics",
    "grn",
    "models",
    "policies",
    "regulation",
    "runs",
    "testing",
)
_FROM = {
    **dict.fromkeys(("CheckpointError", "ConfigError", "DataError", "DivergedError"), "core"),
    **dict.fromkeys(("Regulator", "RegulatorConfig", "regulate"), "regulation"),
    **dict.fromkeys(("RunConfig", "load_run_config", "read_records", "resume", "run"), "runs"),
}

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
    # PEP 562: everything loads when first touched, so `import biogrn` (and the CLI's parser) stays light
    if name in _NAMESPACES:
        return importlib.import_module(f"biogrn.{name}")
    if name in _FROM:
        return getattr(importlib.import_module(f"biogrn.{_FROM[name]}"), name)
    raise AttributeError(f"module 'biogrn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
