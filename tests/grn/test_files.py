"""Network files as genomics users exchange them: .topo, BEELINE's refNetwork.csv and rankedEdges.csv."""

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from biogrn.core import DataError
from biogrn.grn import Network, read_network, write_ranked_edges, write_ref_network, write_topo

HSC = """Gene1,Gene2,Type
Pu1,cJun,+
Gfi1,cJun,-
Gata2,Gata2,+
Pu1,Gata2,-
Gata1,Gata2,-
Cebpa,Pu1,+
Pu1,Pu1,+
"""


@st.composite
def networks(draw):
    n = draw(st.integers(1, 8))
    genes = [f"g{i}" for i in range(n)]
    pairs = draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=1, max_size=20, unique=True)
    )
    return Network.from_edges(genes, [(genes[a], genes[b], draw(st.sampled_from([1, -1]))) for a, b in pairs])


def same_edges(a: Network, b: Network) -> bool:
    def edges(n):
        return {(n.genes[s], n.genes[t], sign) for s, t, sign in zip(n.sources, n.targets, n.signs)}

    return edges(a) == edges(b) and set(a.genes) >= {g for e in edges(b) for g in e[:2]}


@given(networks())
def test_topo_and_ref_network_round_trip(network):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        for name, write in (("net.topo", write_topo), ("refNetwork.csv", write_ref_network)):
            write(network, Path(folder) / name)
            assert same_edges(read_network(Path(folder) / name), network)
    assert same_edges(Network.from_matrix(network.matrix(), network.genes), network)  # matrix() inverts from_matrix


def test_beeline_reference_with_self_loops_and_a_topo_file(tmp_path):
    (tmp_path / "refNetwork.csv").write_text(HSC)
    network = read_network(tmp_path / "refNetwork.csv")
    assert network.genes[:3] == ("Pu1", "cJun", "Gfi1") and network.n_edges == 7
    assert network.genes.count("Gata2") == 1 and ("Gata2" in network.genes)
    (tmp_path / "ts.topo").write_text("Source Target Type\nA\tB 2\nB  A 2\n\nA A 1\n")
    toggle = read_network(tmp_path / "ts.topo")
    assert toggle.genes == ("A", "B") and list(zip(toggle.sources, toggle.targets, toggle.signs)) == [
        (0, 1, -1),
        (1, 0, -1),
        (0, 0, 1),
    ]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.topo", "Source Target\nA B 1\n", "line 1: no column 'Type' .the header names Source, Target."),
        ("bad.topo", "Source Target Type\nA B 1\nA C 3\n", "line 3: Type '3' is not 1 .activation. or 2"),
        ("bad.topo", "Source Target Type\nA B\n", r"line 2: 2 field\(s\) where the header names 3"),
        ("bad.topo", "Source Target Type\n", "no edges"),
        ("refNetwork.csv", "Gene1,Gene2,Type\nA,B,+\nA,C,x\n", r"line 3: Type 'x' is not \+ or -"),
        (
            "refNetwork.csv",
            "Gene1,Gene2,Type\nA,B,+\nA,B,-\n",
            "line 3: A -> B is repressing here and activating on line 2",
        ),
        ("refNetwork.csv", "Gene1,Gene2,Type\nA,B,+\n\nB,A,+,x\n", r"line 4: 4 field\(s\) where the header names 3"),
        (
            "net.csv",
            "source,target,sign\nA,B,1\nA,B,-1\n",
            "line 3: A -> B is repressing here and activating on line 2",
        ),
        ("latin.topo", b"Source Target Type\nA B 1\n" + "Ä B 2\n".encode("latin-1"), "line 3: not UTF-8 text"),
        (
            "latin.txt",
            b"Gene\tRule\nA\tnot B\n" + "B\tÄ\n".encode("latin-1"),
            r"line 3: not UTF-8 text \(byte 20: 0xc4\)",
        ),
        ("empty.topo", b"", "line 1: expected a header naming the columns Source, Target, Type$"),
        ("empty.csv", b"", "line 1: expected a header naming the columns source, target, sign$"),
        ("rules.txt", "Gene\tRule\nA\tnot B\nA\tB\n", "line 3: A has a rule on an earlier line already"),
    ],
)
def test_bad_files_name_their_line(tmp_path, name, text, message):
    if isinstance(text, bytes):
        (tmp_path / name).write_bytes(text)
    else:
        (tmp_path / name).write_text(text)
    with pytest.raises(DataError, match=message) as raised:
        read_network(tmp_path / name)
    assert name in str(raised.value)


def test_ranked_edges_are_beelines_tab_separated_strongest_first_without_self_loops_or_pruned(tmp_path):
    weights = torch.tensor(
        [[0.5, -2.0, 0.0], [0.1, 9.0, 0.0], [0.0, -0.3, 1.0]], dtype=torch.float64
    )  # [target, source]
    write_ranked_edges(weights, ["a", "b", "c"], tmp_path / "rankedEdges.csv")
    table = pd.read_csv(tmp_path / "rankedEdges.csv", sep="\t")
    assert list(table.columns) == ["Gene1", "Gene2", "EdgeWeight"]
    assert table.values.tolist() == [["b", "a", 2.0], ["b", "c", 0.3], ["a", "b", 0.1]]
    with pytest.raises(ValueError, match=r"shape \(3, 3\) is not \(2, 2\)"):
        write_ranked_edges(np.ones((3, 3)), ["a", "b"], tmp_path / "x.csv")


def test_simulate_reads_a_topo_file(tmp_path, capsys):
    from biogrn.cli import main

    (tmp_path / "ts.topo").write_text("Source Target Type\nA B 2\nB A 2\n")
    assert (
        main(["simulate", str(tmp_path / "ts.topo"), "--members", "8", "--points", "5", "--out", str(tmp_path / "sim")])
        == 0
    )
    out = capsys.readouterr().out
    assert "ts.topo: model RACIPE (shifted Hill" in out and "8 members, 2 variables" in out


def test_simulate_runs_a_boolode_rule_file_in_boolodes_form_and_names_it(tmp_path, capsys):
    """A rule file runs BoolODE's form (mRNA and protein per gene), and the terminal, the records and
    the figure's title say which model ran."""
    pytest.importorskip("pyboolnet")
    import xarray as xr

    from biogrn.cli import main

    (tmp_path / "rules.txt").write_text("Gene\tRule\nA\tnot B\nB\tnot A\n")
    out = tmp_path / "sim"
    assert main(["simulate", str(tmp_path / "rules.txt"), "--members", "6", "--points", "5", "--out", str(out)]) == 0
    assert "rules.txt: model BoolODE" in capsys.readouterr().out
    result = xr.load_dataset(out / "simulation.nc")
    assert result.attrs["model"] == "boolode" and result.attrs["model_description"].startswith("BoolODE")
    assert list(result["variable"].values) == ["m_A", "m_B", "p_A", "p_B"]
    assert float(result["transcription"].max()) == 20.0  # BoolODE's parameters.yaml


def test_simulate_draws_a_grid_for_many_genes(tmp_path, capsys):
    """A 40-gene chain: a grid of at most 36 panels (the title says how many of the 40), not one row."""
    import matplotlib.image

    from biogrn.cli import main

    lines = "\n".join(f"g{i},g{i + 1},{1 if i % 2 else -1}" for i in range(39))
    (tmp_path / "chain.csv").write_text(f"source,target,sign\n{lines}\n")
    out = tmp_path / "sim"
    assert main(["simulate", str(tmp_path / "chain.csv"), "--members", "4", "--points", "5", "--out", str(out)]) == 0
    assert "(4 more in simulation.nc)" in capsys.readouterr().out
    height, width, _ = matplotlib.image.imread(out / "simulation.png").shape
    assert width <= 1900 and height > 1000  # 6 columns, 6 rows


@pytest.mark.parametrize("network", ["toggle", "repressilator"])
def test_simulate_with_a_step_per_member_agrees_with_the_batch_step(tmp_path, network):
    import xarray as xr

    from biogrn.cli import main

    states = {}
    for stepping, option in (("batch", ["--stepping", "batch"]), ("member", [])):  # a step per member by default
        out = tmp_path / stepping
        arguments = ["simulate", network, "--members", "12", "--points", "6", "--t-end", "20", "--out", str(out)]
        assert main([*arguments, *option]) == 0
        with xr.open_dataset(out / "simulation.nc") as result:
            assert result.attrs["stepping"] == stepping
            states[stepping] = result["state"].values
    np.testing.assert_allclose(states["member"], states["batch"], rtol=1e-4, atol=1e-5)
    out = tmp_path / "rest"
    arguments = ["simulate", network, "--members", "12", "--points", "6", "--t-end", "20", "--out", str(out)]
    assert main([*arguments, "--stop-at-rest"]) == 0
    with xr.open_dataset(out / "simulation.nc") as result:
        assert result.attrs["stop_at_rest"] == 1
        np.testing.assert_allclose(result["state"].values, states["member"], rtol=1e-2, atol=1e-3)


def test_beeline_inputs_from_a_langevin_simulation_read_back_as_beeline_reads_them(tmp_path):
    from biogrn.grn import ShiftedHill, sample_parameters, simulate_langevin, write_beeline_inputs

    (tmp_path / "refNetwork.csv").write_text(HSC)
    network = read_network(tmp_path / "refNetwork.csv")
    model = ShiftedHill(network, **sample_parameters(network, 6, "sobol", 0))
    generator = torch.Generator().manual_seed(0)
    y0 = 10 * torch.rand(6, network.n_genes, generator=generator, dtype=torch.float64)
    result = simulate_langevin(model, y0, torch.linspace(0, 5, 11, dtype=torch.float64), generator=generator)
    written = write_beeline_inputs(result, network, tmp_path / "beeline", cells=40, seed=3)
    expression = pd.read_csv(written[0], index_col=0)
    pseudotime = pd.read_csv(written[1], index_col=0)
    assert list(expression.index) == list(network.genes) and expression.shape == (network.n_genes, 40)
    assert list(pseudotime.columns) == ["PseudoTime"] and list(pseudotime.index) == list(expression.columns)
    assert len(set(expression.columns)) == 40 and (pseudotime["PseudoTime"] > 0).all()
    cell = expression.columns[7]  # E<member>_<time index>: the value is that member's state at that time
    member, step = (int(part) for part in cell[1:].split("_"))
    assert np.allclose(expression[cell].values, result["state"].values[step, :, member])
    assert pseudotime.loc[cell, "PseudoTime"] == pytest.approx(float(result["time"].values[step]))
    assert same_edges(read_network(written[2]), network)
    with pytest.raises(FileExistsError, match="already holds ExpressionData.csv, PseudoTime.csv, refNetwork.csv"):
        write_beeline_inputs(result, network, tmp_path / "beeline", cells=5)
    with pytest.raises(ValueError, match=r"cells: 61 must lie in 1..60"):
        write_beeline_inputs(result, network, tmp_path / "other", cells=61)


MCAD = (
    "Gene\tRule\n"
    "Fgf8\t( Fgf8 and Sp8 and not (Emx2) )\n"
    "Emx2\t(Coup and not (Fgf8) and not (Pax6)  and not (Sp8))\n"
    "Pax6\t(  (Sp8) and not (Emx2) and not (Coup))\n"
    "Coup\t( not (Fgf8) and not (Sp8) )\n"
    "Sp8\t( Fgf8 and not (Emx2))\n"
)


def test_a_boolode_rule_file_gives_its_signed_edges(tmp_path):
    pytest.importorskip("pyboolnet")
    (tmp_path / "mCAD.txt").write_text(MCAD)
    network = read_network(tmp_path / "mCAD.txt")
    edges = {
        (network.genes[s], network.genes[t], sign)
        for s, t, sign in zip(network.sources, network.targets, network.signs)
    }
    assert ("Fgf8", "Fgf8", 1) in edges and ("Emx2", "Fgf8", -1) in edges and ("Sp8", "Pax6", 1) in edges
    assert ("Fgf8", "Coup", -1) in edges and len(edges) == 14  # 3 + 4 + 3 + 2 + 2 regulators
    (tmp_path / "bad.txt").write_text("Gene\tRule\na\tb and\nb\ta\n")
    with pytest.raises(
        DataError, match=r"bad.txt: line 2: 'b and' is not a Boolean rule \(it ends where a gene belongs\)"
    ):
        read_network(tmp_path / "bad.txt")
    (tmp_path / "short.txt").write_text("Gene\tRule\na b\n")
    with pytest.raises(DataError, match="line 2: expected `gene<TAB>rule`"):
        read_network(tmp_path / "short.txt")


def test_a_simulation_as_anndata_for_scanpy_users(tmp_path):
    anndata = pytest.importorskip("anndata")
    from biogrn.grn import TwoStage, simulate, write_anndata

    network = Network.from_edges(["a", "b"], [("a", "b", -1), ("b", "a", -1)])
    members = 4
    model = TwoStage(
        network,
        basal=torch.full((members, 2), 0.1, dtype=torch.float64),
        rate=torch.full((members, 2), 2.0, dtype=torch.float64),
        gamma_m=torch.full((members, 2), 1.0, dtype=torch.float64),
        translation=torch.full((members, 2), 1.0, dtype=torch.float64),
        gamma_p=torch.full((members, 2), 0.5, dtype=torch.float64),
        threshold=torch.full((members, 2), 1.0, dtype=torch.float64),
        hill=torch.full((members, 2), 2.0, dtype=torch.float64),
    )
    y0 = torch.rand(members, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    result = simulate(model, y0, torch.linspace(0, 3, 7, dtype=torch.float64))
    write_anndata(result, network, tmp_path / "toggle.h5ad")
    data = anndata.read_h5ad(tmp_path / "toggle.h5ad")
    assert data.shape == (6 * members, 2) and list(data.var_names) == ["a", "b"]
    cell = data.obs.iloc[5]
    step = int(np.argmin(np.abs(result["time"].values - cell["time"])))
    expected = result["state"].sel(variable=["m_a", "m_b"]).values[step, :, int(cell["member"])]
    assert np.allclose(data.X[5], expected, rtol=1e-6)
    assert list(data.uns["network"]["sign"]) == [-1, -1] and data.uns["parameters"]["rate"].shape == (members, 2)
    # read back through biogrn: the same levels, cells' member and time, network and parameters
    from biogrn.grn import read_anndata

    cells = read_anndata(tmp_path / "toggle.h5ad")
    assert np.array_equal(cells.expression.values, np.asarray(data.X))
    assert list(cells.expression["member"].values) == list(data.obs["member"])
    assert same_edges(cells.network, network) and cells.network.genes == network.genes
    assert np.array_equal(cells.parameters["rate"], result["rate"].values)


def test_anndata_files_of_scanpy_users_and_bad_ones(tmp_path):
    anndata = pytest.importorskip("anndata")
    from scipy import sparse

    from biogrn.grn import read_anndata

    values = sparse.csr_matrix(np.array([[0.0, 1.5], [2.0, 0.0], [0.5, 0.5]], dtype=np.float32))
    obs = pd.DataFrame({"pseudotime": [0.1, 0.5, 0.9]}, index=["c1", "c2", "c3"])
    anndata.AnnData(X=values, obs=obs, var=pd.DataFrame(index=["Gata1", "Pu1"])).write_h5ad(tmp_path / "cells.h5ad")
    cells = read_anndata(tmp_path / "cells.h5ad")
    assert cells.network is None and cells.parameters == {}
    assert cells.expression.sel(cell="c2", gene="Gata1").item() == 2.0
    assert list(cells.expression["pseudotime"].values) == [0.1, 0.5, 0.9]

    dense = np.array([[1.0, np.nan]], dtype=np.float32)
    anndata.AnnData(X=dense, obs=pd.DataFrame(index=["c1"]), var=pd.DataFrame(index=["a", "b"])).write_h5ad(
        tmp_path / "nan.h5ad"
    )
    with pytest.raises(DataError, match="cell 'c1', gene 'b' is nan"):
        read_anndata(tmp_path / "nan.h5ad")
    broken = anndata.AnnData(X=np.ones((1, 2), np.float32), var=pd.DataFrame(index=["a", "b"]))
    broken.uns["network"] = {"source": np.array(["a"]), "target": np.array(["b"])}
    broken.write_h5ad(tmp_path / "broken.h5ad")
    with pytest.raises(DataError, match=r"uns\['network'\] needs source, target and sign"):
        read_anndata(tmp_path / "broken.h5ad")
    (tmp_path / "text.h5ad").write_text("Gene1,Gene2,Type\n")
    with pytest.raises(DataError, match="not a readable AnnData .h5ad file"):
        read_anndata(tmp_path / "text.h5ad")
    with pytest.raises(DataError, match="no such file"):
        read_anndata(tmp_path / "missing.h5ad")


def edge_list(network):
    return sorted(
        (network.genes[a], network.genes[b], s) for a, b, s in zip(network.sources, network.targets, network.signs)
    )


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("refNetwork.csv", b"Gene2,Gene1,Type\nB,A,+\nA,B,-\nC,B,+\n"),  # BoolODE's generateInputFiles
        ("refNetwork.csv", b"Type\tGene1\tGene2\r\n+\tA\tB\r\n-\tB\tA\r\n+\tB\tC\r\n"),  # tabs, CRLF
        ("refNetwork.csv", b"\xef\xbb\xbfGene1,Gene2,Type\r\nA, B ,+\r\n\r\nB,A,-\r\nB,C,+"),  # BOM, no last newline
        ("randNet.txt", b"Gene1\tGene2\tType\r\nA\tB\t+\r\nB\tA\t-\r\nB\tC\t+\r\n"),  # BoolODE's randNet.txt
        ("ts.topo", b"Source\tTarget\tType\nA\tB\t1\nB\tA\t2\nB\tC\t1\n"),  # RACIPE-1.0's tabs
        ("ts.topo", b"\xef\xbb\xbfSource Target Type\r\nA B 1\r\nB A 2\r\nB C 1\r\n"),
        ("net.csv", b"sign,target,source\nactivation,B,A\n-1,A,B\n+1,C,B\n"),
    ],
)
def test_network_files_are_read_as_the_peers_write_them(tmp_path, name, raw):
    """Columns by name in any order, commas, tabs or spaces, CRLF, a byte-order mark, blank lines."""
    (tmp_path / name).write_bytes(raw)
    assert edge_list(read_network(tmp_path / name)) == [("A", "B", 1), ("B", "A", -1), ("B", "C", 1)]


def test_repeated_rows_are_read_once_with_a_warning_naming_both_lines(tmp_path):
    """BEELINE's own example GroundTruthNetwork.csv (GSD) repeats seven rows; BEELINE reads them once."""
    from biogrn.grn import RepeatedEdgeWarning

    (tmp_path / "GroundTruthNetwork.csv").write_text("Gene1,Gene2,Type\nA,B,+\nB,A,-\nA,B,+\nA,B,+\n")
    with pytest.warns(RepeatedEdgeWarning, match="repeats line 2") as caught:
        network = read_network(tmp_path / "GroundTruthNetwork.csv")
    assert [str(w.message).split(": ", 1)[1] for w in caught] == [
        "line 4 repeats line 2 (A -> B); read once",
        "line 5 repeats line 2 (A -> B); read once",
    ]
    assert edge_list(network) == [("A", "B", 1), ("B", "A", -1)]


# BoolODE data/GSD.txt, line for line
GSD_RULES = """Gene\tRule
UGR\tUGR and not (NR5A1 or WNT4)
CBX2\tUGR and not (NR0B1 and WNT4 and CTNNB1)
GATA4\t(UGR or WNT4 or NR5A1 or SRY)
WT1mKTS\t(UGR or GATA4)
WT1pKTS\t(UGR or GATA4) and not (WNT4 and CTNNB1)
NR5A1\t(UGR or CBX2 or WT1mKTS or GATA4) and not (NR0B1 and WNT4)
NR0B1\t(WT1mKTS or (WNT4 and CTNNB1)) and not (NR5A1 and SOX9)
SRY\t((NR5A1 and WT1mKTS and CBX2) or (GATA4 and WT1pKTS and CBX2 and NR5A1) or (SOX9 or SRY)) and not (CTNNB1)
SOX9\t((SOX9 and FGF9) or (SRY or PGD2) or (SRY and CBX2) or (GATA4 and NR5A1 and SRY)) and not (WNT4 or CTNNB1 or FOXL2)
FGF9\tSOX9 and not WNT4
PGD2\tSOX9
DMRT1\t(SRY or SOX9) and not (FOXL2)
DHH\tSOX9
DKK1\t(SRY or SOX9)
AMH\t((SOX9 and GATA4 and NR5A1) or (SOX9 and NR5A1 and GATA4 and WT1mKTS)) and not (NR0B1 and CTNNB1)
WNT4\t(GATA4 or (CTNNB1 or RSPO1 or NR0B1)) and not (FGF9 or DKK1)
RSPO1\t(WNT4 or CTNNB1) and not (DKK1)
FOXL2\t(WNT4 and CTNNB1) and not (DMRT1 or SOX9)
CTNNB1\t(WNT4 or RSPO1) and not (SRY or (SOX9 and AMH))
"""  # noqa: E501


def test_boolode_rules_keep_every_regulator_they_name(tmp_path):
    """BoolODE's GSD model (its data/GSD.txt): 79 edges, as BoolODE's refNetwork.csv and BEELINE's
    ground truth have; the 4 that change no row of the truth table are marked, not dropped, and
    their term cancels in BoolODE's f (the same f with and without them)."""
    pytest.importorskip("pyboolnet")
    from biogrn.grn import BoolODE, read_boolean_rules

    (tmp_path / "GSD.txt").write_bytes(GSD_RULES.replace("\n", "\r\n").encode())
    rules = read_boolean_rules(tmp_path / "GSD.txt")
    network = rules.network
    assert network.n_edges == 79 and read_network(tmp_path / "GSD.txt").n_edges == 79
    marked = {
        (network.genes[network.sources[k]], network.genes[network.targets[k]]) for k in np.flatnonzero(rules.redundant)
    }
    assert marked == {("CBX2", "SOX9"), ("GATA4", "SOX9"), ("NR5A1", "SOX9"), ("WT1mKTS", "AMH")}
    form = BoolODE.defaults(rules, members=8)
    proteins = torch.rand(8, network.n_genes, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 20
    as_bnet = lambda rule: rule.replace("and", "&").replace("or", "|").replace("not", "!")
    lines = [line.split("\t") for line in GSD_RULES.splitlines()[1:]]
    functional = BoolODE.defaults(
        type(rules).from_bnet_text("\n".join(f"{g}, {as_bnet(r)}" for g, r in lines)), members=8
    )
    order = [functional.network.genes.index(g) for g in network.genes]
    torch.testing.assert_close(
        form.regulation(proteins), functional.regulation(proteins[:, order])[:, np.argsort(order)]
    )


def test_boolode_gives_a_name_without_a_rule_its_self_activation(tmp_path):
    """BoolODE's EMT.txt names eight inputs that have no rule; BoolODE gives each `n = n`."""
    pytest.importorskip("pyboolnet")
    (tmp_path / "rules.txt").write_text("Gene\tRule\t\nA\tB and not C\n")  # a trailing tab, as dyn-converging.txt
    assert edge_list(read_network(tmp_path / "rules.txt")) == [
        ("B", "A", 1),
        ("B", "B", 1),
        ("C", "A", -1),
        ("C", "C", 1),
    ]


def test_read_anndata_refuses_a_file_without_x_or_reads_a_named_layer(tmp_path):
    anndata = pytest.importorskip("anndata")
    from biogrn.grn import read_anndata

    counts = np.arange(6, dtype=np.float32).reshape(3, 2)
    data = anndata.AnnData(obs=pd.DataFrame(index=["c0", "c1", "c2"]), var=pd.DataFrame(index=["g0", "g1"]))
    data.layers["counts"] = counts
    data.write_h5ad(tmp_path / "no_x.h5ad")
    with pytest.raises(
        DataError, match=r"no_x.h5ad: no X matrix .the file holds none.; name one of its layers .counts."
    ):
        read_anndata(tmp_path / "no_x.h5ad")
    with pytest.raises(DataError, match=r"no layer 'raw'; its layers are \['counts'\]"):
        read_anndata(tmp_path / "no_x.h5ad", layer="raw")
    np.testing.assert_array_equal(read_anndata(tmp_path / "no_x.h5ad", layer="counts").expression.values, counts)
