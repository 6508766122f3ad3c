import numpy as np
import pytest
import torch
import torchdiffeq
from hypothesis import given
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from biogrn.dynamics import (
    MAX_FIXED_STEPS,
    METHODS,
    Basal,
    DriveActivation,
    GeneField,
    GeneState,
    PoolRepression,
    SelfActivation,
    Transcription,
    check_stability,
    check_step_count,
    integrate,
)
from biogrn.testing import linear_cascade

F64 = torch.float64
rates = st.floats(0.02, 2.0)
amounts = st.floats(0.0, 5.0)
FIXED = [name for name, info in METHODS.items() if info.fixed and info.decay_bound >= 1.0]
ADAPTIVE = [name for name, info in METHODS.items() if not info.fixed]


def cascade_field(k_m, gamma_m, k_p, gamma_p, n=1):
    field = GeneField(Transcription([Basal(k_m)]), gamma_m, gamma_p, k_p)
    field.set_drive(torch.zeros(n, dtype=F64))
    return field


@given(amounts, rates, amounts, rates, amounts, amounts, st.floats(0.1, 5.0))
def test_linear_cascade_matches_closed_form_at_the_end(k_m, gamma_m, k_p, gamma_p, m0, p0, duration):
    field = cascade_field(k_m, gamma_m, k_p, gamma_p)
    y0 = torch.tensor([[m0], [p0]], dtype=F64)
    y1 = integrate(field, y0, duration, "dopri5", rtol=1e-10, atol=1e-12)
    m, p = linear_cascade(torch.tensor(duration, dtype=F64), m0, p0, k_m, gamma_m, k_p, gamma_p)
    assert float(y1[0, 0]) == pytest.approx(float(m), rel=1e-7, abs=1e-9)
    assert float(y1[1, 0]) == pytest.approx(float(p), rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("method", FIXED + ADAPTIVE)
def test_every_method_follows_the_full_trajectory(method):
    k_m, gamma_m, k_p, gamma_p, m0, p0 = 0.7, 0.4, 1.3, 0.25, 3.0, 0.5
    field = cascade_field(k_m, gamma_m, k_p, gamma_p)
    t = torch.linspace(0, 8, 33, dtype=F64)
    order = METHODS[method].order
    options = {"step_size": 0.01} if METHODS[method].fixed else {}
    rtol = 1e-9 if order > 2 else 1e-7
    ys = torchdiffeq.odeint(
        field, torch.tensor([[m0], [p0]], dtype=F64), t, method=method, rtol=rtol, atol=rtol / 100, options=options
    )
    m, p = linear_cascade(t, m0, p0, k_m, gamma_m, k_p, gamma_p)
    tol = {1: 5e-2, 2: 1e-4}.get(order, 1e-5)
    assert torch.allclose(ys[:, 0, 0], m, rtol=tol, atol=tol)
    assert torch.allclose(ys[:, 1, 0], p, rtol=tol, atol=tol)


def test_steady_state_is_the_closed_form_fixed_point():
    k_m, gamma_m, k_p, gamma_p = 0.3, 0.1, 0.05, 0.05
    field = cascade_field(k_m, gamma_m, k_p, gamma_p)
    y = integrate(field, torch.zeros(2, 1, dtype=F64), 500.0, "dopri5", rtol=1e-10, atol=1e-12)
    assert float(y[0, 0]) == pytest.approx(k_m / gamma_m, rel=1e-8)
    assert float(y[1, 0]) == pytest.approx(k_p * (k_m / gamma_m) / gamma_p, rel=1e-8)


@pytest.mark.parametrize("method", ["euler", "midpoint", "heun2", "heun3", "rk4"])
def test_fixed_step_methods_converge_at_their_order(method):
    k_m, gamma_m, k_p, gamma_p, m0, p0, duration = 1.0, 1.0, 2.0, 0.5, 0.2, 3.0, 2.0
    field = cascade_field(k_m, gamma_m, k_p, gamma_p)
    m_ref, p_ref = linear_cascade(torch.tensor(duration, dtype=F64), m0, p0, k_m, gamma_m, k_p, gamma_p)
    steps, errors = [], []
    for n in (8, 16, 32, 64):
        h = duration / n
        y = integrate(field, torch.tensor([[m0], [p0]], dtype=F64), duration, method, step_size=h)
        steps.append(h)
        errors.append(max(abs(float(y[0, 0] - m_ref)), abs(float(y[1, 0] - p_ref))))
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert slope == pytest.approx(METHODS[method].order, abs=0.25)


def _numpy_field(y, u, add_rate, drive, self_act, pool, gm, gp, kp, pool_index, pool_count):
    m, p = y[: len(u)], y[len(u) :]

    def act(x, k, n):
        x = np.maximum(x, 0.0)
        return x**n / (k**n + x**n)

    pooled = (np.bincount(pool_index, weights=p) / pool_count)[pool_index]
    f = add_rate + drive[0] * act(u, drive[1], drive[2]) + self_act[0] * act(p, self_act[1], self_act[2])
    f = f * (pool[0] ** pool[1] / (pool[0] ** pool[1] + pooled ** pool[1]))
    return np.concatenate([f - gm * m, kp * m - gp * p])


@given(st.integers(0, 2**31 - 1))
def test_nonlinear_field_agrees_with_scipy_solve_ivp(seed):
    rng = np.random.default_rng(seed)
    state = GeneState([6, 4], [3, 1], dtype=F64)
    n = state.n_genes
    gm, gp, kp = rng.uniform(0.05, 1.0, 3)
    drive, self_act, pool = (0.8, 1.0, 2.0), (0.6, 0.7, 3.0), (1.2, 2.0)
    tx = Transcription([Basal(0.05), DriveActivation(*drive), SelfActivation(*self_act), PoolRepression(*pool)])
    field = GeneField(tx, gm, gp, kp, state=state)
    u = rng.uniform(0, 3, n)
    field.set_drive(torch.tensor(u))
    y0 = rng.uniform(0, 2, (2, n))
    y1 = integrate(field, torch.tensor(y0), 4.0, "dopri5", rtol=1e-10, atol=1e-12)
    ref = solve_ivp(
        lambda t, y: _numpy_field(
            y, u, 0.05, drive, self_act, pool, gm, gp, kp, state.pool_index.numpy(), state.pool_count.numpy()
        ),
        (0, 4.0),
        y0.reshape(-1),
        rtol=1e-10,
        atol=1e-12,
        method="DOP853",
    )
    assert np.allclose(y1.numpy().reshape(-1), ref.y[:, -1], rtol=1e-6, atol=1e-8)


@given(st.integers(0, 2**31 - 1), st.sampled_from(FIXED), st.floats(0.05, 1.0))
def test_expression_stays_non_negative_inside_the_admissible_region(seed, method, fraction):
    gen = torch.Generator().manual_seed(seed)
    state = GeneState([12, 8], [4, 1], dtype=F64)
    gm, gp = 0.1 + torch.rand(2, generator=gen, dtype=F64).tolist()[0], 0.05
    tx = Transcription(
        [Basal(0.01), DriveActivation(0.1, 1.0, 2.0), SelfActivation(0.1, 0.5, 4.0), PoolRepression(0.5, 2.0)]
    )
    field = GeneField(tx, gm, gp, 0.05, state=state)
    h = fraction * METHODS[method].decay_bound / max(gm, gp)
    y = torch.rand(2, state.n_genes, generator=gen, dtype=F64) * 3
    for _ in range(20):
        field.set_drive(torch.rand(state.n_genes, generator=gen, dtype=F64) * 4)
        y = integrate(field, y, h, method)
        assert (y >= 0).all()


@given(amounts, rates, amounts, rates, st.sampled_from(FIXED), st.floats(0.05, 1.0))
def test_zero_drive_decays_monotonically(m0, gamma_m, k_p, gamma_p, method, fraction):
    # f = 0: m decays, and V = (k_p / gamma_m) m + p is a Lyapunov function (dV/dt = -gamma_p p).
    field = GeneField(Transcription([DriveActivation(1.0, 1.0, 2.0)]), gamma_m, gamma_p, k_p)
    field.set_drive(torch.zeros(1, dtype=F64))
    h = fraction * METHODS[method].decay_bound / max(gamma_m, gamma_p)
    y = torch.tensor([[m0], [1.0]], dtype=F64)
    lyapunov = (k_p / gamma_m) * y[0, 0] + y[1, 0]
    for _ in range(30):
        y_next = integrate(field, y, h, method)
        # at the bound itself (Euler, h*gamma = 1) the exact next m is 0: allow rounding around it
        assert y_next[0, 0] <= y[0, 0] + 1e-12 and (y_next >= -1e-12 * y.abs().max()).all()
        y = y_next
    exact = integrate(field, torch.tensor([[m0], [1.0]], dtype=F64), 30 * h, "dopri5", rtol=1e-10, atol=1e-12)
    assert (k_p / gamma_m) * exact[0, 0] + exact[1, 0] <= lyapunov + 1e-9


def _cascade_goes_wrong(method, z, a, b, setup, n=40):
    """Fixed steps of size z / max(a, b) on three cascades; True if one turns negative or grows."""
    k_m = 1.0 if setup == "forced" else 0.0
    y0 = {"decay": [1.0, 0.0], "forced": [0.0, 0.0], "both": [1.0, 1.0]}[setup]
    h = z / max(a, b)
    ys = torchdiffeq.odeint(
        lambda t, y: torch.stack([k_m - a * y[0], y[0] - b * y[1]]),
        torch.tensor(y0, dtype=F64),
        torch.arange(n + 1, dtype=F64) * h,
        method=method,
        options={"step_size": h},
    )
    return bool((ys < -1e-13).any()) or (setup == "decay" and bool((ys[1:, 0] > ys[:-1, 0] + 1e-13).any()))


RATES = [(1.0, 1.0), (1.0, 0.5), (1.0, 0.1), (0.5, 1.0), (0.1, 1.0), (1.0, 0.9), (0.9, 1.0)]
SETUPS = ["decay", "forced", "both"]


@pytest.mark.filterwarnings("ignore:Functional iteration did not converge")
@pytest.mark.parametrize("method", [m for m, info in METHODS.items() if info.fixed])
def test_decay_bounds_hold_in_torchdiffeq(method):
    z = METHODS[method].decay_bound * 0.99
    assert not any(_cascade_goes_wrong(method, z, a, b, s) for a, b in RATES for s in SETUPS)


@pytest.mark.parametrize("method", ["euler", "midpoint", "heun2", "heun3", "rk4"])
def test_runge_kutta_bounds_are_sharp(method):
    z = METHODS[method].decay_bound * 1.02
    assert any(_cascade_goes_wrong(method, z, a, b, s) for a, b in RATES for s in SETUPS)


def test_steps_outside_the_region_are_refused():
    field = cascade_field(1.0, 0.5, 1.0, 0.1)
    with pytest.raises(ValueError, match=r"admissible region of 'rk4'.*h\*gamma <= 1.596"):
        integrate(field, torch.zeros(2, 1, dtype=F64), 4.0, "rk4")
    with pytest.raises(ValueError, match="not supported"):
        check_stability("leapfrog", 0.1, 1.0)
    integrate(field, torch.zeros(2, 1, dtype=F64), 6.0, "rk4", step_size=3.0)
    integrate(field, torch.zeros(2, 1, dtype=F64), 60.0, "dopri5")


def test_a_step_size_that_asks_for_more_than_the_most_fixed_steps_is_refused():
    check_step_count(0.5 * MAX_FIXED_STEPS, 0.5)  # exactly the most: admitted
    with pytest.raises(ValueError, match=r"step_size: 0.4999.* takes 1e\+06 steps .* at least 0.5\)"):
        check_step_count(0.5 * MAX_FIXED_STEPS, 0.5 * (1 - 1e-12))
    field = cascade_field(1.0, 0.5, 1.0, 0.1)
    y0 = torch.zeros(2, 1, dtype=F64)
    for fused in (True, False):  # refused before either path builds its grid
        with pytest.raises(ValueError, match="step_size: 5e-324 takes inf steps"):
            integrate(field, y0, 1.0, "rk4", step_size=5e-324, fused=fused)
    integrate(field, y0, 1.0, "euler", step_size=1e-3)


def test_gene_state_views_and_pools():
    state = GeneState([6, 2], [3, 1])
    m, p = state.layer(0)
    p.fill_(1.0)
    assert state.p[:6].sum() == 6 and state.p[6:].sum() == 0
    assert state.pool_index.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    x = torch.tensor([1.0, 3.0, 5.0, 7.0, 0.0, 2.0, 4.0, 8.0])
    assert state.pooled_mean(x).tolist() == [2.0, 2.0, 6.0, 6.0, 1.0, 1.0, 6.0, 6.0]
    with pytest.raises(ValueError, match="equal pools"):
        GeneState([5], [2])


def test_field_needs_a_drive_and_a_state_for_pools():
    with pytest.raises(ValueError, match="GeneState"):
        GeneField(Transcription([PoolRepression(1.0, 2.0)]), 0.1, 0.1, 0.1)
    field = GeneField(Transcription([Basal(1.0)]), 0.1, 0.1, 0.1)
    with pytest.raises(RuntimeError, match="set_drive"):
        field(torch.tensor(0.0), torch.zeros(2, 1))


@pytest.mark.parametrize("method", ["heun3", "rk4"])  # bounds 1.5 and 1.596: (b / r) * r can round above b
def test_a_step_of_exactly_the_bound_over_the_rate_is_admitted_whichever_way_it_rounds(method):
    bound = METHODS[method].decay_bound
    rates = [r for r in (0.001 + k * 0.0137 for k in range(2000)) if (bound / r) * r > bound]
    assert rates  # the product rounds above the bound for some rates
    for rate in rates[:20]:
        check_stability(method, bound / rate, rate)
    with pytest.raises(ValueError, match="outside the admissible region"):
        check_stability(method, bound / rates[0] * (1 + 1e-9), rates[0])
