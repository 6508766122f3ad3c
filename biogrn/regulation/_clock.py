r"""The regulator's clock: optimizer steps, epochs, and the training progress $\mathrm{Time}$."""

from __future__ import annotations

__all__ = ["GeneClock"]


class GeneClock:
    """Counts optimizer steps and epochs; knows the steps since the last integration.

    Args:
        epochs: the planned number of epochs, the denominator of $\\mathrm{Time}$.
    """

    def __init__(self, epochs: int):
        self.epochs = int(epochs)
        self.step_count = 0
        self.epoch = 0
        self.steps_since_integration = 0
        self.epoch_start_step = 0
        self.steps_per_epoch: int | None = None

    def tick(self) -> None:
        """One optimizer step."""
        self.step_count += 1
        self.steps_since_integration += 1

    def end_epoch(self) -> None:
        """Close an epoch; its length becomes known for `epochs_done`."""
        if self.step_count > self.epoch_start_step:
            self.steps_per_epoch = self.step_count - self.epoch_start_step
        self.epoch_start_step = self.step_count
        self.epoch += 1

    @property
    def epochs_done(self) -> float:
        """Completed epochs, with the fraction of the current one once an epoch length is known."""
        if self.steps_per_epoch:
            return self.epoch + (self.step_count - self.epoch_start_step) / self.steps_per_epoch
        return float(self.epoch)

    @property
    def time(self) -> float:
        """Training progress $\\mathrm{Time} = \\mathrm{epochs\\ done} / \\mathrm{epochs}$ in [0, 1]."""
        return min(1.0, self.epochs_done / self.epochs)

    def state_dict(self) -> dict:
        return {
            "step_count": self.step_count,
            "epoch": self.epoch,
            "steps_since_integration": self.steps_since_integration,
            "epoch_start_step": self.epoch_start_step,
            "steps_per_epoch": self.steps_per_epoch,
        }

    def load_state_dict(self, state: dict) -> None:
        self.step_count = int(state["step_count"])
        self.epoch = int(state["epoch"])
        self.steps_since_integration = int(state["steps_since_integration"])
        self.epoch_start_step = int(state["epoch_start_step"])
        self.steps_per_epoch = state["steps_per_epoch"]
