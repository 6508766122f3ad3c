"""The network files genomics users exchange, read into a `Network` and written from one.

- RACIPE / GRiNS `.topo`: a header `Source Target Type`, then one edge per line separated by
  spaces or tabs; Type 1 activates, 2 represses.
- BEELINE's `refNetwork.csv` / `GroundTruthNetwork.csv`: columns `Gene1` (regulator), `Gene2`
  (target) and `Type` (`+` or `-`) found by name in any order (BoolODE writes `Gene2,Gene1,Type`),
  separated by commas or tabs; self-loops allowed, repeated rows read once with a warning.
- BEELINE's `rankedEdges.csv` (an inference's output): tab-separated `Gene1, Gene2, EdgeWeight`,
  strongest first.
- AnnData `.h5ad` (cells x genes, `.obs` member and time, `.uns` network and parameters), written
  from a simulation and read back, or read from scanpy users' own files (the `anndata` package,
  the `genomics` extra).
- BEELINE's inputs from a simulation: `ExpressionData.csv` (genes x cells), `PseudoTime.csv`
  (one `PseudoTime` per cell) and `refNetwork.csv`, cells sampled from the members' trajectories.
- BoolODE rule files: a header `Gene<TAB>Rule`, then `gene<TAB>rule` with `and`, `or`, `not`
  and parentheses; the signed edges come from the rules as for `.bnet` models (pyboolnet, the
  `boolean` extra).
- biogrn's own CSV: `source,target,sign`, sign +1/-1 or activation/repression.

`read_network` tells the forms apart by suffix and header; every bad line is named with its
file and line number. Writing is atomic.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from biogrn.core import DataError, atomic_write, quoted, reading
from biogrn.data._anndata import expression_levels, import_anndata, opened
from biogrn.grn._boolode import BooleanRules
from biogrn.grn._edge_tables import read_edge_table, text_of
from biogrn.grn._network import Network

__all__ = [
    "CellData",
    "read_anndata",
    "read_boolean_rules",
    "read_network",
    "write_anndata",
    "write_beeline_inputs",
    "write_ranked_edges",
    "write_ref_network",
    "write_topo",
]

TOPO_TYPES = {"1": 1, "2": -1}
BEELINE_TYPES = {"+": 1, "-": -1}


def read_network(path: str | Path) -> Network:
    """A network from a `.topo`, a BoolODE rule file, a BEELINE `refNetwork.csv` or a
    `source,target,sign` CSV.

    Raises:
        DataError: a missing file, an unknown header, or a bad line (file and line named).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix.lower() == ".topo":
        return _read_topo(path)
    header = _header(path)
    if header[:2] == ["Gene", "Rule"]:
        return _read_boolode(path)
    if "Gene1" in header and "Gene2" in header:
        numbers, table = read_edge_table(path, ("Gene1", "Gene2", "Type"))
        return Network.from_rows(
            path, table["Gene1"], table["Gene2"], table["Type"], BEELINE_TYPES, "Type", "+ or -", numbers
        )
    return Network.from_file(path)


def is_boolode_rules(path: Path) -> bool:
    """Whether `path` is a BoolODE rule file (its header `Gene<TAB>Rule`), which `simulate` runs in
    BoolODE's form; False for a missing file (`read_network` names it)."""
    return path.is_file() and path.suffix.lower() != ".topo" and _header(path)[:2] == ["Gene", "Rule"]


def _header(path: Path) -> list[str]:
    """The first line's names, split at commas, tabs or spaces (nothing else is read)."""
    with reading(path, "network file", empty=True), open(path, "rb") as stream:
        first = stream.readline(1 << 16).decode("utf-8-sig", errors="replace")
    return [name for name in first.replace(",", " ").split() if name]


_BOOLEAN_WORDS = {"and": "&", "or": "|", "not": "!"}
MOST_NESTING = 100
"""Deepest parentheses a BoolODE rule may nest (its rules are Python expressions)."""


def read_boolean_rules(path: str | Path) -> BooleanRules:
    """A Boolean model's rules, with their truth tables, from a BoolODE rule file or a `.bnet` file.

    Raises:
        DataError: a missing file, a bad line (file and line named), or a regulator that both
            activates and represses.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix.lower() == ".bnet":
        return BooleanRules.from_bnet_text(text_of(path), str(path))
    if _header(path)[:2] != ["Gene", "Rule"]:
        raise DataError(f"{path}: line 1: a BoolODE rule file starts with the header 'Gene<TAB>Rule'")
    text, numbers, named = _boolode_as_bnet(path)
    return BooleanRules.from_bnet_text(text, str(path), numbers, named)


def _read_boolode(path: Path) -> Network:
    return read_boolean_rules(path).network


def _boolode_regulators(rule: str) -> list[tuple[str, int]]:
    """A rule's regulators as BoolODE takes them (`utils.getRegulatorsInRule`): every name in its
    text, parentheses and the words `and`, `or`, `not` aside, with the sign BoolODE's
    `generateInputFiles` writes (+1 where the name first appears before the first `not`)."""
    tokens = [t for t in rule.replace("(", " ").replace(")", " ").split(" ") if t]
    first_not = tokens.index("not") if "not" in tokens else len(tokens)
    names = [t for t in tokens if t not in _BOOLEAN_WORDS]
    return [(name, 1 if tokens.index(name) < first_not else -1) for name in dict.fromkeys(names)]


def _rule_problem(rule: str) -> str | None:
    """What keeps `rule` from being a BoolODE rule (names joined by `and`, `or`, `not` and
    parentheses), or None. Read token by token, so an operator BoolODE does not have (`xor`, `&`)
    is named rather than read as a gene."""
    expect_name, depth = True, 0
    for token in re.findall(r"\(|\)|[^\s()]+", rule):
        if expect_name and token == "not":
            continue
        if expect_name and token == "(":
            depth += 1
        elif expect_name and token not in ("and", "or", ")") and re.fullmatch(r"[^&|!~^=<>+*/,;]+", token):
            expect_name = False
        elif not expect_name and token in ("and", "or"):
            expect_name = True
        elif not expect_name and token == ")" and depth > 0:
            depth -= 1
        elif token == ")" and depth == 0:
            return "a `)` that closes nothing"
        else:
            wanted = "a gene, `not` or `(`" if expect_name else "`and`, `or` or `)`"
            return f"{quoted(token)} where {wanted} belongs"
    if expect_name:
        return "it ends where a gene belongs"
    if depth:
        return f"{depth} parenthesis(es) left open"
    return None


def _boolode_as_bnet(path: Path) -> tuple[str, list[int], dict[str, list[tuple[str, int]]]]:
    """A BoolODE rule file as `.bnet` text, the file's line of each rule, and each gene's
    regulators as BoolODE names them. A name that has no rule of its own is given BoolODE's
    (`GenerateModel`): it activates itself, `n = n`, placed after the file's rules."""
    rules, numbers, named = [], [], {}
    for number, line in enumerate(text_of(path).splitlines()[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        while len(fields) > 2 and not fields[-1].strip():
            fields.pop()
        if len(fields) != 2 or not fields[0].strip() or not fields[1].strip():
            raise DataError(f"{path}: line {number}: expected `gene<TAB>rule`, got {line.strip()[:80]!r}")
        gene, rule = fields[0].strip(), fields[1].strip()
        if not re.fullmatch(r"[^\s()]+", gene) or gene in _BOOLEAN_WORDS:
            raise DataError(
                f"{path}: line {number}: gene {gene[:40]!r} is not one name (no spaces, brackets, and, or, not)"
            )
        depth = max(itertools.accumulate((c == "(") - (c == ")") for c in rule), default=0)
        if depth > MOST_NESTING:
            raise DataError(
                f"{path}: line {number}: parentheses nested {depth} deep; at most {MOST_NESTING} "
                "(BoolODE evaluates rules with Python, whose parser stops near 200)"
            )
        if gene in named:
            raise DataError(f"{path}: line {number}: {gene} has a rule on an earlier line already")
        problem = _rule_problem(rule)
        if problem:
            raise DataError(f"{path}: line {number}: {quoted(rule[:60])} is not a Boolean rule ({problem})")
        named[gene] = _boolode_regulators(rule)
        bnet = re.sub(r"\b(and|or|not)\b", lambda word: _BOOLEAN_WORDS[word.group(1)], rule)
        rules.append(f"{gene}, {bnet}")
        numbers.append(number)
    if not rules:
        raise DataError(f"{path}: no rules")
    for name in dict.fromkeys(r for regulators in list(named.values()) for r, _ in regulators):
        if name not in named:
            named[name] = [(name, 1)]
            rules.append(f"{name}, {name}")
            numbers.append(numbers[-1])
    return "\n".join(rules) + "\n", numbers, named


def _read_topo(path: Path) -> Network:
    numbers, table = read_edge_table(path, ("Source", "Target", "Type"))
    return Network.from_rows(
        path, table["Source"], table["Target"], table["Type"], TOPO_TYPES, "Type", "1 (activation) or 2 (repression)",
        numbers,
    )  # fmt: skip


def write_topo(network: Network, path: str | Path) -> None:
    """`network` as a RACIPE / GRiNS `.topo` file (Type 1 activation, 2 repression).

    Raises:
        ValueError: a gene name holds white space, which the format cannot carry.
    """
    _refuse_spaces(network, "a .topo file separates fields by white space")
    lines = ["Source Target Type"] + [
        f"{network.genes[a]} {network.genes[b]} {1 if sign > 0 else 2}"
        for a, b, sign in zip(network.sources, network.targets, network.signs)
    ]
    atomic_write(path, lambda tmp: tmp.write_text("\n".join(lines) + "\n", encoding="utf-8"))


def write_ref_network(network: Network, path: str | Path) -> None:
    """`network` as BEELINE's `refNetwork.csv` (`Gene1,Gene2,Type`, Type + or -)."""
    lines = ["Gene1,Gene2,Type"] + [
        f"{network.genes[a]},{network.genes[b]},{'+' if sign > 0 else '-'}"
        for a, b, sign in zip(network.sources, network.targets, network.signs)
    ]
    atomic_write(path, lambda tmp: tmp.write_text("\n".join(lines) + "\n", encoding="utf-8"))


def write_ranked_edges(weights, genes: list[str] | tuple[str, ...], path: str | Path) -> None:
    """An inferred `(G, G)` interaction matrix `[target, source]` (as `InferenceResult.weights`) as
    BEELINE's `rankedEdges.csv`: tab-separated `Gene1 Gene2 EdgeWeight` with EdgeWeight = |W|,
    strongest first, self-loops and zero (pruned) edges left out.

    Raises:
        ValueError: the matrix is not square over `genes`.
    """
    matrix = np.abs(np.asarray(weights, dtype=np.float64))
    if matrix.shape != (len(genes), len(genes)):
        raise ValueError(f"weights: shape {matrix.shape} is not ({len(genes)}, {len(genes)}) over the genes")
    target, source = np.nonzero(matrix * ~np.eye(len(genes), dtype=bool))
    strength = matrix[target, source]
    order = np.argsort(-strength, kind="stable")
    lines = ["Gene1\tGene2\tEdgeWeight"] + [
        f"{genes[source[i]]}\t{genes[target[i]]}\t{float(strength[i])!r}" for i in order
    ]
    atomic_write(path, lambda tmp: tmp.write_text("\n".join(lines) + "\n", encoding="utf-8"))


def _refuse_spaces(network: Network, why: str) -> None:
    spaced = [g for g in network.genes if any(c.isspace() for c in g)]
    if spaced:
        raise ValueError(f"genes: {spaced[0]!r} holds white space; {why}")


BEELINE_INPUTS = ("ExpressionData.csv", "PseudoTime.csv", "refNetwork.csv")


def write_beeline_inputs(result, network: Network, folder: str | Path, cells: int, seed: int = 0) -> list[Path]:
    """BEELINE's three input files from a simulation (`simulate` or `simulate_langevin`) of `network`.

    Each cell is one member at one time after the start, drawn without replacement with `seed`;
    its expression is the mRNA level of the two-stage form (`m_<gene>`), or the gene's level of
    the one-variable form, and its pseudotime is the simulation time. Cells are named
    `E<member>_<time index>`, as BoolODE names them.

    Raises:
        ValueError: more cells than (time, member) pairs after the start, or genes the result lacks.
        FileExistsError: one of the files exists already (nothing is replaced).
    """
    import pandas as pd

    folder = Path(folder)
    existing = [name for name in BEELINE_INPUTS if (folder / name).exists()]
    if existing:
        raise FileExistsError(f"{folder}: already holds {', '.join(existing)}; nothing is replaced")
    values, member, time_index, ids = _sample_cells(result, network, cells, seed)
    expression = pd.DataFrame(values.T, index=list(network.genes), columns=ids)
    pseudotime = pd.DataFrame({"PseudoTime": result["time"].values[time_index]}, index=ids)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / "ExpressionData.csv", lambda tmp: expression.to_csv(tmp))
    atomic_write(folder / "PseudoTime.csv", lambda tmp: pseudotime.to_csv(tmp))
    write_ref_network(network, folder / "refNetwork.csv")
    return [folder / name for name in BEELINE_INPUTS]


def _sample_cells(result, network: Network, cells: int | None, seed: int):
    """`(cells, genes)` expression of cells drawn without replacement from the (time after the
    start, member) pairs (all of them when `cells` is None), their members, time indices and ids.

    Raises:
        ValueError: more cells than pairs, or a gene the result lacks.
    """
    variables = [str(v) for v in result["variable"].values]
    names = [f"m_{g}" if f"m_{g}" in variables else g for g in network.genes]
    missing = [n for n in names if n not in variables]
    if missing:
        raise ValueError(f"result: no variable {missing[0]!r} for gene of the network")
    state = result["state"].sel(variable=names).values  # (time, gene, member)
    n_times, _, n_members = state.shape
    pairs = (n_times - 1) * n_members
    cells = pairs if cells is None else cells
    if not 0 < cells <= pairs:
        raise ValueError(f"cells: {cells} must lie in 1..{pairs} (time points after the start x members)")
    chosen = np.sort(np.random.default_rng(seed).choice(pairs, size=cells, replace=False))
    time_index, member = 1 + chosen // n_members, chosen % n_members
    ids = [f"E{m}_{t}" for m, t in zip(member, time_index)]
    return state[time_index, :, member], member, time_index, ids


def write_anndata(result, network: Network, path: str | Path, cells: int | None = None, seed: int = 0) -> None:
    """A simulation of `network` as an AnnData `.h5ad` file (the `anndata` package) for scanpy users.

    `X` is cells x genes (mRNA of the two-stage form, else the gene's level), cells drawn as in
    `write_beeline_inputs` (every member at every time after the start when `cells` is None);
    `.obs` holds each cell's `member` and `time`; `.var` is indexed by gene; `.uns` holds the
    network (`source`, `target`, `sign`) and every parameter of the simulation as an array over
    members (join on `.obs["member"]`). Written atomically.

    Raises:
        ValueError: more cells than the simulation holds, or a gene the result lacks.
    """
    anndata = import_anndata()
    import pandas as pd

    values, member, time_index, ids = _sample_cells(result, network, cells, seed)
    obs = pd.DataFrame({"member": member, "time": result["time"].values[time_index]}, index=ids)
    parameters = {name: np.asarray(result[name].values) for name in result.data_vars if name != "state"}
    uns = {
        "network": {
            "source": np.asarray([network.genes[i] for i in network.sources]),
            "target": np.asarray([network.genes[i] for i in network.targets]),
            "sign": np.asarray(network.signs, dtype=np.int8),
        },
        "parameters": parameters,
    }
    data = anndata.AnnData(X=values.astype(np.float32), obs=obs, var=pd.DataFrame(index=list(network.genes)), uns=uns)
    atomic_write(path, lambda tmp: data.write_h5ad(tmp))


@dataclass
class CellData:
    """Cells read from an `.h5ad` file."""

    expression: xr.DataArray
    """`(cell, gene)` levels, with every `.obs` column as a coordinate over `cell`."""
    network: Network | None
    """The network in `.uns["network"]` (as `write_anndata` writes it), None where there is none."""
    parameters: dict[str, np.ndarray] = field(default_factory=dict)
    """`.uns["parameters"]`: each simulation parameter as an array over members."""


def read_anndata(path: str | Path, layer: str | None = None) -> CellData:
    """An AnnData `.h5ad` file as `CellData`: `X` (or the named `layer`; dense or sparse) as cells x
    genes, `.obs` columns as coordinates, and the network and parameters `write_anndata` puts in `.uns`.

    Raises:
        DataError: a missing file, a file anndata cannot read, no `X` (a valid file may hold none)
            or no such layer, a non-finite level (cell and gene named), or a network in `.uns`
            without `source`, `target` and `sign` of one length.
    """
    data, _ = opened(Path(path))
    values = expression_levels(data, layer, str(path))
    cells, genes = list(map(str, data.obs_names)), list(map(str, data.var_names))
    coords = {"cell": cells, "gene": genes}
    coords.update({str(name): ("cell", data.obs[name].to_numpy()) for name in data.obs.columns})
    expression = xr.DataArray(values, dims=("cell", "gene"), coords=coords, name="expression")
    network = None
    if "network" in data.uns:
        table = data.uns["network"]
        missing = [key for key in ("source", "target", "sign") if key not in table]
        if missing or not len(table["source"]) == len(table["target"]) == len(table["sign"]):
            raise DataError(f"{path}: uns['network'] needs source, target and sign of one length (missing: {missing})")
        edges = [(str(a), str(b), int(sign)) for a, b, sign in zip(table["source"], table["target"], table["sign"])]
        named = list(dict.fromkeys([*genes, *(gene for a, b, _ in edges for gene in (a, b))]))
        try:
            network = Network.from_edges(named, edges)
        except ValueError as error:
            raise DataError(f"{path}: uns['network']: {error}") from None
    parameters = {str(k): np.asarray(v) for k, v in data.uns.get("parameters", {}).items()}
    return CellData(expression, network, parameters)
