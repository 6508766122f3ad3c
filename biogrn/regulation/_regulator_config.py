"""Validated configuration of a `Regulator`.

One flat, frozen pydantic model: every field is named in the docs (docs/configuration.md) with
the equation it enters. Unknown keys, bad values and any non-finite float raise `ConfigError`
naming the field, the value received and what is allowed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator

from biogrn.core import STRICT, ConfigError, Section, Seed, format_validation_error
from biogrn.dynamics import check_stability, check_step_count, method_info

__all__ = ["RegulatorConfig", "make_config"]


SCHEDULED_POLICIES = ("target", "hysteresis", "magnitude", "movement")
"""The policies that prune on a schedule to `target_sparsity` by `end_epoch`."""


class RegulatorConfig(Section):
    """Every setting of the gene-regulated pruning loop (defaults: the seed paper's listing)."""

    model_config = ConfigDict(**STRICT, validate_default=True)

    # -- what is regulated ------------------------------------------------------------------------
    layers: tuple[str, ...] | None = None
    """Module names (their `weight`) or full parameter names; `None`: every Linear and ConvNd."""
    genes: Literal["connection", "unit", "input"] = "connection"
    """One gene per connection (unstructured), per output unit / channel (structured), or per input
    feature of the first regulated layer (`input`: pruning a gene removes the feature's whole
    column, so the kept genes are the kept features; marker-gene selection, docs/genomics.md)."""

    # -- Eq. 1: kinetics ------------------------------------------------------------------------------
    gamma_m: float = Field(default=0.02, gt=0.0)
    gamma_p: float = Field(default=0.01, gt=0.0)
    k_p: float = Field(default=0.01, gt=0.0)
    basal: float = Field(default=0.0, ge=0.0)
    drive_rate: float = Field(default=0.02, ge=0.0)
    drive_half: float = Field(default=1.0, gt=0.0)
    drive_hill: float = Field(default=2.0, gt=0.0)
    self_rate: float = Field(default=0.0, ge=0.0)
    self_half: float = Field(default=0.5, gt=0.0)
    self_hill: float = Field(default=4.0, gt=0.0)
    pool_half: float | None = Field(default=None, gt=0.0)
    pool_hill: float = Field(default=2.0, gt=0.0)
    initial_m: float = Field(default=1.0, ge=0.0)
    initial_p: float = Field(default=1.0, ge=0.0)

    # -- integration ---------------------------------------------------------------------------------
    dt: float = Field(default=1.0, gt=0.0)
    """Gene-clock time per training step: gamma is a rate per unit of this clock."""
    integrate_every: int = Field(default=50, ge=1)
    method: str = "rk4"
    step_size: float | None = Field(default=None, gt=0.0)
    """Fixed-step size; `None`: one step over each integration interval."""
    rtol: float = Field(default=1e-5, gt=0.0)
    atol: float = Field(default=1e-7, gt=0.0)
    compile: bool = False
    """Compile each integration call (the fused step, or the field and solver stages) with torch.compile."""
    fused: bool = True
    """Explicit Runge-Kutta methods on a state-free transcription (the default) take the exact fused
    affine step (biogrn.dynamics); False: always torchdiffeq's odeint, the integrator of record."""

    # -- drive --------------------------------------------------------------------------------------------
    drive: Literal["taylor", "grad", "magnitude", "fisher", "movement", "hebbian"] = "taylor"
    """What the training tells each gene (biogrn.regulation.DRIVE_KINDS): `taylor` |w| sqrt(mean g^2),
    `grad`, `magnitude`, `fisher` w^2 mean g^2, `movement` -mean_t w_t g_t (signed: normalised by
    the layer's RMS, transcribed by a sigmoid, basal at 0); `hebbian`: pre/post co-activity with
    homeostasis (biogrn.regulation.HebbianRecorder) on Linear layers, other regulated layers
    (convolutions) keeping the `taylor` drive."""
    hebbian_target: float = Field(default=0.1, gt=0.0)
    """Homeostatic target $a^*$ of a unit's mean rectified activity (drive `hebbian`)."""
    hebbian_rate: float = Field(default=0.01, gt=0.0, le=1.0)
    """Rate of the running mean activity (drive `hebbian`)."""
    normalize_drive: bool = True
    drive_source: Literal["auto", "optimizer", "gradients"] = "auto"
    """Where the drive's mean square gradient comes from. `optimizer`: the optimizer's own second
    moment (Adam, AdamW, NAdam, RAdam, RMSprop, Adagrad), one pass per interval and none per step,
    each step weighted by $\\beta^{T-t}$ (biogrn.regulation.OptimizerMoments); `gradients`: every
    gradient recorded at its step; `auto`: `optimizer` where it can be (stored-zeros tensors, such an
    optimizer, float32 or float64 weights, `record_every` 1), else `gradients`."""
    record_every: int = Field(default=1, ge=1)
    """Add the gradient of steps 0, k, 2k, ... of each integration interval to the drive (k = 1:
    every step; k > 1 records gradients, so `drive_source` `auto` records and `optimizer` is
    refused). A subsample estimates the same root-mean-square gradient with fewer passes over the
    weights, and a noisier one: docs/benchmarks.md measures its cost and its effect on accuracy
    (at 90% sparsity it costs the `hysteresis` policy about 4 points on digits)."""

    # -- Eq. 2: importance ---------------------------------------------------------------------------
    alpha: float = Field(default=0.5, ge=0.0)
    beta: float = Field(default=0.2, ge=0.0)
    normalization: Literal["mean", "max", "none"] = "mean"

    # -- threshold and pruning -------------------------------------------------------------------------
    policy: Literal["paper", "target", "hysteresis", "nm", "magnitude", "movement", "set", "rigl", "listing"] = "paper"
    """`paper`, `target`: gene regulation; `hysteresis`: each gene switches its connection off and
    on by its own expression against two quantile thresholds; `nm`: N:M semi-structured sparsity by gene score;
    `magnitude`, `movement` (Sanh et al.'s hard movement pruning), `set`, `rigl`, `listing`: the
    baselines (biogrn.policies)."""
    nm_n: int = Field(default=2, ge=1)
    nm_m: int = Field(default=4, ge=2)
    """Policy `nm`: keep `nm_n` of every `nm_m` consecutive connections of a row (2:4: NVIDIA's
    semi-structured sparsity)."""
    scope: Literal["layer", "global"] = "layer"
    epochs: int = Field(default=20, ge=1)
    start_epoch: int = Field(default=5, ge=0)
    """Pruning starts after this many epochs (the listing's `epoch > 5`)."""
    update_every: int | None = Field(default=None, ge=1)
    """Prune/rewire every this many steps; `None`: once per epoch, at `epoch_end`."""
    tau_sigmas: float = 0.5
    median_rule: Literal["track", "cap", "always", "never"] = "cap"
    """How `paper` moves $\\tau$ after its first prune (docs/choices.md): `track` keeps its ratio to
    the median of the remaining scores, `cap` lowers it to that median when above it, `always` sets
    it to the median, `never` leaves it; `listing` recomputes $\\tau$ every epoch and takes all but `track`."""
    patience: int = Field(default=3, ge=1)
    plateau_tol: float = Field(default=0.005, ge=0.0)
    target_sparsity: float = Field(default=0.5, ge=0.0, lt=1.0)
    initial_sparsity: float = Field(default=0.0, ge=0.0, lt=1.0)
    end_epoch: int | None = Field(default=None, ge=1)
    """Epoch at which `target` (and `hysteresis`) reaches its sparsity; `None`: three quarters of `epochs`."""
    hysteresis_band: float = Field(default=0.1, ge=0.0, le=1.0)
    """Policy `hysteresis`: a pruned gene comes back above the quantile $s + b(1 - s)$ of its layer's
    expression, an active one goes below the quantile $s$; $b$ is this band, a fraction of the active share $1 - s$."""

    # -- drop and grow (set, rigl) -----------------------------------------------------------------------
    drop_fraction: float = Field(default=0.3, ge=0.0, le=1.0)
    """Fraction of active connections an update of `set` or `rigl` replaces (zeta, alpha)."""
    drop_schedule: Literal["cosine", "constant"] = "cosine"
    """RigL's cosine decay of the drop fraction to `end_epoch`, or SET's constant."""

    # -- Eq. 3: rewiring -------------------------------------------------------------------------------
    rewire: bool = True
    max_regrow: int = Field(default=100, ge=0)
    """At most this many reconnections per layer per update (the listing's 100)."""
    max_regrow_fraction: float = Field(default=0.1, ge=0.0, le=1.0)
    """Gene policies also regrow at most this fraction of a layer's active connections per update:
    100 zero-initialised regrowths would replace a small layer's trained connections wholesale."""
    delta: Literal["deficit", "mean_distance"] = "deficit"
    sigma_schedule: Literal["paper", "exponential", "constant"] = "paper"
    sigma0: float = Field(default=2.0, gt=0.0)
    sigma_min: float = Field(default=0.5, gt=0.0)
    sigma_decay: float = Field(default=0.9, gt=0.0, le=1.0)
    regrow_init: Literal["auto", "zero", "normal"] = "auto"
    """`auto`: `zero` for connection genes (as RigL), `normal` for unit genes: a regrown unit with
    zero weights and bias sits at ReLU's kink with zero gradient and never trains."""
    regrow_scale: float = Field(default=0.1, ge=0.0)

    # -- gate -----------------------------------------------------------------------------------------------
    gate: Literal["mask", "hill"] = "mask"
    gate_half: float = Field(default=0.5, gt=0.0)
    gate_hill: float = Field(default=2.0, gt=0.0)

    seed: Seed = 0

    @model_validator(mode="after")
    def _check_pairs(self) -> RegulatorConfig:
        interval = self.dt * self.integrate_every
        if self.step_size is None or self.step_size >= interval:
            step, what = interval, "dt * integrate_every (one solver step per integration)"
        else:
            step, what = self.step_size, "step_size"
        check_stability(self.method, step, max(self.gamma_m, self.gamma_p), what)
        if self.step_size is not None and method_info(self.method).fixed:
            check_step_count(interval, self.step_size)
        if self.record_every > self.integrate_every:
            raise ValueError(
                f"record_every: {self.record_every} exceeds integrate_every = {self.integrate_every}; "
                "an interval records its first step only, so give at most integrate_every"
            )
        if self.drive_source == "optimizer" and self.record_every > 1:
            raise ValueError(
                f"record_every: {self.record_every} subsamples recorded gradients; drive_source 'optimizer' "
                "reads every step from the optimizer's moments (give record_every 1 or drive_source 'gradients')"
            )
        if self.policy == "nm" and self.nm_n >= self.nm_m:
            raise ValueError(f"nm_n: {self.nm_n} must be below nm_m = {self.nm_m}")
        if self.policy == "nm" and self.genes != "connection":
            raise ValueError("policy: 'nm' prunes connections within rows; it needs genes = 'connection'")
        if self.policy == "listing" and self.median_rule == "track":
            raise ValueError(
                "median_rule: 'track' needs a tau that persists; 'listing' recomputes tau every epoch "
                "(choose 'cap', 'always' or 'never')"
            )
        if self.sigma_min > self.sigma0:
            raise ValueError(f"sigma_min: {self.sigma_min} exceeds sigma0 = {self.sigma0}")
        if self.initial_sparsity > self.target_sparsity:
            raise ValueError(
                f"initial_sparsity: {self.initial_sparsity} exceeds target_sparsity = {self.target_sparsity}"
            )
        if self.end_epoch is not None and self.end_epoch <= self.start_epoch:
            raise ValueError(f"end_epoch: {self.end_epoch} must exceed start_epoch = {self.start_epoch}")
        return self

    def unreachable(self, epochs: int | None = None) -> list[str]:
        """What these settings cannot do, one message per problem, each naming its field: pruning
        that never starts in a training of `epochs` epochs (default: `self.epochs`; a Trainer may
        stop earlier and resume later), and a schedule whose end lies past `self.epochs`."""
        run = self.epochs if epochs is None else int(epochs)
        problems = []
        if self.start_epoch >= run:
            problems.append(
                f"start_epoch: {self.start_epoch} is not below the training's {run} epochs, so pruning never "
                f"starts (the first update follows epoch start_epoch + 1); set start_epoch below {run}"
            )
        elif self.policy in SCHEDULED_POLICIES and self.schedule_end > self.epochs:
            problems.append(
                f"end_epoch: the schedule reaches target_sparsity {self.target_sparsity} at epoch "
                f"{self.schedule_end:g}, after the last of epochs = {self.epochs}, so training ends short of it; "
                f"set end_epoch to at most {self.epochs}"
            )
        return problems

    @property
    def schedule_end(self) -> float:
        """Epoch at which the `target` schedule reaches `target_sparsity`."""
        if self.end_epoch is not None:
            return float(self.end_epoch)
        return max(self.start_epoch + 1.0, 0.75 * self.epochs)


def make_config(config: RegulatorConfig | dict | None = None, **overrides) -> RegulatorConfig:
    """Merge a config (object, mapping or None) with keyword overrides, and validate.

    Raises:
        ValueError: a field is unknown or out of range; the message names the field, the value
            received and the allowed range or choices.
    """
    if config is None:
        base: dict = {}
    elif isinstance(config, RegulatorConfig):
        base = config.model_dump(exclude_unset=True)
    elif isinstance(config, dict):
        base = dict(config)
    else:
        raise TypeError(f"config: expected RegulatorConfig, dict or None, got {type(config).__name__}")
    base.update(overrides)
    if isinstance(base.get("layers"), str):
        base["layers"] = (base["layers"],)
    try:
        return RegulatorConfig(**base)
    except ValidationError as error:
        raise ConfigError(format_validation_error(error)) from None
