"""Validated configuration of a whole run: data, model, training, regulator, records.

A run is written as a TOML or YAML file with one table per section:

    seed = 0
    pruning = "gene"            # or "none" (the dense baseline)
    [data]     name = "digits"
    [model]    hidden = [128, 64]
    [training] epochs = 20, batch_size = 64, lr = 1e-3
    [regulator] ...             # any `RegulatorConfig` field except epochs and seed
    [records]  trace_connections = 64

Every problem is refused before anything is trained or written, as a one-line `ConfigError`
listing each problem, separated by "; ", with the dotted path of its field (`regulator.gamma_m: ...`). Relative
data paths are resolved against the directory of the config file.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from biogrn.core import ConfigError, Section, Seed, cause, format_validation_error, read_text, reading
from biogrn.data import Mnist1dSettings
from biogrn.regulation import RegulatorConfig

__all__ = [
    "DataConfig",
    "Mnist1dConfig",
    "ModelConfig",
    "RecordsConfig",
    "RunConfig",
    "TrainingConfig",
    "load_run_config",
    "parse_run_config",
]

PositiveInt = Annotated[int, Field(gt=0)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


_GENERATOR = Mnist1dSettings()
"""The generator's own defaults: one place for them (`biogrn.data.Mnist1dSettings`)."""


class Mnist1dConfig(Section):
    """MNIST-1D's generator settings (`[data.mnist1d]`); the defaults give the published data set
    (4,000 training and 1,000 test signals of length 40)."""

    num_samples: int = Field(default=_GENERATOR.num_samples, ge=10, le=10_000_000)
    """Signals in all; a tenth of them per class (the generator's rule)."""
    train_split: float = Field(default=_GENERATOR.train_split, gt=0.0, lt=1.0)
    """Fraction of the signals in the generator's training part; the rest is the test split."""
    template_len: PositiveInt = _GENERATOR.template_len
    padding: tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=0)]] = _GENERATOR.padding
    """Zeros appended to a template: a number drawn from this closed range."""
    scale_coeff: float = Field(default=_GENERATOR.scale_coeff, ge=0.0, lt=2.0)
    max_translation: PositiveInt = _GENERATOR.max_translation
    # bounded: at 1e160 the generator's squares overflow and every signal became zeros, unsaid
    corr_noise_scale: float = Field(default=_GENERATOR.corr_noise_scale, ge=0.0, le=1e3)
    iid_noise_scale: float = Field(default=_GENERATOR.iid_noise_scale, ge=0.0, le=1e3)
    shear_scale: float = Field(default=_GENERATOR.shear_scale, ge=0.0, le=1e3)
    shuffle_seq: bool = _GENERATOR.shuffle_seq
    """Shuffle the positions of every signal the same way (the paper's test of spatial priors)."""
    final_seq_length: int = Field(default=_GENERATOR.final_seq_length, ge=2, le=100_000)
    seed: Seed = _GENERATOR.seed
    """Seed of the generator: the signals depend on it alone, not on the run's seed."""
    probe_signals: int = Field(default=0, ge=0, le=1_000_000)
    """Signals of a held-out set for the expression probe's removal cost (`records.probe_genes`),
    made by the generator at `seed + 1`: other signals than the run's, drawn the same way. 0: the
    probe takes the validation examples after its estimate set."""

    @model_validator(mode="after")
    def _check(self) -> Mnist1dConfig:
        if self.padding[0] > self.padding[1]:
            raise ValueError(f"padding: low {self.padding[0]} exceeds high {self.padding[1]}")
        if self.max_translation > self.template_len + self.padding[1]:
            raise ValueError(
                f"max_translation: {self.max_translation} exceeds the padded length "
                f"template_len + padding[1] = {self.template_len + self.padding[1]}"
            )
        n_train = int(self.train_split * (self.num_samples // 10 * 10))
        if n_train < 2 or n_train >= self.num_samples // 10 * 10:
            raise ValueError(
                f"train_split: {self.train_split} of {self.num_samples} signals leaves an empty training or test part"
            )
        return self


GENERATED = {"digits": "the digits set ships with scikit-learn", "mnist1d": "MNIST-1D is generated, not read"}


def _resolved(path: Path | None, info: ValidationInfo) -> Path | None:
    """A path of the config resolved against the config file's directory; it must exist."""
    if path is None:
        return None
    base = (info.context or {}).get("base")
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    try:  # a link loop (RuntimeError in Python 3.11) or a name too long for the file system
        path = path.resolve()
        exists = path.exists()
    except (OSError, RuntimeError) as error:
        raise ValueError(f"{str(path)[:200]} cannot be resolved ({cause(error)})") from None
    if not exists:
        raise ValueError(f"file not found: {path}")
    if not (path.is_file() or path.is_dir()):  # /dev/zero would be read without end
        raise ValueError(f"{path} is not a regular file or folder (a device, pipe or socket)")
    return path


class DataConfig(Section):
    """Where the examples come from and how they are split."""

    name: Literal["digits", "mnist1d", "npz", "csv", "anndata", "fer2013", "affectnet", "ravdess"] = "digits"
    """`digits`: scikit-learn's 8x8 digits (ships offline); `mnist1d`: MNIST-1D, generated on the
    spot by the `mnist1d` package (settings in `[data.mnist1d]`, docs/mnist1d.md); `npz`: arrays `x` and `y` in a NumPy
    archive; `csv`: numeric feature columns and an integer label column; `fer2013`: FER-2013's
    CSV (fer2013.csv, icml_face_data.csv) or its train/ and test/ image folders; `affectnet`: the
    manually annotated release or class-numbered folders (docs/affectnet.md); `ravdess`: the
    Actor_NN/ speech wav files as log-mel features, split by actor (docs/ravdess.md); `anndata`:
    cells of an AnnData `.h5ad`, genes as features and `label_key` as the class (docs/genomics.md)."""
    path: Path | None = None
    """The file (or FER-2013 folder); relative paths start at the config file's directory."""
    label_column: str = "label"
    """Name of the label column of a `csv` file."""
    label_key: str | None = None
    """`anndata`: the `.obs` column holding each cell's class (a cell type)."""
    layer: str | None = None
    """`anndata`: the layer whose levels are the features; unset: `X`."""
    val_fraction: float = Field(default=0.15, gt=0.0, lt=1.0)
    """Fraction held out for validation: of the whole set (`digits`, `npz`, `csv`), of the
    generator's training part (`mnist1d`); for `fer2013` used by the image-folder form, which has
    no validation set, and by a CSV without `Usage`."""
    test_fraction: float = Field(default=0.15, gt=0.0, lt=1.0)
    """For `fer2013`: used only by a CSV without `Usage` (Kaggle's train.csv), which is split by
    these two fractions; unused by `affectnet`, whose test split is its own; for `ravdess` a
    fraction of the actors."""
    on_error: Literal["raise", "skip"] = "raise"
    """`fer2013`, `affectnet`, `ravdess`: stop at a malformed row, image or file name, or skip it
    (counted and reported)."""
    outside_root: bool = False
    """`fer2013` folders, `affectnet`, `ravdess`: let an index row, or a link in the data's folders,
    reach a file outside `path` (refused by default, naming the row or link)."""
    augment: bool = False
    """Image data (digits, fer2013, affectnet): the seed paper's augmentation of every training
    batch (rotation within 15 degrees, flips, brightness within 20%; biogrn.data.augment)."""
    classes: Literal[7, 8] = 8
    """`affectnet`: with Contempt (8) or without (7)."""
    image_size: int = Field(default=48, gt=0)
    """`affectnet`: side of the square grayscale image each face box is resized to."""
    mnist1d: Mnist1dConfig = Mnist1dConfig()
    """`mnist1d`: the generator's settings."""

    @field_validator("path")
    @classmethod
    def _resolve(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        return _resolved(path, info)

    @model_validator(mode="after")
    def _check(self) -> DataConfig:
        if self.name in GENERATED and self.path is not None:
            raise ValueError(f"path: {GENERATED[self.name]} and takes no path")
        if self.name not in GENERATED and self.path is None:
            raise ValueError(f"path: data set {self.name!r} needs a file")
        if self.name == "anndata" and self.label_key is None:
            raise ValueError("label_key: data set 'anndata' needs the .obs column of the cells' classes")
        if self.name != "anndata" and (self.label_key is not None or self.layer is not None):
            raise ValueError(f"label_key, layer: only data set 'anndata' reads them, not {self.name!r}")
        if self.val_fraction + self.test_fraction >= 1.0:
            raise ValueError(
                f"val_fraction + test_fraction: {self.val_fraction + self.test_fraction} "
                "leaves no training data (must be < 1)"
            )
        return self


class ModelConfig(Section):
    """The network: input and output widths come from the data."""

    name: Literal["mlp", "bionic", "cnn1d"] = "mlp"
    """`mlp`: the seed listing's model; `bionic`: the BioNIC-style image model (docs/structure.md);
    `cnn1d`: the MNIST-1D paper's 1-D convolutional net, for signals (docs/mnist1d.md)."""
    hidden: tuple[PositiveInt, ...] = None  # type: ignore[assignment] - filled per model below
    """Widths of the hidden (for `bionic`: cortical; for `cnn1d`: after the convolutions) layers;
    unset: (128, 64) for `mlp` and `bionic` (the seed paper's listing), none for `cnn1d`."""
    channels: tuple[PositiveInt, ...] = Field(default=(25, 25, 25), min_length=1)
    """`cnn1d`: channels of each convolution (kernel 5, then 3; stride 2, padding 1)."""
    activation: Literal["relu", "tanh", "gelu"] = "relu"
    residual: bool = False
    """`mlp`: a hidden layer as wide as its input adds it, $h + \\phi(Wh + b)$ (the MNIST-1D paper's MLP)."""
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    connectome_density: float = Field(default=0.3, gt=0.0, le=1.0)
    """`bionic`: density d of the laminar connectome between cortical layers."""
    dale: bool = True
    """`bionic`: Dale's law on the layers fed by cortical units."""
    inhibitory_fraction: float = Field(default=0.2, ge=0.0, le=1.0)
    inhibitory_gain: float = Field(default=1.0, gt=0.0)
    noise: float = Field(default=0.0, ge=0.0)
    """`bionic`: additive and multiplicative synaptic noise (training only)."""
    layernorm: bool = True
    """`bionic`: LayerNorm after each cortical layer."""
    weights: Path | None = None
    """Initial weights instead of the seeded initialisation: a biogrn `checkpoint.pt` (its model)
    or a `state_dict` saved with `torch.save`, for a network of this same shape; read with
    `weights_only=True` before the regulator attaches (fine-tuning a pretrained model). Its SHA-256
    is kept in the records, and a resumed run refuses a changed file."""

    @field_validator("weights")
    @classmethod
    def _resolve_weights(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        return _resolved(path, info)

    @model_validator(mode="before")
    @classmethod
    def _default_hidden(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("hidden") is None:
            return {**data, "hidden": () if data.get("name") == "cnn1d" else (128, 64)}
        return data


class TrainingConfig(Section):
    """The optimisation loop (the seed paper's: Adam, lr 1e-3, batch 64)."""

    epochs: PositiveInt = 20
    batch_size: PositiveInt = 64
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = Field(default=1e-3, gt=0.0)
    weight_decay: float = Field(default=0.0, ge=0.0)
    momentum: float = Field(default=0.9, ge=0.0, lt=1.0)
    """SGD only."""


class RecordsConfig(Section):
    """What goes into records.nc beyond the per-epoch variables."""

    quantiles: tuple[Probability, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
    """Quantiles of m and p recorded per layer and epoch."""
    trace_connections: int = Field(default=0, ge=0)
    """Size of a fixed random sample of connections whose w, m, p and mask are traced."""
    trace_every: PositiveInt = 10
    """Steps between two trace samples."""
    write_every: PositiveInt = 1
    """Epochs between two checkpoints and records.nc writes (the last epoch is always written): a
    crash loses at most `write_every - 1` epochs. Studies of many short runs raise it, since a
    records write costs about as much as an epoch of a small model."""
    probe_genes: int = Field(default=0, ge=0)
    """What the expression knows (docs/records.md): the exact loss change of removing each of this
    many sampled active genes, against p, |w|, the Taylor score and Eq. 2; 0: no probe."""
    probe_every: PositiveInt = 5
    """Epochs between two probes (every multiple of it, and the last epoch)."""
    probe_examples: PositiveInt = 512
    """Validation examples (the first ones) of the probe's estimate set, on which the gradient-based
    scores (Taylor, Fisher) are taken. The removal cost is measured on a disjoint reference set:
    MNIST-1D's `data.mnist1d.probe_signals`, else the validation examples after these."""


_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


class RunConfig(Section):
    """One study: every section validated, the regulator's epochs and seed taken from the run."""

    seed: Seed = 0
    device: str = "auto"
    """`auto` (CUDA when present), `cpu`, `cuda`, `cuda:N` or `mps`."""
    pruning: Literal["gene", "none"] = "gene"
    """`gene`: gene-regulated pruning and rewiring; `none`: the dense baseline."""
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    training: TrainingConfig = TrainingConfig()
    regulator: RegulatorConfig = RegulatorConfig()
    records: RecordsConfig = RecordsConfig()

    @model_validator(mode="before")
    @classmethod
    def _share_epochs_and_seed(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        regulator = data.get("regulator", {})
        if not isinstance(regulator, dict):
            return data
        training = data.get("training", {})
        epochs = training.get("epochs", TrainingConfig().epochs) if isinstance(training, dict) else None
        shared = {}
        for key, owner, value in (("epochs", "training.epochs", epochs), ("seed", "seed", data.get("seed", 0))):
            if key in regulator and regulator[key] != value:
                raise ValueError(
                    f"regulator.{key}: {regulator[key]!r} differs from {owner} = {value!r}; set it once, as {owner}"
                )
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and (0 <= value < 2**63 if key == "seed" else value > 0)
            ):
                # a bad value is reported once, at its owner
                shared[key] = value
        return {**data, "regulator": {**regulator, **shared}}

    @model_validator(mode="after")
    def _probe_needs_genes(self) -> RunConfig:
        if self.records.probe_genes and self.pruning != "gene":
            raise ValueError(
                "records.probe_genes: the probe compares gene expression with the loss; "
                "a dense run (pruning = 'none') has no genes"
            )
        return self

    @model_validator(mode="after")
    def _pruning_can_happen(self) -> RunConfig:
        problems = self.regulator.unreachable() if self.pruning == "gene" else []
        if problems:
            raise ValueError("; ".join(f"regulator.{problem}" for problem in problems))
        return self

    @field_validator("device")
    @classmethod
    def _device(cls, device: str) -> str:
        if not _DEVICE.fullmatch(device):
            raise ValueError("choose 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")
        return device

    def to_json(self) -> str:
        """The full config, every default written out (the records' `config` attribute)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)


def parse_run_config(data: dict, base: Path | None = None, source: str = "config") -> RunConfig:
    """Validate a mapping (as read from a file); `base` resolves relative data paths.

    Raises:
        ConfigError: one line; each problem (separated by "; ") starts with the field's dotted path.
    """
    try:
        return RunConfig.model_validate(data, context={"base": base})
    except ValidationError as error:
        count = len(error.errors())
        header = f"{source}: " if count == 1 else f"{source}: {count} invalid settings: "
        raise ConfigError(header + format_validation_error(error)) from None


def load_run_config(path: str | Path) -> RunConfig:
    """Read and validate a `.toml`, `.yaml` or `.yml` run configuration.

    Raises:
        ConfigError: the file is missing, unparsable (with its line), or a field is invalid.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not a config file")
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    text = read_text(path, "config file", ConfigError)
    suffix = path.suffix.lower()
    with reading(path, "config file", ConfigError, empty=True):  # a structure nested past Python's stack, too
        if suffix == ".toml":
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as error:
                raise ConfigError(f"{path}: not valid TOML: {error}") from None
        elif suffix in (".yaml", ".yml"):
            data = _load_yaml(text, path)
        else:
            raise ConfigError(f"{path}: unknown config format {suffix!r}; use .toml, .yaml or .yml")
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: the top level must be a table of sections, got {type(data).__name__}")
        if _expanded_size(data, {}) > MAX_CONFIG_VALUES:
            raise ConfigError(
                f"{path}: expands to more than {MAX_CONFIG_VALUES} values (YAML aliases repeat what "
                "they point to); a run configuration is a few dozen settings"
            )
    return parse_run_config(data, base=path.parent, source=str(path))


MAX_CONFIG_VALUES = 100_000


def _expanded_size(value: Any, sizes: dict[int, int]) -> int:
    """Number of values `value` holds once every shared (aliased) part is counted each time it is
    used; linear in the distinct parts, so a billion-value alias bomb is measured in microseconds."""
    if not isinstance(value, dict | list):
        return 1
    key = id(value)
    if key not in sizes:
        sizes[key] = 0  # a YAML alias cannot point into its own node, but guard the recursion anyway
        parts = value.values() if isinstance(value, dict) else value
        sizes[key] = 1 + sum(_expanded_size(part, sizes) for part in parts)
    return sizes[key]


def _load_yaml(text: str, path: Path) -> Any:
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        """A safe loader that refuses a key given twice instead of keeping the last one."""

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *base`: keys given here override the base's
                continue
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} is given twice", key_node.start_mark)
            seen.add(key)
        return loader.construct_mapping(node, deep=deep)

    UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        if mark is not None:
            line = mark.line + 1
        else:  # a character YAML refuses (a reader error) has a position, not a mark
            line = text[: getattr(error, "position", 0)].count("\n") + 1
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{path}: line {line}: not valid YAML: {problem}") from None
