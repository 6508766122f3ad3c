r"""A gene regulatory network: genes and signed edges, from edge lists, matrices, graphs and files.

An edge `source -> target` activates (+1) or represses (-1) its target.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from biogrn.core import DataError, read_text
from biogrn.grn._boolean import bnet_primes, pyboolnet
from biogrn.grn._edge_tables import read_edge_table

__all__ = ["Network", "RepeatedEdgeWarning"]

_SIGN_WORDS = {1: "activating", -1: "repressing"}


class RepeatedEdgeWarning(UserWarning):
    """A network file lists the same edge, with the same sign, on more than one line."""


@dataclass(frozen=True)
class Network:
    """Genes and signed edges `source -> target` (sign +1 activates, -1 represses)."""

    genes: tuple[str, ...]
    sources: tuple[int, ...]
    targets: tuple[int, ...]
    signs: tuple[int, ...]

    @classmethod
    def from_edges(cls, genes: Sequence[str], edges: Sequence[tuple[str, str, int]]) -> Network:
        """From `(source, target, sign)` triples naming genes.

        Raises:
            ValueError: no genes, a gene listed twice, an unknown gene, a sign other than +1 / -1,
                or an edge given twice.
        """
        if not genes:
            raise ValueError("genes: a network needs at least one gene")
        index = {}
        for i, gene in enumerate(genes):
            if gene in index:
                raise ValueError(f"genes[{i}]: {gene!r} is listed twice")
            index[gene] = i
        seen, sources, targets, signs = set(), [], [], []
        for k, (a, b, sign) in enumerate(edges):
            for gene in (a, b):
                if gene not in index:
                    raise ValueError(f"edges[{k}]: gene {gene!r} is unknown")
            if sign not in (1, -1):
                raise ValueError(f"edges[{k}]: sign {sign!r} must be +1 or -1")
            if (a, b) in seen:
                raise ValueError(f"edges[{k}]: {a} -> {b} is given twice")
            seen.add((a, b))
            sources.append(index[a])
            targets.append(index[b])
            signs.append(int(sign))
        return cls(tuple(genes), tuple(sources), tuple(targets), tuple(signs))

    @classmethod
    def from_matrix(cls, matrix, genes: Sequence[str] | None = None) -> Network:
        """From a signed `(n, n)` matrix, entry `[source, target]` in {-1, 0, +1}."""
        matrix = np.asarray(matrix)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"matrix: expected a square matrix, got shape {matrix.shape}")
        if not np.isin(matrix, (-1, 0, 1)).all():
            raise ValueError("matrix: entries must be -1, 0 or +1")
        genes = list(genes) if genes is not None else [f"g{i}" for i in range(len(matrix))]
        a, b = np.nonzero(matrix)
        return cls.from_edges(genes, [(genes[i], genes[j], int(matrix[i, j])) for i, j in zip(a, b)])

    @classmethod
    def random(cls, genes: int, edges: int, seed: int) -> Network:
        """`edges` distinct edges between `genes` genes (no self-loops), drawn uniformly, each
        activating or repressing with probability 1/2: RACIPE's random topologies. Same seed, same network.

        Raises:
            ValueError: fewer than 2 genes, or `edges` outside 1 to genes x (genes - 1).
        """
        if genes < 2:
            raise ValueError(f"genes: a random network needs at least 2 genes, got {genes}")
        pairs = [(a, b) for a in range(genes) for b in range(genes) if a != b]
        if not 1 <= edges <= len(pairs):
            raise ValueError(f"edges: must be 1 to {len(pairs)} for {genes} genes, got {edges}")
        rng = np.random.default_rng(seed)
        matrix = np.zeros((genes, genes), int)
        for k in rng.choice(len(pairs), edges, replace=False):
            matrix[pairs[k]] = rng.choice([-1, 1])
        return cls.from_matrix(matrix)

    @classmethod
    def from_graph(cls, graph, sign_attribute: str = "sign") -> Network:
        """From a networkx directed graph whose edges carry a +1 / -1 `sign` attribute."""
        genes = [str(n) for n in graph.nodes]
        return cls.from_edges(
            genes, [(str(a), str(b), data.get(sign_attribute, 1)) for a, b, data in graph.edges(data=True)]
        )

    @classmethod
    def from_file(cls, path: str | Path) -> Network:
        """From a table with columns `source, target, sign` in any order (sign: +1/-1, or
        activation/repression), separated by commas, tabs or spaces (`read_edge_table`).

        Raises:
            DataError: no edges, a missing column or a bad sign, with the file and line.
        """
        path = Path(path)
        numbers, table = read_edge_table(path, ("source", "target", "sign"))
        words = {"1": 1, "+1": 1, "+": 1, "activation": 1, "-1": -1, "-": -1, "repression": -1}
        kinds = [k.strip().lower() for k in table["sign"]]
        return cls.from_rows(
            path, table["source"], table["target"], kinds, words, "sign", "+1, -1, activation or repression", numbers
        )

    @classmethod
    def from_rows(
        cls,
        path: Path,
        sources,
        targets,
        kinds,
        meaning: dict,
        column: str,
        allowed: str,
        numbers: list[int] | None = None,
    ) -> Network:
        """From the rows of a network file: `kinds` are read through `meaning` into +1 / -1; genes
        are numbered as they first appear. `numbers` are the rows' line numbers (default: a header,
        then one row per line). A row that repeats an earlier one exactly is kept once, with a
        `RepeatedEdgeWarning` naming both lines (BEELINE reads such files, deduplicating them).

        Raises:
            DataError: a kind outside `meaning` (`column` and `allowed` name it), an empty gene
                name, no rows, or one pair given both signs (both lines named); with the file and line.
        """
        sources, targets, kinds = list(sources), list(targets), list(kinds)
        numbers = numbers or list(range(2, len(sources) + 2))
        genes, edges, first = {}, [], {}  # genes in order of first appearance (a dict: no quadratic scan)
        for number, a, b, kind in zip(numbers, sources, targets, kinds):
            a, b, kind = str(a).strip(), str(b).strip(), str(kind).strip()
            if kind not in meaning:
                raise DataError(f"{path}: line {number}: {column} {kind!r} is not {allowed}")
            if not a or not b:
                raise DataError(f"{path}: line {number}: an empty gene name")
            sign = meaning[kind]
            if (a, b) in first:
                earlier, earlier_sign = first[a, b]
                if earlier_sign != sign:
                    raise DataError(
                        f"{path}: line {number}: {a} -> {b} is {_SIGN_WORDS[sign]} here and "
                        f"{_SIGN_WORDS[earlier_sign]} on line {earlier}; an edge has one sign"
                    )
                warnings.warn(
                    f"{path}: line {number} repeats line {earlier} ({a} -> {b}); read once",
                    RepeatedEdgeWarning,
                    stacklevel=3,
                )
                continue
            first[a, b] = (number, sign)
            genes.setdefault(a, None)
            genes.setdefault(b, None)  # after `a`: a self-loop `a -> a` names one gene
            edges.append((a, b, sign))
        if not edges:
            raise DataError(f"{path}: no edges (a network file lists one edge per line)")
        return cls.from_edges(list(genes), edges)

    @classmethod
    def from_bnet(cls, path: str | Path) -> Network:
        """From a Boolean model in BooleanNet's `.bnet` form (`target, rule` per line, `!`, `&`, `|`).

        The signed interaction graph comes from the rules' prime implicants (pyboolnet, the
        `boolean` extra): `a -> b` is +1 where `a` activates `b`, -1 where it represses. A
        regulator that does both (neither monotone) has no single sign and is refused.

        Raises:
            DataError: a missing file, a rule that does not parse (with its line), or a dual sign.
        """
        path = Path(path)
        if not path.is_file():
            raise DataError(f"{path}: no such file")
        return cls.from_bnet_text(read_text(path, "network file"), str(path))

    @classmethod
    def from_bnet_text(cls, text: str, origin: str, line_numbers: list[int] | None = None) -> Network:
        """From `.bnet` rules held in `text`; `origin` names the source in errors, `line_numbers`
        the source line of each line of `text` (default: the same line).

        Raises:
            DataError: a rule that does not parse (with its line), or a dual sign.
        """
        primes = bnet_primes(text)
        if primes is None:
            for index, line in enumerate(text.splitlines()):
                body = line.split("#")[0].strip()
                if (
                    body
                    and not body.replace(" ", "").lower().startswith("targets,factors")
                    and bnet_primes(body) is None
                ):
                    number = line_numbers[index] if line_numbers else index + 1
                    shown = line.strip() if len(line.strip()) <= 80 else line.strip()[:77] + "..."
                    raise DataError(f"{origin}: line {number}: {shown!r} is not a Boolean rule")
            raise DataError(f"{origin}: not a Boolean model")
        return cls._from_primes(primes, origin)

    @classmethod
    def published(cls, name: str) -> Network:
        """A published Boolean model's topology from pyboolnet's repository (for example
        `krumsiek_myeloid`, the HSC model of BEELINE's curated set, or `faure_cellcycle`)."""
        repository = pyboolnet("repository")
        names = repository.get_all_names()
        if name not in names:
            raise ValueError(f"name: {name!r} is not in pyboolnet's repository; choose one of {sorted(names)}")
        return cls._from_primes(repository.get_primes(name), name)

    @classmethod
    def _from_primes(cls, primes: dict, origin: str) -> Network:
        graph = pyboolnet("interaction_graphs").primes2igraph(primes)
        edges = []
        for a, b, data in graph.edges(data=True):
            if len(data["sign"]) != 1:
                raise DataError(f"{origin}: {a} -> {b} both activates and represses; it has no single sign")
            edges.append((str(a), str(b), next(iter(data["sign"]))))
        return cls.from_edges(sorted(str(g) for g in graph.nodes), edges)

    def matrix(self) -> np.ndarray:
        """The signed `(n, n)` matrix, entry `[source, target]` in {-1, 0, +1}: `from_matrix`'s inverse."""
        matrix = np.zeros((self.n_genes, self.n_genes), int)
        matrix[list(self.sources), list(self.targets)] = self.signs
        return matrix

    @property
    def n_genes(self) -> int:
        return len(self.genes)

    @property
    def n_edges(self) -> int:
        return len(self.sources)
