r"""What the expression knows: the exact loss change of removing each of a sample of genes, against
the scores that claim to predict it, on signals the scores never saw.

Two disjoint sets of examples: the **estimate set** (the first `probe_examples` validation
examples), on which the gradient-based reference scores are taken, and the **reference set**, on
which the exact removal cost is measured (a held-out set of its own, or the validation examples
after the estimate set). For a sample of active genes (connections, or units with unit genes),
with $W$ the effective (gated) weights and $L_R$ the mean cross-entropy on the reference set:

    \Delta L_c = L_R(W \text{ with gene } c \text{ removed}) - L_R(W)      (exact, by a forward pass)

against five scores:

- `expression`: the protein level $p_c$ of Eq. 1;
- `magnitude`: $|w_c|$ (the fan-in mean for a unit);
- `taylor`: $-\sum_{e \in c} w_e g_e$, the first-order Taylor estimate of $\Delta L_c$, with $g$
  the gradient of the loss on the estimate set (Molchanov et al., 2019, rank by its magnitude;
  the signed estimate predicts the cost of removal, which is what pruning needs);
- `fisher`: $\sum_{e \in c} w_e^2\, \overline{g_e^2}$, the empirical-Fisher (diagonal) estimate
  of the loss change, $\overline{g^2}$ the mean over the estimate set of each example's squared
  gradient (LeCun et al.'s optimal brain damage with the Fisher for the Hessian; Theis et al. 2018);
- `score`: Eq. 2, $S_c = \hat{|w_c|} + \alpha \hat p_c + \beta\,\mathrm{Time}$ (what `paper` and
  `target` prune by).

The reference set is cut into two halves, and $\Delta L$ is measured on each: their Spearman
correlation is the removal cost's own **split-half reliability** (how far any score could agree
with it), and $\Delta L$ on the whole set is their size-weighted mean. Summaries per probe and
score: Spearman's rank correlation with $\Delta L$ over the whole sample (pooled) and within each
regulated tensor (the mean over tensors with at least `MIN_LAYER_SAMPLE` sampled genes: the drive
is normalised and `target` prunes per layer), and the AUROC of telling the least important 10%
(the lowest $\Delta L$) from the rest by the lowest score (0.5: no better than chance).

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

PROBE_SCORES = ("expression", "magnitude", "taylor", "fisher", "score")
LEAST_IMPORTANT = 0.1
"""The fraction of the sample whose removal costs least: the AUROC's positives."""
MIN_LAYER_SAMPLE = 20
"""Sampled genes a regulated tensor needs for its own rank correlation in the within-layer mean."""


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
                if regulator.config.genes == "input":
                    weights[rows, :, index] = 0  # the feature's whole column
                elif unit:
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


def _per_gene(regulator: Regulator, values: dict[str, Tensor], genes: Tensor) -> Tensor:
    """Per-entry values of the stored weights (and biases), summed over each sampled gene's entries."""
    per_gene = []
    for tensor in regulator.tensors:
        weight_key, bias_key = _key(tensor, tensor.param), _key(tensor, "bias")
        value = values[weight_key]
        if regulator.config.genes == "connection":
            per_gene.append(value.reshape(-1))
        elif regulator.config.genes == "input":
            per_gene.append(tensor.per_gene(value, reduce="sum"))
        else:
            row = value.reshape(value.shape[0], -1).sum(1)
            per_gene.append(row + values[bias_key] if bias_key in values else row)
    return torch.cat(per_gene)[genes]


def _gradient_scores(regulator: Regulator, genes: Tensor, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    r"""`taylor` ($-\sum w g$, $g$ the mean gradient) and `fisher` ($\sum w^2 \overline{g^2}$, each
    example's gradient squared, then averaged) per sampled gene, on the estimate set. Under a
    multiplicative gate $a$, $w\,\partial L/\partial w = (a w)\,\partial L/\partial (a w)$: the
    stored weight's product is the effective weight's."""
    from torch.func import grad

    stored = _stored(regulator)
    model = regulator.model

    def example_loss(values: dict[str, Tensor], xi: Tensor, yi: Tensor) -> Tensor:
        out = functional_call(model, {**stored, **values}, (xi.unsqueeze(0),))
        return nn.functional.cross_entropy(out, yi.unsqueeze(0))

    with _probing(regulator):
        square = {name: torch.zeros_like(value) for name, value in stored.items()}
        mean = {name: torch.zeros_like(value) for name, value in stored.items()}
        per_example = vmap(grad(example_loss), in_dims=(None, 0, 0))
        for xs, ys in zip(x.split(256), y.split(256)):  # bounded memory: 256 examples' gradients at once
            gradients = per_example(stored, xs, ys)
            for name, g in gradients.items():
                mean[name] += g.sum(0)
                square[name] += (g * g).sum(0)
    n = len(x)
    taylor = {name: -stored[name] * mean[name] / n for name in stored}
    fisher = {name: stored[name] ** 2 * square[name] / n for name in stored}
    return _per_gene(regulator, taylor, genes), _per_gene(regulator, fisher, genes)


def probe_expression(
    regulator: Regulator, estimate: tuple[Tensor, Tensor], reference: tuple[Tensor, Tensor], n_genes: int, seed: int
) -> dict[str, np.ndarray]:
    """Measure `n_genes` active genes drawn with `seed` (fewer when fewer are active): the gradient
    scores on the `estimate` examples, the removal cost on the disjoint `reference` examples (two
    halves, module docstring).

    Returns per sampled gene: `gene` (flat index), `layer` (its regulated tensor), `loss_change`
    and its halves `loss_change_first`, `loss_change_second`, and one array per `PROBE_SCORES`; and
    `loss`, the reference-set loss with every gene in place.

    Raises:
        ValueError: a reference set of fewer than 2 examples (it has no two halves).
    """
    device = regulator.mask.device
    if len(reference[0]) < 2:
        raise ValueError(f"reference: {len(reference[0])} example(s); its two halves need at least 2")
    active = torch.nonzero(regulator.mask > 0).ravel()
    generator = torch.Generator().manual_seed(seed)
    chosen = torch.randperm(len(active), generator=generator)[: min(n_genes, len(active))]
    genes = active[chosen.to(device)].sort().values
    x_ref, y_ref = reference[0].to(device), reference[1].to(device)
    half = len(x_ref) // 2
    first, loss_first = removal_loss_changes(regulator, genes, x_ref[:half], y_ref[:half])
    second, loss_second = removal_loss_changes(regulator, genes, x_ref[half:], y_ref[half:])
    weight = half / len(x_ref)
    taylor, fisher = _gradient_scores(regulator, genes, estimate[0].to(device), estimate[1].to(device))
    starts = torch.as_tensor([sl.start for sl in regulator.genes.slices], device=device)
    values = {
        "gene": genes,
        "layer": torch.searchsorted(starts, genes, right=True) - 1,
        "loss_change": weight * first + (1 - weight) * second,
        "loss_change_first": first,
        "loss_change_second": second,
        "expression": regulator.genes.p[genes],
        "magnitude": regulator.magnitudes()[genes],
        "taylor": taylor,
        "fisher": fisher,
        "score": regulator.scores()[genes],
    }
    out = {
        name: value.detach().cpu().numpy() if name in ("gene", "layer") else value.detach().double().cpu().numpy()
        for name, value in values.items()
    }
    return {**out, "loss": weight * loss_first + (1 - weight) * loss_second}


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(stats.spearmanr(a, b).statistic)


def probe_summary(measured: dict[str, np.ndarray]) -> dict:
    r"""Per score: Spearman's rho with $\Delta L$ pooled (`spearman`) and within layers
    (`within_spearman`), and the AUROC for the least important 10%; and the removal cost's
    split-half `reliability`."""
    from sklearn.metrics import roc_auc_score

    change = measured["loss_change"]
    n = len(change)
    out: dict = {"spearman": {}, "within_spearman": {}, "auroc": {}}
    k = max(1, math.floor(LEAST_IMPORTANT * n))
    positives = np.zeros(n, dtype=bool)
    positives[np.argsort(change, kind="stable")[:k]] = True
    layers = measured.get("layer", np.zeros(n, dtype=np.int64))
    groups = [layers == layer for layer in np.unique(layers) if (layers == layer).sum() >= MIN_LAYER_SAMPLE]
    for name in PROBE_SCORES:
        score = measured[name]
        out["spearman"][name] = _spearman(score, change)
        within = [_spearman(score[g], change[g]) for g in groups]
        within = [r for r in within if not math.isnan(r)]
        out["within_spearman"][name] = float(np.mean(within)) if within else math.nan
        constant = n < 3 or np.ptp(score) == 0 or np.ptp(change) == 0
        out["auroc"][name] = math.nan if constant or positives.all() else float(roc_auc_score(positives, -score))
    halves = (measured.get("loss_change_first"), measured.get("loss_change_second"))
    out["reliability"] = _spearman(*halves) if halves[0] is not None else math.nan
    return out
