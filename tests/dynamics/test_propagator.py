"""The fused affine step equals torchdiffeq's odeint with the same method and grid."""

import pytest
import torch
import torchdiffeq
from hypothesis import given, settings
from hypothesis import strategies as st

from biogrn.dynamics import (
    METHODS,
    POLYNOMIALS,
    Basal,
    DriveActivation,
    GeneField,
    PoolRepression,
    SelfActivation,
    Transcription,
    affine_step_coefficients,
    fixed_grid,
    integrate,
    uses_fused_step,
)

RUNGE_KUTTA = sorted(POLYNOMIALS)


def drive_field(gamma_m, gamma_p, k_p, u, basal=0.0):
    terms = [DriveActivation(0.7, 1.0, 2.0)] + ([Basal(basal)] if basal else [])
    field = GeneField(Transcription(terms), gamma_m, gamma_p, k_p)
    field.set_drive(u)
    return field


@settings(max_examples=30)
@given(
    method=st.sampled_from(RUNGE_KUTTA),
    gamma_m=st.floats(0.005, 0.05),
    gamma_p=st.floats(0.005, 0.05),
    k_p=st.floats(0.0, 0.1),
    basal=st.floats(0.0, 0.2),
    steps=st.integers(1, 4),
    ragged=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_fused_step_equals_odeint_for_every_runge_kutta_method(
    method, gamma_m, gamma_p, k_p, basal, steps, ragged, seed
):
    generator = torch.Generator().manual_seed(seed)
    bound = METHODS[method].decay_bound / max(gamma_m, gamma_p)
    step = 0.9 * bound
    duration = steps * step - (0.37 * step if ragged else 0.0)  # a ragged last step, as torchdiffeq cuts it
    step_size = None if steps == 1 and not ragged else step
    u = 3 * torch.rand(257, generator=generator, dtype=torch.float64)
    y0 = 2 * torch.rand(2, 257, generator=generator, dtype=torch.float64)
    field = drive_field(gamma_m, gamma_p, k_p, u, basal)
    reference = integrate(field, y0, duration, method, step_size, drive=u, fused=False)
    scale = reference.abs().clamp_min(1.0)
    fused = integrate(field, y0, duration, method, step_size, drive=u)
    assert ((fused - reference).abs() / scale).max() <= 1e-12  # the same method, exactly
    # float32: within 1e-6 of the same method's float64 result, and no further from it than
    # torchdiffeq's own float32 solve (whose stage roundings reach 1.3e-6 near the stability bound)
    # give or take four float32 roundings: either solve may round luckier on a given draw
    field32 = drive_field(gamma_m, gamma_p, k_p, u.float(), basal)
    fused32 = integrate(field32, y0.float(), duration, method, step_size, drive=u.float())
    odeint32 = integrate(field32, y0.float(), duration, method, step_size, drive=u.float(), fused=False)
    error = ((fused32.double() - reference).abs() / scale).max()
    assert error <= 1e-6
    assert error <= ((odeint32.double() - reference).abs() / scale).max() + 4 * torch.finfo(torch.float32).eps


@pytest.mark.parametrize("step_size", [None, 1.0, 3.0, 0.7, 7.0])
@pytest.mark.parametrize("duration", [1.0, 6.0, 50.0, 0.3])
def test_fixed_grid_is_torchdiffeqs(step_size, duration):
    from torchdiffeq._impl.solvers import FixedGridODESolver

    t = torch.tensor([0.0, duration], dtype=torch.float32)
    if step_size is None:
        expected = t
    else:
        expected = FixedGridODESolver._grid_constructor_from_step_size(step_size)(None, None, t)
    steps = fixed_grid(duration, step_size, torch.float32)
    assert steps == pytest.approx((expected[1:] - expected[:-1]).tolist(), abs=0)


@given(st.floats(0.0, 2.0), st.floats(0.01, 1.0), st.floats(0.01, 1.0), st.floats(0.0, 1.0))
def test_euler_coefficients_are_identity_plus_ha(h, gamma_m, gamma_p, k_p):
    (p, q) = affine_step_coefficients("euler", [h], gamma_m, gamma_p, k_p)
    assert p[0] == pytest.approx([1 - h * gamma_m, 0.0])
    assert p[1] == pytest.approx([h * k_p, 1 - h * gamma_p])
    assert q == pytest.approx([h, 0.0])


def test_two_steps_compose_as_one_map():
    one = affine_step_coefficients("rk4", [2.0, 3.0], 0.1, 0.05, 0.2)
    first = affine_step_coefficients("rk4", [2.0], 0.1, 0.05, 0.2)
    second = affine_step_coefficients("rk4", [3.0], 0.1, 0.05, 0.2)
    y = torch.tensor([0.4, 1.3], dtype=torch.float64)
    f = 0.8

    def apply(c, y):
        p, q = torch.tensor(c[0], dtype=torch.float64), torch.tensor(c[1], dtype=torch.float64)
        return p @ y + q * f

    assert torch.allclose(apply(one, y), apply(second, apply(first, y)), rtol=1e-14)


def test_the_fused_step_is_taken_only_where_it_is_exact():
    affine = GeneField(Transcription([DriveActivation(0.02, 1.0, 2.0)]), 0.02, 0.01, 0.01)
    feedback = GeneField(Transcription([SelfActivation(0.02, 0.5, 4.0)]), 0.02, 0.01, 0.01)
    assert all(uses_fused_step(affine, m) for m in RUNGE_KUTTA)
    assert not any(uses_fused_step(affine, m) for m in ("dopri5", "bosh3", "explicit_adams", "implicit_adams"))
    assert not uses_fused_step(feedback, "rk4")
    assert PoolRepression(1.0, 2.0).uses_state


def test_out_is_advanced_in_place_and_its_views_follow():
    u = torch.rand(10, dtype=torch.float64)
    field = drive_field(0.02, 0.01, 0.01, u)
    y = torch.ones(2, 10, dtype=torch.float64)
    protein = y[1]  # the gates hold views like this one
    expected = integrate(field, y.clone(), 50.0, "rk4", drive=u, fused=False)
    result = integrate(field, y, 50.0, "rk4", drive=u, out=y)
    assert result is y and torch.allclose(protein, expected[1], rtol=1e-12)


def test_without_out_the_input_is_left_alone():
    u = torch.rand(10, dtype=torch.float64)
    y = torch.ones(2, 10, dtype=torch.float64)
    integrate(drive_field(0.02, 0.01, 0.01, u), y, 50.0, "rk4", drive=u)
    assert torch.equal(y, torch.ones(2, 10, dtype=torch.float64))


def test_reference_odeint_is_what_fused_false_calls():
    u = torch.rand(5, dtype=torch.float64)
    field = drive_field(0.02, 0.01, 0.01, u)
    y0 = torch.ones(2, 5, dtype=torch.float64)
    t = torch.tensor([0.0, 50.0], dtype=torch.float64)
    direct = torchdiffeq.odeint(field, y0, t, method="rk4")[-1]
    assert torch.equal(integrate(field, y0, 50.0, "rk4", drive=u, fused=False), direct)


def test_the_compiled_fused_step_computes_the_forcing_in_the_kernel_and_equals_odeint():
    generator = torch.Generator().manual_seed(0)
    u = 3 * torch.rand(1000, generator=generator)
    y0 = 2 * torch.rand(2, 1000, generator=generator)
    field = drive_field(0.02, 0.01, 0.01, u, basal=0.05)
    reference = integrate(field, y0.double(), 50.0, "rk4", drive=u.double(), fused=False)
    for size in (1000, 700):  # dynamic shapes: a second size reuses the kernel
        compiled = integrate(field, y0[:, :size], 50.0, "rk4", drive=u[:size], compile=True)
        assert ((compiled.double() - reference[:, :size]).abs() / reference[:, :size].abs().clamp_min(1)).max() < 1e-6


def test_overwriting_the_drive_gives_the_same_state_and_spends_the_drive():
    generator = torch.Generator().manual_seed(3)
    u = 3 * torch.rand(300, generator=generator)
    y0 = 2 * torch.rand(2, 300, generator=generator)
    field = drive_field(0.02, 0.01, 0.01, u)
    kept = integrate(field, y0, 50.0, "rk4", drive=u)
    spent = u.clone()
    overwritten = integrate(field, y0, 50.0, "rk4", drive=spent, overwrite_drive=True)
    assert torch.equal(overwritten, kept)
    assert not torch.equal(spent, u)  # the forcing went over the drive's buffer
    with pytest.raises(RuntimeError, match="set_drive"):
        field.forcing()
    assert torch.equal(integrate(field, y0, 50.0, "rk4", drive=u), kept)  # a new drive: as before


@settings(max_examples=20)
@given(method=st.sampled_from(RUNGE_KUTTA), steps=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_fused_step_equals_odeint_for_the_signed_drive(method, steps, seed):
    """The sigmoid transcription of signed drives (movement), negative drives included."""
    from biogrn.dynamics import SignedDriveActivation

    generator = torch.Generator().manual_seed(seed)
    u = 4 * torch.randn(129, generator=generator, dtype=torch.float64)
    field = GeneField(Transcription([SignedDriveActivation(0.3, 0.8), Basal(0.01)]), 0.02, 0.03, 0.05)
    field.set_drive(u)
    y0 = torch.rand(2, 129, generator=generator, dtype=torch.float64)
    step = 0.9 * METHODS[method].decay_bound / 0.03
    reference = integrate(field, y0, steps * step, method, step, drive=u, fused=False)
    fused = integrate(field, y0, steps * step, method, step, drive=u)
    assert ((fused - reference).abs() / reference.abs().clamp_min(1.0)).max() <= 1e-12
    assert (fused >= 0).all()
