import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from biogrn.core import ConfigError
from biogrn.runs import RunConfig, load_run_config, parse_run_config

TOML = """
seed = 3
pruning = "gene"
[data]
name = "digits"
[model]
hidden = [32, 16]
[training]
epochs = 7
lr = 0.01
[regulator]
gamma_m = 0.03
start_epoch = 2
[records]
trace_connections = 8
"""

YAML = """
seed: 3
pruning: gene
data: {name: digits}
model: {hidden: [32, 16]}
training: {epochs: 7, lr: 0.01}
regulator: {gamma_m: 0.03, start_epoch: 2}
records: {trace_connections: 8}
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_toml_and_yaml_give_the_same_config(tmp_path):
    a = load_run_config(write(tmp_path, "a.toml", TOML))
    b = load_run_config(write(tmp_path, "b.yaml", YAML))
    assert a == b
    assert a.model.hidden == (32, 16) and a.regulator.gamma_m == 0.03


def test_regulator_takes_epochs_and_seed_from_the_run():
    config = parse_run_config({"seed": 5, "training": {"epochs": 9}})
    assert config.regulator.epochs == 9 and config.regulator.seed == 5


def test_regulator_epochs_that_disagree_are_refused():
    with pytest.raises(ConfigError, match=r"regulator\.epochs: 4 differs from training\.epochs = 9"):
        parse_run_config({"training": {"epochs": 9}, "regulator": {"epochs": 4}})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"training": {"epochs": "many"}}, "training.epochs: Input should be a valid integer"),
        ({"regulator": {"gamma_p": -0.1}}, "regulator.gamma_p: Input should be greater than 0 (got -0.1)"),
        ({"model": {"hiden": [3]}}, "model.hiden: Extra inputs are not permitted"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"model": {"hidden": [8, 0]}}, "model.hidden.1: Input should be greater than 0"),
        ({"data": {"name": "npz"}}, "data.path: data set 'npz' needs a file"),
        ({"data": {"val_fraction": 0.5, "test_fraction": 0.5}}, "data.val_fraction + test_fraction"),
        ({"device": "gpu"}, "device: choose 'auto'"),
        ({"regulator": {"method": "euler", "gamma_m": 0.5}}, "regulator.dt * integrate_every"),
    ],
)
def test_bad_values_name_their_dotted_field(data, expected):
    with pytest.raises(ConfigError) as raised:
        parse_run_config(data)
    assert expected in str(raised.value)


def test_a_bad_value_is_reported_once():
    with pytest.raises(ConfigError) as raised:
        parse_run_config({"training": {"epochs": 0}})
    assert str(raised.value).count("epochs") == 1


def test_missing_data_file_is_named_relative_to_the_config(tmp_path):
    path = write(tmp_path, "run.toml", '[data]\nname = "npz"\npath = "missing.npz"\n')
    with pytest.raises(ConfigError, match=r"data\.path: file not found: .*missing\.npz"):
        load_run_config(path)
    (tmp_path / "missing.npz").write_bytes(b"")
    assert load_run_config(path).data.path == (tmp_path / "missing.npz").resolve()


def test_unparsable_files_name_the_line(tmp_path):
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML: .*line 2"):
        load_run_config(write(tmp_path, "bad.toml", "seed = 1\nepochs = = 2\n"))
    with pytest.raises(ConfigError, match=r"bad\.yaml: line 3: not valid YAML: key 'seed' is given twice"):
        load_run_config(write(tmp_path, "bad.yaml", "seed: 1\ntraining: {epochs: 2}\nseed: 2\n"))
    with pytest.raises(ConfigError, match=r"bad\.yml: the top level must be a table"):
        load_run_config(write(tmp_path, "bad.yml", "- 1\n- 2\n"))
    with pytest.raises(ConfigError, match="unknown config format '.json'"):
        load_run_config(write(tmp_path, "run.json", "{}"))
    with pytest.raises(ConfigError, match="config file not found"):
        load_run_config(tmp_path / "absent.toml")


@given(
    seed=st.integers(0, 2**31),
    epochs=st.integers(1, 100),
    hidden=st.lists(st.integers(1, 512), max_size=4),
    gamma_m=st.floats(1e-4, 0.03),
    lr=st.floats(1e-6, 1.0),
    pruning=st.sampled_from(["gene", "none"]),
    trace=st.integers(0, 1000),
    quantiles=st.lists(st.floats(0, 1), min_size=1, max_size=7),
)
def test_the_written_config_reads_back_equal(seed, epochs, hidden, gamma_m, lr, pruning, trace, quantiles):
    config = parse_run_config(
        {
            "seed": seed,
            "pruning": pruning,
            "model": {"hidden": hidden},
            "training": {"epochs": epochs, "lr": lr},
            "regulator": {"gamma_m": gamma_m, "start_epoch": epochs - 1},
            "records": {"trace_connections": trace, "quantiles": quantiles},
        }
    )
    again = parse_run_config(json.loads(config.to_json()))
    assert again == config and again.to_json() == config.to_json()


def test_defaults_are_the_seed_papers_listing():
    config = RunConfig()
    assert (config.training.optimizer, config.training.lr, config.training.batch_size) == ("adam", 1e-3, 64)
    assert (config.regulator.alpha, config.regulator.beta, config.regulator.start_epoch) == (0.5, 0.2, 5)


def float_fields():
    """(section, field) of every float setting, found from the schemas, not listed by hand."""
    from biogrn.regulation import RegulatorConfig
    from biogrn.runs._run_config import DataConfig, ModelConfig, RecordsConfig, TrainingConfig

    sections = {
        "data": DataConfig,
        "model": ModelConfig,
        "training": TrainingConfig,
        "regulator": RegulatorConfig,
        "records": RecordsConfig,
    }
    return [
        (section, name)
        for section, schema in sections.items()
        for name, field in schema.model_fields.items()
        if "float" in str(field.annotation)
    ]


@pytest.mark.parametrize(("section", "name"), float_fields(), ids=lambda v: str(v))
@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")], ids=str)
def test_every_float_setting_refuses_non_finite_values(section, name, value):
    with pytest.raises(ConfigError, match=rf"{section}\.{name}(\.\d+)?: Input should be a finite number"):
        parse_run_config({section: {name: [value] if name == "quantiles" else value}})


def test_there_are_float_settings_to_check():
    assert len(float_fields()) > 30


@pytest.mark.parametrize("seed", [-1, 2**63, 10**30])
def test_seeds_outside_64_bits_are_refused_once_at_their_field(seed):
    with pytest.raises(ConfigError) as raised:
        parse_run_config({"seed": seed})
    assert str(raised.value).count("seed:") == 1 and "regulator" not in str(raised.value)


def test_a_yaml_alias_bomb_is_refused_before_it_is_expanded(tmp_path):
    import time

    levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        levels.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    levels.append("seed: [" + ",".join(["*i"] * 9) + "]")  # 9**10 strings once expanded
    path = write(tmp_path, "bomb.yaml", "\n".join(levels) + "\n")
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="expands to more than 100000 values"):
        load_run_config(path)
    assert time.perf_counter() - started < 5


def test_yaml_merge_keys_are_read_and_keys_given_beside_them_win(tmp_path):
    path = write(
        tmp_path,
        "merge.yaml",
        "training: &t {epochs: 3, lr: 0.01}\n"
        "regulator:\n  <<: {gamma_m: 0.03, gamma_p: 0.02}\n  gamma_p: 0.015\n  start_epoch: 1\n",
    )
    config = load_run_config(path)
    assert (config.regulator.gamma_m, config.regulator.gamma_p, config.training.epochs) == (0.03, 0.015, 3)


def test_a_binary_file_or_a_directory_is_not_a_config(tmp_path):
    (tmp_path / "run.toml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    with pytest.raises(ConfigError, match="run.toml: line 1: not UTF-8 text"):
        load_run_config(tmp_path / "run.toml")
    (tmp_path / "dir.toml").mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        load_run_config(tmp_path / "dir.toml")
    with pytest.raises(ConfigError, match="not found"):
        load_run_config(tmp_path / "absent.toml")


def test_a_long_value_is_quoted_short_in_the_message():
    with pytest.raises(ConfigError) as raised:
        parse_run_config({"seed": [[1] * 1000] * 1000})
    assert len(str(raised.value)) < 300


def test_a_model_that_cannot_fit_is_refused_with_its_estimate_before_allocating(tmp_path):
    from biogrn.runs import Trainer

    with pytest.raises(ConfigError, match=r"model.hidden = \[1000000000\]: 7.5e\+10 parameters .* needs about"):
        Trainer(parse_run_config({"model": {"hidden": [10**9]}}), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_device_index_beyond_the_machine_is_refused(monkeypatch):
    import torch

    from biogrn.runs._build import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda:1") == torch.device("cuda:1")
    with pytest.raises(
        ValueError, match=r"'cuda:7' asked for, but this machine has 2 CUDA device\(s\), cuda:0 to cuda:1"
    ):
        resolve_device("cuda:7")


@given(
    st.sampled_from(["mlp", "bionic"]),
    st.lists(st.integers(1, 40), min_size=1, max_size=3),
    st.booleans(),
    st.integers(1, 3),
    st.integers(2, 12),
)
def test_the_parameter_estimate_counts_what_the_model_allocates(name, hidden, layernorm, channels, classes):
    from biogrn.runs._build import build_model, parameter_count

    config = parse_run_config({"model": {"name": name, "hidden": hidden, "layernorm": layernorm}}).model
    shape = (channels, 6, 6)
    model = build_model(config, channels * 36, classes, shape)
    assert parameter_count(config, channels * 36, classes, shape) == sum(p.numel() for p in model.parameters())


def test_a_device_or_pipe_is_not_data():
    """/dev/zero as data.path grew memory without end (issue 37)."""
    with pytest.raises(ConfigError, match="data.path: .*/dev/zero is not a regular file or folder"):
        parse_run_config({"data": {"name": "csv", "path": "/dev/zero"}, "pruning": "none"})
