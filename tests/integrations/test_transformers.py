"""The Hugging Face Trainer callback with a real `transformers.Trainer` on CPU and a tiny BERT built
from a config here (nothing is downloaded)."""

import pytest
import torch

transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from biogrn.integrations.transformers import REGULATOR_FILE, GeneRegulationCallback  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")


class Tokens(torch.utils.data.Dataset):
    """Random token sequences whose label is whether token 7 occurs."""

    def __init__(self, n: int, seed: int):
        generator = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(1, 20, (n, 12), generator=generator)
        self.labels = (self.ids == 7).any(1).long()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": torch.ones(12, dtype=torch.long), "labels": self.labels[i]}


def accuracy(prediction):
    return {"accuracy": float((prediction.predictions.argmax(-1) == prediction.label_ids).mean())}


def trainer(tmp_path, callback, epochs=3, accumulate=1, name="out"):
    transformers.set_seed(0)
    config = transformers.BertConfig(
        vocab_size=20,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
        num_labels=2,
    )
    model = transformers.BertForSequenceClassification(config)
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / name),
        num_train_epochs=epochs,
        per_device_train_batch_size=16,
        gradient_accumulation_steps=accumulate,
        learning_rate=5e-3,
        eval_strategy="epoch",
        save_strategy="epoch",
        report_to=[],
        use_cpu=True,
        seed=0,
        data_seed=0,
        logging_strategy="no",
        disable_tqdm=True,
    )
    return transformers.Trainer(
        model=model,
        args=args,
        train_dataset=Tokens(128, 0),
        eval_dataset=Tokens(64, 1),
        compute_metrics=accuracy,
        callbacks=[callback],
    )


SETTINGS = dict(
    monitor="eval_accuracy",
    epochs=3,
    start_epoch=1,
    integrate_every=4,
    layers=["classifier", "bert.encoder.layer.0.intermediate.dense", "bert.encoder.layer.0.output.dense"],
)


def test_the_callback_prunes_steps_once_per_optimizer_step_and_logs(tmp_path):
    callback = GeneRegulationCallback(**SETTINGS)
    run = trainer(tmp_path, callback, accumulate=2)
    run.train()
    reg = callback.regulator
    assert reg.step_count == run.state.global_step == 3 * 4  # 8 batches per epoch, 2 per optimizer step
    assert 0 < reg.sparsity() < 1 and len(reg.history) == 2
    logged = [entry for entry in run.state.log_history if "biogrn/sparsity" in entry]
    assert len(logged) == 3 and {"biogrn/tau", "biogrn/sigma", "biogrn/p_q50"} <= set(logged[-1])
    assert (tmp_path / "out" / "checkpoint-12" / REGULATOR_FILE).is_file()


def test_resuming_from_a_checkpoint_continues_identically(tmp_path):
    whole = GeneRegulationCallback(**SETTINGS)
    trainer(tmp_path, whole, name="whole").train()
    first = GeneRegulationCallback(**SETTINGS)
    trainer(tmp_path, first, name="first").train()
    resumed = GeneRegulationCallback(**SETTINGS)
    trainer(tmp_path, resumed, name="first").train(resume_from_checkpoint=str(tmp_path / "first" / "checkpoint-8"))
    a, b = whole.regulator.state_dict(), resumed.regulator.state_dict()
    assert torch.equal(a["mask"], b["mask"]) and torch.equal(a["y"], b["y"]) and a["history"] == b["history"]


def test_an_unreported_monitor_is_refused(tmp_path):
    with pytest.raises(ValueError, match="monitor 'eval_f1' is not among the evaluation's metrics"):
        trainer(tmp_path, GeneRegulationCallback(**{**SETTINGS, "monitor": "eval_f1"}), epochs=2).train()


def test_train_twice_keeps_one_regulator_and_a_checkpoint_outside_output_dir_resumes(tmp_path):
    """A second trainer.train() was refused ('already regulated'), and resume_from_checkpoint outside
    output_dir was refused though the regulator's state was there (issue 37)."""
    import shutil

    callback = GeneRegulationCallback(**SETTINGS)
    run = trainer(tmp_path, callback)
    run.train()
    first = callback.regulator
    run.train()  # again, on the same model: the same regulator, the new optimizer
    assert callback.regulator is first
    trainer(tmp_path, GeneRegulationCallback(**SETTINGS), name="source").train()
    moved = tmp_path / "elsewhere"
    shutil.copytree(tmp_path / "source" / "checkpoint-8", moved)
    resumed = GeneRegulationCallback(**SETTINGS)
    later = trainer(tmp_path, resumed, name="other")
    # the Trainer hands its callbacks no checkpoint path: TrainingArguments.resume_from_checkpoint says it
    later.args.resume_from_checkpoint = str(moved)
    later.train(resume_from_checkpoint=str(moved))
    assert resumed.regulator.step_count == later.state.global_step


@pytest.mark.parametrize(
    "settings, arguments, said",
    [
        ({"epochs": 3, "start_epoch": 5}, {}, "start_epoch: 5 is not below the training's 3 epochs"),
        ({"monitor": "accuracy"}, {}, "reports evaluation metrics as 'eval_<name>'"),
        ({}, {"eval_strategy": "no"}, "eval_strategy is 'no', so no evaluation reports it"),
    ],
)
def test_settings_this_training_cannot_honour_are_refused_before_the_first_step(tmp_path, settings, arguments, said):
    """The docs' example once trained 3 epochs with the default start_epoch 5 and pruned nothing,
    unsaid (issue 36); a monitor the evaluation never reports surfaced only after a whole epoch."""
    callback = GeneRegulationCallback(**{**SETTINGS, **settings})
    run = trainer(tmp_path, callback)
    for name, value in arguments.items():
        setattr(run.args, name, value)
    with pytest.raises(ValueError, match=said):
        run.train()
    assert run.state.global_step == 0
