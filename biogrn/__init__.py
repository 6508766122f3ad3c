"""biogrn: gene-regulated, ODE-driven dynamic pruning and rewiring for PyTorch models."""

from biogrn.config import ConfigError, RegulatorConfig, make_config
from biogrn.expression import METHODS, GeneField, GeneState, check_stability, integrate
from biogrn.gating import GeneGate
from biogrn.importance import connection_drive, importance, normalize_per_layer
from biogrn.kinetics import (
    Basal,
    DriveActivation,
    PoolRepression,
    SelfActivation,
    Transcription,
    hill_activation,
    hill_repression,
    shifted_hill,
    translation,
)
from biogrn.regulator import Regulator, regulate, reset_optimizer_entries
from biogrn.records import ConnectionTrace, Recorder, read_records, write_records
from biogrn.rewiring import (
    ConstantSigma,
    ExponentialSigma,
    PaperSigma,
    deficit,
    gumbel_topk,
    mean_distance,
    rewiring_logits,
    rewiring_probabilities,
)
from biogrn.run_config import RunConfig, load_run_config, parse_run_config
from biogrn.runner import Run, resume, run
from biogrn.threshold import PaperThreshold, TargetThreshold, cubic_sparsity

__version__ = "0.1.0"

__all__ = [
    "Basal", "ConfigError", "ConnectionTrace", "Recorder", "Run", "RunConfig", "load_run_config",
    "parse_run_config", "read_records", "resume", "run", "write_records", "ConstantSigma", "DriveActivation", "ExponentialSigma", "GeneField", "GeneGate",
    "GeneState", "METHODS", "PaperSigma", "PaperThreshold", "PoolRepression", "Regulator", "RegulatorConfig",
    "SelfActivation", "TargetThreshold", "Transcription", "check_stability", "connection_drive",
    "cubic_sparsity", "deficit", "gumbel_topk", "hill_activation", "hill_repression", "importance",
    "integrate", "make_config", "mean_distance", "normalize_per_layer", "regulate", "reset_optimizer_entries",
    "rewiring_logits", "rewiring_probabilities", "shifted_hill", "translation",
]
