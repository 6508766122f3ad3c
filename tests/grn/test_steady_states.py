"""Newton's polishing of steady states: closed forms, scipy's roots, fixed points and its refusals."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from biogrn.grn import classify_steady_states, polish_steady_states, repressilator, toggle_switch

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
