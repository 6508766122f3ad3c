"""Newton's polishing of steady states: closed forms, scipy's roots, fixed points and its refusals."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from biogrn.dynamics import (
    classify_steady_states,
    decay_rates_by_squaring,
    polish_steady_states,
    settle_at_rest,
    slowest_decay_rates,
)
from biogrn.grn import repressilator, toggle_switch

F64 = torch.float64


class Affine(torch.nn.Module):
    """f(y) = A (y - c) per member: Newton's first step lands on c."""

    def __init__(self, matrix: torch.Tensor, centre: torch.Tensor):
        super().__init__()
        self.matrix, self.centre = matrix, centre

    def forward(self, t, y):
        return (self.matrix @ (y - self.centre).unsqueeze(2)).squeeze(2)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_an_affine_field_is_solved_by_one_newton_step(members, variables, seed):
    generator = torch.Generator().manual_seed(seed)
    # diagonally dominant: well conditioned, so one step is exact to rounding
    matrix = torch.randn(members, variables, variables, dtype=F64, generator=generator)
    matrix += torch.eye(variables, dtype=F64) * (matrix.abs().sum(dim=2, keepdim=True) + 1)
    centre = torch.randn(members, variables, dtype=F64, generator=generator) * 10
    start = torch.randn(members, variables, dtype=F64, generator=generator) * 10
    polished, converged = polish_steady_states(Affine(matrix, centre), start, iterations=1, tolerance=1e-10)
    torch.testing.assert_close(polished, centre, rtol=1e-12, atol=1e-12)
    assert converged.all()


def test_the_repressilators_symmetric_state_is_found_unstable_as_it_is():
    hill = 2.0
    root = brentq(lambda p: 0.2164 + 216.404 / (1 + p**hill) - p, 0, 300)  # m = p at the symmetric state
    model = repressilator(members=4, hill=hill)
    start = root * (1 + 0.05 * torch.randn(4, 6, dtype=F64, generator=torch.Generator().manual_seed(0)))
    polished, converged = polish_steady_states(model, start)
    assert converged.all()
    torch.testing.assert_close(polished, torch.full_like(polished, root), rtol=1e-12, atol=0)
    assert not classify_steady_states(model, polished)["stable"].any()


def test_the_toggle_switchs_two_stable_states_are_fixed_points_of_the_polish():
    model = toggle_switch(members=2)
    near = torch.tensor([[150.0, 0.1], [0.1, 15.0]], dtype=F64)  # near the u-high and the v-high state
    polished, converged = polish_steady_states(model, near)
    assert converged.all() and classify_steady_states(model, polished)["stable"].all()
    again, still = polish_steady_states(model, polished)
    assert torch.equal(again, polished) and still.all()


def test_a_singular_jacobian_keeps_the_state_and_says_it_did_not_converge():
    field = lambda t, y: y.square() - 1.0  # J = 2y: singular at y = 0
    start = torch.tensor([[0.0], [0.9]], dtype=F64)
    polished, converged = polish_steady_states(field, start)
    assert polished[0, 0] == 0.0 and not converged[0]
    assert converged[1] and polished[1, 0] == pytest.approx(1.0, abs=1e-14)
    with pytest.raises(ValueError, match="iterations: must be >= 1, got 0"):
        polish_steady_states(field, start, iterations=0)


def _decay_rates(jacobians: torch.Tensor) -> torch.Tensor:
    return -torch.linalg.eigvals(jacobians).real.amax(dim=1)


def _random_jacobians(members: int, variables: int, seed: int) -> torch.Tensor:
    """Random matrices shifted to put about half of them on either side of stability, with their
    rightmost eigenvalue kept at least 1e-3 from the imaginary axis."""
    generator = torch.Generator().manual_seed(seed)
    matrices = torch.randn(members, variables, variables, dtype=F64, generator=generator)
    rightmost = torch.linalg.eigvals(matrices).real.amax(dim=1)
    shift = rightmost - torch.rand(members, dtype=F64, generator=generator) * 2 + 1
    shifted = matrices - shift[:, None, None] * torch.eye(variables, dtype=F64)
    return shifted[_decay_rates(shifted).abs() > 1e-3]


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_decay_rates_in_closed_form_are_the_eigenvalues_and_by_squaring_bound_them_with_their_sign(variables, seed):
    jacobians = _random_jacobians(64, variables, seed)
    exact = _decay_rates(jacobians)
    torch.testing.assert_close(slowest_decay_rates(jacobians), exact, rtol=1e-9, atol=1e-12)
    for dtype in (F64, torch.float32):
        bound = decay_rates_by_squaring(jacobians.to(dtype)).double()
        assert torch.equal(bound > 0, exact > 0)
        assert (bound[exact > 0] <= exact[exact > 0] * (1 + 1e-4)).all()  # a lower bound where stable


def test_squaring_leaves_a_matrix_on_the_imaginary_axis_to_the_eigenvalues():
    rotation = torch.tensor([[[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, -1.0]]], dtype=F64)  # eigenvalues +-i, -1
    assert decay_rates_by_squaring(rotation).item() == pytest.approx(0.0, abs=1e-12)
    assert decay_rates_by_squaring(rotation - 1e-3 * torch.eye(3, dtype=F64)).item() > 0


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(0, 2**31 - 1), st.sampled_from([torch.float32, F64]))
def test_an_affine_field_settles_at_its_centre_exactly_when_it_is_stable(variables, seed, dtype):
    jacobians = _random_jacobians(32, variables, seed)
    generator = torch.Generator().manual_seed(seed)
    centre = torch.randn(len(jacobians), variables, dtype=F64, generator=generator) * 10
    start = centre * (1 + 1e-3 * torch.randn(centre.shape, dtype=F64, generator=generator))
    field = Affine(jacobians.to(dtype), centre.to(dtype))
    settled, stable, rates = settle_at_rest(field, start.to(dtype), rtol=1e-5, atol=1e-6)
    exact = _decay_rates(jacobians)
    assert torch.equal(stable, exact > 0)
    torch.testing.assert_close(rates.double(), exact, rtol=1e-3 if dtype == torch.float32 else 1e-9, atol=1e-5)
    scale = 1e-5 * centre.abs() + 1e-6  # the chord of an affine field is Newton: exact in one step, to rounding
    well_conditioned = torch.linalg.cond(jacobians) < 1e3
    error = ((settled.double() - centre).abs() / scale).amax(dim=1)
    assert (error[well_conditioned] <= 1.0).all(), error.max()


def test_settle_refuses_no_iterations_and_a_singular_jacobian_does_not_settle():
    field = lambda t, y: y.square() - 1.0  # J = 2y: singular at y = 0
    states, stable, rates = settle_at_rest(field, torch.tensor([[0.0], [-0.999]], dtype=F64), rtol=1e-8, atol=1e-10)
    assert not stable[0] and states[0, 0] == 0.0
    assert stable[1] and states[1, 0] == pytest.approx(-1.0, abs=1e-12)  # f' = -2 at -1: stable
    assert rates[1] == pytest.approx(1.998)  # -f' at the start, -0.999
    with pytest.raises(ValueError, match="iterations: must be >= 1, got 0"):
        settle_at_rest(field, torch.zeros(1, 1, dtype=F64), 1e-6, 1e-8, iterations=0)


def test_a_jacobian_that_is_not_finite_is_not_stable_and_leaves_the_others_classified():
    jacobians = -torch.eye(3, dtype=F64).repeat(3, 1, 1)
    jacobians[1, 0, 2] = float("nan")
    jacobians[2, 1, 1] = float("inf")
    for rates in (slowest_decay_rates(jacobians), decay_rates_by_squaring(jacobians)):
        assert rates[0] == pytest.approx(1.0, rel=1e-3) and rates[1:].isnan().all()
    field = lambda t, y: -y * torch.tensor([[1.0], [float("nan")], [1.0]], dtype=F64)
    found = classify_steady_states(field, torch.zeros(3, 3, dtype=F64))
    assert found["stable"].tolist() == [True, False, True] and found["eigenvalues"][1].isnan().all()
