"""A whole run from a `RunConfig`: data, model, optimizer, regulator, records, figures, checkpoints.

`Trainer` holds the pieces of one run; `run` starts one in a new directory, `resume` continues one.

    records = biogrn.run(config, "runs/a")            # train, writing runs/a/...
    records = biogrn.resume("runs/a")                 # continue a killed run where it stopped

The run directory holds `config.json` (the full configuration), `checkpoint.pt` (after every
epoch), `records.nc` (after every epoch; `complete` = 1 once the test split is scored) and the
figures. Checkpoint and records are replaced atomically, checkpoint first, so a run killed at any
moment resumes from its last finished epoch and ends with the same records as a run never
stopped (except the wall-clock `epoch_seconds`).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import torch
import torch.distributed as dist
import xarray as xr
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler
from tqdm.auto import tqdm

from biogrn.core import (
    CheckpointError,
    ConfigError,
    DivergedError,
    atomic_write,
    cause,
    quoted,
    read_text,
    reading,
    remove_stale_temporaries,
    require_memory,
    stream_seed,
)
from biogrn.data import Augment
from biogrn.regulation import RankSync, Regulator, select_tensors
from biogrn.runs._build import (
    build_model,
    load_data,
    load_initial_weights,
    make_optimizer,
    parameter_count,
    resolve_device,
    training_bytes,
)
from biogrn.runs._checkpoint import load_checkpoint, restore_rng, rng_states, save_checkpoint
from biogrn.runs._directories import claim_directory, locked
from biogrn.runs._files import CHECKPOINT_FILE, CONFIG_FILE, RECORDS_FILE
from biogrn.runs._loop import EpochResult, evaluate, train_epoch
from biogrn.runs._probe import probe_expression, probe_summary
from biogrn.runs._ranks import RankShard
from biogrn.runs._records import ConnectionTrace, Recorder, package_versions, write_records
from biogrn.runs._run_config import ModelConfig, RunConfig, parse_run_config

__all__ = ["Trainer", "resume", "run"]

CHECKPOINT_PARTS = frozenset({"config", "epoch", "step", "model", "optimizer", "regulator", "rng", "records", "trace"})


class Trainer:
    """Everything one run trains and records; building it reads the data but writes nothing.

    Raises:
        ConfigError: the device is not available.
        DataError: the data file is malformed.
    """

    def __init__(self, config: RunConfig, out: str | Path):
        self.config = config
        self.out = Path(out)
        data_folder = config.data.path
        if data_folder is not None and data_folder.is_dir() and self.out.resolve().is_relative_to(data_folder):
            # a run directory inside FER-2013's train/ would become a class, its figures images
            raise ConfigError(f"{self.out}: lies inside data.path ({data_folder}); a run's files would join the data")
        self.ranks = RankSync()
        self.rank, world = self.ranks.rank, self.ranks.world_size
        if world > 1:
            _check_ranks_agree(self.ranks, config, self.out)
        try:
            self.device = resolve_device(config.device)
        except ValueError as error:
            raise ConfigError(str(error)) from None
        if world > 1 and self.device.type == "cuda":  # torchrun: one device per process of a machine
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        self.data = load_data(config.data, config.seed)
        if config.records.probe_genes:
            self._probe_sets()  # refused before training: the probe needs a disjoint reference set
        try:
            n_parameters = parameter_count(
                config.model, self.data.n_features, self.data.n_classes, self.data.image_shape
            )
        except ValueError as error:
            raise _model_error(error) from None
        require_memory(
            training_bytes(
                config, self.data.n_features, self.data.n_classes, self.data.image_shape, len(self.data.train)
            ),
            self.device,
            f"model.hidden = {list(config.model.hidden)}: {n_parameters:.3g} parameters between "
            f"{self.data.n_features} features and {self.data.n_classes} classes of the data",
            ConfigError,
        )
        torch.manual_seed(config.seed)
        try:
            self.model = build_model(
                config.model,
                self.data.n_features,
                self.data.n_classes,
                self.data.image_shape,
                stream_seed(config.seed, "structure"),
            ).to(self.device)
        except ValueError as error:
            raise _model_error(error) from None
        self.weights_sha256 = load_initial_weights(self.model, config.model.weights) if config.model.weights else ""
        self.optimizer = make_optimizer(config.training, self.model.parameters())
        allow = getattr(self.model, "allow", None) or None
        self.regulator = (
            Regulator(self.model, config.regulator, self.optimizer, allow) if config.pruning == "gene" else None
        )
        tensors = (
            self.regulator.tensors
            if self.regulator is not None
            else select_tensors(self.model, config.regulator.layers, "connection")
        )
        names = [t.name for t in tensors]
        self.recorder = Recorder(names, config.records.quantiles, [tuple(t.original.shape) for t in tensors])
        self.trace = (
            ConnectionTrace(
                [t.original for t in tensors],
                names,
                config.records.trace_connections,
                config.records.trace_every,
                stream_seed(config.seed, "trace"),
                self.regulator,
            )
            if config.records.trace_connections
            else None
        )
        self.generator = torch.Generator().manual_seed(stream_seed(config.seed, "shuffle"))
        self.augment_generator: torch.Generator | None = None
        if config.data.augment:
            if self.data.image_shape is None:
                raise ConfigError(f"data.augment: {self.data.source} are not images; augmentation needs images")
            self.augment_generator = torch.Generator(self.device).manual_seed(stream_seed(config.seed, "augment"))
        if world == 1:
            self.train_loader = DataLoader(
                self.data.train, batch_size=config.training.batch_size, shuffle=True, generator=self.generator
            )
            self.val_loader = DataLoader(self.data.val, batch_size=512)
            self.test_loader = DataLoader(self.data.test, batch_size=512)
            self.train_model = self.model
        else:  # training.batch_size is the global batch; each rank takes its share of it
            sampler = DistributedSampler(
                self.data.train, world, self.rank, shuffle=True, seed=stream_seed(config.seed, "shuffle") % 2**31
            )
            self.train_loader = DataLoader(
                self.data.train, batch_size=config.training.batch_size // world, sampler=sampler
            )
            self.val_loader = DataLoader(self.data.val, batch_size=512, sampler=RankShard(self.data.val, self.ranks))
            self.test_loader = DataLoader(self.data.test, batch_size=512, sampler=RankShard(self.data.test, self.ranks))
            devices = [self.device] if self.device.type == "cuda" else None
            self.train_model = DistributedDataParallel(self.model, device_ids=devices)
        self.epoch = 0
        self.written_epoch = 0
        """The last epoch whose checkpoint and records are on disk."""
        self.step = 0
        self.stopped: str | None = None
        """Why training stopped early (a non-finite loss), written into the records."""

    # -- files ------------------------------------------------------------------------------------------
    def create_directory(self) -> None:
        """Make the run directory and write `config.json` (call it holding the directory's lock).

        Raises:
            FileExistsError: the path is a file or a directory that holds files (a run is never
                overwritten).
        """
        claim_directory(self.out)
        atomic_write(self.out / CONFIG_FILE, lambda tmp: tmp.write_text(self.config.to_json() + "\n"))

    @contextmanager
    def holding_directory(self, create: bool) -> Iterator[None]:
        """Rank 0 claims (`create`) and locks the run directory for the block; a refusal is raised
        on every rank.

        Raises:
            FileExistsError: the directory is occupied, or another process trains there.
        """
        refusal, hold = None, ExitStack()
        if self.rank == 0:
            try:
                if create:
                    claim_directory(self.out)  # refused before anything is created in it
                hold.enter_context(locked(self.out))
                remove_stale_temporaries(self.out)  # a SIGKILL mid-write left its .tmp; the lock says no one writes now
                if create:
                    self.create_directory()  # claimed again under the lock: a concurrent run may have come first
            except FileExistsError as error:
                hold.close()
                refusal = error
        refusal = self.ranks.from_first(refusal)
        if refusal is not None:
            raise refusal
        with hold:
            yield

    def attributes(self) -> dict:
        """The records' global attributes: the full config, the seed, what ran where, versions."""
        regulated = sum(t.original.numel() for t in self.regulator.tensors) if self.regulator else 0
        policy = self.config.regulator.policy if self.regulator is not None else "none"
        return {
            "config": self.config.to_json(),
            "seed": self.config.seed,
            "pruning": self.config.pruning,
            "policy": policy,
            "data_source": self.data.source,
            "data_sha256": self.data_fingerprint,
            "weights_sha256": self.weights_sha256,
            "device": str(self.device),
            "ranks": self.ranks.world_size,
            "process_group_backend": dist.get_backend() if dist.is_initialized() else "none",
            "n_parameters": sum(p.numel() for p in self.model.parameters()),
            "n_regulated": regulated,
            # where each regulated tensor's drive came from, as `auto` resolved it (docs/choices.md)
            "drive_sources": ",".join(self.regulator.drive_sources) if self.regulator is not None else "",
            "epochs_planned": self.config.training.epochs,
            **package_versions(),
            **({"stopped": self.stopped} if self.stopped else {}),
        }

    def records(self, test: tuple[float, float] | None = None) -> xr.Dataset:
        return self.recorder.to_dataset(self.attributes(), self.trace, test)

    @functools.cached_property
    def data_fingerprint(self) -> str:
        """SHA-256 over every split's features and labels (their bytes, shapes and dtypes): a resumed
        run must see the data it started with, not a file changed after the kill."""
        digest = hashlib.sha256()
        for split in ("train", "val", "test"):
            for tensor in getattr(self.data, split).tensors:
                tensor = tensor.detach().cpu().contiguous()
                digest.update(f"{split}:{tuple(tensor.shape)}:{tensor.dtype};".encode())
                digest.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
        return digest.hexdigest()

    def state_dict(self) -> dict:
        return {
            "data_fingerprint": self.data_fingerprint,
            "weights_sha256": self.weights_sha256,
            "threads": torch.get_num_threads(),
            "config": self.config.to_json(),
            "epoch": self.epoch,
            "step": self.step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "regulator": self.regulator.state_dict() if self.regulator is not None else None,
            "rng": rng_states(*self.generators()),
            "records": self.recorder.state_dict(),
            "trace": self.trace.state_dict() if self.trace is not None else None,
        }

    def load_state_dict(self, state: dict) -> None:
        """Continue from a checkpoint of this same configuration.

        Raises:
            CheckpointError: the checkpoint was written by another configuration, lacks a part,
                holds tensors of other shapes, or an epoch this run cannot have reached.
        """
        where = self.out / CHECKPOINT_FILE
        missing = sorted(CHECKPOINT_PARTS - set(state))
        if missing:
            raise CheckpointError(f"{where}: lacks {', '.join(missing)}; it is not a whole checkpoint of a run")
        try:
            # through the parser: a field added since the checkpoint was written takes its default
            same_config = parse_run_config(json.loads(state["config"])).to_json() == self.config.to_json()
        except (TypeError, json.JSONDecodeError, ConfigError):
            same_config = False
        if not same_config:
            raise CheckpointError(f"{where}: written by another configuration")
        written = state.get("data_fingerprint")  # absent from checkpoints before it was kept
        if written is not None and written != self.data_fingerprint:
            raise CheckpointError(
                f"{where}: the run started on other data than {self.data.source} holds now (its examples or "
                "labels changed since); a resumed run would mix two data sets: start a new run"
            )
        if state.get("weights_sha256", "") != self.weights_sha256:
            raise CheckpointError(
                f"{where}: the run started from other initial weights than {self.config.model.weights} holds "
                "now (the file changed since); start a new run"
            )
        epoch, step, epochs = state["epoch"], state["step"], self.config.training.epochs
        steps_per_epoch = len(self.train_loader)
        if not (isinstance(epoch, int) and 0 <= epoch <= epochs and step == epoch * steps_per_epoch):
            raise CheckpointError(
                f"{where}: epoch {epoch!r} at step {step!r} is not a state this run reaches "
                f"(epochs 0 to {epochs}, {steps_per_epoch} steps each)"
            )
        started_with = state.get("threads")  # absent from checkpoints before it was kept
        if started_with is not None and (type(started_with) is not int or started_with < 1):
            raise CheckpointError(f"{where}: threads is {quoted(started_with)}, not a thread count")
        weights = state["model"] if isinstance(state["model"], dict) else {}
        for name, value in weights.items():
            if isinstance(value, torch.Tensor) and value.is_floating_point() and not bool(value.isfinite().all()):
                raise CheckpointError(f"{where}: model weight {name} holds a non-finite value; a run never saves one")
        before = copy.deepcopy(self._parts())  # a refused checkpoint leaves this Trainer as it was
        try:
            self._load_parts(state)
            if len(self.recorder.rows) != epoch:
                raise CheckpointError(f"{where}: holds records of {len(self.recorder.rows)} epochs at epoch {epoch}")
            self.records()  # the records it holds must build: the next epoch writes them
        except Exception as error:  # any part's loader may fail in its own way on a damaged state
            self._load_parts(before)
            if isinstance(error, CheckpointError):
                raise
            raise CheckpointError(f"{where}: does not fit this run ({cause(error)})") from None
        self.epoch, self.step, self.written_epoch = epoch, step, epoch
        # said once the checkpoint is accepted: a refused one gets its refusal alone
        if started_with is not None and started_with != torch.get_num_threads() and self.device.type == "cpu":
            warnings.warn(
                f"{where}: resumed with {torch.get_num_threads()} torch threads, the run started with {started_with}: "
                "sums reduce in another order, so its records may differ from a run never stopped in the last digits "
                f"(about 1e-7); set OMP_NUM_THREADS={started_with} to resume it exactly",
                RuntimeWarning,
                stacklevel=2,
            )

    def _parts(self) -> dict:
        """The state `_load_parts` restores: everything a checkpoint replaces."""
        state = self.state_dict()
        return {key: state[key] for key in ("model", "optimizer", "regulator", "trace", "records", "rng")}

    def _load_parts(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.regulator is not None:
            self.regulator.load_state_dict(state["regulator"])
        if self.trace is not None:
            self.trace.load_state_dict(state["trace"])
        self.recorder.load_state_dict(state["records"])
        restore_rng(state["rng"], *self.generators())

    def generators(self) -> list[torch.Generator]:
        return [self.generator] + ([self.augment_generator] if self.augment_generator is not None else [])

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        """The paper's augmentation of a flat batch of images, on the device."""
        images = x.reshape(len(x), *self.data.image_shape)
        return Augment()(images, self.augment_generator).reshape(len(x), -1)

    def _check_finite(self, epoch: int, train_loss: float, val_loss: float) -> None:
        """Stop, keeping the last finite epoch's checkpoint and records, when the loss or a weight is not finite.

        Raises:
            DivergedError: naming the epoch, what diverged, and what the directory keeps.
        """
        weights_finite = bool(torch.stack([p.detach().isfinite().all() for p in self.model.parameters()]).all())
        if math.isfinite(train_loss) and math.isfinite(val_loss) and weights_finite:
            return
        what = (
            "the training loss"
            if not math.isfinite(train_loss)
            else "the validation loss"
            if not math.isfinite(val_loss)
            else "a weight"
        )
        if not self.epoch:
            kept = "no epoch finished, so nothing is checkpointed"
        elif self.written_epoch == self.epoch:
            kept = f"{self.out / CHECKPOINT_FILE} and {RECORDS_FILE} hold epoch {self.epoch}, the last finite one"
        else:  # records.write_every > 1: the checkpoint is older than the records
            kept = (
                f"{RECORDS_FILE} holds epochs to {self.epoch}, the last finite one; {self.out / CHECKPOINT_FILE} "
                f"holds epoch {self.written_epoch} (records.write_every = {self.config.records.write_every})"
            )
        self.stopped = f"epoch {epoch}: {what} became non-finite"
        if self.epoch and self.rank == 0:
            write_records(self.records(), self.out / RECORDS_FILE)
        raise DivergedError(
            f"{self.out}: {self.stopped}; training stopped ({kept}); a smaller training.lr usually helps, in a new run"
        )

    def _probe_due(self, epoch: int) -> bool:
        every = self.config.records.probe_every
        return bool(self.config.records.probe_genes) and (epoch % every == 0 or epoch == self.config.training.epochs)

    def _probe_sets(self) -> tuple[tuple, tuple]:
        """The probe's estimate set (the first `records.probe_examples` validation examples) and its
        disjoint reference set (the data's probe set, else the validation examples after them).

        Raises:
            ConfigError: no reference set of at least 2 examples.
        """
        x, y = self.data.val.tensors
        n = self.config.records.probe_examples
        if self.data.probe is not None:
            return (x[:n], y[:n]), self.data.probe.tensors
        if len(x) - n < 2:
            raise ConfigError(
                f"records.probe_examples: {n} of the {len(x)} validation examples leave no reference set for the "
                "probe's removal cost (it needs 2 or more, disjoint); lower it, or set data.mnist1d.probe_signals"
            )
        return (x[:n], y[:n]), (x[n:], y[n:])

    def _probe(self, epoch: int) -> None:
        """What the expression knows, before this epoch's prune/rewire update (docs/records.md)."""
        estimate, reference = self._probe_sets()
        measured = probe_expression(
            self.regulator,
            estimate,
            reference,
            self.config.records.probe_genes,
            stream_seed(self.config.seed, f"probe-{epoch}"),
        )
        loss = measured.pop("loss")
        self.recorder.add_probe(epoch, loss, measured, probe_summary(measured))

    # -- training ------------------------------------------------------------------------------------------
    def train(self, quiet: bool = False, figures: bool = True) -> xr.Dataset:
        """Train the remaining epochs, checkpointing and recording each; then score the test split."""
        epochs = self.config.training.epochs
        quiet = quiet or self.rank != 0
        for epoch in range(self.epoch + 1, epochs + 1):
            started = time.perf_counter()
            if isinstance(self.train_loader.sampler, DistributedSampler):
                self.train_loader.sampler.set_epoch(epoch)
            bar = tqdm(
                total=len(self.train_loader),
                desc=f"epoch {epoch}/{epochs}",
                leave=False,
                disable=True if quiet else None,
                file=sys.stderr,
                dynamic_ncols=True,
            )
            with bar:
                train_loss, train_accuracy = train_epoch(
                    self.train_model,
                    self.train_loader,
                    self.optimizer,
                    self.device,
                    self.regulator,
                    self.trace,
                    bar,
                    transform=self.augment if self.augment_generator is not None else None,
                    ranks=self.ranks,
                )
            val_loss, val_accuracy = evaluate(self.model, self.val_loader, self.device, ranks=self.ranks)
            self._check_finite(epoch, train_loss, val_loss)
            if self._probe_due(epoch):
                self._probe(epoch)
            if self.regulator is not None:
                self.regulator.epoch_end(val_accuracy)
            self.step += len(self.train_loader)
            sparsity = self.regulator.sparsity() if self.regulator is not None else 0.0
            result = EpochResult(epoch, train_loss, train_accuracy, val_loss, val_accuracy, sparsity)
            self.recorder.add_epoch(result, time.perf_counter() - started, self.step, self.regulator)
            self.epoch = epoch
            due = epoch % self.config.records.write_every == 0 or epoch == epochs
            if self.rank == 0 and due:  # every rank holds the same state; one writes it
                save_checkpoint(self.out / CHECKPOINT_FILE, self.state_dict())
                write_records(self.records(), self.out / RECORDS_FILE)
            if due:
                self.written_epoch = epoch
            if not quiet:
                tqdm.write(
                    f"epoch {epoch:3d}/{epochs}  loss {train_loss:.4f}  val loss {val_loss:.4f}  "
                    f"val acc {val_accuracy * 100:6.2f}%  sparsity {sparsity * 100:5.1f}%",
                    file=sys.stderr,
                )
        records = self.records(evaluate(self.model, self.test_loader, self.device, ranks=self.ranks))
        if self.rank != 0:
            return records
        write_records(records, self.out / RECORDS_FILE)
        if figures:
            from biogrn.runs._figures import plot_run  # matplotlib loads only where figures are drawn

            plot_run(records, self.out)
        return records


def run(config: RunConfig | dict, out: str | Path, quiet: bool = False, figures: bool = True) -> xr.Dataset:
    """Train the run `config` describes into the new directory `out`; returns its records.

    Raises:
        ConfigError, DataError: before anything is written.
        FileExistsError: `out` already holds files.
    """
    if not isinstance(config, RunConfig):
        config = parse_run_config(config)
    session = Trainer(config, out)
    with session.holding_directory(create=True):
        return session.train(quiet, figures)


def resume(out: str | Path, config: RunConfig | None = None, quiet: bool = False, figures: bool = True) -> xr.Dataset:
    """Continue the run in `out` from its last checkpoint (its own config.json, or `config` if equal).

    Raises:
        CheckpointError: no checkpoint in `out`, or `config` differs from the run's.
    """
    out = Path(out)
    stored = stored_config(out)
    if config is not None and config.to_json() != stored.to_json():
        ours, theirs = config.model_dump(mode="json"), stored.model_dump(mode="json")
        differing = sorted(_differences(ours, theirs))
        raise ConfigError(f"{out}: the run there has another configuration; differing fields: {', '.join(differing)}")
    session = Trainer(stored, out)
    with session.holding_directory(create=False):
        checkpoint = out / CHECKPOINT_FILE
        if checkpoint.exists():  # killed before its first epoch ended: start again
            session.load_state_dict(load_checkpoint(checkpoint))
        return session.train(quiet, figures)


def _model_error(error: ValueError) -> ConfigError:
    """A model builder's refusal (`channels: ...`) named by its field's dotted path (`model.channels`)."""
    text = str(error)
    return ConfigError(f"model.{text}" if text.split(":")[0] in ModelConfig.model_fields else text)


def stored_config(out: str | Path) -> RunConfig:
    """The configuration a run wrote into `out/config.json`.

    Raises:
        CheckpointError: no config.json there, or one that is not JSON of a mapping.
        ConfigError: a field that this biogrn refuses (named with the file).
    """
    stored_file = Path(out) / CONFIG_FILE
    if not stored_file.is_file():
        raise CheckpointError(f"{out}: no run to resume here ({CONFIG_FILE} is missing)")
    text = read_text(stored_file, "config.json", CheckpointError)
    with reading(stored_file, "config.json", CheckpointError, empty=True):  # JSON's own refusal, in one line
        stored_data = json.loads(text)
    if not isinstance(stored_data, dict):
        raise CheckpointError(f"{stored_file}: not the JSON a run writes (a {type(stored_data).__name__})")
    return parse_run_config(stored_data, source=str(stored_file))


def _check_ranks_agree(ranks: RankSync, config: RunConfig, out: Path) -> None:
    """Every rank runs the same configuration into the same directory, with a batch it can share.

    Raises:
        ConfigError: naming the ranks and the fields that differ.
    """
    mine = {"config": config.model_dump(mode="json"), "out": str(out.resolve())}
    for rank, theirs in enumerate(ranks.gather(mine)):
        if theirs != mine:
            differing = sorted(_differences(mine["config"], theirs["config"])) + (
                ["--out"] if theirs["out"] != mine["out"] else []
            )
            raise ConfigError(
                f"rank {ranks.rank} and rank {rank} were given different runs; differing: {', '.join(differing)}"
            )
    if config.training.batch_size % ranks.world_size:
        raise ConfigError(
            f"training.batch_size: {config.training.batch_size} is the global batch and must be "
            f"divisible by the {ranks.world_size} ranks"
        )


def _differences(a: dict, b: dict, prefix: str = "") -> list[str]:
    found = []
    for key in sorted(set(a) | set(b)):
        left, right = a.get(key), b.get(key)
        if isinstance(left, dict) and isinstance(right, dict):
            found += _differences(left, right, f"{prefix}{key}.")
        elif left != right:
            found.append(prefix + key)
    return found
