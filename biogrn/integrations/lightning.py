"""Gene regulation as a PyTorch Lightning callback (`pip install biogrn[lightning]`).

    trainer = lightning.Trainer(max_epochs=20, callbacks=[GeneRegulation(monitor="val_acc", epochs=20)])
    trainer.fit(module, train_loader, val_loader)

The callback attaches a `Regulator` to the LightningModule when fitting starts (its one optimizer
is the one whose moments are reset for pruned weights), steps it after each optimizer step (under
gradient accumulation, once per accumulated step, as biogrn's own loop does), calls `epoch_end`
with the monitored metric after each training epoch (validation has run by then), and logs
sparsity, mean tau, sigma and quantiles of the protein level. Its state goes into Lightning's
checkpoints, so a run resumed from one continues identically.
"""

from __future__ import annotations

try:
    import lightning
except ImportError as error:
    raise ImportError(f"GeneRegulation needs Lightning: pip install 'biogrn[lightning]' ({error})") from None

from biogrn.integrations._summary import regulator_summary
from biogrn.regulation import Regulator, make_config

__all__ = ["GeneRegulation"]


class GeneRegulation(lightning.Callback):
    """Attach, step and checkpoint a biogrn `Regulator` inside a Lightning `Trainer`.

    Args:
        config: a `RegulatorConfig`, a dict of its fields, or None.
        monitor: the logged metric handed to `epoch_end` (the plateau rule), e.g. `val_acc`;
            None: no metric. A name that is not logged by the end of an epoch raises.
        log: log sparsity, tau, sigma and expression quantiles each epoch.
        **overrides: `RegulatorConfig` fields (`epochs` should be the Trainer's `max_epochs`).

    Raises:
        ValueError: a setting is invalid (at construction), or the module has several optimizers
            or none (at fit start).
    """

    def __init__(self, config=None, monitor: str | None = None, log: bool = True, **overrides):
        self.config = make_config(config, **overrides)
        self.monitor, self.log = monitor, log
        self.regulator: Regulator | None = None
        self._pending: dict | None = None
        self._optimizer_steps = 0

    def on_fit_start(self, trainer: lightning.Trainer, pl_module: lightning.LightningModule) -> None:
        if trainer.max_epochs is not None and trainer.max_epochs > 0:  # -1 or None: no epoch limit to check
            problems = self.config.unreachable(trainer.max_epochs)
            if problems:
                raise ValueError(
                    f"GeneRegulation, for a Trainer of max_epochs = {trainer.max_epochs}: " + "; ".join(problems)
                )
        if len(trainer.optimizers) != 1:
            raise ValueError(
                f"GeneRegulation: the module has {len(trainer.optimizers)} optimizers; the regulator resets the "
                "optimizer moments of what it prunes and needs exactly one (manual optimization with several "
                "is not supported)"
            )
        if self.regulator is not None and self.regulator.model is not pl_module:
            # a fit of another module gets a regulator of its own (the earlier module keeps its own)
            self.regulator, self._optimizer_steps = None, 0
        if self.regulator is None:
            self.regulator = Regulator(pl_module, self.config, trainer.optimizers[0])
        else:  # the same module fitted again: each fit makes its optimizer anew
            self.regulator.attach_optimizer(trainer.optimizers[0])
        if self._pending is not None:
            self.regulator.load_state_dict(self._pending)
            self._pending = None

    def on_train_start(self, trainer: lightning.Trainer, pl_module: lightning.LightningModule) -> None:
        self._optimizer_steps = trainer.global_step  # restored from a checkpoint by now

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        # global_step counts optimizer steps: under accumulation it moves every k batches
        while self._optimizer_steps < trainer.global_step:
            self.regulator.step()
            self._optimizer_steps += 1

    def on_train_epoch_end(self, trainer: lightning.Trainer, pl_module: lightning.LightningModule) -> None:
        metric = None
        if self.monitor is not None:
            if self.monitor not in trainer.callback_metrics:
                raise ValueError(
                    f"GeneRegulation: monitor {self.monitor!r} is not logged; logged are "
                    f"{sorted(trainer.callback_metrics)}"
                )
            metric = float(trainer.callback_metrics[self.monitor])
        self.regulator.epoch_end(metric)
        if self.log:
            pl_module.log_dict(self.summary(), on_epoch=True, on_step=False)

    def summary(self) -> dict[str, float]:
        """The regulator's numbers of this epoch (`biogrn.integrations.regulator_summary`)."""
        return regulator_summary(self.regulator)

    def state_dict(self) -> dict:
        return {"regulator": self.regulator.state_dict()} if self.regulator is not None else {}

    def load_state_dict(self, state_dict: dict) -> None:
        if "regulator" not in state_dict:
            return
        if self.regulator is not None:
            self.regulator.load_state_dict(state_dict["regulator"])
        else:  # Lightning restores callbacks before fit starts: applied once the regulator exists
            self._pending = state_dict["regulator"]
