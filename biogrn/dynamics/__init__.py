r"""The Eq. 1 engine: regulatory functions, the flat gene state, its vector field, the solvers.

$$\frac{dm_c}{dt} = f_c(m, p, u) - \gamma_m m_c, \qquad \frac{dp_c}{dt} = k_p m_c - \gamma_p p_c$$

- `_kinetics`: Hill activation and repression, RACIPE's shifted Hill, the transcription terms of $f$.
- `_state`: `GeneState`, one `(2, n_genes)` buffer with a slice per layer.
- `_field`: `GeneField`, the vector field with the drive $u$ held over an interval.
- `_solvers`: `integrate` through `torchdiffeq.odeint`, the methods and their admissible steps.
- `_propagator`: the fused step, exact for explicit Runge-Kutta methods on the affine field.
- `_members`: Dormand-Prince with a step size per member of a batch (the GRN engine's many members).
- `_steady_states`: steady states classified by their Jacobians' eigenvalues, polished by Newton.
"""

from biogrn.dynamics._field import GeneField
from biogrn.dynamics._kinetics import (
    Basal,
    DriveActivation,
    PoolRepression,
    SelfActivation,
    SignedDriveActivation,
    Transcription,
    hill_activation,
    hill_repression,
    shifted_hill,
    translation,
)
from biogrn.dynamics._members import check_finite_members, integrate_members
from biogrn.dynamics._propagator import POLYNOMIALS, affine_step_coefficients, fixed_grid, propagate
from biogrn.dynamics._solvers import (
    MAX_FIXED_STEPS,
    METHODS,
    MethodInfo,
    check_stability,
    check_step_count,
    integrate,
    method_info,
    uses_fused_step,
)
from biogrn.dynamics._state import GeneState
from biogrn.dynamics._steady_states import (
    classify_steady_states,
    decay_rates_by_squaring,
    polish_steady_states,
    settle_at_rest,
    slowest_decay_rates,
)

__all__ = [
    "MAX_FIXED_STEPS",
    "METHODS",
    "POLYNOMIALS",
    "Basal",
    "DriveActivation",
    "GeneField",
    "GeneState",
    "MethodInfo",
    "PoolRepression",
    "SelfActivation",
    "SignedDriveActivation",
    "Transcription",
    "affine_step_coefficients",
    "check_finite_members",
    "check_stability",
    "check_step_count",
    "classify_steady_states",
    "decay_rates_by_squaring",
    "fixed_grid",
    "hill_activation",
    "hill_repression",
    "integrate",
    "integrate_members",
    "method_info",
    "polish_steady_states",
    "propagate",
    "settle_at_rest",
    "shifted_hill",
    "slowest_decay_rates",
    "translation",
    "uses_fused_step",
]
