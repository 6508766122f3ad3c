"""RACIPE's form, sampler and initial conditions: against RACIPE-1.0's definitions and GRiNS's own
results (recorded in `fixtures/grins_*.npz` by simulations/benchmarks/grins_reference.py, which
says how to regenerate them; GRiNS itself stays out of CI)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from biogrn.dynamics import polish_steady_states
from biogrn.grn import (
    Network,
    ShiftedHill,
    racipe_initial_states,
    repeat_members,
    sample_parameters,
    simulate,
    steady_state_census,
    threshold_medians,
)
from biogrn.grn._sampling import amplification

F64 = torch.float64
FIXTURES = Path(__file__).parent / "fixtures"
PARAMETERS = ("production", "degradation", "threshold", "hill", "fold")


def grins(name: str):
    """GRiNS's network, its recorded arrays, and a reader of them."""
    data = np.load(FIXTURES / f"grins_{name}.npz")
    read = lambda key: data[f"{name}/{key}"]
    genes = [str(g) for g in read("genes")]
    edges = [(genes[a], genes[b], int(s)) for a, b, s in zip(read("sources"), read("targets"), read("signs"))]
    return Network.from_edges(genes, edges), read


def grins_sets(read, prefix: str = "sets") -> dict[str, torch.Tensor]:
    return {name: torch.as_tensor(read(f"{prefix}_{name}")) for name in PARAMETERS}


@pytest.mark.parametrize("name", ["TS", "EMT22N"])
def test_the_field_is_grins_own_ode_term_on_grins_sets(name):
    """RACIPE's form, activation divided by its fold: GRiNS's generated `odesys` at every (set, start)."""
    network, read = grins(name)
    sets, starts = grins_sets(read), torch.as_tensor(read("starts"))
    count, initial = len(sets["production"]), len(starts)
    model = ShiftedHill(network, **repeat_members(sets, initial))
    field = model(0.0, starts.repeat(count, 1)).view(count, initial, -1).numpy()
    np.testing.assert_allclose(field, read("field"), rtol=1e-12, atol=1e-12 * np.abs(read("field")).max())


@pytest.mark.parametrize("name", ["TS", "EMT22N"])
def test_steady_states_equal_grins_to_1e4_relative(name):
    """From the same starts and GRiNS's sets, every steady state GRiNS's term reaches (diffrax,
    float64, rtol 1e-10) is biogrn's to 1e-4 relative in every gene, amplified genes included. A
    level below 1e-10 of its gene's g/k is compared absolutely at that floor: EMT22N amplifies ZEB1
    to g/k near 10^7, where float64 resolves no finer (its resting levels near 1e-12 differ by 1%
    between two rtols of biogrn's own)."""
    network, read = grins(name)
    sets, starts = grins_sets(read), torch.as_tensor(read("starts"))
    count, initial = len(sets["production"]), len(starts)
    model = ShiftedHill(network, **repeat_members(sets, initial))
    times = torch.tensor([0.0, 2000.0], dtype=F64)
    end = torch.as_tensor(simulate(model, starts.repeat(count, 1), times, rtol=1e-10, atol=1e-14)["state"].values[-1].T)
    steady, converged = polish_steady_states(model, end)
    settled = read("settled")
    assert settled.mean() > 0.9 and bool(converged.all())
    ours, theirs = steady.view(count, initial, -1).numpy()[settled], read("steady")[settled]
    highest = (sets["production"] / sets["degradation"]).numpy()[:, None, :].repeat(initial, axis=1)[settled]
    assert (np.abs(ours - theirs) <= 1e-4 * np.abs(theirs) + 1e-10 * highest).all()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), genes=st.integers(2, 6))
def test_no_level_passes_g_over_k(seed, genes):
    """Every factor lies in (0, 1]: production never exceeds g, so a state started at or below g/k
    stays there (RACIPE's bound; the earlier form multiplied it by every activating fold)."""
    network = Network.random(genes, min(genes * (genes - 1), 2 * genes), seed)
    params = sample_parameters(network, 16, "random", seed)
    model = ShiftedHill(network, **params)
    highest = params["production"] / params["degradation"]
    made, _ = model.rates(torch.rand(16, genes, dtype=F64, generator=torch.Generator().manual_seed(seed)) * 1e4)
    assert bool((made <= params["production"] * (1 + 1e-12)).all())
    y0 = racipe_initial_states(model, torch.Generator().manual_seed(seed))
    path = simulate(model, y0, torch.linspace(0, 50, 11, dtype=F64), rtol=1e-8, atol=1e-10)["state"].values
    assert (path <= highest.numpy().T[None] * (1 + 1e-6)).all()


def test_sampler_draws_racipe_distributions():
    """Uniform ranges, integer Hill coefficients 1..6 each with probability 1/6 (RACIPE's `randd`;
    GRiNS 0.1.2 draws 2..6 and its repository's HEAD rounds, giving 1 and 6 half the weight),
    a repression's fold the inverse of a uniform 1..100; thresholds in 0.02..1.98 x the source's median."""
    network = Network.from_edges(("a", "b", "c"), [("a", "b", 1), ("b", "c", -1), ("c", "a", -1), ("b", "a", 1)])
    draws = sample_parameters(network, 6000, "random", seed=1)
    test = lambda sample, low, high: stats.kstest(sample.numpy().ravel(), stats.uniform(low, high - low).cdf).pvalue
    assert test(draws["production"], 1, 100) > 1e-3 and test(draws["degradation"], 0.1, 1) > 1e-3
    counts = np.bincount(draws["hill"].numpy().astype(int).ravel(), minlength=7)[1:]
    assert stats.chisquare(counts).pvalue > 1e-3 and counts.sum() == draws["hill"].numel()
    activating = torch.as_tensor(network.signs) > 0
    assert test(draws["fold"][:, activating], 1, 100) > 1e-3
    assert test(1 / draws["fold"][:, ~activating], 1, 100) > 1e-3
    middle = torch.as_tensor(threshold_medians(network, seed=1))[torch.as_tensor(network.sources)]
    ratio = draws["threshold"] / middle
    assert test(ratio, 0.02, 1.98) > 1e-3
    again = sample_parameters(network, 6000, "random", seed=1)
    assert all(torch.equal(draws[k], again[k]) for k in PARAMETERS)


def test_half_functional_rule_against_its_definition():
    """The median level of a gene under random regulation (RACIPE's `estimate_threshold`), written
    out here one edge kind at a time with numpy: within the Monte Carlo error of 10^4 draws."""
    rng = np.random.default_rng(7)
    n = 200_000
    level = lambda: rng.uniform(1, 100, n) / rng.uniform(0.1, 1, n)
    typical = np.median(level())

    def factor(activating):
        x, threshold = level(), rng.uniform(0.02 * typical, 1.98 * typical, n)
        hill, fold = rng.integers(1, 7, n), rng.uniform(1, 100, n)
        fold = fold if activating else 1 / fold
        shifted = fold + (1 - fold) / (1 + (x / threshold) ** hill)
        return shifted / fold if activating else shifted

    network = Network.from_edges(
        ("free", "one_up", "one_down", "two_down", "x"),
        [("x", "one_up", 1), ("x", "one_down", -1), ("x", "two_down", -1), ("free", "two_down", -1)],
    )
    expected = [
        np.median(level()),
        np.median(level() * factor(True)),
        np.median(level() * factor(False)),
        np.median(level() * factor(False) * factor(False)),
    ]
    medians = np.stack([threshold_medians(network, seed=seed)[:4] for seed in range(4)]).mean(axis=0)
    np.testing.assert_allclose(medians, expected, rtol=0.03)


def test_amplification_lifts_the_lowest_threshold_to_0_01():
    """RACIPE multiplies a gene's production and its outgoing thresholds by a power of ten when
    0.02 x its median is below 0.01 (the least power from 10 on)."""
    medians = np.array([90.0, 0.4, 0.5, 0.04, 5e-5])
    np.testing.assert_array_equal(amplification(medians), [1.0, 10.0, 1.0, 100.0, 1e4])
    inputs = [(f"r{i}", "hub", -1) for i in range(6)] + [("hub", "out", 1)]
    network = Network.from_edges([*(f"r{i}" for i in range(6)), "hub", "out"], inputs)
    median = threshold_medians(network)[network.genes.index("hub")]
    scale = amplification(np.array([median]))[0]
    assert median * 0.02 < 0.01 and scale >= 10
    params = sample_parameters(network, 512, "random", seed=0)
    hub = network.genes.index("hub")
    assert (
        float(params["production"][:, hub].min()) >= scale and float(params["production"][:, hub].max()) <= 100 * scale
    )
    assert float(params["threshold"][:, -1].min()) >= 0.01


def test_initial_states_are_log_uniform_between_the_lowest_and_highest_level():
    network = Network.from_edges(("a", "b"), [("a", "b", 1), ("b", "a", -1)])
    params = sample_parameters(network, 1, "random", seed=3)
    model = ShiftedHill(network, **repeat_members(params, 4000))
    y0 = racipe_initial_states(model, torch.Generator().manual_seed(0))
    g, k, fold = params["production"][0], params["degradation"][0], params["fold"][0]
    low = g / k * torch.stack([fold[1], 1 / fold[0]])  # a is repressed by b; b activated by a
    position = (torch.log(y0) - torch.log(low)) / (torch.log(g / k) - torch.log(low))
    assert stats.kstest(position.numpy().ravel(), "uniform").pvalue > 1e-3
    with pytest.raises(ValueError, match="fold 0"):
        racipe_initial_states(ShiftedHill(network, **dict(params, fold=torch.zeros(1, 2, dtype=F64))))


def test_census_of_grins_sets_is_grins_census():
    """The toggle switch: biogrn's census of the sets GRiNS's pipeline counted (its sampler, its 100
    starts per set, `topo_simulate`, its discretised states) finds GRiNS's number of states in
    nearly every set, and the shares of mono- and bistable sets within sampling error."""
    network, read = grins("TS")
    sets, starts = grins_sets(read, "census_sets"), torch.as_tensor(read("census_starts"))
    count, initial = len(sets["production"]), len(starts)
    model = ShiftedHill(network, **repeat_members(sets, initial))
    census = steady_state_census(model, starts.repeat(count, 1), initial, t_end=200.0, rtol=1e-6, atol=1e-8)
    ours, theirs = census["n_states"].values, read("census_states")
    assert (ours == theirs).mean() > 0.98
    for states in (1, 2):
        share = (theirs == states).mean()
        error = np.sqrt(2 * share * (1 - share) / count)
        assert abs((ours == states).mean() - share) < 3 * error
