"""BoolODE's form of a Boolean model and BEELINE's networks: the truth-table field against its
closed forms, the rules against pyboolnet's published model, and BoolODE's noise."""

import itertools
import re
from typing import ClassVar

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from biogrn.core import DataError
from biogrn.grn import BEELINE_MODELS, BooleanRules, BoolODE, Network, read_boolean_rules, simulate_langevin

pytest.importorskip("pyboolnet")

F64 = torch.float64
RULES = "a, !c\nb, a & !c\nc, (a | b) & !c\n"  # c represses itself; b needs a and not c


def python_rule(rule: str, state: dict[str, bool]) -> bool:
    """A `.bnet` rule evaluated by Python itself, the reference the truth tables are checked against."""
    expression = rule.replace("!", " not ").replace("&", " and ").replace("|", " or ")
    return bool(
        eval(
            re.sub(
                r"\b(\w+)\b",
                lambda w: w.group(1) if w.group(1) in ("not", "and", "or") else f"s[{w.group(1)!r}]",
                expression,
            ),
            {"s": state},
        )
    )


def boolode_ratio(form: BoolODE, p: torch.Tensor, rules: dict[str, str]) -> torch.Tensor:
    """BoolODE's own form: a ratio of sums over every subset of each gene's regulators."""
    network = form.network
    out = torch.zeros_like(p)
    for i, gene in enumerate(network.genes):
        edges = [k for k, t in enumerate(network.targets) if t == i]
        numerator, denominator = torch.zeros(p.shape[0], dtype=p.dtype), torch.zeros(p.shape[0], dtype=p.dtype)
        for size in range(len(edges) + 1):
            for subset in itertools.combinations(edges, size):
                term = torch.ones(p.shape[0], dtype=p.dtype)
                for k in subset:
                    term = term * (p[:, network.sources[k]] / form.threshold[:, k]) ** form.hill[:, k]
                on = {network.genes[network.sources[k]] for k in subset}
                state = {g: g in on for g in network.genes}
                numerator = numerator + python_rule(rules[gene], state) * term
                denominator = denominator + term
        out[:, i] = numerator / denominator
    return out


def rules_of(text: str) -> dict[str, str]:
    return {line.split(",")[0].strip(): line.split(",", 1)[1].strip() for line in text.strip().splitlines()}


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(0.0, 30.0), min_size=3, max_size=3),
    st.lists(st.floats(2.0, 20.0), min_size=6, max_size=6),
    st.lists(st.floats(1.0, 10.0), min_size=6, max_size=6),
)
def test_the_truth_table_field_equals_boolodes_ratio_of_sums(p, thresholds, hills):
    rules = BooleanRules.from_bnet_text(RULES)
    form = BoolODE.defaults(rules, 1)
    assert form.network.n_edges == 6
    form.threshold, form.hill = torch.tensor([thresholds], dtype=F64), torch.tensor([hills], dtype=F64)
    protein = torch.tensor([p], dtype=F64)
    f = form.regulation(protein)
    torch.testing.assert_close(f, boolode_ratio(form, protein, rules_of(RULES)), rtol=1e-9, atol=1e-12)
    assert ((f >= 0) & (f <= 1)).all()


@pytest.mark.parametrize("name", list(BEELINE_MODELS))
def test_at_saturated_proteins_the_field_is_the_boolean_rule(name):
    """Proteins far above (on) or at zero (off) their thresholds give f = B(state) for every state."""
    model = BEELINE_MODELS[name]
    rules = rules_of(model.rules)
    form = model.form(1)
    genes = form.network.genes
    states = [dict(zip(genes, bits)) for bits in itertools.product([False, True], repeat=len(genes))]
    if len(states) > 1024:  # linear long: a random sample of its 2**18 states
        picks = np.random.default_rng(0).choice(len(states), 1024, replace=False)
        states = [states[i] for i in picks]
    protein = torch.tensor([[1e4 * s[g] for g in genes] for s in states], dtype=F64)
    form = model.form(len(states))
    expected = torch.tensor([[float(python_rule(rules[g], s)) for g in genes] for s in states], dtype=F64)
    torch.testing.assert_close(form.regulation(protein), expected, rtol=0, atol=1e-12)


def test_beelines_hsc_rules_are_krumsiek_2011_as_pyboolnet_ships_it():
    ours = BEELINE_MODELS["HSC"].boolean_rules().network
    published = Network.published("krumsiek_myeloid")

    def edges(network):
        return {
            (network.genes[a].lower(), network.genes[b].lower(), s)
            for a, b, s in zip(network.sources, network.targets, network.signs)
        }

    assert ours.n_edges == 30 and edges(ours) == edges(published)


def test_beeline_topologies_have_their_published_sizes():
    sizes = {
        name: (m.boolean_rules().network.n_genes, m.boolean_rules().network.n_edges)
        for name, m in BEELINE_MODELS.items()
    }
    assert {name: genes for name, (genes, _) in sizes.items()} == {
        "linear": 7,
        "cycle": 6,
        "linear-long": 18,
        "bifurcating": 7,
        "bifurcating-converging": 10,
        "trifurcating": 8,
        "HSC": 11,
    }
    assert sizes["linear"][1] == 8 and sizes["cycle"][1] == 6


def test_strengths_divide_the_threshold_and_bad_ones_are_refused():
    rules = BooleanRules.from_bnet_text(RULES)
    form = BoolODE.defaults(rules, 2, {("a", "b"): 4.0})
    edge = next(k for k, (s, t) in enumerate(zip(form.network.sources, form.network.targets)) if (s, t) == (0, 1))
    others = [k for k in range(form.network.n_edges) if k != edge]
    assert float(form.threshold[0, edge]) == 2.5 and (form.threshold[:, others] == 10.0).all()
    with pytest.raises(ValueError, match="strengths: b -> a is not an edge"):
        BoolODE.defaults(rules, 1, {("b", "a"): 2.0})
    with pytest.raises(ValueError, match="must be > 0"):
        BoolODE.defaults(rules, 1, {("a", "b"): 0.0})
    with pytest.raises(ValueError, match="on: 'z' is not a gene"):
        form.initial_state({"z": 1.0})


def test_the_linear_network_switches_its_genes_on_in_order():
    """Deterministic BoolODE dynamics (odeint) from g1 on: g2 .. g7 cross half their top level in order."""
    from biogrn.grn import simulate

    model = BEELINE_MODELS["linear"]
    form = model.form(1)
    times = torch.linspace(0, model.t_end, 201, dtype=F64)
    state = simulate(form, model.initial_state(form), times)["state"].values[:, :7, 0]  # (time, gene)
    first_on = [int(np.argmax(state[:, i] > 1.0)) for i in range(1, 7)]
    assert all(0 < a < b for a, b in zip(first_on, first_on[1:]))


def test_a_subset_of_members_is_their_field_and_lets_finished_members_leave():
    from biogrn.dynamics import integrate_members

    model = BEELINE_MODELS["bifurcating"]
    form = model.form(6)
    generator = torch.Generator().manual_seed(0)
    form.threshold = form.threshold * (0.5 + torch.rand(form.threshold.shape, generator=generator, dtype=F64))
    y0 = model.initial_state(form) * (0.5 + torch.rand(6, 2 * form.network.n_genes, generator=generator, dtype=F64))
    rows = torch.tensor([4, 1])
    assert torch.equal(form.subset(rows)(torch.zeros(()), y0[rows]), form(torch.zeros(()), y0)[rows])
    times = torch.linspace(0, model.t_end, 5, dtype=F64)
    with torch.no_grad():
        compacted = integrate_members(form, y0, times)
        riding = integrate_members(lambda t, y: form(t, y), y0, times)  # no subset: every member rides along
    torch.testing.assert_close(compacted, riding, rtol=1e-12, atol=1e-12)


def test_boolode_noise_has_variance_x_dt_over_volume_per_step():
    class Still(torch.nn.Module):
        network = Network.from_edges(["a"], [("a", "a", 1)])
        variables: ClassVar[list[str]] = ["a"]

        def rates(self, y):
            return torch.zeros_like(y), torch.zeros_like(y)

        def parameters_dict(self):
            return {}

    y0 = torch.full((200_000, 1), 4.0, dtype=F64)
    times = torch.tensor([0.0, 0.01], dtype=F64)
    result = simulate_langevin(
        Still(), y0, times, dt=0.01, volume=2.0, noise="boolode", generator=torch.Generator().manual_seed(0)
    )
    step = result["state"].values[1, 0] - 4.0
    assert abs(step.var() / (4.0 * 0.01 / 2.0) - 1) < 0.02 and abs(step.mean()) < 3 * np.sqrt(0.02 / 200_000)
    with pytest.raises(ValueError, match="noise: 'white'"):
        simulate_langevin(Still(), y0, times, noise="white")


def test_edge_parameters_keep_their_dimension_when_edges_and_genes_are_as_many():
    model = BEELINE_MODELS["cycle"]  # 6 genes, 6 edges
    form = model.form(3)
    result = simulate_langevin(form, model.initial_state(form), torch.tensor([0.0, 0.05], dtype=F64), noise="boolode")
    assert result["threshold"].dims == ("member", "edge") and result["gamma_m"].dims == ("member", "gene")


def test_rule_files_read_as_boolode_and_bnet_and_bad_lines_are_named(tmp_path):
    boolode = tmp_path / "model.txt"
    boolode.write_text("Gene\tRule\na\tnot (c)\nb\ta and not c\nc\t(a or b) and not (c)\n")
    bnet = tmp_path / "model.bnet"
    bnet.write_text(RULES)
    for path in (boolode, bnet):
        rules = read_boolean_rules(path)
        p = torch.tensor([[0.0, 1e4, 0.0], [1e4, 0.0, 0.0]], dtype=F64)
        assert BoolODE.defaults(rules, 2).regulation(p).tolist() == [[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]]
    bad = tmp_path / "bad.txt"
    bad.write_text("Gene\tRule\na\tnot (c)\nb\ta and and c\n")
    with pytest.raises(DataError, match="line 3"):
        read_boolean_rules(bad)
    headless = tmp_path / "headless.txt"
    headless.write_text("a\tnot c\n")
    with pytest.raises(DataError, match="line 1: a BoolODE rule file starts with the header"):
        read_boolean_rules(headless)


def test_the_beeline_study_runs_and_reports_from_its_files(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    import xarray as xr

    path = Path(__file__).parents[2] / "simulations" / "beeline_inference.py"
    spec = importlib.util.spec_from_file_location("beeline_inference", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    arguments = ["--networks", "linear", "--seeds", "0", "1", "--simulations", "6", "--points", "10"]
    assert script.main([*arguments, "--epochs", "20", "--methods", "biogrn", "--out", str(tmp_path)]) == 0
    result = xr.load_dataset(tmp_path / "beeline_inference.nc")
    ratio = result["auprc_ratio"].sel({"method": "biogrn"}).values
    assert ratio.shape == (1, 2) and np.isfinite(ratio).all()
    np.testing.assert_allclose(result["auprc_ratio"], result["auprc"] / result["chance_auprc"])
    capsys.readouterr()
    assert script.main(["--report", str(tmp_path / "beeline_inference.nc")]) == 0
    assert "| linear | " in capsys.readouterr().out
    bagged = tmp_path / "bagged"
    assert (
        script.main([*arguments, "--epochs", "20", "--methods", "biogrn", "--resamples", "2", "--out", str(bagged)])
        == 0
    )
    later = xr.load_dataset(bagged / "beeline_inference.nc")
    joined = script.join_runs([result, later])  # a later run's cells replace an earlier one's
    assert joined["auprc"].equals(later["auprc"]) and not joined["auprc"].equals(result["auprc"])
