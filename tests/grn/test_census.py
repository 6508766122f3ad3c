"""RACIPE's steady-state census on the toggle switch, against the stable roots scipy finds."""

import numpy as np
import pytest
import torch
from scipy.optimize import fsolve

from biogrn.grn import (
    Network,
    ShiftedHill,
    classify_steady_states,
    log_uniform_states,
    repeat_members,
    sample_parameters,
    steady_state_census,
    toggle_switch,
)

IPTG = [0.0, 1e-6, 5e-6, 1e-5, 2e-5, 3e-5, 4e-5, 1e-4, 1e-3]
INITIAL = 16


def toggle_census():
    iptg = torch.tensor(IPTG, dtype=torch.float64)
    model = toggle_switch(len(IPTG) * INITIAL, iptg=iptg.repeat_interleave(INITIAL))
    y0 = log_uniform_states(len(IPTG) * INITIAL, 2, 1e-2, 200.0, torch.Generator().manual_seed(0))
    return model, steady_state_census(model, y0, INITIAL, t_end=200.0)


def scipy_stable_states(iptg: float) -> np.ndarray:
    """Gardner et al.'s toggle switch solved by scipy from a grid of starts; stable roots only."""
    k, eta = 2.9618e-5, 2.0015

    def field(y):
        u, v = np.clip(y, 0, None)  # the iteration may step below zero; the states are not there
        return [156.25 / (1 + v**2.5) - u, 15.6 / (1 + (u / (1 + iptg / k) ** eta)) - v]

    roots = []
    for u0 in np.geomspace(1e-2, 200, 12):
        for v0 in np.geomspace(1e-2, 200, 12):
            root, _, ok, _ = fsolve(field, [u0, v0], full_output=True, xtol=1e-12)
            if ok != 1 or (root < 0).any():
                continue
            h = 1e-6 * np.maximum(1, np.abs(root))
            jacobian = np.column_stack(
                [
                    (np.array(field(root + dh)) - np.array(field(root - dh))) / (2 * h[i])
                    for i, dh in enumerate(np.diag(h))
                ]
            )
            if (np.linalg.eigvals(jacobian).real < 0).all() and not any(
                np.abs(np.log1p(root) - np.log1p(r)).max() < 1e-2 for r in roots
            ):
                roots.append(root)
    return np.array(sorted(roots, key=lambda r: r[0]))


def test_the_bistable_fraction_falls_to_zero_with_iptg_and_each_state_is_one_scipy_finds():
    model, census = toggle_census()
    n_states = census["n_states"].values.tolist()
    assert n_states[0] == 2 and n_states[-1] == 1 and (census["unsettled"].values == 0).all()
    assert all(a >= b for a, b in zip(n_states, n_states[1:]))  # bistability only lost as IPTG rises
    assert census.attrs["bistable"] == pytest.approx(n_states.count(2) / len(IPTG))
    for s, iptg in enumerate(IPTG):
        found = census["state"].values[s][census["distinct"].values[s]]
        expected = scipy_stable_states(iptg)
        assert len(found) == len(expected), (iptg, found, expected)
        found = found[np.argsort(found[:, 0])]
        np.testing.assert_allclose(found, expected, rtol=1e-4, atol=1e-6)


def test_a_racipe_census_counts_every_set_and_refuses_a_ragged_layout():
    network = Network.from_edges(["a", "b"], [("a", "b", -1), ("b", "a", -1)])
    sets, initial = 12, 8
    model = ShiftedHill(network, **repeat_members(sample_parameters(network, sets, "sobol", 0), initial))
    y0 = 100 * torch.rand(sets * initial, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    census = steady_state_census(model, y0, initial, t_end=300.0)
    fractions = [census.attrs[k] for k in ("monostable", "bistable", "multistable", "no_state")]
    assert sum(fractions) == pytest.approx(1.0) and census.sizes["set"] == sets
    assert (census["distinct"].sum("initial") == census["n_states"]).all()
    with pytest.raises(ValueError, match="96 members do not split into sets of 7"):
        steady_state_census(model, y0, 7)


def test_clusters_of_the_toggle_switchs_states_are_its_two_phenotypes():
    """Bistable sets hold one state in each of the two clusters (u high, v low; u low, v high);
    monostable sets at high IPTG sit in the v-high cluster."""
    from biogrn.grn import cluster_states

    _, census = toggle_census()
    clusters = cluster_states(census, 2)
    mean_log = clusters["mean_log"].values  # (cluster, variable): u, v
    u_high = int(np.argmax(mean_log[:, 0]))
    assert mean_log[u_high, 0] > mean_log[1 - u_high, 0] + 2 and mean_log[u_high, 1] < mean_log[1 - u_high, 1] - 2
    bistable = census["n_states"].values == 2
    assert clusters["sets"].values[bistable].all()
    assert (clusters["sets"].values[~bistable].sum(axis=1) == 1).all()
    assert not clusters["sets"].values[-1, u_high]
    assert (
        int(clusters["count"].sum()) == int(census["distinct"].sum())
        and clusters["count"].values[0] >= clusters["count"].values[1]
    )
    assert ((clusters["label"].values >= 0) == census["distinct"].values).all()
    with pytest.raises(ValueError, match="clusters: 0 must lie in"):
        cluster_states(census, 0)


def test_members_stopped_at_rest_and_polished_give_the_census_of_one_odeint_call_to_t_end():
    network = Network.from_edges(["a", "b", "c"], [("a", "b", -1), ("b", "a", -1), ("c", "a", 1), ("b", "c", -1)])
    sets, initial = 24, 8
    model = ShiftedHill(network, **repeat_members(sample_parameters(network, sets, "sobol", 2), initial))
    y0 = log_uniform_states(sets * initial, 3, 1e-2, 100.0, torch.Generator().manual_seed(3))
    member = steady_state_census(model, y0, initial, t_end=300.0)
    batch = steady_state_census(model, y0, initial, t_end=300.0, stepping="batch")
    assert (member["n_states"] == batch["n_states"]).all() and (member["distinct"] == batch["distinct"]).all()
    assert (member["unsettled"] == batch["unsettled"]).all()
    settled = np.repeat(member["unsettled"].values == 0, initial)
    np.testing.assert_allclose(
        member["state"].values.reshape(-1, 3)[settled], batch["state"].values.reshape(-1, 3)[settled], rtol=1e-6
    )
    states = torch.as_tensor(member["state"].values.reshape(-1, 3))
    found = classify_steady_states(model, states)
    assert (found["residual"] <= 1e-12 * (1 + states.abs().amax(1)))[found["stable"]].all()  # Newton's residual
    with pytest.raises(ValueError, match="stepping: 'each'"):
        steady_state_census(model, y0, initial, stepping="each")


def test_a_member_passing_by_the_saddle_reaches_the_state_odeint_reaches():
    """A symmetric toggle switch: started 1e-13 off its diagonal, a member slides to the saddle and
    its field is within the tolerance before the unstable direction shows; found unstable there, it
    is not stopped, and reaches the b-high state, as one odeint call to t_end does. Exactly on the
    diagonal it stays on the saddle and is unsettled."""
    network = Network.from_edges(["a", "b"], [("a", "b", -1), ("b", "a", -1)])
    ones = torch.ones(2, 2, dtype=torch.float64)
    model = ShiftedHill(network, 10 * ones, ones, 2 * ones, 3 * ones, 0.01 * ones)
    for offset, unsettled, n_states in ((1e-13, 0, 2), (0.0, 1, 1)):
        y0 = torch.tensor([[5.0, 5.0 + offset], [5.0, 0.1]], dtype=torch.float64)  # the second: the a-high basin
        census = steady_state_census(model, y0, 2, t_end=100.0)
        batch = steady_state_census(model, y0, 2, t_end=100.0, stepping="batch")
        assert census["unsettled"].item() == batch["unsettled"].item() == unsettled
        assert census["n_states"].item() == batch["n_states"].item() == n_states
        np.testing.assert_allclose(census["state"].values, batch["state"].values, rtol=1e-6)
