r"""Gene regulatory networks in their own right: many parameter sets simulated at once.

Parameters are tensors with a leading *member* axis (one row per parameter set), states are
`(members, variables)`; every member is integrated at once, each with its own steps
(`dynamics.integrate_members`) or with one torchdiffeq call for all.

- `_network`: `Network`, genes and signed edges, from edge lists, matrices, graphs, CSV and
  Boolean `.bnet` models (`_boolean`, through pyboolnet).
- `_files`: RACIPE / GRiNS `.topo`, BEELINE's `refNetwork.csv`, `rankedEdges.csv` and inputs, read and written.
- `_forms`: the RACIPE shifted-Hill form and the two-stage mRNA/protein form of Eq. 1.
- `_simulation`: deterministic and chemical Langevin simulation, as an `xarray.Dataset`.
- `_sampling`: RACIPE's parameter sets (its ranges, its half-functional rule for thresholds) and initial conditions.
- `classify_steady_states`, `polish_steady_states`: from `dynamics`, re-exported for GRN users.
- `_census`: RACIPE's census of distinct stable states per parameter set.
- `_boolode`: BoolODE's form of a Boolean model (its rules' truth tables as Hill terms).
- `_beeline`: BEELINE's six synthetic networks and its curated HSC network.
- `_presets`: the toggle switch (Gardner 2000) and the repressilator (Elowitz 2000).
- `_evaluation`: BEELINE's AUPRC, AUROC and early precision ratio of a ranked edge list.
- `_inference`: network inference by gradient matching under gene-regulated pruning.
"""

from biogrn.dynamics import classify_steady_states, polish_steady_states
from biogrn.grn._beeline import BEELINE_MODELS, BeelineModel
from biogrn.grn._boolode import BOOLODE_DEFAULTS, BooleanRules, BoolODE
from biogrn.grn._census import cluster_states, log_uniform_states, repeat_members, steady_state_census
from biogrn.grn._evaluation import beeline_scores
from biogrn.grn._files import (
    CellData,
    read_anndata,
    read_boolean_rules,
    read_network,
    write_anndata,
    write_beeline_inputs,
    write_ranked_edges,
    write_ref_network,
    write_topo,
)
from biogrn.grn._forms import ShiftedHill, TwoStage
from biogrn.grn._inference import InferenceResult, edge_scores, infer_network, score_edges
from biogrn.grn._network import Network, RepeatedEdgeWarning
from biogrn.grn._presets import repressilator, toggle_switch
from biogrn.grn._sampling import racipe_initial_states, sample_parameters, threshold_medians
from biogrn.grn._simulation import simulate, simulate_langevin

__all__ = [
    "BEELINE_MODELS",
    "BOOLODE_DEFAULTS",
    "BeelineModel",
    "BoolODE",
    "BooleanRules",
    "CellData",
    "InferenceResult",
    "Network",
    "RepeatedEdgeWarning",
    "ShiftedHill",
    "TwoStage",
    "beeline_scores",
    "classify_steady_states",
    "cluster_states",
    "edge_scores",
    "infer_network",
    "log_uniform_states",
    "polish_steady_states",
    "racipe_initial_states",
    "read_anndata",
    "read_boolean_rules",
    "read_network",
    "repeat_members",
    "repressilator",
    "sample_parameters",
    "score_edges",
    "simulate",
    "simulate_langevin",
    "steady_state_census",
    "threshold_medians",
    "toggle_switch",
    "write_anndata",
    "write_beeline_inputs",
    "write_ranked_edges",
    "write_ref_network",
    "write_topo",
]
