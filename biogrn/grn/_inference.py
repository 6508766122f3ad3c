r"""Network inference from expression time series, with the interaction matrix under dynamic pruning.

Given trajectories $x(t)$ of $G$ genes (many members: cells, conditions, initial states), fit

$$\dot x = g \odot \sigma(W x + b) - k \odot x$$

by matching the derivatives estimated from the data ("gradient matching"), with $W$ an
`nn.Linear(G, G)` regulated by a biogrn `Regulator`: its gene-regulated pruning and rewiring
decide which interactions survive. The inferred network is the surviving $W$; each ordered pair
$j \to i$ is scored by $|W_{ij}|$ (0 when pruned) and compared with a known network
by BEELINE's AUPRC, AUROC and early precision ratio (`beeline_scores`).

With `resamples`, the fit is bagged over bootstrap samples of the members and pairs are ranked
by their mean normalised $|W|$ over the fits.

The fit is made on $z = \log(1 + x)$ by default (`scale="log1p"`), each gene then divided by its
largest value. Levels of simulated networks span decades (RACIPE's myeloid members run from
0.016 to 360 over $t \in [0, 5]$): on the raw scale the squared error is that of the members
with the highest levels, and the fit follows them. `scale="max"` keeps the raw levels.
Derivatives are central differences by default; `difference="forward"` takes
$(z_{t+1} - z_t)/\Delta t$ against $z_t$, the unbiased choice for stochastic (Langevin) paths,
whose increment after $t$ is independent of $z_t$ while the one before is not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from biogrn.regulation import regulate
from biogrn.runs import REGRESSION, train_epoch

__all__ = ["DIFFERENCES", "SCALES", "InferenceResult", "edge_scores", "infer_network", "score_edges"]

SCALES = ("log1p", "max")
DIFFERENCES = ("central", "forward")


class _GeneODE(nn.Module):
    def __init__(self, genes: int):
        super().__init__()
        self.interactions = nn.Linear(genes, genes)
        self.log_production = nn.Parameter(torch.zeros(genes))
        self.log_degradation = nn.Parameter(torch.zeros(genes))

    def forward(self, x: Tensor) -> Tensor:
        return self.log_production.exp() * torch.sigmoid(self.interactions(x)) - self.log_degradation.exp() * x


@dataclass
class InferenceResult:
    weights: Tensor
    """`(G, G)` effective interaction matrix, `[target, source]`; pruned entries are 0."""
    loss: float
    sparsity: float


def infer_network(
    trajectories: Tensor,
    times: Tensor,
    epochs: int = 300,
    lr: float = 0.02,
    target_sparsity: float = 0.6,
    seed: int = 0,
    scale: str = "log1p",
    difference: str = "central",
    resamples: int = 0,
    **regulator_settings,
) -> InferenceResult:
    r"""Fit the regulated gene ODE to `(members, time, genes)` trajectories.

    The data are taken as $\log(1 + x)$ (`scale="log1p"`, or raw with `scale="max"`) and scaled
    per gene to unit maximum; derivatives are `central` or `forward` differences.
    Self-interactions (the diagonal) are left out of the regulated interactions by a structural
    allow-mask. Regulator defaults here: the `target`
    policy to `target_sparsity`, pruning from 20% to 70% of the epochs.

    With `resamples = B > 0` the fit is bagged (Breiman 1996): it is repeated on $B$ bootstrap
    samples of the members (drawn with replacement, seeded by `seed`), and each pair is scored by
    the mean over the fits of $|W^{(b)}_{ij}| / \max |W^{(b)}|$, with the sign the fits agree on
    most. An interaction that survives pruning in most resamples outranks one that one sample's
    noise put there (the idea of stability selection, Meinshausen and Bühlmann 2010).
    """
    if scale not in SCALES:
        raise ValueError(f"scale: {scale!r} is not one of {SCALES}")
    if difference not in DIFFERENCES:
        raise ValueError(f"difference: {difference!r} is not one of {DIFFERENCES}")
    if resamples < 0:
        raise ValueError(f"resamples: {resamples} is negative; 0 fits once, B > 0 bags B bootstrap fits")
    if resamples > 0:
        draws = np.random.default_rng(seed).integers(0, len(trajectories), size=(resamples, len(trajectories)))
        fits = [
            infer_network(
                trajectories[torch.as_tensor(draw)], times, epochs, lr, target_sparsity,
                seed=seed * resamples + b, scale=scale, difference=difference, **regulator_settings,
            )
            for b, draw in enumerate(draws)
        ]  # fmt: skip
        magnitude = torch.stack([f.weights.abs() / f.weights.abs().max().clamp_min(1e-12) for f in fits]).mean(0)
        votes = torch.stack([f.weights.sign() for f in fits]).sum(0)
        sign = torch.where(votes < 0, -1.0, 1.0)  # a tie keeps its magnitude, read as positive
        return InferenceResult(
            sign * magnitude, float(np.mean([f.loss for f in fits])), float(np.mean([f.sparsity for f in fits]))
        )
    x = trajectories.to(torch.float32)
    if scale == "log1p":
        x = torch.log1p(x.clamp_min(0))
    x = x / x.amax(dim=(0, 1)).clamp_min(1e-8)
    dt = (times[1:] - times[:-1]).to(torch.float32)
    if difference == "central":
        derivative, x = (x[:, 2:] - x[:, :-2]) / (dt[1:] + dt[:-1]).view(1, -1, 1), x[:, 1:-1]
    else:
        derivative, x = (x[:, 1:] - x[:, :-1]) / dt.view(1, -1, 1), x[:, :-1]
    states = x.reshape(-1, x.shape[-1])
    targets = derivative.reshape(-1, x.shape[-1])
    genes = x.shape[-1]
    torch.manual_seed(seed)
    model = _GeneODE(genes)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    settings = dict(
        policy="target",
        target_sparsity=target_sparsity,
        start_epoch=int(0.2 * epochs),
        end_epoch=int(0.7 * epochs),
        epochs=epochs,
        integrate_every=5,
        seed=seed,
        max_regrow_fraction=0.05,
    )
    settings.update(regulator_settings)
    allow = {"interactions.weight": ~torch.eye(genes, dtype=torch.bool)}
    regulator = regulate(model, optimizer=optimizer, layers=["interactions"], allow=allow, **settings)
    batch = [(states, targets)]  # full-batch gradient matching: one step per epoch
    loss = float("nan")
    for _ in range(epochs):
        loss, _ = train_epoch(model, batch, optimizer, torch.device("cpu"), regulator, objective=REGRESSION)
        regulator.epoch_end()
    sparsity = regulator.sparsity()
    weights = model.interactions.weight.detach().clone()
    return InferenceResult(weights, loss, sparsity)


def edge_scores(weights: Tensor) -> np.ndarray:
    """`|W|` as `[source, target]` scores with the diagonal removed (flattened, row-major)."""
    scores = weights.abs().T.numpy()
    return scores[~np.eye(len(scores), dtype=bool)]


def score_edges(weights: Tensor, truth, genes=None) -> dict[str, float]:
    """BEELINE's scores of `|W|` (`[target, source]`, as `InferenceResult.weights`) against a known
    `[source, target]` adjacency (any non-zero entry is an edge): exactly what BEELINE's BLEval gives
    for the `rankedEdges.csv` that `write_ranked_edges` writes from `W` (`beeline_scores`: AUPRC as
    `auc(recall, precision)`, AUROC, early precision ratio; the universe is every ordered non-self
    pair of the genes the truth names). `average_precision` stands beside them, labelled;
    `chance_auprc` is the random precision, the edge density over that universe. `genes` names the
    matrices' genes (default `g0`, `g1`, ...)."""
    from biogrn.grn._evaluation import beeline_scores

    truth = np.asarray(truth) != 0
    matrix = np.abs(np.asarray(weights.detach().cpu() if isinstance(weights, Tensor) else weights, dtype=np.float64))
    if matrix.shape != truth.shape or matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"weights {matrix.shape} and truth {truth.shape} must be one square shape")
    genes = [f"g{i}" for i in range(len(truth))] if genes is None else [str(g) for g in genes]
    source, target = np.nonzero(truth)
    target_w, source_w = np.nonzero(matrix * ~np.eye(len(matrix), dtype=bool))
    ranked = [(genes[b], genes[a], matrix[a, b]) for a, b in zip(target_w, source_w)]
    scores = beeline_scores(ranked, [(genes[a], genes[b]) for a, b in zip(source, target)])
    scores["chance_auprc"] = scores["random_precision"]
    return scores
