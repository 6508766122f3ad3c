"""Gene regulation as a Hugging Face `TrainerCallback` (`pip install biogrn[transformers]`).

    regulation = GeneRegulationCallback(monitor="eval_accuracy", epochs=3)
    trainer = transformers.Trainer(model, args, train_dataset=..., eval_dataset=..., callbacks=[regulation])

The callback attaches a `Regulator` to the model when training begins (with the Trainer's
optimizer), steps it after each optimizer step and before the gradients are zeroed (the
`on_optimizer_step` event: under gradient accumulation, once per accumulated step), and calls
`epoch_end` once per epoch: after the evaluation with the monitored metric when the Trainer
evaluates every epoch, else at the epoch's end without one. The regulator's state is saved in
each checkpoint folder (`biogrn_regulator.pt`, atomically) and read back when training resumes
from it; each epoch's sparsity, tau, sigma and expression quantiles are appended to the Trainer's
`state.log_history`.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

try:
    from transformers import TrainerCallback
    from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR
except ImportError as error:
    raise ImportError(
        f"GeneRegulationCallback needs transformers: pip install 'biogrn[transformers]' ({error})"
    ) from None

from biogrn.core import CheckpointError, atomic_write
from biogrn.integrations._summary import regulator_summary
from biogrn.regulation import Regulator, make_config
from biogrn.runs._checkpoint import read_tensors

__all__ = ["REGULATOR_FILE", "GeneRegulationCallback"]

REGULATOR_FILE = "biogrn_regulator.pt"


class GeneRegulationCallback(TrainerCallback):
    """Attach, step and checkpoint a biogrn `Regulator` inside a Hugging Face `Trainer`.

    Args:
        config: a `RegulatorConfig`, a dict of its fields, or None.
        monitor: the evaluation metric handed to `epoch_end` (`eval_accuracy`, `eval_loss`...);
            None: no metric. A name the evaluation does not report raises.
        **overrides: `RegulatorConfig` fields (`epochs` should be `num_train_epochs`).

    Raises:
        ValueError: a setting is invalid (at construction).
    """

    def __init__(self, config=None, monitor: str | None = None, **overrides):
        self.config = make_config(config, **overrides)
        self.monitor = monitor
        self.regulator: Regulator | None = None
        self._epochs_ended = 0

    def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        self._check_before_training(args)
        optimizer = getattr(optimizer, "optimizer", optimizer)  # accelerate wraps the torch optimizer
        if self.regulator is not None and self.regulator.model is model:
            self.regulator.attach_optimizer(optimizer)  # train() again: the same model, a new optimizer
        else:  # the first train(), or another model: a regulator of its own
            self.regulator = Regulator(model, self.config, optimizer)
        if state.global_step > 0:  # resumed: the Trainer has restored weights, optimizer and step
            given = getattr(args, "resume_from_checkpoint", None)
            folder = Path(given) if isinstance(given, str) and Path(given).is_dir() else _checkpoint_folder(args, state)
            path = folder / REGULATOR_FILE
            if not path.is_file():
                raise CheckpointError(
                    f"{path}: resuming at step {state.global_step}, but the checkpoint holds no "
                    "regulator state (was it written with GeneRegulationCallback? A checkpoint outside "
                    "output_dir is found when TrainingArguments.resume_from_checkpoint names it: the "
                    "Trainer does not pass train()'s path to its callbacks)"
                )
            self.regulator.load_state_dict(read_tensors(path, "regulator state"))
        self._epochs_ended = self.regulator.epoch

    def _check_before_training(self, args) -> None:
        """Refuse, before the first step, settings this training cannot honour.

        Raises:
            ValueError: pruning that never starts or a schedule past `num_train_epochs` (checked
                when the run is counted in epochs, `max_steps` unset), or a monitor no evaluation of
                these arguments reports.
        """
        problems = []
        if getattr(args, "max_steps", -1) <= 0:
            epochs = math.ceil(float(args.num_train_epochs))
            problems += self.config.unreachable(epochs)
        if self.monitor is not None:
            if str(args.eval_strategy) in ("no", "IntervalStrategy.NO"):
                problems.append(
                    f"monitor: {self.monitor!r}, but eval_strategy is 'no', so no evaluation reports it; "
                    "set eval_strategy = 'epoch' or monitor = None"
                )
            elif not self.monitor.startswith("eval_"):
                problems.append(
                    f"monitor: {self.monitor!r}; the Trainer reports evaluation metrics as 'eval_<name>' "
                    f"(eval_loss, or eval_accuracy from a compute_metrics returning 'accuracy')"
                )
        if problems:
            raise ValueError("GeneRegulationCallback: " + "; ".join(problems))

    def on_optimizer_step(self, args, state, control, **kwargs):
        self.regulator.step()

    def _ends_at_evaluation(self, args) -> bool:
        """Whether an epoch ends after its evaluation (a monitor, and evaluation every epoch)."""
        return self.monitor is not None and str(args.eval_strategy) in ("epoch", "IntervalStrategy.EPOCH")

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if not self._ends_at_evaluation(args):
            return
        if self.monitor not in (metrics or {}):
            raise ValueError(
                f"GeneRegulationCallback: monitor {self.monitor!r} is not among the evaluation's "
                f"metrics {sorted(metrics or {})}"
            )
        self._end_epoch(state, float(metrics[self.monitor]))

    def on_epoch_end(self, args, state, control, **kwargs):
        if not self._ends_at_evaluation(args):
            self._end_epoch(state, None)

    def _end_epoch(self, state, metric: float | None) -> None:
        if self._epochs_ended >= math.ceil(state.epoch or 0):
            return  # this epoch has ended already (an evaluation outside the epoch schedule)
        self.regulator.epoch_end(metric)
        self._epochs_ended += 1
        state.log_history.append({"epoch": state.epoch, "step": state.global_step, **self.summary()})

    def on_save(self, args, state, control, **kwargs):
        folder = _checkpoint_folder(args, state)
        if folder.is_dir():
            regulator_state = self.regulator.state_dict()
            atomic_write(folder / REGULATOR_FILE, lambda tmp: torch.save(regulator_state, tmp))

    def summary(self) -> dict[str, float]:
        """The regulator's numbers of this epoch (`biogrn.integrations.regulator_summary`)."""
        return regulator_summary(self.regulator)


def _checkpoint_folder(args, state) -> Path:
    """The folder the Trainer writes (and resumes from) at this global step."""
    return Path(args.output_dir) / f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}"
