r"""Gene regulatory networks in their own right: many parameter sets simulated at once.

A `Network` is a set of genes and signed edges (source regulates target: +1 activation,
-1 repression). Two model forms, sharing the Hill functions of `biogrn.kinetics`:

- `ShiftedHill` (RACIPE, Huang et al. 2017), one variable per gene:
  $\dot x_i = g_i \prod_{j \to i} H^S(x_j; K_{ji}, n_{ji}, \lambda_{ji}) - k_i x_i$, with
  $\lambda > 1$ for activation and $\lambda < 1$ for repression.
- `TwoStage` (the mRNA/protein form of Eq. 1, as BoolODE writes it),
  $\dot m_i = b_i + a_i \prod_{j \to i} H^\pm(p_j; K_{ji}, n_{ji}) - \gamma^m_i m_i$,
  $\dot p_i = \kappa_i m_i - \gamma^p_i p_i$ (the regulators act together, an AND of their inputs).

Parameters are tensors with a leading *member* axis (one row per parameter set), states are
`(members, variables)`; one `torchdiffeq.odeint` call integrates every member, and the product
over each gene's regulators is a `scatter_reduce` over the edges: no Python loop over members or
edges. `simulate` returns an `xarray.Dataset` (time x gene x member, parameters as variables).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import xarray as xr
from torch import Tensor

from biogrn.data.dataset import DataError, read_table
from biogrn.kinetics import hill_activation, hill_repression, shifted_hill

__all__ = ["Network", "ShiftedHill", "TwoStage", "classify_steady_states", "repressilator", "sample_parameters",
           "simulate", "simulate_langevin", "toggle_switch"]


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
            ValueError: an unknown gene, a sign other than +1 / -1, or an edge given twice.
        """
        index = {g: i for i, g in enumerate(genes)}
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
    def from_graph(cls, graph, sign_attribute: str = "sign") -> Network:
        """From a networkx directed graph whose edges carry a +1 / -1 `sign` attribute."""
        genes = [str(n) for n in graph.nodes]
        return cls.from_edges(genes, [(str(a), str(b), data.get(sign_attribute, 1))
                                      for a, b, data in graph.edges(data=True)])

    @classmethod
    def from_file(cls, path: str | Path) -> Network:
        """From a CSV with columns `source, target, sign` (sign: +1/-1, or activation/repression).

        Raises:
            DataError: a missing column or a bad sign, with the file and line.
        """
        path = Path(path)
        table = read_table(path, ("source", "target", "sign"))
        words = {"1": 1, "+1": 1, "+": 1, "activation": 1, "-1": -1, "-": -1, "repression": -1}
        edges, genes = [], []
        for row in range(len(table)):
            a, b, sign = (table[c].iloc[row].strip() for c in ("source", "target", "sign"))
            if sign.lower() not in words:
                raise DataError(f"{path}: line {row + 2}: sign {sign!r} is not +1, -1, activation or repression")
            if not a or not b:
                raise DataError(f"{path}: line {row + 2}: an empty gene name")
            edges.append((a, b, words[sign.lower()]))
            genes += [g for g in (a, b) if g not in genes]
        try:
            return cls.from_edges(genes, edges)
        except ValueError as error:
            raise DataError(f"{path}: {error}") from None

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
        text = path.read_text()
        primes = _bnet_primes(text)
        if primes is None:
            for number, line in enumerate(text.splitlines(), start=1):
                body = line.split("#")[0].strip()
                if body and not body.replace(" ", "").lower().startswith("targets,factors") \
                        and _bnet_primes(body) is None:
                    raise DataError(f"{path}: line {number}: {line.strip()!r} is not a .bnet rule `target, rule`")
            raise DataError(f"{path}: not a Boolean model in .bnet form")
        return cls._from_primes(primes, str(path))

    @classmethod
    def published(cls, name: str) -> Network:
        """A published Boolean model's topology from pyboolnet's repository (for example
        `krumsiek_myeloid`, the HSC model of BEELINE's curated set, or `faure_cellcycle`)."""
        repository = _pyboolnet("repository")
        names = repository.get_all_names()
        if name not in names:
            raise ValueError(f"name: {name!r} is not in pyboolnet's repository; choose one of {sorted(names)}")
        return cls._from_primes(repository.get_primes(name), name)

    @classmethod
    def _from_primes(cls, primes: dict, origin: str) -> Network:
        graph = _pyboolnet("interaction_graphs").primes2igraph(primes)
        edges = []
        for a, b, data in graph.edges(data=True):
            if len(data["sign"]) != 1:
                raise DataError(f"{origin}: {a} -> {b} both activates and represses; it has no single sign")
            edges.append((str(a), str(b), next(iter(data["sign"]))))
        return cls.from_edges(sorted(str(g) for g in graph.nodes), edges)

    @property
    def n_genes(self) -> int:
        return len(self.genes)

    @property
    def n_edges(self) -> int:
        return len(self.sources)




@contextmanager
def _pyboolnet_logging(level: int):
    logger = logging.getLogger("pyboolnet")
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _pyboolnet(module: str):
    # pyboolnet warns at import about graph-drawing programs (Graphviz) that nothing here uses
    with _pyboolnet_logging(logging.ERROR):
        try:
            return importlib.import_module(f"pyboolnet.{module}")
        except ImportError:
            raise ImportError("Boolean models need pyboolnet: pip install 'biogrn[boolean]'") from None


def _bnet_primes(text: str) -> dict | None:
    """Prime implicants of `.bnet` text, or None where pyboolnet's BNetToPrime rejects it."""
    file_exchange = _pyboolnet("file_exchange")
    with _pyboolnet_logging(logging.CRITICAL):  # a rejection becomes a DataError naming the line
        try:
            return file_exchange.bnet2primes(text)
        except Exception:  # noqa: BLE001 - BNetToPrime's failures surface as bare Exceptions
            return None

def _product_over_regulators(values: Tensor, targets: Tensor, n_genes: int) -> Tensor:
    """`(members, edges)` factors -> `(members, genes)` products over each gene's incoming edges."""
    out = torch.ones(values.shape[0], n_genes, dtype=values.dtype, device=values.device)
    return out.scatter_reduce(1, targets.expand_as(values), values, reduce="prod")


class ShiftedHill(torch.nn.Module):
    """RACIPE's one-variable form for a batch of parameter sets.

    Parameters (`members` leading): `production` and `degradation` `(M, genes)`; `threshold`,
    `hill` and `fold` `(M, edges)`.
    """

    def __init__(self, network: Network, production: Tensor, degradation: Tensor, threshold: Tensor, hill: Tensor,
                 fold: Tensor):
        super().__init__()
        self.network = network
        self.register_buffer("sources", torch.as_tensor(network.sources, dtype=torch.long))
        self.register_buffer("targets", torch.as_tensor(network.targets, dtype=torch.long))
        self.production, self.degradation = production, degradation
        self.threshold, self.hill, self.fold = threshold, hill, fold
        self.variables = list(network.genes)

    def rates(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Production and degradation fluxes, each `(M, genes)`; the field is their difference."""
        factors = shifted_hill(x[:, self.sources], self.threshold, self.hill, self.fold)
        made = self.production * _product_over_regulators(factors, self.targets, self.network.n_genes)
        return made, self.degradation * x

    def forward(self, t: Tensor, x: Tensor) -> Tensor:
        made, lost = self.rates(x)
        return made - lost

    def parameters_dict(self) -> dict[str, Tensor]:
        return {"production": self.production, "degradation": self.degradation, "threshold": self.threshold,
                "hill": self.hill, "fold": self.fold}


class TwoStage(torch.nn.Module):
    """The mRNA/protein form for a batch of parameter sets; state `(M, 2 * genes)` = `[m, p]`.

    Parameters: `basal`, `rate`, `gamma_m`, `translation`, `gamma_p` `(M, genes)`; `threshold`,
    `hill` `(M, edges)`. Activating edges use $H^+$, repressing ones $H^-$.
    """

    def __init__(self, network: Network, basal: Tensor, rate: Tensor, gamma_m: Tensor, translation: Tensor,
                 gamma_p: Tensor, threshold: Tensor, hill: Tensor):
        super().__init__()
        self.network = network
        self.register_buffer("sources", torch.as_tensor(network.sources, dtype=torch.long))
        self.register_buffer("targets", torch.as_tensor(network.targets, dtype=torch.long))
        self.register_buffer("activating", torch.as_tensor(network.signs) > 0)
        self.basal, self.rate, self.gamma_m = basal, rate, gamma_m
        self.translation, self.gamma_p, self.threshold, self.hill = translation, gamma_p, threshold, hill
        self.variables = [f"m_{g}" for g in network.genes] + [f"p_{g}" for g in network.genes]

    def rates(self, y: Tensor) -> tuple[Tensor, Tensor]:
        """Production and degradation fluxes of `[m, p]`, each `(M, 2 * genes)`."""
        n = self.network.n_genes
        m, p = y[:, :n], y[:, n:]
        regulator = p[:, self.sources]
        factors = torch.where(self.activating, hill_activation(regulator, self.threshold, self.hill),
                              hill_repression(regulator, self.threshold, self.hill))
        transcription = self.basal + self.rate * _product_over_regulators(factors, self.targets, n)
        made = torch.cat([transcription, self.translation * m], dim=1)
        return made, torch.cat([self.gamma_m * m, self.gamma_p * p], dim=1)

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        made, lost = self.rates(y)
        return made - lost

    def parameters_dict(self) -> dict[str, Tensor]:
        return {"basal": self.basal, "rate": self.rate, "gamma_m": self.gamma_m, "translation": self.translation,
                "gamma_p": self.gamma_p, "threshold": self.threshold, "hill": self.hill}


def simulate(model: torch.nn.Module, y0: Tensor, times: Tensor, method: str = "dopri5", rtol: float = 1e-6,
             atol: float = 1e-8) -> xr.Dataset:
    """Integrate every member at once (one odeint call); `y0` is `(members, variables)`.

    Returns a Dataset with `state (time, variable, member)` and every parameter as a variable
    over `member` and `gene` or `edge`.
    """
    import torchdiffeq

    solution = torchdiffeq.odeint(model, y0, times, method=method, rtol=rtol, atol=atol)
    return _as_dataset(model, solution, times)


def simulate_langevin(model: torch.nn.Module, y0: Tensor, times: Tensor, dt: float = 0.01, volume: float = 100.0,
                      generator: torch.Generator | None = None) -> xr.Dataset:
    r"""The chemical Langevin equation for single-cell-like data, every member at once (Euler-Maruyama):

    $x_{t + \Delta t} = \left[x_t + (P - D)\,\Delta t + \sqrt{(P + D)\,\Delta t / \Omega}\;\xi\right]_+$,

    with production $P$ and degradation $D$ fluxes of the model (`model.rates`), $\xi$ standard
    normal per member and variable, and the system size $\Omega$ (`volume`): the noise shrinks as
    $\Omega^{-1/2}$ and the deterministic model is the limit $\Omega \to \infty$. States are kept
    non-negative. Returns the same layout as `simulate`.
    """
    if dt <= 0 or volume <= 0:
        raise ValueError(f"dt and volume must be > 0; got {dt}, {volume}")
    y = y0.clone()
    out, t, index = [], float(times[0]), 0
    while index < len(times):
        if t >= float(times[index]) - 1e-12:
            out.append(y.clone())
            index += 1
            continue
        step = min(dt, float(times[index]) - t)
        made, lost = model.rates(y)
        noise = torch.randn(y.shape, generator=generator, dtype=y.dtype, device=y.device)
        y = (y + (made - lost) * step + torch.sqrt((made + lost).clamp_min(0) * step / volume) * noise).clamp_min(0)
        t += step
    return _as_dataset(model, torch.stack(out), times)


def _as_dataset(model: torch.nn.Module, solution: Tensor, times: Tensor) -> xr.Dataset:
    network = model.network
    data = {"state": (("time", "variable", "member"), solution.permute(0, 2, 1).detach().cpu().numpy())}
    for name, value in model.parameters_dict().items():
        dim = "gene" if value.shape[1] == network.n_genes else "edge"
        data[name] = (("member", dim), value.detach().cpu().numpy())
    edges = [f"{network.genes[a]}->{network.genes[b]}" for a, b in zip(network.sources, network.targets)]
    return xr.Dataset(data, coords={"time": times.cpu().numpy(), "variable": model.variables,
                                    "member": np.arange(solution.shape[1]), "gene": list(network.genes),
                                    "edge": edges})


def sample_parameters(network: Network, n: int, method: str = "sobol", seed: int = 0,
                      dtype: torch.dtype = torch.float64) -> dict[str, Tensor]:
    """Random `ShiftedHill` parameter sets in RACIPE's ranges, by scipy.stats.qmc (Sobol or Latin hypercube).

    Production 1-100, degradation 0.1-1, Hill coefficient an integer 1-6, fold change 1-100
    (its inverse for repression), as RACIPE draws them. Thresholds: 0.02-1.98 times a typical
    level of 50 / 0.55 (the ranges' mid production over mid degradation); RACIPE instead
    estimates each source gene's median level from its regulators, which is not done here.
    """
    from scipy.stats import qmc

    genes, edges = network.n_genes, network.n_edges
    widths = [genes, genes, edges, edges, edges]
    if method == "sobol":
        # Sobol points are balanced in powers of two: draw the next power and keep the first n
        unit = qmc.Sobol(sum(widths), scramble=True, seed=seed).random_base2(max(0, int(np.ceil(np.log2(n)))))[:n]
    elif method == "lhs":
        unit = qmc.LatinHypercube(sum(widths), seed=seed).random(n)
    else:
        raise ValueError(f"method: {method!r} is unknown; choose 'sobol' or 'lhs'")
    production, degradation, threshold, hill, fold = torch.split(torch.as_tensor(unit, dtype=dtype), widths, dim=1)
    fold = 1 + 99 * fold
    return {"production": 1 + 99 * production, "degradation": 0.1 + 0.9 * degradation,
            "threshold": (50.0 / 0.55) * (0.02 + 1.96 * threshold), "hill": torch.round(1 + 5 * hill),
            "fold": torch.where(torch.as_tensor(network.signs) > 0, fold, 1 / fold)}


def classify_steady_states(model: torch.nn.Module, y: Tensor, tolerance: float = 1e-6) -> dict[str, Tensor]:
    """Whether each member's state `y` is a steady state (|f(y)| small) and a stable one (every
    eigenvalue of its Jacobian with negative real part); Jacobians by `torch.func.jacrev`.

    Returns `{"residual": (M,), "steady": (M,), "stable": (M,), "eigenvalues": (M, V)}`.
    """
    from torch.func import jacrev

    def summed(state: Tensor) -> Tensor:
        # members are independent: the Jacobian of the field summed over members holds each
        # member's block (one reverse pass per variable, none per member)
        return model(torch.zeros(()), state).sum(dim=0)

    jacobians = jacrev(summed)(y).permute(1, 0, 2)  # (M, V, V)
    eigenvalues = torch.linalg.eigvals(jacobians)
    residual = model(torch.zeros(()), y).abs().amax(dim=1)
    steady = residual < tolerance * (1 + y.abs().amax(dim=1))
    return {"residual": residual, "steady": steady, "stable": steady & (eigenvalues.real < 0).all(dim=1),
            "eigenvalues": eigenvalues}


# -- presets with their published parameters ------------------------------------------------------------------


def toggle_switch(members: int = 1, iptg: float | Tensor = 0.0, dtype: torch.dtype = torch.float64) -> ShiftedHill:
    r"""The genetic toggle switch of Gardner, Cantor & Collins (2000), their fitted pTAK parameters:

    $\dot u = \alpha_1 / (1 + v^\beta) - u$, $\dot v = \alpha_2 / (1 + (u / (1 + [\mathrm{IPTG}]/K)^\eta)^\gamma) - v$,
    $\alpha_1 = 156.25$, $\alpha_2 = 15.6$, $\beta = 2.5$, $\gamma = 1$, $\eta = 2.0015$,
    $K = 2.9618 \times 10^{-5}$ M. Bistable without IPTG; enough IPTG (about $2 \times 10^{-5}$ M and
    more) leaves one state. In shifted-Hill form: pure repression ($\lambda = 0$), threshold 1,
    the inducer scaling the u -> v threshold by $(1 + [\mathrm{IPTG}]/K)^\eta$.
    """
    network = Network.from_edges(("u", "v"), [("v", "u", -1), ("u", "v", -1)])
    iptg = torch.as_tensor(iptg, dtype=dtype).expand(members)
    ones = torch.ones(members, 1, dtype=dtype)
    production = torch.cat([156.25 * ones, 15.6 * ones], dim=1)
    threshold = torch.cat([ones, ((1 + iptg / 2.9618e-5) ** 2.0015).unsqueeze(1)], dim=1)
    hill = torch.cat([2.5 * ones, 1.0 * ones], dim=1)
    return ShiftedHill(network, production, torch.ones(members, 2, dtype=dtype), threshold, hill,
                       torch.zeros(members, 2, dtype=dtype))


def repressilator(members: int = 1, hill: float | Tensor = 2.0, dtype: torch.dtype = torch.float64) -> TwoStage:
    r"""The repressilator of Elowitz & Leibler (2000), Box 1 (BioModels BIOMD0000000012):

    $\dot m_i = \alpha_0 + \alpha / (1 + p_j^n) - m_i$, $\dot p_i = \beta (m_i - p_i)$,
    lacI <- cI, tetR <- lacI, cI <- tetR; $\alpha_0 = 0.2164$, $\alpha = 216.404$, $\beta = 0.2$,
    $n = 2$. Oscillates with these; with $n = 1$ the symmetric steady state is stable.
    """
    network = Network.from_edges(("lacI", "tetR", "cI"), [("cI", "lacI", -1), ("lacI", "tetR", -1),
                                                          ("tetR", "cI", -1)])
    hill = torch.as_tensor(hill, dtype=dtype).expand(members).unsqueeze(1).expand(members, 3)
    full = lambda value: torch.full((members, 3), value, dtype=dtype)  # noqa: E731
    return TwoStage(network, basal=full(0.2164), rate=full(216.404), gamma_m=full(1.0), translation=full(0.2),
                    gamma_p=full(0.2), threshold=full(1.0), hill=hill.clone())
