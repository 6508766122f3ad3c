r"""BoolODE's ODE form of a Boolean model (Pratapa et al. 2020, BEELINE), batched over members.

Gene $i$ with Boolean rule $B_i$ over its regulators $R_i$ has an mRNA $m_i$ and a protein $p_i$:

$$\dot m_i = \mu_i\, f_i(p) - \gamma^m_i m_i, \qquad \dot p_i = \kappa_i m_i - \gamma^p_i p_i,$$

$$f_i(p) = \frac{\sum_{S \subseteq R_i} B_i(S) \prod_{j \in S} (p_j/K_{ji})^{n_{ji}}}
{\sum_{S \subseteq R_i} \prod_{j \in S} (p_j/K_{ji})^{n_{ji}}}
= \sum_{S \subseteq R_i,\; B_i(S) = 1}\; \prod_{j \in S} H^+_{ji}
\prod_{j \in R_i \setminus S} \bigl(1 - H^+_{ji}\bigr),$$

$B_i(S)$ being the rule with the regulators in $S$ on and the others off, and
$H^+_{ji} = H^+(p_j; K_{ji}, n_{ji})$. The denominator is $\prod_{j}(1 + (p_j/K_{ji})^{n_{ji}})$, so
$f_i$ is the probability that the rule holds when each regulator is on, independently, with
probability $H^+$: the second form is the one computed, a sum of products of numbers in $[0, 1]$
that cannot overflow at BoolODE's Hill coefficient of 10 (the first reaches $200^{10}$ per
regulator at BEELINE's strongest interactions).

Every true row of every gene's truth table is one *term*; a term's factors are gathered per
(term, regulator) pair and multiplied with one `scatter_reduce`, so the field has no Python loop
over members, edges or terms. The truth tables come from the rules' prime implicants (pyboolnet).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from biogrn.core import DataError
from biogrn.dynamics import hill_activation
from biogrn.grn._boolean import bnet_primes
from biogrn.grn._network import Network

__all__ = ["BOOLODE_DEFAULTS", "BoolODE", "BooleanRules"]

BOOLODE_DEFAULTS = {"transcription": 20.0, "gamma_m": 10.0, "translation": 10.0, "gamma_p": 1.0, "hill": 10.0}
r"""BoolODE's kinetic defaults (its `parameters.yaml`); the threshold is half the largest protein
level, $K = \tfrac12 (\mu/\gamma^m)(\kappa/\gamma^p) = 10$, divided by an interaction's strength."""

_MOST_REGULATORS = 12
"""Regulators of one gene at most: its truth table has 2**12 rows, each true one a term of the ODE,
and pyboolnet's prime implicants of a 12-input rule take seconds (a 16-input parity rule of 3.5 KB
ran past a minute). BEELINE's models have at most 6."""


@dataclass(frozen=True)
class BooleanRules:
    """A Boolean model's signed network and the true rows of every gene's truth table.

    `pair_term`, `pair_edge` and `pair_on` list, for every (true row, regulator) pair, the row's
    term, the regulator's edge in `network` and whether the regulator is on in that row;
    `term_target` is the gene of each term. `redundant` marks, per edge of `network`, a regulator
    that a BoolODE rule names but that changes none of its truth table's rows (GSD's CBX2 -> SOX9,
    absorbed by `SRY or PGD2`): BoolODE keeps it, in the ODE (where it cancels exactly) and in
    the `refNetwork.csv` BEELINE scores against, so it is kept here too.
    """

    network: Network
    term_target: np.ndarray
    pair_term: np.ndarray
    pair_edge: np.ndarray
    pair_on: np.ndarray
    redundant: np.ndarray

    @classmethod
    def from_bnet_text(
        cls,
        text: str,
        origin: str = "rules",
        line_numbers: list[int] | None = None,
        named: Mapping[str, list[tuple[str, int]]] | None = None,
    ) -> BooleanRules:
        """From rules in BooleanNet's `.bnet` form (`target, rule`; `!`, `&`, `|`); `origin` names
        the source in errors, `line_numbers` the source line of each line of `text`; `named` lists
        each gene's regulators as its rule names them, with a sign for one the truth table does
        not decide (BoolODE's rule files; `.bnet` keeps the functional regulators only).

        Raises:
            DataError: a rule that does not parse, a regulator that both activates and represses,
                or a gene with more than `_MOST_REGULATORS` regulators (refused before the prime
                implicants are computed, which take time exponential in them).
        """
        for index, line in enumerate(text.splitlines()):
            target, _, rule = line.partition("#")[0].partition(",")
            names = set(re.findall(r"[^\s,!&|()]+", rule)) - {"0", "1"}
            if len(names) > _MOST_REGULATORS:
                where = f"line {line_numbers[index] if line_numbers and index < len(line_numbers) else index + 1}"
                raise DataError(
                    f"{origin}: {where}: {target.strip()[:40]} has {len(names)} regulators; at most {_MOST_REGULATORS} "
                    f"(its truth table has 2**{len(names)} rows, each a term of the ODE)"
                )
        primes = bnet_primes(text)
        if primes is None:
            Network.from_bnet_text(text, origin, line_numbers)  # raises, naming the line that does not parse
            raise DataError(f"{origin}: not a Boolean model")
        return cls.from_primes(primes, origin, named)

    @classmethod
    def from_primes(
        cls, primes: dict, origin: str, named: Mapping[str, list[tuple[str, int]]] | None = None
    ) -> BooleanRules:
        functional = Network._from_primes(primes, origin)
        network, redundant = functional, np.zeros(functional.n_edges, dtype=bool)
        if named:
            have = {(functional.genes[a], functional.genes[b]) for a, b in zip(functional.sources, functional.targets)}
            extra = [(r, target, sign) for target, rs in named.items() for r, sign in rs if (r, target) not in have]
            edges = [
                (functional.genes[a], functional.genes[b], sign)
                for a, b, sign in zip(functional.sources, functional.targets, functional.signs)
            ]
            network = Network.from_edges(functional.genes, edges + extra)
            redundant = np.arange(network.n_edges) >= functional.n_edges
        sources, targets = np.asarray(network.sources), np.asarray(network.targets)
        term_target, pair_term, pair_edge, pair_on, terms = [], [], [], [], 0
        for gene, name in enumerate(network.genes):  # construction only: one truth table per gene
            edges = np.flatnonzero(targets == gene)
            if len(edges) > _MOST_REGULATORS:
                raise DataError(f"{origin}: {name} has {len(edges)} regulators; at most {_MOST_REGULATORS}")
            regulators = [network.genes[s] for s in sources[edges]]
            rows = (np.arange(2 ** len(edges))[:, None] >> np.arange(len(edges))) & 1
            true = np.zeros(len(rows), bool)
            for implicant in primes[name][1]:
                true |= np.all([rows[:, regulators.index(r)] == v for r, v in implicant.items()], axis=0)
            chosen = rows[true]  # (true rows, regulators): each row is one term
            term_target.append(np.full(len(chosen), gene, dtype=np.int64))
            pair_term.append(np.repeat(np.arange(terms, terms + len(chosen)), len(edges)))
            pair_edge.append(np.tile(edges, len(chosen)))
            pair_on.append(chosen.astype(bool).ravel())
            terms += len(chosen)
        parts = (np.concatenate(p) for p in (term_target, pair_term, pair_edge, pair_on))
        return cls(network, *parts, redundant)


class BoolODE(torch.nn.Module):
    """BoolODE's two-stage form for a batch of parameter sets; state `(M, 2 * genes)` = `[m, p]`.

    Parameters (`members` leading): `transcription` $\\mu$, `gamma_m`, `translation` $\\kappa$,
    `gamma_p` `(M, genes)`; `threshold` $K$ and `hill` $n$ `(M, edges)`, edges in `rules.network`'s
    order.
    """

    def __init__(
        self,
        rules: BooleanRules,
        transcription: Tensor,
        gamma_m: Tensor,
        translation: Tensor,
        gamma_p: Tensor,
        threshold: Tensor,
        hill: Tensor,
    ):
        super().__init__()
        self.rules, self.network = rules, rules.network
        long = lambda values: torch.as_tensor(values, dtype=torch.long)
        self.register_buffer("sources", long(self.network.sources))
        self.register_buffer("term_target", long(rules.term_target))
        self.register_buffer("pair_term", long(rules.pair_term))
        self.register_buffer("pair_edge", long(rules.pair_edge))
        self.register_buffer("pair_on", torch.as_tensor(rules.pair_on, dtype=torch.bool))
        self.transcription, self.gamma_m, self.translation, self.gamma_p = transcription, gamma_m, translation, gamma_p
        self.threshold, self.hill = threshold, hill
        self.variables = [f"m_{g}" for g in self.network.genes] + [f"p_{g}" for g in self.network.genes]

    @classmethod
    def defaults(
        cls,
        rules: BooleanRules,
        members: int,
        strengths: Mapping[tuple[str, str], float] | None = None,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str | None = None,
    ) -> BoolODE:
        """Every member at BoolODE's defaults (`BOOLODE_DEFAULTS`); `strengths` maps
        `(regulator, target)` to an interaction strength $s$, whose threshold becomes $K/s$.

        Raises:
            ValueError: a strength for an edge the network lacks, or one that is not > 0.
        """
        network, d = rules.network, BOOLODE_DEFAULTS
        genes = lambda value: torch.full((members, network.n_genes), value, dtype=dtype, device=device)
        half = 0.5 * d["transcription"] / d["gamma_m"] * d["translation"] / d["gamma_p"]
        edge_of = {
            (network.genes[a], network.genes[b]): k for k, (a, b) in enumerate(zip(network.sources, network.targets))
        }
        threshold = torch.full((members, network.n_edges), half, dtype=dtype, device=device)
        for (regulator, target), strength in (strengths or {}).items():
            if (regulator, target) not in edge_of:
                raise ValueError(f"strengths: {regulator} -> {target} is not an edge of the network")
            if not strength > 0:
                raise ValueError(f"strengths: {regulator} -> {target} has strength {strength}; it must be > 0")
            threshold[:, edge_of[regulator, target]] = half / strength
        hill = torch.full((members, network.n_edges), d["hill"], dtype=dtype, device=device)
        return cls(
            rules,
            genes(d["transcription"]),
            genes(d["gamma_m"]),
            genes(d["translation"]),
            genes(d["gamma_p"]),
            threshold,
            hill,
        )

    def regulation(self, p: Tensor) -> Tensor:
        """$f(p)$, `(M, genes)` in $[0, 1]$, from proteins `(M, genes)`."""
        on = hill_activation(p[:, self.sources], self.threshold, self.hill)
        chosen = on[:, self.pair_edge]
        factors = torch.where(self.pair_on, chosen, 1.0 - chosen)
        terms = torch.ones(p.shape[0], len(self.term_target), dtype=p.dtype, device=p.device)
        terms = terms.scatter_reduce(1, self.pair_term.expand_as(factors), factors, reduce="prod")
        return torch.zeros_like(p).index_add(1, self.term_target, terms)

    def rates(self, y: Tensor) -> tuple[Tensor, Tensor]:
        """Production and degradation fluxes of `[m, p]`, each `(M, 2 * genes)`."""
        n = self.network.n_genes
        m, p = y[:, :n], y[:, n:]
        made = torch.cat([self.transcription * self.regulation(p), self.translation * m], dim=1)
        return made, torch.cat([self.gamma_m * m, self.gamma_p * p], dim=1)

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        made, lost = self.rates(y)
        return made - lost

    def initial_state(self, on: Mapping[str, float], off: float = 0.01) -> Tensor:
        """BoolODE's start: mRNA `on[gene]` for the genes named, `off` for the others, and each
        protein at its level for that mRNA, $p = \\kappa m / \\gamma^p$. `(M, 2 * genes)`.

        Raises:
            ValueError: a gene the network lacks, or a negative level.
        """
        genes = self.network.genes
        m = torch.full_like(self.transcription, off)
        for gene, level in on.items():
            if gene not in genes:
                raise ValueError(f"on: {gene!r} is not a gene of the network")
            if not level >= 0:
                raise ValueError(f"on: {gene} has level {level}; it must be >= 0")
            m[:, genes.index(gene)] = level
        return torch.cat([m, self.translation * m / self.gamma_p], dim=1)

    def subset(self, index: Tensor) -> BoolODE:
        """The same rules for the members `index` only (finished members leave
        `dynamics.integrate_members`'s batch through it)."""
        return BoolODE(self.rules, *(value[index] for value in self.parameters_dict().values())).to(self.sources.device)

    def parameters_dict(self) -> dict[str, Tensor]:
        return {
            "transcription": self.transcription,
            "gamma_m": self.gamma_m,
            "translation": self.translation,
            "gamma_p": self.gamma_p,
            "threshold": self.threshold,
            "hill": self.hill,
        }
