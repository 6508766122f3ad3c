"""A run's records: one `xarray.Dataset` per run, written atomically as NetCDF (records.nc).

The schema (docs/records.md) in short:

- (epoch): train_loss, train_accuracy, val_loss, val_accuracy, step, total_sparsity, sigma,
  frozen, epoch_seconds
- (epoch, layer): sparsity, tau, n_pruned, n_regrown
- (epoch, layer, quantile): m_quantiles, p_quantiles
- (update): update_step, update_epoch, update_sigma; (update, layer): update_tau,
  update_n_pruned, update_n_regrown, update_sparsity
- (trace_step, connection): trace_w, trace_m, trace_p, trace_mask
- (probe): probe_epoch, probe_loss, probe_reliability; (probe, probe_sample): probe_gene,
  probe_layer, probe_loss_change (and its halves probe_loss_change_first, _second),
  probe_expression, probe_magnitude, probe_taylor, probe_fisher, probe_score; (probe, score):
  probe_spearman, probe_within_spearman, probe_auroc
- (): test_loss, test_accuracy (NaN until the run completes)

Every value is computed on the model's device and read back once per epoch.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import xarray as xr
from torch import Tensor

from biogrn._version import __version__
from biogrn.core import DataError, atomic_write, check_hdf5, quoted, reading
from biogrn.regulation import Regulator
from biogrn.runs._files import RECORDS_FILE
from biogrn.runs._loop import EpochResult
from biogrn.runs._probe import PROBE_SCORES

_EARLIER_PROBE_SCORES = ("expression", "magnitude", "taylor", "score")
"""The scores of probes recorded before `fisher` (checkpoints of earlier runs resume with them)."""

__all__ = [
    "VARIABLES",
    "ConnectionTrace",
    "Recorder",
    "config_of",
    "package_versions",
    "quantiles",
    "read_records",
    "write_records",
]

NAN = float("nan")

VARIABLES: dict[str, tuple[tuple[str, ...], str, str]] = {
    # name: (dims, units, description)
    "train_loss": (("epoch",), "nat", "mean cross-entropy over the epoch's training batches"),
    "train_accuracy": (("epoch",), "1", "accuracy over the epoch's training batches, as they were trained"),
    "val_loss": (("epoch",), "nat", "cross-entropy on the validation split after the epoch"),
    "val_accuracy": (("epoch",), "1", "accuracy on the validation split after the epoch"),
    "step": (("epoch",), "1", "optimizer steps done at the end of the epoch"),
    "total_sparsity": (("epoch",), "1", "pruned fraction of all regulated connections"),
    "sigma": (("epoch",), "1", "rewiring temperature sigma_r of Eq. 3 at the end of the epoch"),
    "frozen": (("epoch",), "1", "1 once the threshold policy has frozen tau (plateau rule)"),
    "epoch_seconds": (
        ("epoch",),
        "s",
        "wall-clock time of the epoch (training and validation); the only variable that differs between identical runs",
    ),
    "sparsity": (("epoch", "layer"), "1", "pruned fraction of the layer's connections"),
    "tau": (("epoch", "layer"), "1", "threshold of the last prune/rewire update so far (NaN before the first)"),
    "n_pruned": (("epoch", "layer"), "1", "connections pruned during the epoch"),
    "n_regrown": (("epoch", "layer"), "1", "connections regrown (rewired) during the epoch"),
    "m_quantiles": (("epoch", "layer", "quantile"), "1", "quantiles of the layer's mRNA level m (Eq. 1)"),
    "p_quantiles": (
        ("epoch", "layer", "quantile"),
        "1",
        "quantiles of the layer's protein level p, the expression of Eq. 2",
    ),
    "update_step": (("update",), "1", "optimizer steps done when the update ran"),
    "update_epoch": (("update",), "1", "epochs completed when the update ran"),
    "update_sigma": (("update",), "1", "sigma_r used by the update's rewiring"),
    "update_tau": (("update", "layer"), "1", "threshold tau of the update"),
    "update_n_pruned": (("update", "layer"), "1", "connections the update pruned"),
    "update_n_regrown": (("update", "layer"), "1", "connections the update regrew"),
    "update_sparsity": (("update", "layer"), "1", "pruned fraction after the update"),
    "trace_w": (("trace_step", "connection"), "1", "stored weight w of each traced connection"),
    "trace_m": (("trace_step", "connection"), "1", "mRNA level m of the traced connection's gene"),
    "trace_p": (("trace_step", "connection"), "1", "protein level p of the traced connection's gene"),
    "trace_mask": (("trace_step", "connection"), "1", "1 if the traced connection is active, 0 if pruned"),
    "probe_epoch": (("probe",), "1", "epoch after whose training the probe measured (before its prune/rewire update)"),
    "probe_loss": (("probe",), "nat", "cross-entropy on the reference set with every sampled gene in place"),
    "probe_reliability": (
        ("probe",),
        "1",
        "Spearman's rho between the loss changes on the reference set's two halves (split-half reliability)",
    ),
    "probe_gene": (
        ("probe", "probe_sample"),
        "1",
        "flat gene index of the sampled gene (-1: no gene, fewer were active)",
    ),
    "probe_layer": (("probe", "probe_sample"), "1", "index of the gene's regulated tensor (-1: no gene)"),
    "probe_loss_change": (
        ("probe", "probe_sample"),
        "nat",
        "exact change of the reference-set loss when the gene is removed (its weights, and a unit's bias, zeroed)",
    ),
    "probe_loss_change_first": (("probe", "probe_sample"), "nat", "the loss change on the reference set's first half"),
    "probe_loss_change_second": (("probe", "probe_sample"), "nat", "the loss change on its second half"),
    "probe_expression": (("probe", "probe_sample"), "1", "protein level p of the gene (Eq. 1)"),
    "probe_magnitude": (("probe", "probe_sample"), "1", "|w| of the gene (the fan-in mean for a unit)"),
    "probe_taylor": (
        ("probe", "probe_sample"),
        "nat",
        "-sum of w g over the gene's weights (g the estimate set's mean gradient): the first-order estimate",
    ),
    "probe_fisher": (
        ("probe", "probe_sample"),
        "nat",
        "sum of w^2 mean(g^2) over the gene's weights (each estimate-set example's gradient): empirical Fisher",
    ),
    "probe_score": (("probe", "probe_sample"), "1", "Eq. 2 importance S of the gene"),
    "probe_spearman": (("probe", "score"), "1", "Spearman's rank correlation of the score with the loss change"),
    "probe_within_spearman": (
        ("probe", "score"),
        "1",
        "the same within each regulated tensor, averaged over those with at least 20 sampled genes",
    ),
    "probe_auroc": (
        ("probe", "score"),
        "1",
        "AUROC of finding the least important 10% (lowest loss change) by the lowest score; 0.5 is chance",
    ),
    "test_loss": ((), "nat", "cross-entropy on the test split at the end (NaN until the run completes)"),
    "test_accuracy": ((), "1", "accuracy on the test split at the end (NaN until the run completes)"),
}


def quantiles(values: Tensor, qs: Tensor) -> Tensor:
    """Quantiles of `values` along its last axis by linear interpolation (numpy's default method).

    Works at any size (`torch.quantile` refuses more than 2**24 elements). Shapes: values
    `(..., n)` with n >= 1, qs `(Q,)` in [0, 1]; result `(..., Q)`.
    """
    ordered = values.sort(dim=-1).values
    position = qs.to(ordered.dtype) * (ordered.shape[-1] - 1)
    low = position.floor().long()
    high = torch.clamp(low + 1, max=ordered.shape[-1] - 1)
    lower, upper = ordered[..., low], ordered[..., high]
    return lower + (upper - lower) * (position - low)


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages that decide a run's numbers."""
    import torchdiffeq

    return {
        "python_version": platform.python_version(),
        "biogrn_version": __version__,
        "torch_version": torch.__version__,
        "torchdiffeq_version": torchdiffeq.__version__,
        "numpy_version": np.__version__,
        "xarray_version": xr.__version__,
    }


class ConnectionTrace:
    """w, m, p and mask of a fixed random sample of connections, every `every` steps.

    The sample is drawn once, uniformly over all regulated connections, with `seed`. Values are
    gathered on the device at each capture and read back only by `state_dict` / `arrays`.
    """

    def __init__(
        self,
        weights: Sequence[Tensor],
        names: Sequence[str],
        n: int,
        every: int,
        seed: int,
        regulator: Regulator | None = None,
    ):
        sizes = [w.numel() for w in weights]
        n = min(n, sum(sizes))
        chosen = torch.randperm(sum(sizes), generator=torch.Generator().manual_seed(seed))[:n].sort().values
        offsets = torch.tensor(np.cumsum([0] + sizes))
        layer = torch.searchsorted(offsets, chosen, right=True) - 1
        self.weights = list(weights)
        self.every = every
        self.regulator = regulator
        self.layer_names = [names[i] for i in layer.tolist()]
        self.index = (chosen - offsets[layer]).tolist()
        device = weights[0].device if weights else torch.device("cpu")
        self._positions = []  # per layer: (flat weight positions, gene indices, slice into the sample)
        start = 0
        for i in range(len(weights)):
            positions = chosen[layer == i] - offsets[i]
            if regulator is not None:
                tensor, sl = regulator.tensors[i], regulator.genes.slices[i]
                genes = sl.start + tensor.gene_of(positions)
            else:
                genes = positions
            self._positions.append((positions.to(device), genes.to(device), slice(start, start + len(positions))))
            start += len(positions)
        self.n = n
        self.step = 0
        self.steps: list[int] = []
        self._chunks: list[Tensor] = []  # (k, 4, n) blocks on the device

    def __call__(self) -> None:
        """Count a training step; capture the sample every `every` steps."""
        self.step += 1
        if self.n == 0 or self.step % self.every:
            return
        parts = []
        for w, (positions, genes, _) in zip(self.weights, self._positions):
            if len(positions) == 0:
                continue
            values = w.detach().reshape(-1)[positions].float()
            if self.regulator is not None:
                y, mask = self.regulator.genes.y, self.regulator.mask
                m, p, active = y[0, genes].float(), y[1, genes].float(), mask[genes].float()
            else:
                m = p = torch.full_like(values, NAN)
                active = torch.ones_like(values)
            parts.append(torch.stack([values, m, p, active]))
        self._chunks.append(torch.cat(parts, dim=1).unsqueeze(0))
        self.steps.append(self.step)

    def values(self) -> Tensor:
        """`(steps, 4, connections)` on the CPU: w, m, p, mask."""
        if not self._chunks:
            return torch.zeros(0, 4, self.n)
        if len(self._chunks) > 1:
            self._chunks = [torch.cat(self._chunks)]
        return self._chunks[0].cpu()

    def state_dict(self) -> dict:
        return {"step": self.step, "steps": list(self.steps), "values": self.values()}

    def load_state_dict(self, state: dict) -> None:
        self.step = int(state["step"])
        self.steps = [int(s) for s in state["steps"]]
        device = self.weights[0].device if self.weights else torch.device("cpu")
        self._chunks = [state["values"].to(device)]


class Recorder:
    """Collects one row per epoch (and the regulator's updates) and builds the records Dataset."""

    def __init__(self, layers: Sequence[str], qs: Sequence[float], shapes: Sequence[Sequence[int]] | None = None):
        self.layers = list(layers)
        self.qs = list(qs)
        self.shapes = [" x ".join(map(str, shape)) for shape in shapes] if shapes is not None else None
        self.rows: list[dict] = []
        self.updates: list[dict] = []
        self.probes: list[dict] = []

    def add_epoch(self, result: EpochResult, seconds: float, step: int, regulator: Regulator | None) -> None:
        """Record the epoch that just ended (after `regulator.epoch_end`)."""
        n_layers = len(self.layers)
        row = {
            "epoch": result.epoch,
            "train_loss": result.train_loss,
            "train_accuracy": result.train_accuracy,
            "val_loss": result.val_loss,
            "val_accuracy": result.val_accuracy,
            "step": step,
            "epoch_seconds": seconds,
        }
        if regulator is None:
            row.update(
                total_sparsity=0.0,
                sigma=NAN,
                frozen=0,
                sparsity=[0.0] * n_layers,
                tau=[NAN] * n_layers,
                n_pruned=[0] * n_layers,
                n_regrown=[0] * n_layers,
                m_quantiles=[[NAN] * len(self.qs)] * n_layers,
                p_quantiles=[[NAN] * len(self.qs)] * n_layers,
            )
        else:
            new = regulator.history[len(self.updates) :]
            self.updates.extend(dict(u) for u in new)
            last_tau = self.updates[-1]["tau"] if self.updates else [NAN] * n_layers
            y, qs = regulator.genes.y, torch.tensor(self.qs, device=regulator.device)
            per_layer = torch.stack([quantiles(y[:, sl], qs) for sl in regulator.genes.slices], dim=1)
            m_q, p_q = per_layer.tolist()
            row.update(
                total_sparsity=regulator.sparsity(),
                sigma=regulator.sigma,
                frozen=int(bool(regulator.policy.frozen)),
                sparsity=list(regulator.layer_sparsity().values()),
                tau=list(last_tau),
                n_pruned=[sum(u["n_pruned"][i] for u in new) for i in range(n_layers)],
                n_regrown=[sum(u["n_regrown"][i] for u in new) for i in range(n_layers)],
                m_quantiles=m_q,
                p_quantiles=p_q,
            )
        self.rows.append(row)

    def add_probe(self, epoch: int, loss: float, measured: dict, summary: dict) -> None:
        """Record an expression probe (`biogrn.runs._probe`): its per-gene values and summaries."""
        self.probes.append(
            {
                "epoch": epoch,
                "loss": loss,
                **{name: np.asarray(values).tolist() for name, values in measured.items()},
                "spearman": [summary["spearman"][s] for s in PROBE_SCORES],
                "within_spearman": [summary["within_spearman"][s] for s in PROBE_SCORES],
                "auroc": [summary["auroc"][s] for s in PROBE_SCORES],
                "reliability": summary["reliability"],
            }
        )

    def state_dict(self) -> dict:
        return {
            "layers": list(self.layers),
            "quantiles": list(self.qs),
            "rows": [dict(r) for r in self.rows],
            "updates": [dict(u) for u in self.updates],
            "probes": [dict(p) for p in self.probes],
        }

    def load_state_dict(self, state: dict) -> None:
        if list(state["layers"]) != self.layers:
            raise ValueError(f"records: layers {state['layers']} differ from this run's {self.layers}")
        self.rows = [dict(r) for r in state["rows"]]
        self.updates = [dict(u) for u in state["updates"]]
        self.probes = [dict(p) for p in state.get("probes", [])]  # absent from checkpoints before the probe

    def to_dataset(
        self, attrs: dict, trace: ConnectionTrace | None = None, test: tuple[float, float] | None = None
    ) -> xr.Dataset:
        """The records so far; `test` (loss, accuracy) marks the run complete."""
        rows, updates, n_layers = self.rows, self.updates, len(self.layers)

        def column(key, dtype=np.float64, width=None):
            if not rows:
                return np.zeros(
                    (0,)
                    + ((n_layers,) if width == "layer" else (n_layers, len(self.qs)) if width == "quantile" else ()),
                    dtype,
                )
            return np.asarray([r[key] for r in rows], dtype=dtype)

        def update_column(key, dtype=np.float64, per_layer=False):
            if not updates:
                return np.zeros((0, n_layers) if per_layer else (0,), dtype)
            return np.asarray([u[key] for u in updates], dtype=dtype)

        data = {
            "train_loss": column("train_loss"),
            "train_accuracy": column("train_accuracy"),
            "val_loss": column("val_loss"),
            "val_accuracy": column("val_accuracy"),
            "step": column("step", np.int64),
            "total_sparsity": column("total_sparsity"),
            "sigma": column("sigma"),
            "frozen": column("frozen", np.int8),
            "epoch_seconds": column("epoch_seconds"),
            "sparsity": column("sparsity", width="layer"),
            "tau": column("tau", width="layer"),
            "n_pruned": column("n_pruned", np.int64, "layer"),
            "n_regrown": column("n_regrown", np.int64, "layer"),
            "m_quantiles": column("m_quantiles", width="quantile"),
            "p_quantiles": column("p_quantiles", width="quantile"),
            "update_step": update_column("step", np.int64),
            "update_epoch": update_column("epoch", np.int64),
            "update_sigma": update_column("sigma"),
            "update_tau": update_column("tau", per_layer=True),
            "update_n_pruned": update_column("n_pruned", np.int64, True),
            "update_n_regrown": update_column("n_regrown", np.int64, True),
            "update_sparsity": update_column("sparsity", per_layer=True),
            "test_loss": np.float64(test[0] if test else NAN),
            "test_accuracy": np.float64(test[1] if test else NAN),
        }
        coords = {
            "epoch": np.asarray([r["epoch"] for r in rows], dtype=np.int64),
            "layer": np.asarray(self.layers, dtype=str),
            "quantile": np.asarray(self.qs, dtype=np.float64),
            **({"layer_shape": ("layer", np.asarray(self.shapes, dtype=str))} if self.shapes is not None else {}),
            "update": np.arange(len(updates), dtype=np.int64),
        }
        values = trace.values().numpy() if trace is not None else np.zeros((0, 4, 0), np.float32)
        for i, name in enumerate(("trace_w", "trace_m", "trace_p", "trace_mask")):
            data[name] = values[:, i, :]
        coords["trace_step"] = np.asarray(trace.steps if trace is not None else [], dtype=np.int64)
        coords["connection"] = np.arange(values.shape[2], dtype=np.int64)
        coords["trace_layer"] = ("connection", np.asarray(trace.layer_names if trace else [], dtype=str))
        coords["trace_index"] = ("connection", np.asarray(trace.index if trace else [], dtype=np.int64))

        data.update(self._probe_columns())
        coords["probe"] = np.arange(len(self.probes), dtype=np.int64)
        coords["probe_sample"] = np.arange(data["probe_gene"].shape[1], dtype=np.int64)
        coords["score"] = np.asarray(PROBE_SCORES, dtype=str)

        variables = {}
        for name, (dims, units, description) in VARIABLES.items():
            variables[name] = xr.Variable(dims, data[name], attrs={"units": units, "description": description})
        dataset = xr.Dataset(variables, coords=coords)
        dataset["trace_layer"].attrs["description"] = "regulated tensor of each traced connection"
        dataset["trace_index"].attrs["description"] = "flat (row-major) index of the connection in its tensor"
        dataset.attrs.update(attrs)
        dataset.attrs["complete"] = np.int8(test is not None)
        dataset.attrs["epochs_done"] = np.int64(len(rows))
        return dataset

    def _probe_columns(self) -> dict[str, np.ndarray]:
        width = max((len(p["gene"]) for p in self.probes), default=0)

        def padded(key: str, fill, dtype) -> np.ndarray:
            out = np.full((len(self.probes), width), fill, dtype=dtype)
            for i, probe in enumerate(self.probes):
                values = probe.get(key, [])  # a probe recorded before the key existed has none
                out[i, : len(values)] = values
            return out

        def per_score(key: str) -> np.ndarray:
            out = np.full((len(self.probes), len(PROBE_SCORES)), NAN)
            for i, probe in enumerate(self.probes):
                values = probe.get(key, [])
                names = PROBE_SCORES if len(values) == len(PROBE_SCORES) else _EARLIER_PROBE_SCORES[: len(values)]
                for name, value in zip(names, values):
                    out[i, PROBE_SCORES.index(name)] = value
            return out

        return {
            "probe_epoch": np.asarray([p["epoch"] for p in self.probes], dtype=np.int64),
            "probe_loss": np.asarray([p["loss"] for p in self.probes], dtype=np.float64),
            "probe_reliability": np.asarray([p.get("reliability", NAN) for p in self.probes], dtype=np.float64),
            "probe_gene": padded("gene", -1, np.int64),
            "probe_layer": padded("layer", -1, np.int64),
            "probe_loss_change": padded("loss_change", NAN, np.float64),
            "probe_loss_change_first": padded("loss_change_first", NAN, np.float64),
            "probe_loss_change_second": padded("loss_change_second", NAN, np.float64),
            **{f"probe_{name}": padded(name, NAN, np.float64) for name in PROBE_SCORES},
            "probe_spearman": per_score("spearman"),
            "probe_within_spearman": per_score("within_spearman"),
            "probe_auroc": per_score("auroc"),
        }


def write_records(dataset: xr.Dataset, path: str | Path) -> None:
    """Write `dataset` as NetCDF-4 at `path`, atomically (readers never see half a file)."""
    atomic_write(path, lambda tmp: dataset.to_netcdf(tmp, engine="netcdf4"))


LATER_VARIABLES = frozenset(
    {
        "probe_reliability",
        "probe_layer",
        "probe_loss_change_first",
        "probe_loss_change_second",
        "probe_fisher",
        "probe_within_spearman",
    }
)
"""Variables added on 2026-12-06 (the held-out probe): absent from earlier runs' records, which still read."""
MOST_RECORDS_BYTES = 1 << 30
"""The most a records file may declare (its variables loaded), beyond 64 times the file's size."""


def read_records(path: str | Path) -> xr.Dataset:
    """Load a records file fully into memory (the file is closed on return); `config` parsed to a dict.

    The file is checked before its data are loaded: what its variables declare must fit
    `MOST_RECORDS_BYTES` (or 64 times the file), every variable of `VARIABLES` must be there with its
    dimensions, `epoch` must count in integers, and `complete` and `epochs_done` must be integers.

    Raises:
        FileNotFoundError: there is no records file at `path`.
        DataError: the file is not a records file (unreadable, without the variables, dimensions
            or attributes of a run's records, or declaring more data than it could hold).
    """
    path = Path(path)
    if path.is_dir():
        path = path / RECORDS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no records file")
    check_hdf5(path, "records file")  # no links; what the variables declare is checked below
    # netCDF-C reports damaged HDF5 metadata under many kinds (AttributeError among them)
    with reading(path, "records file"), xr.open_dataset(path) as lazy:  # declared sizes first: nothing allocated
        declared = sum(variable.nbytes for variable in lazy.variables.values())
        bound = max(MOST_RECORDS_BYTES, 64 * path.stat().st_size)
        if declared > bound:
            raise DataError(
                f"{path}: declares {declared / 2**30:.1f} GiB of records in a file of "
                f"{path.stat().st_size} bytes; not the records of a run"
            )
        _check_schema(lazy, path)
        return lazy.load()


def _check_schema(records: xr.Dataset, path: Path) -> None:
    """Every variable of `VARIABLES` with its dimensions, an integer `epoch`, integer attributes."""
    if "epoch" not in records.dims:
        raise DataError(f"{path}: not the records of a biogrn run (lacks an epoch axis)")
    missing = [name for name in VARIABLES if name not in records and name not in LATER_VARIABLES]
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise DataError(f"{path}: not the records of a biogrn run (lacks {shown})")
    for name, (dims, _, _) in VARIABLES.items():
        if name in records and records[name].dims != dims:
            raise DataError(f"{path}: {name} has dimensions {records[name].dims}, a run's records {dims}")
    if "epoch" in records.coords and not np.issubdtype(records["epoch"].dtype, np.integer):
        raise DataError(f"{path}: epoch holds {records['epoch'].dtype} values; a run counts epochs in integers")
    for name in VARIABLES:
        if name in records and records[name].dtype.kind not in COUNTED.get(name, "biuf"):
            kind = "integers" if name in COUNTED else "numbers"
            raise DataError(f"{path}: {name} holds {records[name].dtype} values; a run writes {kind}")
    for attribute in ("complete", "epochs_done", "epochs_planned"):
        value = records.attrs.get(attribute, 0)
        if isinstance(value, (bool, str, float)) or not isinstance(value, (int, np.integer)):
            raise DataError(f"{path}: attribute {attribute} is {quoted(value)}; a run writes an integer")
    for dimension in ("layer", "quantile"):
        if records.sizes.get(dimension, 1) == 0:
            raise DataError(f"{path}: no {dimension} at all; a run records every regulated tensor at some quantiles")
    if "layer" in records.coords:
        names = [str(name) for name in records["layer"].values]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise DataError(f"{path}: layer {quoted(repeated[0])} is named twice; a run names each tensor once")
    if "config" in records.attrs:  # the run's configuration, as JSON of its sections
        try:
            config = json.loads(str(records.attrs["config"]))
        except ValueError as error:
            raise DataError(f"{path}: attribute config is not JSON ({error})") from None
        if not isinstance(config, dict):
            raise DataError(f"{path}: attribute config is a {type(config).__name__}; a run writes its sections")
        # what a report reads of it (the whole config is parsed only where a run is continued: its
        # paths may not exist on this machine, and a later biogrn may have added fields)
        model = config.get("model", {})
        hidden = model.get("hidden") if isinstance(model, dict) else None
        if not isinstance(model, dict) or not (hidden is None or isinstance(hidden, list)):
            raise DataError(f"{path}: attribute config holds model = {quoted(model)}; a run writes its section")


COUNTED = {
    name: "iu"
    for name in (
        "step",
        "n_pruned",
        "n_regrown",
        "update_step",
        "update_epoch",
        "update_n_pruned",
        "update_n_regrown",
        "probe_epoch",
        "probe_gene",
        "probe_layer",
    )
}
"""Variables a run writes as integers (the report prints them as counts): their dtype kinds."""


def config_of(dataset: xr.Dataset) -> dict:
    """The run's full configuration, from the records' `config` attribute."""
    return json.loads(dataset.attrs["config"])
