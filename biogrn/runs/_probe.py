r"""What the expression knows: the exact loss change of removing each of a sample of genes, against
the scores that claim to predict it.

For a sample of active genes (connections, or units with unit genes) and a fixed probe set (the
first `probe_examples` validation examples), with $W$ the effective (gated) weights and $L$ the
mean cross-entropy on the probe set:

    \Delta L_c = L(W \text{ with gene } c \text{ removed}) - L(W)            (exact, by a forward pass)

against four scores:

- `expression`: the protein level $p_c$ of Eq. 1;
- `magnitude`: $|w_c|$ (the fan-in mean for a unit);
- `taylor`: $-\sum_{e \in c} w_e g_e$, the first-order Taylor estimate of $\Delta L_c$, with $g$
  the gradient of $L$ on the probe set (Molchanov et al., 2019, rank by its magnitude, which counts
  a connection whose removal lowers the loss as important; the signed estimate predicts the cost
  of removal, which is what pruning needs);
- `score`: Eq. 2, $S_c = \hat{|w_c|} + \alpha \hat p_c + \beta\,\mathrm{Time}$ (what `paper` and
  `target` prune by).

Two summaries per probe and score: Spearman's rank correlation with $\Delta L$, and the AUROC of
telling the least important 10% (the lowest $\Delta L$) from the rest by the lowest score (0.5:
no better than chance).

The removals are evaluated in chunks with `torch.func.vmap` over `functional_call`: one batched
forward pass per chunk of genes, never a loop over genes. A gene is removed by zeroing its stored
weights (and, for a unit, its bias): every gate on a weight (the gene gate, a connectome mask,
Dale's signs) multiplies it, so the effective weights are zero there too. The model is evaluated
in eval mode and the gradient records that drive Eq. 1 are switched off for the probe's passes.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
import torch
from scipy import stats
from torch import Tensor, nn
from torch.func import functional_call, vmap

from biogrn.core import stored_parameter
from biogrn.regulation import Regulator

__all__ = ["PROBE_SCORES", "probe_expression", "probe_summary", "removal_loss_changes"]

PROBE_SCORES = ("expression", "magnitude", "taylor", "score")
LEAST_IMPORTANT = 0.1
"""The fraction of the sample whose removal costs least: the AUROC's positives."""


def _key(tensor, name: str) -> str:
    """The name `functional_call` substitutes for `name` (`weight`, `bias`) of a regulated tensor's
    module: the stored `original` beneath its gates when it is parametrized."""
    prefix = tensor.name.rsplit(".", 1)[0] + "." if "." in tensor.name else ""
    parametrized = name in getattr(tensor.module, "parametrizations", {})
    return f"{prefix}parametrizations.{name}.original" if parametrized else prefix + name


def _stored(regulator: Regulator) -> dict[str, Tensor]:
    """Every regulated weight (and, with unit genes, its bias) as stored beneath its gates, keyed by `_key`."""
    values = {}
    for tensor in regulator.tensors:
        names = [tensor.param] + (["bias"] if regulator.config.genes == "unit" else [])
        for name in names:
            if isinstance(getattr(tensor.module, name, None), Tensor):
                values[_key(tensor, name)] = stored_parameter(tensor.module, name).detach()
    return values


@contextmanager
def _probing(regulator: Regulator):
    """Eval mode and no gradient records while the probe runs; both restored after."""
    model, records = regulator.model, regulator.records
    was_training, enabled = model.training, [record.enabled for record in records]
    model.eval()
    for record in records:
        record.enabled = False
    try:
        yield
    finally:
        model.train(was_training)
        for record, flag in zip(records, enabled):
            record.enabled = flag


def removal_loss_changes(
    regulator: Regulator, genes: Tensor, x: Tensor, y: Tensor, chunk_bytes: int = 2**27
) -> tuple[Tensor, float]:
    """$\\Delta L$ for each flat gene index in `genes`, and $L$ itself; on the genes' device.

    A chunk holds as many copies of one tensor as fit `chunk_bytes`.
    """
    model, unit = regulator.model, regulator.config.genes == "unit"
    stored = _stored(regulator)
    with _probing(regulator), torch.no_grad():
        base = nn.functional.cross_entropy(functional_call(model, stored, (x,)), y)
        changes = torch.empty(len(genes), dtype=torch.float64, device=genes.device)
        for tensor, sl in zip(regulator.tensors, regulator.genes.slices):
            where = torch.nonzero((genes >= sl.start) & (genes < sl.stop)).ravel()
            if where.numel() == 0:
                continue
            local = genes[where] - sl.start
            weight_key, bias_key = _key(tensor, tensor.param), _key(tensor, "bias")
            weight = stored[weight_key]
            per_chunk = max(1, chunk_bytes // (weight.numel() * weight.element_size()))
            for part, index in zip(where.split(per_chunk), local.split(per_chunk)):
                k, rows = len(index), torch.arange(len(index), device=index.device)
                weights = weight.unsqueeze(0).repeat(k, *([1] * weight.dim()))
                replaced = {weight_key: weights}
                if unit:
                    weights[rows, index] = 0  # the unit's whole fan-in
                    if bias_key in stored:
                        biases = stored[bias_key].unsqueeze(0).repeat(k, 1)
                        biases[rows, index] = 0
                        replaced[bias_key] = biases
                else:
                    weights.view(k, -1)[rows, index] = 0

                def loss_without(values: dict[str, Tensor]) -> Tensor:
                    return nn.functional.cross_entropy(functional_call(model, {**stored, **values}, (x,)), y)

                changes[part] = vmap(loss_without)(replaced).double() - base.double()
    return changes, float(base)


def _taylor(regulator: Regulator, genes: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """$-\\sum_{e \\in c} w_e g_e$ per sampled gene, from the stored weights: under a multiplicative
    gate $a$, $w\\,\\partial L/\\partial w = (a w)\\,\\partial L/\\partial (a w)$, the effective weight's product."""
    leaves = {name: value.clone().requires_grad_(True) for name, value in _stored(regulator).items()}
    with _probing(regulator):
        loss = nn.functional.cross_entropy(functional_call(regulator.model, leaves, (x,)), y)
        gradients = torch.autograd.grad(loss, list(leaves.values()))
    products = dict(zip(leaves, (v.detach() * g for v, g in zip(leaves.values(), gradients))))
    per_gene = []
    for tensor in regulator.tensors:
        weight_key, bias_key = _key(tensor, tensor.param), _key(tensor, "bias")
        product = products[weight_key]
        if regulator.config.genes == "connection":
            per_gene.append(product.reshape(-1))
        else:
            row = product.reshape(product.shape[0], -1).sum(1)
            per_gene.append(row + products[bias_key] if bias_key in products else row)
    return -torch.cat(per_gene)[genes]


def probe_expression(regulator: Regulator, x: Tensor, y: Tensor, n_genes: int, seed: int) -> dict[str, np.ndarray]:
    """Measure `n_genes` active genes drawn with `seed` (fewer when fewer are active).

    Returns per sampled gene: `gene` (flat index), `loss_change`, and one array per `PROBE_SCORES`;
    and `loss`, the probe-set loss with every gene in place.
    """
    device = regulator.mask.device
    active = torch.nonzero(regulator.mask > 0).ravel()
    generator = torch.Generator().manual_seed(seed)
    chosen = torch.randperm(len(active), generator=generator)[: min(n_genes, len(active))]
    genes = active[chosen.to(device)].sort().values
    x, y = x.to(device), y.to(device)
    changes, loss = removal_loss_changes(regulator, genes, x, y)
    values = {
        "gene": genes,
        "loss_change": changes,
        "expression": regulator.genes.p[genes],
        "magnitude": regulator.magnitudes()[genes],
        "taylor": _taylor(regulator, genes, x, y),
        "score": regulator.scores()[genes],
    }
    out = {
        name: value.detach().double().cpu().numpy() if name != "gene" else value.cpu().numpy()
        for name, value in values.items()
    }
    return {**out, "loss": loss}


def probe_summary(measured: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Spearman's rho with $\\Delta L$ and the AUROC for the least important 10%, per score."""
    from sklearn.metrics import roc_auc_score

    change = measured["loss_change"]
    n = len(change)
    out: dict[str, dict[str, float]] = {"spearman": {}, "auroc": {}}
    k = max(1, math.floor(LEAST_IMPORTANT * n))
    positives = np.zeros(n, dtype=bool)
    positives[np.argsort(change, kind="stable")[:k]] = True
    for name in PROBE_SCORES:
        score = measured[name]
        constant = n < 3 or np.ptp(score) == 0 or np.ptp(change) == 0
        out["spearman"][name] = math.nan if constant else float(stats.spearmanr(score, change).statistic)
        out["auroc"][name] = math.nan if constant or positives.all() else float(roc_auc_score(positives, -score))
    return out
