"""Dormand-Prince with a step per member: closed forms, scipy's RK45, torchdiffeq, and its refusals."""

import numpy as np
import pytest
import torch
import torchdiffeq
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from biogrn.core import DivergedError
from biogrn.dynamics import integrate_members
from biogrn.grn import Network, ShiftedHill, sample_parameters, toggle_switch

F64 = torch.float64


class LinearDecay(torch.nn.Module):
    """dy/dt = -k y per member, with `subset` so that finished members leave the batch; each call's
    batch size goes into `rows` (shared with its subsets)."""

    def __init__(self, rates: torch.Tensor, rows: list[int] | None = None):
        super().__init__()
        self.rates = rates
        self.rows = [] if rows is None else rows

    def forward(self, t, y):
        self.rows.append(y.shape[0])
        return -self.rates * y

    def subset(self, index):
        return LinearDecay(self.rates[index], self.rows)


def toggle_reference(network, params, i: int, y0: torch.Tensor, t_end: float, t_eval=None, rtol: float = 1e-12):
    """Member `i` of a RACIPE toggle switch through scipy's DOP853, its field written in numpy."""
    sources, targets = np.asarray(network.sources), np.asarray(network.targets)
    names = ("production", "degradation", "threshold", "hill", "fold")
    g, k, threshold, hill, fold = (params[n][i].numpy() for n in names)

    def rhs(t, y):
        r = (np.maximum(y[sources], 0) / threshold) ** hill
        product = np.ones(2)
        np.multiply.at(product, targets, fold + (1 - fold) / (1 + r))
        return g * product - k * y

    return solve_ivp(rhs, (0, t_end), y0[i].numpy(), method="DOP853", t_eval=t_eval, rtol=rtol, atol=1e-12).y.T


@settings(deadline=None, max_examples=25)
@given(
    st.lists(st.floats(0.01, 20.0), min_size=1, max_size=30),
    st.lists(st.floats(0.1, 5.0), min_size=1, max_size=4, unique=True),
    st.sampled_from([1e-4, 1e-6, 1e-8]),
)
def test_each_member_meets_its_tolerance_on_a_closed_form(rates, ends, rtol):
    k = torch.tensor(rates, dtype=F64).unsqueeze(1)
    y0 = torch.ones(len(rates), 2, dtype=F64) * torch.tensor([1.0, 3.0], dtype=F64)
    times = torch.tensor([0.0, *sorted(ends)], dtype=F64)
    solution = integrate_members(LinearDecay(k), y0, times, rtol=rtol, atol=1e-12)
    exact = y0 * torch.exp(-k * times.view(-1, 1, 1))
    assert torch.equal(solution[0], y0)
    # a local error test per step: the global error stays within a small multiple of the tolerance
    assert ((solution - exact).abs() <= 50 * (rtol * exact.abs() + 1e-12)).all()


class Cubic(torch.nn.Module):
    """dy/dt = c0 + c1 t + c2 t^2 + c3 t^3 per member and variable: y is a polynomial of degree 4,
    which the order-4 continuous extension between steps gives exactly."""

    def __init__(self, coefficients: torch.Tensor):
        super().__init__()
        self.coefficients = coefficients  # (4, members, variables)

    def forward(self, t, y):
        return sum(c * t**p for p, c in enumerate(self.coefficients))

    def exact(self, y0, times):
        t = times.view(-1, 1, 1)
        return y0 + sum(c * t ** (p + 1) / (p + 1) for p, c in enumerate(self.coefficients))


@settings(deadline=None, max_examples=25)
@given(
    st.integers(0, 2**31 - 1),
    st.lists(st.floats(0.01, 10.0), min_size=1, max_size=40, unique=True),
)
def test_outputs_between_steps_are_exact_for_a_polynomial_of_degree_4(seed, interior):
    generator = torch.Generator().manual_seed(seed)
    field = Cubic(torch.randn(4, 5, 3, dtype=F64, generator=generator))
    y0 = torch.randn(5, 3, dtype=F64, generator=generator)
    times = torch.tensor([0.0, *sorted(interior), 10.5], dtype=F64)
    calls = []
    solution = integrate_members(lambda t, y: calls.append(1) or field(t, y), y0, times, rtol=1e-8, atol=1e-10)
    exact = field.exact(y0, times)
    scale = exact.abs().amax() + 1.0
    assert ((solution - exact).abs() <= 1e-11 * scale).all()
    assert len(calls) <= 2 + 6 * 8  # at most 8 steps, however many of the 42 output times fall inside each


@settings(deadline=None, max_examples=20)
@given(
    st.lists(st.floats(0.05, 5.0), min_size=1, max_size=12),
    st.lists(st.floats(0.01, 9.99), min_size=0, max_size=60, unique=True),
)
def test_output_times_change_neither_the_steps_nor_the_last_state(rates, interior):
    k = torch.tensor(rates, dtype=F64).unsqueeze(1)
    y0 = torch.ones(len(rates), 2, dtype=F64)
    ends, dense = torch.tensor([0.0, 10.0], dtype=F64), torch.tensor([0.0, *sorted(interior), 10.0], dtype=F64)
    sparse_field, dense_field = LinearDecay(k), LinearDecay(k)
    sparse = integrate_members(sparse_field, y0, ends, rtol=1e-7, atol=1e-10)
    solution = integrate_members(dense_field, y0, dense, rtol=1e-7, atol=1e-10)
    assert sparse_field.rows == dense_field.rows
    assert torch.equal(solution[-1], sparse[-1])
    exact = y0 * torch.exp(-k * dense.view(-1, 1, 1))
    assert ((solution - exact).abs() <= 50 * (1e-7 * exact.abs() + 1e-10)).all()


def test_members_take_their_own_number_of_steps_and_finished_ones_leave_the_batch():
    k = torch.tensor([[0.1], [30.0]], dtype=F64)  # the fast decay needs many more steps
    y0, times = torch.ones(2, 1, dtype=F64), torch.tensor([0.0, 10.0], dtype=F64)
    field = LinearDecay(k)
    solution = integrate_members(field, y0, times, rtol=1e-8, atol=1e-14)
    torch.testing.assert_close(solution[-1], torch.exp(-10 * k), rtol=1e-6, atol=1e-13)
    assert field.rows[0] == 2 and field.rows[-1] == 1  # the k = 0.1 member finished first and left the batch
    alone = [integrate_members(LinearDecay(k[i : i + 1]), y0[:1], times, rtol=1e-8, atol=1e-14) for i in range(2)]
    torch.testing.assert_close(solution[-1], torch.cat([a[-1] for a in alone]), rtol=1e-12, atol=0)


def test_the_toggle_switch_agrees_with_scipy_rk45_member_by_member():
    network = toggle_switch(1).network
    params = sample_parameters(network, 64, "sobol", seed=3)
    y0 = torch.rand(64, 2, dtype=F64, generator=torch.Generator().manual_seed(1)) * 100
    times = torch.linspace(0, 50, 6, dtype=F64)
    solution = integrate_members(ShiftedHill(network, **params), y0, times, rtol=1e-9, atol=1e-11)
    for i in range(0, 64, 7):
        reference = toggle_reference(network, params, i, y0, 50.0, t_eval=times.numpy())
        np.testing.assert_allclose(solution[:, i].numpy(), reference, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "network", [toggle_switch(1).network, Network.random(6, 10, seed=1)], ids=["toggle", "random-6"]
)
def test_each_member_gets_the_solution_scipy_rk45_gives_it_alone_between_steps_too(network):
    """Same tableau, error norm, step controller, starting step and continuous extension as scipy's
    RK45: every member's 41 outputs are RK45's to rounding, however the batch around it steps."""
    params = sample_parameters(network, 48, "sobol", seed=3)
    y0 = torch.rand(48, network.n_genes, dtype=F64, generator=torch.Generator().manual_seed(1)) * 100
    times = torch.linspace(0, 30, 41, dtype=F64)
    model = ShiftedHill(network, **params)
    with torch.no_grad():
        solution = integrate_members(model, y0, times, rtol=1e-6, atol=1e-8)
        for i in range(48):
            one = model.subset(torch.tensor([i]))
            rk45 = solve_ivp(
                lambda t, y: one(t, torch.as_tensor(y)[None]).numpy()[0],
                (0, 30),
                y0[i].numpy(),
                t_eval=times.numpy(),
                rtol=1e-6,
                atol=1e-8,
            )
            np.testing.assert_allclose(solution[:, i].numpy(), rk45.y.T, rtol=1e-11, atol=1e-12)


def test_a_field_without_subset_gives_the_same_solution():
    network = toggle_switch(1).network
    params = sample_parameters(network, 32, "sobol", seed=0)
    y0 = torch.rand(32, 2, dtype=F64, generator=torch.Generator().manual_seed(0)) * 50
    times = torch.linspace(0, 20, 5, dtype=F64)
    form = ShiftedHill(network, **params)
    with_subset = integrate_members(form, y0, times)
    without = integrate_members(lambda t, y: form(t, y), y0, times)
    torch.testing.assert_close(with_subset, without, rtol=1e-12, atol=1e-12)


def test_refusals_name_what_is_wrong():
    field = LinearDecay(torch.ones(2, 1, dtype=F64))
    with pytest.raises(ValueError, match="y0"):
        integrate_members(field, torch.ones(2, dtype=F64), torch.tensor([0.0, 1.0], dtype=F64))
    with pytest.raises(ValueError, match="times"):
        integrate_members(field, torch.ones(2, 1, dtype=F64), torch.tensor([0.0, 1.0, 1.0], dtype=F64))
    with pytest.raises(ValueError, match="y0: member 1 has a state that is not finite"):
        integrate_members(field, torch.tensor([[1.0], [float("nan")]], dtype=F64), torch.tensor([0.0, 1.0], dtype=F64))
    with pytest.raises(ValueError, match="rtol, atol: both must be > 0, got 1e-06, 0"):
        integrate_members(field, torch.ones(2, 1, dtype=F64), torch.tensor([0.0, 1.0], dtype=F64), atol=0)
    with pytest.raises(ValueError, match="max_steps: must be >= 1"):
        integrate_members(field, torch.ones(2, 1, dtype=F64), torch.tensor([0.0, 1.0], dtype=F64), max_steps=0)
    with pytest.raises(RuntimeError, match="max_steps = 3"):
        integrate_members(field, torch.ones(2, 1, dtype=F64), torch.tensor([0.0, 1e6], dtype=F64), max_steps=3)
    blowing_up = LinearDecay(torch.tensor([[1.0], [-50.0]], dtype=F64))  # member 1: y' = 50 y overflows float64
    with pytest.raises(DivergedError, match="member 1"):
        integrate_members(blowing_up, torch.ones(2, 1, dtype=F64), torch.tensor([0.0, 100.0], dtype=F64))


def test_simulate_steps_per_member_for_dopri5_and_refuses_what_it_cannot():
    from biogrn.grn import simulate

    network = toggle_switch(1).network
    form = ShiftedHill(network, **sample_parameters(network, 16, "sobol", seed=0))
    y0 = torch.rand(16, 2, dtype=F64, generator=torch.Generator().manual_seed(0)) * 50
    times = torch.linspace(0, 10, 3, dtype=F64)
    result = simulate(form, y0, times)  # dopri5: a step per member unless told otherwise
    expected = integrate_members(form, y0, times).permute(0, 2, 1).numpy()
    np.testing.assert_array_equal(result["state"].values, expected)
    batch = simulate(form, y0, times, stepping="batch")["state"].values
    other_method = simulate(form, y0, times, method="rk4")["state"].values  # other methods: one torchdiffeq call
    np.testing.assert_array_equal(other_method, torchdiffeq.odeint(form, y0, times, method="rk4").permute(0, 2, 1))
    np.testing.assert_allclose(result["state"].values, batch, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="stepping: 'each'"):
        simulate(form, y0, times, stepping="each")
    with pytest.raises(ValueError, match="method: 'rk4' with stepping='member'"):
        simulate(form, y0, times, method="rk4", stepping="member")
    with pytest.raises(ValueError, match="stop_at_rest: needs stepping='member'"):
        simulate(form, y0, times, stepping="batch", stop_at_rest=True)
    at_rest = simulate(form, y0, times, stepping="member", stop_at_rest=True)["state"].values
    np.testing.assert_allclose(at_rest, result["state"].values, rtol=1e-3, atol=1e-4)


class Quadratic(torch.nn.Module):
    """dy/dt = r y^2: finite for ever at r = 0, infinite at t = 1 / (r y0) otherwise."""

    def __init__(self, rates: torch.Tensor):
        super().__init__()
        self.rates = rates

    def forward(self, t, y):
        return self.rates * y * y


@pytest.mark.parametrize("method, stepping", [("dopri5", "batch"), ("rk4", "batch"), ("dopri5", "member")])
def test_simulate_names_a_member_that_leaves_the_finite_numbers(method, stepping):
    from biogrn.grn import simulate

    model = Quadratic(torch.tensor([[0.0], [0.0], [1.0]], dtype=F64))  # member 2 blows up at t = 1
    times = torch.linspace(0, 3, 61, dtype=F64)
    with pytest.raises(DivergedError, match="member 2|underflowed"):
        simulate(model, torch.ones(3, 1, dtype=F64), times, method=method, stepping=stepping)


def test_a_member_at_rest_gives_its_steady_state_to_the_later_outputs_and_leaves_the_batch():
    k = torch.tensor([[0.25], [0.5], [1.0]], dtype=F64)  # RACIPE's degradation rates lie in 0.1 to 1
    y0, times = torch.ones(3, 1, dtype=F64), torch.linspace(0, 80, 9, dtype=F64)
    rtol, atol = 1e-6, 1e-6
    resting_field, moving_field = LinearDecay(k), LinearDecay(k)
    resting = integrate_members(resting_field, y0, times, rtol=rtol, atol=atol, stop_at_rest=True)
    moving = integrate_members(moving_field, y0, times, rtol=rtol, atol=atol)
    assert sum(resting_field.rows) < sum(moving_field.rows)
    # the chord method solves a linear field exactly: the steady state 0; a member rests once within
    # the tolerance of it, so the one that keeps moving is within the tolerance of 0 from then on
    assert (resting[-1] == 0).all() and (resting[-2] == 0).all()
    assert ((resting - moving).abs() <= atol + rtol * moving.abs()).all()
    assert not torch.equal(moving[-1], moving[-2])


@settings(max_examples=50, deadline=None)
@given(st.floats(1e-3, 1e3), st.floats(1e-3, 10.0), st.floats(0.0, 1e3))
def test_a_member_ends_when_its_distance_will_have_decayed_within_tolerance_by_its_next_output(distance, rate, horizon):
    """d e^(-rate horizon / 2) <= 1: the distance to the steady state in tolerances, decaying at
    half the slowest rate until the next output is written."""
    from biogrn.dynamics._members import _settles_by

    steady = torch.zeros(1, 3, dtype=F64)
    scale = torch.full((1, 3), 1e-6, dtype=F64)
    y = torch.full((1, 3), distance * 1e-6, dtype=F64)  # rms distance = `distance` tolerances
    ends = _settles_by(y, steady, scale, torch.tensor([[rate]], dtype=F64), torch.tensor([[horizon]], dtype=F64))
    assert bool(ends) == (distance * np.exp(-rate * horizon / 2) <= 1 + 1e-12)


def test_a_member_at_rest_before_an_output_it_cannot_reach_within_tolerance_goes_on_to_it():
    """dy/dt = -y / 100 from 1, rtol = atol = 1e-6: the field is within the tolerance near y = 1e-4,
    a hundred tolerances from the steady state 0. The output at t = 950 is the solution's there, not
    the steady state's; the one at t = 3000 is the steady state, exactly."""
    field = LinearDecay(torch.tensor([[0.01]], dtype=F64))
    times = torch.tensor([0.0, 950.0, 3000.0], dtype=F64)
    solution = integrate_members(field, torch.ones(1, 1, dtype=F64), times, rtol=1e-6, atol=1e-6, stop_at_rest=True)
    exact = torch.exp(-0.01 * times).view(-1, 1, 1)
    assert ((solution - exact).abs() <= 1e-6 * (1 + exact)).all() and solution[1].item() > 5e-5
    assert solution[-1].item() == 0.0


class Bistable(torch.nn.Module):
    """A symmetric toggle switch (RACIPE's form) written without `subset`: members ride along."""

    def __init__(self, members: int):
        super().__init__()
        network = Network.from_edges(["a", "b"], [("a", "b", -1), ("b", "a", -1)])
        ones = torch.ones(members, 2, dtype=F64)
        self.form = ShiftedHill(network, 10 * ones, ones, 2 * ones, 3 * ones, 0.01 * ones)

    def forward(self, t, y):
        return self.form(t, y)


def test_a_member_passing_slowly_by_a_saddle_is_not_stopped_there():
    """Started 1e-13 off the diagonal of a symmetric toggle switch, a member slides to the saddle and
    its field falls within the tolerance long before the unstable direction shows; Newton finds the
    saddle unstable, so the member goes on to the b-high state, where odeint takes it. Exactly on the
    diagonal it stays on the saddle to the end. The same with and without the field's `subset`."""
    y0 = torch.tensor([[5.0, 5.0 + 1e-13], [5.0, 5.0], [5.0, 0.1]], dtype=F64)
    times = torch.tensor([0.0, 100.0], dtype=F64)
    reference = torchdiffeq.odeint(Bistable(3), y0, times, rtol=1e-8, atol=1e-10)[-1]
    assert reference[0, 1] > 5 * reference[0, 0] and reference[2, 0] > 5 * reference[2, 1]
    for field in (Bistable(3), Bistable(3).form):
        final = integrate_members(field, y0, times, rtol=1e-8, atol=1e-10, stop_at_rest=True)[-1]
        torch.testing.assert_close(final, reference, rtol=1e-6, atol=1e-8)


def test_the_toggle_switch_at_rest_is_within_1e_4_of_dop853_at_t_200():
    network = toggle_switch(1).network
    params = sample_parameters(network, 48, "sobol", seed=5)
    y0 = torch.rand(48, 2, dtype=F64, generator=torch.Generator().manual_seed(2)) * 100
    times = torch.tensor([0.0, 200.0], dtype=F64)
    final = integrate_members(ShiftedHill(network, **params), y0, times, stop_at_rest=True)[-1]
    for i in range(48):
        reference = toggle_reference(network, params, i, y0, 200.0, rtol=1e-10)[-1]
        np.testing.assert_allclose(final[i].numpy(), reference, rtol=1e-4, atol=1e-6)


def test_float32_members_at_grins_tolerances_stay_near_dop853_at_every_output_time():
    """GRiNS's settings (float32, rtol 1e-5, atol 1e-6, t = 0..200): measured 2.6e-5 at worst, with
    stop_at_rest too (whose members end within the tolerance of their steady state; ending them once
    their field is within it, as GRiNS does, measured 1.7e-4: a slow decay is many tolerances away)."""
    network = toggle_switch(1).network
    params = sample_parameters(network, 64, "sobol", seed=7)
    y0 = torch.rand(64, 2, dtype=F64, generator=torch.Generator().manual_seed(3)) * 100
    times = torch.linspace(0, 200, 21, dtype=F64)
    model = ShiftedHill(network, **{name: value.float() for name, value in params.items()})
    references = [toggle_reference(network, params, i, y0, 200.0, t_eval=times.numpy(), rtol=1e-10) for i in range(64)]
    for stop_at_rest in (False, True):
        with torch.no_grad():
            solution = integrate_members(
                model, y0.float(), times.float(), rtol=1e-5, atol=1e-6, stop_at_rest=stop_at_rest
            )
        assert solution.dtype == torch.float32
        for i, reference in enumerate(references):
            error = np.abs(solution[:, i].double().numpy() - reference) / np.maximum(np.abs(reference), 1e-3)
            assert error.max() <= 1e-4, (i, stop_at_rest, error.max())


def test_a_float32_member_whose_steps_are_below_float32s_epsilon_at_t_0_is_not_called_underflowed():
    """A RACIPE member with a field of 2e7 needs steps of about 1e-6 at t = 0, below 10 epsilon of
    float32: the floor is scipy's, ten spacings of the floating-point numbers at t."""
    k = torch.tensor([[1e7], [1.0]])
    times = torch.tensor([0.0, 2e-6, 1e-5])
    solution = integrate_members(LinearDecay(k), torch.ones(2, 1), times, rtol=1e-5, atol=1e-6)
    exact = torch.exp(-k.squeeze(1) * times.unsqueeze(1)).unsqueeze(2)
    assert ((solution - exact).abs() <= 1e-5 + 1e-5 * exact).all()
