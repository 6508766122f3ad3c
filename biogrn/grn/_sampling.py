r"""RACIPE's parameter sets and initial conditions for a network (Huang et al. 2017; RACIPE-1.0's
`RACIPELIB.c`, whose rules GRiNS follows).

Every parameter is drawn uniformly in RACIPE's default range:

| parameter | range |
|---|---|
| production $g$ | 1 to 100 |
| degradation $k$ | 0.1 to 1 |
| Hill coefficient $n$ | an integer 1 to 6, each with probability 1/6 (RACIPE's `randd`) |
| fold $\lambda$ of an activation | 1 to 100 |
| fold $\lambda$ of a repression | $1/u$, $u$ uniform in 1 to 100 |
| threshold $K_{j \to i}$ | $0.02\,M_j$ to $1.98\,M_j$ (the half-functional rule) |

**The half-functional rule** (RACIPE's `estimate_threshold`): $M_j$ is the median level of the
source gene $j$ when its own regulators act on it at random,

$$M_j = \operatorname{median}\Big[\frac{g}{k} \prod_{l \to^+ j} \frac{H^S(g'/k'; K', n', \lambda')}{\lambda'}
\prod_{l \dashv j} H^S(g'/k'; K', n', \lambda')\Big],$$

over 10,000 draws of every symbol from its range, each input at the level $g'/k'$ of an
unregulated gene and each $K'$ drawn in $0.02$ to $1.98$ times the median of $g/k$: so about half
the thresholds a gene's targets see lie below its typical level and half above. Where the lower end
$0.02\,M_j$ is below 0.01, gene $j$'s production and the thresholds of its outgoing edges are
multiplied by the smallest power of ten that lifts it to 0.01 (RACIPE's amplification; the
dynamics are the same, scaled).

Initial conditions (RACIPE's `RIVs`): each gene log-uniform between its lowest possible level,
$g \prod_{\to^+} \lambda^{-1} \prod_{\dashv} \lambda / k$, and its highest, $g/k$.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from biogrn.grn._forms import racipe_factor
from biogrn.grn._network import Network

__all__ = ["METHODS", "RACIPE_RANGES", "racipe_initial_states", "sample_parameters", "threshold_medians"]

METHODS = ("sobol", "lhs", "random")
RACIPE_RANGES = {"production": (1.0, 100.0), "degradation": (0.1, 1.0), "hill": (1, 6), "fold": (1.0, 100.0)}
"""RACIPE-1.0's default ranges (its `-minP`, `-maxP`, `-minK`, `-maxK`, `-minN`, `-maxN`, `-minF`, `-maxF`)."""
THRESHOLD_FACTORS = (0.02, 1.98)
"""The threshold range about a source's median level: $(2 \\mp 1.96)/2$, RACIPE's `f1`, `f2` at `SF = 1`."""
THRESHOLD_SAMPLES = 10_000
"""RACIPE's `num_findT`: draws behind each median level."""
SMALLEST_THRESHOLD = 0.01
"""The lowest threshold RACIPE admits before it amplifies a gene's production and thresholds."""


def _uniform(u, bounds):
    low, high = bounds
    return low + (high - low) * u


def _hill(u):
    """Integers `low`..`high`, each with the same probability, from uniform `u` in [0, 1)."""
    low, high = RACIPE_RANGES["hill"]
    return torch.clamp(torch.floor(low + (high - low + 1) * u), max=high)


def _fold(u, activating):
    """An activation's fold in 1..100; a repression's is the inverse of one drawn there."""
    fold = _uniform(u, RACIPE_RANGES["fold"])
    return torch.where(activating, fold, 1.0 / fold)


def threshold_medians(network: Network, samples: int = THRESHOLD_SAMPLES, seed: int = 0) -> np.ndarray:
    r"""Each gene's median level $M_j$ under random regulation, RACIPE's `estimate_threshold`
    (module docstring): `(genes,)`. All genes and draws at once; a gene without regulators gets the
    median of $g/k$.

    Raises:
        ValueError: `samples` below 1.
    """
    if samples < 1:
        raise ValueError(f"samples: {samples} must be at least 1")
    rng = np.random.default_rng(seed)
    draw = lambda shape: torch.as_tensor(rng.random(shape), dtype=torch.float64)
    unregulated = lambda shape: (
        _uniform(draw(shape), RACIPE_RANGES["production"]) / _uniform(draw(shape), RACIPE_RANGES["degradation"])
    )
    typical = float(unregulated((samples,)).median())  # RACIPE's MA
    edges = (samples, network.n_edges)
    activating = torch.as_tensor(network.signs) > 0
    factor = racipe_factor(
        unregulated(edges),
        _uniform(draw(edges), (THRESHOLD_FACTORS[0] * typical, THRESHOLD_FACTORS[1] * typical)),
        _hill(draw(edges)),
        _fold(draw(edges), activating),
        activating,
    )
    levels = unregulated((samples, network.n_genes))
    targets = torch.as_tensor(network.targets, dtype=torch.long).expand(samples, -1)
    levels = levels.scatter_reduce(1, targets, factor, reduce="prod")
    return levels.median(dim=0).values.numpy()


def amplification(medians: np.ndarray) -> np.ndarray:
    """RACIPE's factor for each gene: 1, or the smallest power of ten (from 10) that lifts the lowest
    threshold $0.02\\,M_j$ to `SMALLEST_THRESHOLD`."""
    lowest = THRESHOLD_FACTORS[0] * medians
    needed = np.maximum(np.ceil(np.log10(SMALLEST_THRESHOLD / lowest)), 1.0)
    power = np.where(lowest < SMALLEST_THRESHOLD, needed, 0.0)
    power += lowest * 10.0**power < SMALLEST_THRESHOLD  # log10's rounding
    return 10.0**power


def sample_parameters(
    network: Network, n: int, method: str = "sobol", seed: int = 0, dtype: torch.dtype = torch.float64
) -> dict[str, Tensor]:
    """`n` RACIPE parameter sets for `ShiftedHill`, in RACIPE's ranges and by its half-functional
    rule for thresholds (module docstring). `method`: scipy.stats.qmc's scrambled `"sobol"` points
    (GRiNS's default) or `"lhs"`, or `"random"` (independent uniform draws, as RACIPE-1.0 makes them);
    each gives every parameter RACIPE's distribution. The same seed gives the same sets.

    Returns:
        `production`, `degradation` `(n, genes)`; `threshold`, `hill`, `fold` `(n, edges)`.

    Raises:
        ValueError: `n` below 1, or an unknown `method`.
    """
    from scipy.stats import qmc

    if n < 1:
        raise ValueError(f"n: {n} parameter sets; at least 1")
    genes, edges = network.n_genes, network.n_edges
    widths = [genes, genes, edges, edges, edges]
    if method == "sobol":
        # Sobol points are balanced in powers of two: draw the next power and keep the first n
        unit = qmc.Sobol(sum(widths), scramble=True, seed=seed).random_base2(max(0, int(np.ceil(np.log2(n)))))[:n]
    elif method == "lhs":
        unit = qmc.LatinHypercube(sum(widths), seed=seed).random(n)
    elif method == "random":
        unit = np.random.default_rng(seed).random((n, sum(widths)))
    else:
        raise ValueError(f"method: {method!r} is unknown; choose one of {METHODS}")
    production, degradation, threshold, hill, fold = torch.split(torch.as_tensor(unit, dtype=dtype), widths, dim=1)
    medians = threshold_medians(network, seed=seed)
    scale = torch.as_tensor(amplification(medians), dtype=dtype)
    sources = torch.as_tensor(network.sources, dtype=torch.long)
    middle = torch.as_tensor(medians, dtype=dtype)[sources] * scale[sources]
    activating = torch.as_tensor(network.signs) > 0
    return {
        "production": _uniform(production, RACIPE_RANGES["production"]) * scale,
        "degradation": _uniform(degradation, RACIPE_RANGES["degradation"]),
        "threshold": middle * _uniform(threshold, THRESHOLD_FACTORS),
        "hill": _hill(hill),
        "fold": _fold(fold, activating),
    }


def racipe_initial_states(model, generator: torch.Generator | None = None) -> Tensor:
    r"""One initial condition per member of a `ShiftedHill`, as RACIPE draws them (`RIVs`): each
    gene log-uniform between its lowest level $g \prod_{\to^+} \lambda^{-1} \prod_{\dashv} \lambda / k$
    and its highest, $g/k$. `(M, genes)`, on the model's device.

    Raises:
        ValueError: a gene whose lowest level is 0 (a repression with fold 0), which has no
            log-uniform range; draw those with `log_uniform_states`.
    """
    highest = model.production / model.degradation
    fold = model.fold.expand(highest.shape[0], -1)
    weakest = torch.where(model.activating, 1.0 / fold, fold)
    lowest = highest * torch.ones_like(highest).scatter_reduce(
        1, model.targets.expand_as(weakest), weakest, reduce="prod"
    )
    if not bool((lowest > 0).all()):
        raise ValueError("model: a gene's lowest level is 0 (fold 0); it has no log-uniform range")
    u = torch.rand(highest.shape, generator=generator, dtype=highest.dtype).to(highest.device)
    return torch.exp(torch.log(lowest) + u * (torch.log(highest) - torch.log(lowest)))
