r"""The regulation of a model: which tensors, their gates, the drive, the regulator, compaction.

- `_tensors`: which tensors of a model are regulated and how their genes are laid out.
- `_gate`: `GeneGate`, the mask (and Hill gate) as a parametrization, recording $\sum g^2$.
- `_drive`: the drive $u$ of Eq. 1 from the recorded gradients or Hebbian co-activity.
- `_gradients`, `_moments`: what the drive reads, $\sum g^2$ recorded per step or read per interval
  from the optimizer's second moment.
- `_attachment`, `_clock`, `_edits`: the gates on a model, the clock, what a decision does to
  weights and optimizer state.
- `_norms`: `following_norms`, the batch norm that reads each unit, gated with the unit's gene.
- `_regulator`: `Regulator` and `regulate`, orchestrating Eq. 1, the policy and the edits.
- `_regulator_config`: `RegulatorConfig`, every setting, validated.
- `_compact`: pruned models made smaller for inference.
- `_distributed`: `RankSync`, what ranks record made common once per interval under torch.distributed.
"""

from biogrn.regulation._compact import SparseLinear, compact_structured, compact_unstructured, count_parameters
from biogrn.regulation._distributed import RankSync, refuse_sharded
from biogrn.regulation._drive import DRIVE_KINDS, DRIVES, DriveKind, GeneDrive, connection_drive, reduce_to_units
from biogrn.regulation._edits import WeightEditor, reset_optimizer_entries
from biogrn.regulation._factory import make_policy, transcription_from_config
from biogrn.regulation._gate import GeneGate, gated_modules
from biogrn.regulation._hebbian import HebbianRecorder
from biogrn.regulation._moments import OptimizerMoments, second_moment_of
from biogrn.regulation._norms import following_norms
from biogrn.regulation._regulator import Regulator, UnreachableSettingWarning, regulate
from biogrn.regulation._regulator_config import RegulatorConfig, make_config
from biogrn.regulation._tensors import DEFAULT_TYPES, RegulatedTensor, select_tensors

__all__ = [
    "DEFAULT_TYPES",
    "DRIVES",
    "DRIVE_KINDS",
    "DriveKind",
    "GeneDrive",
    "GeneGate",
    "HebbianRecorder",
    "OptimizerMoments",
    "RankSync",
    "RegulatedTensor",
    "Regulator",
    "RegulatorConfig",
    "SparseLinear",
    "UnreachableSettingWarning",
    "WeightEditor",
    "compact_structured",
    "compact_unstructured",
    "connection_drive",
    "count_parameters",
    "following_norms",
    "gated_modules",
    "make_config",
    "make_policy",
    "reduce_to_units",
    "refuse_sharded",
    "regulate",
    "reset_optimizer_entries",
    "second_moment_of",
    "select_tensors",
    "transcription_from_config",
]
