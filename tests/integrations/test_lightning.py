"""The Lightning callback with a real `lightning.Trainer` on CPU."""

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

lightning = pytest.importorskip("lightning")

from biogrn.integrations.lightning import GeneRegulation  # noqa: E402

# Lightning's advice for a toy CPU run (more dataloader workers, a small logging interval)
pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning:lightning",
    "ignore::UserWarning:pytorch_lightning",
    "ignore:.*LeafSpec.*is deprecated:FutureWarning",  # lightning 2.6 on torch 2.13
)


class Classifier(lightning.LightningModule):
    def __init__(self, optimizers: int = 1):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3))
        self.n_optimizers = optimizers
        self.automatic_optimization = optimizers == 1  # Lightning steps several optimizers only by hand

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_acc", (self(x).argmax(1) == y).float().mean())

    def configure_optimizers(self):
        if self.n_optimizers == 1:
            return torch.optim.Adam(self.parameters(), lr=0.01)
        return [torch.optim.Adam(self.net[0].parameters()), torch.optim.Adam(self.net[2].parameters())]


def loaders():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(192, 10, generator=generator)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    return (
        DataLoader(TensorDataset(x[:160], y[:160]), batch_size=16),
        DataLoader(TensorDataset(x[160:], y[160:]), batch_size=32),
    )


def fit(tmp_path, epochs, callback, module=None, resume=None, accumulate=1, name="run"):
    lightning.seed_everything(0, verbose=False)
    module = module or Classifier()
    checkpoint = lightning.pytorch.callbacks.ModelCheckpoint(
        dirpath=tmp_path / name / "checkpoints", save_last=True, save_top_k=-1, every_n_epochs=1
    )
    trainer = lightning.Trainer(
        max_epochs=epochs,
        callbacks=[callback, checkpoint],
        accelerator="cpu",
        logger=lightning.pytorch.loggers.CSVLogger(tmp_path / name / "logs"),
        deterministic=True,
        enable_progress_bar=False,
        enable_model_summary=False,
        accumulate_grad_batches=accumulate,
    )
    trainer.fit(module, *loaders(), ckpt_path=resume)
    return trainer, module


SETTINGS = dict(monitor="val_acc", epochs=4, start_epoch=1, integrate_every=5)


def test_the_callback_prunes_logs_and_steps_once_per_optimizer_step(tmp_path):
    callback = GeneRegulation(**SETTINGS)
    trainer, module = fit(tmp_path, 4, callback, accumulate=2)
    reg = callback.regulator
    assert reg.step_count == trainer.global_step == 4 * 10 // 2  # 10 batches per epoch, 2 per optimizer step
    assert 0 < reg.sparsity() < 1 and len(reg.history) == 3
    assert {"biogrn/sparsity", "biogrn/tau", "biogrn/sigma", "biogrn/p_q50"} <= set(trainer.logged_metrics)
    weight = module.net[0].weight
    assert torch.equal(weight[~reg.masks()["net.0.weight"]], torch.zeros_like(weight[~reg.masks()["net.0.weight"]]))


def test_a_run_resumed_from_a_lightning_checkpoint_continues_identically(tmp_path):
    whole = GeneRegulation(**SETTINGS)
    fit(tmp_path, 4, whole, name="whole")
    first = GeneRegulation(**SETTINGS)
    fit(tmp_path, 2, first, name="first")
    resumed = GeneRegulation(**SETTINGS)
    _, module = fit(tmp_path, 4, resumed, resume=tmp_path / "first" / "checkpoints" / "last.ckpt", name="resumed")
    a, b = whole.regulator.state_dict(), resumed.regulator.state_dict()
    assert torch.equal(a["mask"], b["mask"]) and torch.equal(a["y"], b["y"])
    assert a["history"] == b["history"]


def test_several_optimizers_and_an_unlogged_monitor_are_refused(tmp_path):
    with pytest.raises(ValueError, match="the module has 2 optimizers"):
        fit(tmp_path, 2, GeneRegulation(**SETTINGS), module=Classifier(optimizers=2))
    with pytest.raises(ValueError, match="monitor 'val_loss' is not logged; logged are"):
        fit(tmp_path, 2, GeneRegulation(**{**SETTINGS, "monitor": "val_loss"}), name="other")


def test_a_callback_reused_for_another_module_regulates_that_module(tmp_path):
    """Reused for a second fit on another module, the callback kept the old Regulator: the new
    module was never pruned and the old one stepped to epoch 6 of 3 (issue 37)."""
    callback = GeneRegulation(policy="target", target_sparsity=0.5, start_epoch=1, end_epoch=2, epochs=3)
    _, first = fit(tmp_path, 3, callback, name="first")
    first_regulator = callback.regulator
    assert first_regulator.clock.epoch == 3
    _, second = fit(tmp_path, 3, callback, module=Classifier(), name="second")
    assert callback.regulator is not first_regulator and callback.regulator.model is second
    assert callback.regulator.sparsity() == pytest.approx(0.5, abs=0.02)
    assert first_regulator.clock.epoch == 3  # left where its own fit ended


def test_pruning_that_can_never_start_is_refused_at_fit_start(tmp_path):
    with pytest.raises(ValueError, match="max_epochs = 2: start_epoch: 3 is not below the training's 2 epochs"):
        fit(tmp_path, 2, GeneRegulation(**{**SETTINGS, "start_epoch": 3}))
