"""Configs and data files generated from the schemas, invalid values mixed in: `biogrn run` either
trains to a finite result or exits 2 naming what is wrong; never a traceback, never a NaN scored.
"""

import contextlib
import io
import math
import tempfile
from pathlib import Path

import annotated_types
import numpy as np
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from biogrn.cli import main
from biogrn.regulation import RegulatorConfig
from biogrn.runs import read_records
from biogrn.runs._run_config import ModelConfig, TrainingConfig

INVALID_FLOATS = [math.nan, math.inf, -math.inf, -1.0, 0.0, 1e308, "text", [1.0]]


def float_setting(schema, name: str):
    """A value inside the field's bounds (read from its schema) or one drawn from kinds that are
    often invalid, with whether the schema allows it."""
    low, high, low_open, high_open = -math.inf, math.inf, False, False
    for bound in schema.model_fields[name].metadata:
        if isinstance(bound, annotated_types.Gt):
            low, low_open = float(bound.gt), True
        if isinstance(bound, annotated_types.Ge):
            low = float(bound.ge)
        if isinstance(bound, annotated_types.Lt):
            high, high_open = float(bound.lt), True
        if isinstance(bound, annotated_types.Le):
            high = float(bound.le)

    def allowed(value) -> bool:
        if not isinstance(value, float) or not math.isfinite(value):
            return False
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        return above and below

    bottom = max(low, -10.0)
    valid = st.floats(bottom, min(high, bottom + 10.0), exclude_min=True, exclude_max=True)
    return st.one_of(valid, st.sampled_from(INVALID_FLOATS)).map(lambda v: (v, allowed(v)))


def float_fields(schema) -> list[str]:
    return [n for n, f in schema.model_fields.items() if f.annotation in (float, float | None)]


@st.composite
def studies(draw):
    invalid: list[str] = []

    def put(section: dict, path: str, schema, name: str):
        value, ok = draw(float_setting(schema, name))
        section[name] = value
        if not ok:
            invalid.append(path)

    regulator: dict = {"integrate_every": draw(st.sampled_from([1, 5, 20])), "start_epoch": 0}
    for name in draw(st.lists(st.sampled_from(float_fields(RegulatorConfig)), max_size=3, unique=True)):
        put(regulator, f"regulator.{name}", RegulatorConfig, name)
    training: dict = {"epochs": draw(st.integers(1, 2)), "batch_size": draw(st.sampled_from([8, 32]))}
    for name in draw(st.lists(st.sampled_from(float_fields(TrainingConfig)), max_size=2, unique=True)):
        put(training, f"training.{name}", TrainingConfig, name)
    model: dict = {"hidden": [draw(st.integers(1, 12))]}
    if draw(st.booleans()):
        put(model, "model.dropout", ModelConfig, "dropout")
    cells = draw(
        st.lists(st.sampled_from(["0.5", "-2", "3e2", "nan", "inf", "1e400", "", "x"]), min_size=3, max_size=3)
    )
    seed = draw(st.one_of(st.integers(0, 2**31), st.sampled_from([-1, 2**63])))
    if not 0 <= seed < 2**63:
        invalid.append("seed")
    return (
        {"seed": seed, "regulator": regulator, "training": training, "model": model},
        invalid,
        cells,
        draw(st.sampled_from(["toml", "yaml"])),
    )


def write_toml(config: dict) -> str:
    def value(v):
        if isinstance(v, str):
            return repr(v)
        if isinstance(v, float) and not math.isfinite(v):
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
        return repr(v).lower() if isinstance(v, bool) else repr(v)

    lines = [f"seed = {config['seed']}"]
    for section in ("data", "model", "training", "regulator"):
        lines.append(f"[{section}]")
        lines += [f"{k} = {value(v)}" for k, v in config[section].items()]
    return "\n".join(lines) + "\n"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(studies())
def test_a_run_trains_to_a_finite_result_or_exits_2_naming_the_problem(study):
    config, invalid, cells, form = study
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        rows = ["a,b,c,label"] + [",".join(f"{v:.4f}" for v in rng.normal(size=3)) + f",{i % 3}" for i in range(60)]
        rows[7] = ",".join(cells) + ",1"  # one row of drawn cells: finite numbers or the kinds readers refuse
        (root / "data.csv").write_text("\n".join(rows) + "\n")
        config["data"] = {"name": "csv", "path": "data.csv"}
        if form == "toml":
            (root / "run.toml").write_text(write_toml(config))
        else:
            (root / "run.toml").write_text(yaml.safe_dump(config))  # YAML is read by content, not suffix, below
            (root / "run.toml").rename(root / "run.yaml")
        path = root / f"run.{form}"
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(["run", str(path), "--out", str(root / "out"), "--quiet"])
        message = err.getvalue()
        event("trained" if code == 0 else "refused")
        if code == 0:
            assert not invalid, f"accepted invalid {invalid}"
            records = read_records(root / "out")
            assert records.attrs["complete"] == 1
            assert np.isfinite(float(records["test_accuracy"])) and np.isfinite(records["train_loss"].values).all()
            return
        assert code == 2 and message.startswith("biogrn: error:") and "Traceback" not in message
        assert "accuracy" not in out.getvalue()
        if invalid:
            assert any(name in message for name in invalid), (invalid, message)
