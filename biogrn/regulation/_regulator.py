"""The `Regulator`: gene-regulated pruning and rewiring attached to any PyTorch model.

    reg = biogrn.regulate(model, optimizer=opt)      # attach
    ...; opt.step(); reg.step()                       # in the training loop
    reg.epoch_end(val_metric=acc)                     # once per epoch

The regulator orchestrates parts with one job each: the gates on the model (`Attachment`), the
clock (`GeneClock`), the drive (`GeneDrive`), the Eq. 1 state and field (`biogrn.dynamics`), the
policy that decides (`biogrn.policies`) and the edits a decision makes (`WeightEditor`).

Per step nothing reads back to the host. Host reads happen once per integration only where a
count is needed (none by default), once per epoch (the count of non-finite drives), and once
per prune/rewire update: the number of candidates per layer (to clamp k), the number of active
genes per scope (`target`), and the update's statistics for `history`.

A non-finite gradient (a step that mixed precision's GradScaler skips) never reaches the gene
state: its genes take a neutral drive for that interval (`GeneDrive`), the count goes into
`history` (`non_finite_drive`) and one warning says so.
"""

from __future__ import annotations

import warnings
import weakref

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from biogrn.core import Scratch, mask_bits, segment_nonzero, stream_seed
from biogrn.dynamics import GeneField, GeneState, integrate
from biogrn.policies import PolicyView, importance, make_sigma_schedule
from biogrn.regulation._attachment import Attachment
from biogrn.regulation._clock import GeneClock
from biogrn.regulation._distributed import RankSync, refuse_sharded
from biogrn.regulation._drive import GeneDrive
from biogrn.regulation._edits import GeneEdit, WeightEditor
from biogrn.regulation._factory import make_policy, transcription_from_config
from biogrn.regulation._gate import GeneGate
from biogrn.regulation._gradients import GradientRecord
from biogrn.regulation._hebbian import HebbianRecorder
from biogrn.regulation._moments import second_moment_of
from biogrn.regulation._norms import following_norms
from biogrn.regulation._regulator_config import RegulatorConfig, make_config
from biogrn.regulation._tensors import RegulatedTensor, select_tensors

__all__ = ["Regulator", "UnreachableSettingWarning", "regulate"]

STATE_VERSION = 2

_HOLDERS: weakref.WeakKeyDictionary[nn.Module, dict[str, weakref.ref]] = weakref.WeakKeyDictionary()
"""Which live Regulator holds which tensor of a module: two on one tensor would mask and record
it twice. Weak both ways, so a copied model or a dropped Regulator holds nothing."""


def _refuse_if_held(tensor: RegulatedTensor) -> None:
    holder = _HOLDERS.get(tensor.module, {}).get(tensor.param)
    regulator = holder() if holder is not None else None
    gated = parametrize.is_parametrized(tensor.module, tensor.param) and any(
        isinstance(p, GeneGate) for p in tensor.module.parametrizations[tensor.param]
    )
    if (regulator is not None and regulator._attached) or gated:
        raise ValueError(f"layers: {tensor.name} is already regulated by another Regulator; call its remove() first")


class UnreachableSettingWarning(UserWarning):
    """Settings that cannot do what they ask in the run they describe (pruning that never starts, a
    schedule that ends after the run): said when the regulator attaches, not discovered at the end."""


class Regulator:
    """Gene regulation of a model's weights: Eq. 1 dynamics, Eq. 2 scores, pruning, Eq. 3 rewiring.

    Create it with `regulate`. Move the model to its device before attaching: the gene state,
    masks and random generator live on the device of the regulated weights.

    Attributes:
        tensors: the regulated tensors, in gene order.
        genes: the Eq. 1 state $(m, p)$ of every gene, one slice per tensor.
        mask: the flat binary mask (1 active, 0 pruned), in the weights' dtype.
        allow: the flat structural allow-mask.
        history: one record per prune/rewire update.
    """

    def __init__(
        self,
        model: nn.Module,
        config: RegulatorConfig,
        optimizer: torch.optim.Optimizer | None = None,
        allow: Tensor | dict[str, Tensor] | None = None,
        process_group=None,
    ):
        self.config = config
        self.model = model
        for problem in config.unreachable():
            warnings.warn(f"regulator: {problem}", UnreachableSettingWarning, stacklevel=3)
        self.tensors: list[RegulatedTensor] = select_tensors(model, config.layers, config.genes)
        for tensor in self.tensors:
            _refuse_if_held(tensor)
            refuse_sharded(tensor.name, tensor.original)
        if config.policy == "nm":
            for tensor in self.tensors:
                row = tensor.weight_shape[1:].numel()
                if row % config.nm_m:
                    raise ValueError(
                        f"layers: {tensor.name} has rows of {row} connections, which do not split into "
                        f"groups of nm_m = {config.nm_m}; leave it out of `layers`"
                    )
        self.sync = RankSync(process_group)
        self.bytes_reduced = 0
        """Bytes this rank sent to all-reduces of the regulator (0 on one rank)."""
        weights = [t.original for t in self.tensors]
        devices = {w.device for w in weights}
        dtypes = {w.dtype for w in weights}
        if len(devices) > 1:
            raise ValueError(f"layers: the regulated weights are on several devices {sorted(map(str, devices))}")
        if len(dtypes) > 1:
            raise ValueError(f"layers: the regulated weights have several dtypes {sorted(map(str, dtypes))}")
        self.device = devices.pop()
        weight_dtype = dtypes.pop()
        state_dtype = weight_dtype if weight_dtype in (torch.float32, torch.float64) else torch.float32

        self.genes = GeneState(
            [t.n_genes for t in self.tensors], [t.n_pools for t in self.tensors], device=self.device, dtype=state_dtype
        )
        self.genes.y[0].fill_(config.initial_m)
        self.genes.y[1].fill_(config.initial_p)
        self.mask = torch.ones(self.genes.n_genes, device=self.device, dtype=weight_dtype)
        self.allow = torch.ones(self.genes.n_genes, device=self.device, dtype=torch.bool)
        self.field = GeneField(
            transcription_from_config(config), config.gamma_m, config.gamma_p, config.k_p, state=self.genes
        )

        self.policy = make_policy(config)
        self.attachment = Attachment(
            self.tensors,
            self.genes.slices,
            self.mask,
            self.genes.y[1],
            config.gate,
            config.gate_half,
            config.gate_hill,
            record=self.policy.uses_expression,
            keep_last=self.policy.needs_last_gradient,
            unit_genes=config.genes == "unit",
            movement=self.policy.needs_movement or (self.policy.uses_expression and config.drive == "movement"),
            stored_zeros=self.policy.zeroes_pruned,
            norms=following_norms(model, self.tensors) if config.genes == "unit" else None,
        )
        self.hebbian = self._hebbian_recorder()
        self.drive = GeneDrive(
            self.tensors,
            self.attachment.records,
            self.mask,
            self.genes.slices,
            config.drive,
            self.hebbian,
            self._hebbian_index,
            config.normalize_drive,
        )
        self.sigma_schedule = make_sigma_schedule(
            config.sigma_schedule, config.sigma0, config.sigma_min, config.sigma_decay
        )
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(stream_seed(config.seed, "regulator"))
        self.editor = WeightEditor(
            self.attachment, self.genes.slices, self.mask, self.regrow_init, config.regrow_scale, self.generator
        )
        self.clock = GeneClock(config.epochs)
        self.movement_score = (
            torch.zeros(self.genes.n_genes, device=self.device, dtype=weight_dtype)
            if self.policy.needs_movement
            else None
        )
        """Movement pruning's score per gene, $S = -\\sum_t w_t g_t$ since attachment (policies that
        declare `needs_movement`)."""
        self.history: list[dict] = []
        self.scratch = Scratch()
        """The update's temporaries, kept between updates on a CPU (`biogrn.core.Scratch`)."""
        self._non_finite_warned = False
        self._past_end_warned = False
        self._attached_dtype, self._attached_device = weights[0].dtype, weights[0].device
        for tensor in self.tensors:
            _HOLDERS.setdefault(tensor.module, {})[tensor.param] = weakref.ref(self)
        self._attached = True
        if optimizer is not None:
            self.attach_optimizer(optimizer)
        else:
            self._choose_drive_source(None)
        self._mask_changed()
        if allow is not None:  # connections outside the structural mask never exist
            self.allow.copy_(self._flat_allow(allow))
            self._apply(~self.allow, torch.zeros_like(self.allow))
        initial = self.policy.initial_prune(self.view())
        if initial is not None:  # sparse-to-sparse policies start sparse
            self._apply(initial, torch.zeros_like(initial))
        self._mask_changed()
        self._enable_records()

    # -- attaching --------------------------------------------------------------------------------
    def _hebbian_recorder(self) -> HebbianRecorder | None:
        """Forward hooks on the regulated Linear layers when the drive is `hebbian`."""
        self._hebbian_index: dict[int, int] = {}  # tensor -> recorder layer; other tensors use taylor
        if self.config.drive != "hebbian":
            return None
        linear = [i for i, t in enumerate(self.tensors) if isinstance(t.module, nn.Linear) and t.param == "weight"]
        if not linear:
            raise ValueError("drive: 'hebbian' needs at least one regulated Linear layer")
        self._hebbian_index = {tensor: k for k, tensor in enumerate(linear)}
        return HebbianRecorder(
            [self.tensors[i].module for i in linear], self.config.hebbian_target, self.config.hebbian_rate
        )

    def _flat_allow(self, allow: Tensor | dict[str, Tensor]) -> Tensor:
        """A flat boolean gene mask from a flat tensor or `{tensor name: mask in gene or weight shape}`.

        Raises:
            ValueError: a name is not regulated, or a shape or size does not match.
        """
        if isinstance(allow, Tensor):
            if allow.shape != (self.genes.n_genes,):
                raise ValueError(f"allow: expected a flat mask of {self.genes.n_genes} genes, got {tuple(allow.shape)}")
            return allow.to(device=self.device, dtype=torch.bool)
        names = [t.name for t in self.tensors]
        unknown = sorted(set(allow) - set(names))
        if unknown:
            raise ValueError(f"allow: {unknown} are not regulated tensors; regulated: {names}")
        flat = torch.ones(self.genes.n_genes, dtype=torch.bool, device=self.device)
        for tensor, sl in zip(self.tensors, self.genes.slices):
            if tensor.name in allow:
                mask = torch.as_tensor(allow[tensor.name]).to(device=self.device, dtype=torch.bool)
                if mask.numel() != tensor.n_genes:
                    raise ValueError(f"allow[{tensor.name!r}]: {mask.numel()} entries for {tensor.n_genes} genes")
                flat[sl] = mask.reshape(-1)
        return flat

    def attach_optimizer(self, optimizer: torch.optim.Optimizer) -> None:
        """Use `optimizer`'s state: pruned and regrown entries get their moments reset.

        Raises:
            ValueError: the optimizer does not hold one of the regulated weights.
        """
        held = {id(p) for group in optimizer.param_groups for p in group["params"]}
        for tensor in self.tensors:
            if id(tensor.original) not in held:
                raise ValueError(f"optimizer: it does not hold the regulated weight {tensor.name!r}")
        self.editor.optimizer = optimizer
        self._choose_drive_source(optimizer)
        self.attachment.record_movement_from(optimizer)

    def _choose_drive_source(self, optimizer: torch.optim.Optimizer | None) -> None:
        """Read the drive's intervals from `optimizer`'s second moments where `drive_source` allows it.

        Raises:
            ValueError: `drive_source` is `optimizer` and something stops it (named).
        """
        source = self.config.drive_source
        if source == "gradients" or not self.policy.uses_expression:
            return
        if optimizer is None:
            why = "no optimizer is attached (pass optimizer= to regulate)"
        else:
            why = second_moment_of(optimizer)
        if why is None and self.config.record_every > 1:
            why = f"record_every is {self.config.record_every}"
        elif why is None and self.mask.dtype not in (torch.float32, torch.float64):
            # a half-precision moment cannot resolve beta's increments: its (1 - beta^T) share drowns in rounding
            why = f"the regulated weights are {self.mask.dtype}, and so is the optimizer's second moment"
        elif why is None and source == "optimizer" and self.attachment.gated_recording:
            why = (
                f"{self.attachment.gated_recording} record through a gate (gate 'hill', policy 'listing', "
                "or a parametrization of their own), where the optimizer sees the gated gradient"
            )
        if why is not None and source == "optimizer":
            raise ValueError(f"drive_source: 'optimizer' cannot be read: {why}")
        self.attachment.read_moments(optimizer if why is None else None)

    @property
    def optimizer(self) -> torch.optim.Optimizer | None:
        return self.editor.optimizer

    @property
    def drive_sources(self) -> list[str]:
        """Where each regulated tensor's drive interval comes from: `optimizer` or `gradients`."""
        return ["optimizer" if r.moments is not None else "gradients" for r in self.records]

    @property
    def records(self) -> list[GradientRecord]:
        """The $\\sum g^2$ record of each regulated tensor (the drive's input)."""
        return self.attachment.records

    def _check_attached(self) -> None:
        if not self._attached:
            raise RuntimeError("this Regulator was removed; attach a new one with biogrn.regulate")
        weight = self.tensors[0].original
        if weight.dtype != self._attached_dtype or weight.device != self._attached_device:
            # model.double() or model.to(...) after attaching replaces the weights under the gene state
            raise RuntimeError(
                f"the regulated weights are now {weight.dtype} on {weight.device}, but this Regulator attached to "
                f"{self._attached_dtype} on {self._attached_device}: convert the model (model.double(), "
                "model.to(device)) before biogrn.regulate"
            )

    # -- time -----------------------------------------------------------------------------------------
    @property
    def step_count(self) -> int:
        return self.clock.step_count

    @property
    def epoch(self) -> int:
        return self.clock.epoch

    @property
    def epochs_done(self) -> float:
        """Completed epochs, with the fraction of the current one once an epoch length is known."""
        return self.clock.epochs_done

    @property
    def time(self) -> float:
        """Training progress $\\mathrm{Time} = \\mathrm{epochs\\ done} / \\mathrm{epochs}$ in [0, 1]."""
        return self.clock.time

    @property
    def sigma(self) -> float:
        return self.sigma_schedule(self.clock.time, self.clock.epoch)

    # -- the training loop ----------------------------------------------------------------------------
    def step(self) -> None:
        """Call once after each `optimizer.step()`."""
        self._check_attached()
        cfg = self.config
        self.attachment.step()
        self.clock.tick()
        if self.hebbian is not None:
            self.hebbian.count_step()
        if self.clock.steps_since_integration >= cfg.integrate_every and self.policy.uses_expression:
            self.integrate()
        if (
            cfg.update_every is not None
            and self.clock.step_count % cfg.update_every == 0
            and self.clock.epochs_done >= cfg.start_epoch
        ):
            self.update()
        self._enable_records()

    def epoch_end(self, val_metric: float | None = None) -> None:
        """Call once per epoch: integrates pending steps, feeds the plateau rule, prunes and rewires.

        Under torch.distributed the ranks' `val_metric`s are averaged, so every rank's plateau
        rule sees the same number (pass the global metric and the mean is that metric).
        """
        self._check_attached()
        if val_metric is not None:
            val_metric = self.sync.mean(float(val_metric), self.device)
        if self.clock.epoch >= self.config.epochs and not self._past_end_warned:
            self._past_end_warned = True
            warnings.warn(
                f"regulator: epoch_end for epoch {self.clock.epoch + 1} of a Regulator set for epochs = "
                f"{self.config.epochs}: Time of Eq. 2 passes 1 and the schedules stay at their end; "
                "set epochs to the training's length",
                UnreachableSettingWarning,
                stacklevel=2,
            )
        self.integrate()
        self._warn_non_finite()
        self.clock.end_epoch()
        self.policy.observe(val_metric)
        if self.config.update_every is None and self.clock.epoch > self.config.start_epoch:
            self.update()

    def _warn_non_finite(self) -> None:
        if self._non_finite_warned or not int(self.drive.non_finite):
            return
        self._non_finite_warned = True
        warnings.warn(
            f"regulator: {int(self.drive.non_finite)} gene drive(s) were not finite by epoch {self.clock.epoch + 1} "
            "(an overflowing gradient, such as a step GradScaler skips); those genes took a neutral drive for "
            "their interval and the gene state stays finite. The running count is history's non_finite_drive.",
            RuntimeWarning,
            stacklevel=3,
        )

    # -- Eq. 1 -----------------------------------------------------------------------------------------
    def integrate(self) -> None:
        """Advance every gene over the steps since the last integration, in place.

        One fused affine step for the explicit Runge-Kutta methods on the default (state-free)
        transcription, else one `torchdiffeq.odeint` call (`biogrn.dynamics.integrate`).
        """
        n = self.clock.steps_since_integration
        if n == 0 or not self.policy.uses_expression:
            self.clock.steps_since_integration = 0
            self._enable_records()
            return
        cfg = self.config
        self.bytes_reduced += self.sync.mean_(self._rank_local_records())
        integrate(
            self.field,
            self.genes.y,
            n * cfg.dt,
            cfg.method,
            cfg.step_size,
            cfg.rtol,
            cfg.atol,
            drive=self.drive(self.genes.y.dtype),
            compile=cfg.compile,
            fused=cfg.fused,
            out=self.genes.y,
            overwrite_drive=True,  # the drive's buffer is rebuilt for every interval
        )
        self.drive.reset()
        self.clock.steps_since_integration = 0
        self._enable_records()

    def _rank_local_records(self) -> list[Tensor]:
        """What each rank recorded from its own data alone: gated tensors' $\\sum g^2$ (the gate runs
        before DDP averages gradients) and the Hebbian accumulators."""
        local = [r.grad_sq for r, gate in zip(self.records, self.attachment.gates) if gate is not None and r.recording]
        local += self._rank_local_movement()
        if self.hebbian is not None:
            local += self.hebbian.coactivity + self.hebbian.activity
        return local

    # -- Eq. 2, pruning, Eq. 3 --------------------------------------------------------------------------
    def _per_gene(self, values: list[Tensor]) -> Tensor:
        """Weight-shaped values of every tensor as one flat per-gene tensor in the state's dtype."""
        return torch.cat([t.per_gene(v) for t, v in zip(self.tensors, values)]).to(self.genes.y.dtype)

    def magnitudes(self, scratch: Scratch | None = None) -> Tensor:
        """$|w|$ per gene (fan-in mean for unit genes), flat; into `scratch`'s buffer when given."""
        if self.config.genes != "connection" or self.genes.y.dtype != self.mask.dtype:
            return self._per_gene([t.original.detach().abs() for t in self.tensors])
        # connection genes: |w| straight into each slice
        scratch = scratch if scratch is not None else Scratch(hold=False)
        flat = scratch("magnitude", self.genes.n_genes, self.mask.dtype, self.device)
        for tensor, sl in zip(self.tensors, self.genes.slices):
            torch.abs(tensor.original.detach().reshape(-1), out=flat[sl])
        return flat

    def scores(self) -> Tensor:
        """Eq. 2 for every gene, flat, with the config's alpha, beta and normalisation."""
        cfg = self.config
        return importance(
            self.magnitudes(), self.genes.p, self.genes.slices, cfg.alpha, cfg.beta, self.time, cfg.normalization
        )

    def last_gradient(self) -> Tensor:
        """$|g|$ of the last backward pass per gene, flat (fan-in mean for unit genes).

        $g$ is the dense gradient of the effective weight.

        Raises:
            RuntimeError: the policy keeps no gradient (only `rigl` and `listing` do).
        """
        if any(record.last_grad is None for record in self.records):
            raise RuntimeError(f"policy {self.config.policy!r} keeps no last gradient")
        gated = [r.last_grad for r, gate in zip(self.records, self.attachment.gates) if gate is not None]
        self.bytes_reduced += self.sync.mean_(gated)
        magnitude = self._per_gene([record.last_grad.abs() for record in self.records])
        return magnitude.nan_to_num_(nan=0.0, posinf=0.0)  # an overflowed gradient is no evidence to grow

    def view(self) -> PolicyView:
        """The frozen picture of the genes that the policy decides from."""
        return PolicyView(
            magnitude=self.magnitudes(self.scratch),
            expression=self.genes.p,
            mask=self.mask,
            allow=self.allow,
            slices=tuple(self.genes.slices),
            epoch=self.clock.epoch,
            epochs_done=self.clock.epochs_done,
            time=self.clock.time,
            sigma=self.sigma,
            generator=self.generator,
            last_gradient=self.last_gradient() if self.policy.needs_last_gradient else None,
            movement=self.movement_score,
            n_active=tuple(t.n_genes - k for t, k in zip(self.tensors, self._n_pruned)),
            scratch=self.scratch,
        )

    def update(self) -> dict:
        """One prune + rewire event decided by the policy; returns (and appends to `history`) its statistics."""
        self._check_attached()
        if self.movement_score is not None:
            self._accumulate_movement()
        view = self.view()
        decision = self.policy.decide(view)
        edit = self._apply(decision.prune, decision.grow)
        tau = decision.tau.tolist() if decision.tau is not None else [float("nan")] * len(self.genes.slices)
        record = {
            "step": self.clock.step_count,
            "epoch": self.clock.epoch,
            "time": view.time,
            "sigma": view.sigma,
            "frozen": bool(self.policy.frozen),
            "n_pruned": edit.n_pruned,
            "n_regrown": edit.n_regrown,
            "tau": [float(x) for x in tau],
            "sparsity": [n / t.n_genes for n, t in zip(self._n_pruned, self.tensors)],
            "non_finite_drive": int(self.drive.non_finite),
        }
        self.history.append(record)
        return record

    def _apply(self, prune: Tensor, grow: Tensor) -> GeneEdit:
        """Mask off `prune`, mask on `grow`; policies that zero pruned weights also edit the weights."""
        edit = GeneEdit.from_masks(prune, grow, self.genes.slices)
        self.mask.index_put_((edit.changed,), edit.grown.to(self.mask.dtype))
        if self.policy.zeroes_pruned:
            self.editor.apply(edit)
        self._mask_changed()
        return edit

    def _enable_records(self) -> None:
        """Whether the gradient of the coming step enters the drive.

        With `record_every = k`, the steps 0, k, 2k, ... of each integration interval are
        recorded: the first one always, so that an interval cut short (by an epoch's end) still
        has a gradient. A stored-zeros tensor records its step's gradient at that step's
        `reg.step()`, a gate at that step's backward pass, so the flag is set one step ahead for
        both.
        """
        enabled = self.clock.steps_since_integration % self.config.record_every == 0
        for record in self.records:
            record.enabled = enabled

    def _mask_changed(self) -> None:
        # one host read per change of the mask (attachment, update, load), none per step
        self._n_pruned = self._pruned_counts()
        self.attachment.any_pruned = any(self._n_pruned)
        self.attachment.snapshot()  # the movement records' w_t: the weights as the edit left them

    def _rank_local_movement(self) -> list[Tensor]:
        """Gated tensors' $\\sum_t w_t g_t$: their gate records each rank's own gradient, before DDP
        averages it (the mask path reads the averaged `.grad`, the same on every rank)."""
        return [
            r.movement
            for r, gate in zip(self.records, self.attachment.gates)
            if gate is not None and r.movement is not None
        ]

    def _accumulate_movement(self) -> None:
        """Add each record's $-\\sum_t w_t g_t$ since the last update into `movement_score` (summed
        over a unit's fan-in for unit genes) and start the records' sums again; the ranks' sums are
        averaged first, so every rank holds the same score."""
        self.bytes_reduced += self.sync.mean_(self._rank_local_movement())
        for tensor, record, sl in zip(self.tensors, self.records, self.genes.slices):
            moved = record.movement
            self.movement_score[sl] -= tensor.per_gene(moved, reduce="sum")
            moved.zero_()
            record.n_movement = 0

    def _pruned_counts(self) -> list[int]:
        """Pruned genes of each tensor, one host read.

        The mask holds +0.0 and 1.0 only, so its active entries are the nonzero bit patterns:
        counted through an integer view, which is exact at any size and makes no temporary.
        """
        active = segment_nonzero(mask_bits(self.mask), self.genes.slices).tolist()
        return [t.n_genes - a for t, a in zip(self.tensors, active)]

    @property
    def regrow_init(self) -> str:
        """The initialisation of regrown weights, with `auto` resolved by the gene granularity."""
        if self.config.regrow_init != "auto":
            return self.config.regrow_init
        return "zero" if self.config.genes == "connection" else "normal"

    # -- views for users ---------------------------------------------------------------------------------
    def masks(self) -> dict[str, Tensor]:
        """Boolean mask of every regulated weight, in the weight's shape."""
        return {
            t.name: (self.mask[sl].view(t.gene_view_shape) > 0).expand(t.weight_shape).clone()
            for t, sl in zip(self.tensors, self.genes.slices)
        }

    def expression(self) -> dict[str, Tensor]:
        """Protein level $p$ of every layer's genes: weight-shaped, `(out,)` for unit genes, `(in,)` for input genes."""
        shape = (lambda t: t.weight_shape) if self.config.genes == "connection" else (lambda t: (t.n_genes,))
        return {t.name: self.genes.y[1, sl].view(shape(t)).clone() for t, sl in zip(self.tensors, self.genes.slices)}

    def layer_sparsity(self) -> dict[str, float]:
        """Fraction of pruned connections of each regulated weight."""
        return {t.name: k / t.n_genes for t, k in zip(self.tensors, self._pruned_counts())}

    def sparsity(self) -> float:
        """Fraction of pruned connections over every regulated weight."""
        total = sum(t.weight_shape.numel() for t in self.tensors)
        pruned = sum(s * t.weight_shape.numel() for t, s in zip(self.tensors, self.layer_sparsity().values()))
        return pruned / total

    # -- persistence --------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything needed to continue identically (with the model's and optimizer's own state)."""
        return {
            "version": STATE_VERSION,
            "layers": [t.name for t in self.tensors],
            "sizes": list(self.genes.sizes),
            "y": self.genes.y.clone(),
            "mask": self.mask.clone(),
            "allow": self.allow.clone(),
            "grad_sq": [r.grad_sq.clone() if r.grad_sq is not None else None for r in self.records],
            "n_backward": [r.n_backward for r in self.records],
            "drive_moments": [r.moments.state_dict() if r.moments is not None else None for r in self.records],
            **self.clock.state_dict(),
            "policy": self.policy.state_dict(),
            "generator": self.generator.get_state(),
            "history": [dict(r) for r in self.history],
            "hebbian": self.hebbian.state_dict() if self.hebbian is not None else None,
            "non_finite_drive": self.drive.non_finite.clone(),
            "policy_name": self.config.policy,
            "movement": [r.movement.clone() if r.movement is not None else None for r in self.records],
            "n_movement": [r.n_movement for r in self.records],
            "movement_score": self.movement_score.clone() if self.movement_score is not None else None,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore a `state_dict` taken from a Regulator of the same layers and config; all or
        nothing: a state refused part-way leaves this Regulator as it was.

        Raises:
            ValueError: the state was taken from other layers, another policy or another version,
                or one of its tensors has another shape than what it replaces (named).
        """
        self._check_attached()  # a removed Regulator holds no model to restore
        previous = self.state_dict()
        try:
            self._load_state(state)
        except BaseException:
            self._load_state(previous)
            raise

    def _load_state(self, state: dict) -> None:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"state_dict: version {state.get('version')!r} is not {STATE_VERSION}")
        if state.get("policy_name", self.config.policy) != self.config.policy:
            raise ValueError(
                f"state_dict: taken from a Regulator with policy {state['policy_name']!r}, "
                f"this one has policy {self.config.policy!r}"
            )
        names = [t.name for t in self.tensors]
        if state["layers"] != names or list(state["sizes"]) != self.genes.sizes:
            raise ValueError(
                f"state_dict: it regulates {state['layers']} with sizes {state['sizes']}, "
                f"this Regulator {names} with sizes {self.genes.sizes}"
            )
        self._check_state_shapes(state)  # before anything is copied: a refused state changes nothing
        self.genes.y.copy_(state["y"])
        self.mask.copy_(state["mask"])
        self._mask_changed()
        self.allow.copy_(state["allow"])
        moments = state.get("drive_moments")
        if moments is None:  # taken before the drive could read moments: it recorded every gradient
            moments = [None] * len(self.records)
            if self.config.drive_source == "auto":  # continue as it was taken
                self.attachment.read_moments(None)
        taken = ["optimizer" if m is not None else "gradients" for m in moments]
        if taken != self.drive_sources:
            raise ValueError(
                f"state_dict: its drive read the tensors' intervals from {taken}, this Regulator's from "
                f"{self.drive_sources}: set drive_source (and the optimizer) as when the state was taken"
            )
        for record, grad_sq, n, moment in zip(self.records, state["grad_sq"], state["n_backward"], moments):
            if grad_sq is not None:
                record.grad_sq.copy_(grad_sq)
            record.n_backward = int(n)
            if moment is not None:
                record.moments.load_state_dict(moment)
        self.clock.load_state_dict(state)
        self._enable_records()
        self.policy.load_state_dict(state["policy"])
        self.generator.set_state(state["generator"].cpu())  # generator states are CPU byte tensors
        self.history = [dict(r) for r in state["history"]]
        if self.hebbian is not None:
            self.hebbian.load_state_dict(state["hebbian"])
        self.drive.non_finite.copy_(state.get("non_finite_drive", 0))
        for record, moved, n in zip(self.records, state.get("movement", []), state.get("n_movement", [])):
            if record.movement is not None and moved is not None:
                record.movement.copy_(moved)
                record.n_movement = int(n)
        if self.movement_score is not None and state.get("movement_score") is not None:
            self.movement_score.copy_(state["movement_score"])
        self.attachment.snapshot()  # the weights are the model's, restored with it

    def _check_state_shapes(self, state: dict) -> None:
        """Every tensor of `state` has the shape of what it replaces (copy_ would broadcast a smaller
        one into every gene), and every per-tensor list has one entry per regulated tensor.

        Raises:
            ValueError: naming the first entry that does not fit.
        """
        expected = {"y": self.genes.y, "mask": self.mask, "allow": self.allow}
        for key, target in expected.items():
            value = state.get(key)
            if not isinstance(value, Tensor) or tuple(value.shape) != tuple(target.shape):
                got = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
                raise ValueError(f"state_dict: {key} has shape {got}, this Regulator's {tuple(target.shape)}")
        mask = state["mask"]
        if not bool(((mask == 0) | (mask == 1)).all()):
            raise ValueError("state_dict: mask holds values other than 0 and 1; a gene is on or off")
        for key in ("grad_sq", "n_backward", "movement", "n_movement"):
            values = state.get(key)
            if values is not None and len(values) != len(self.records):
                raise ValueError(
                    f"state_dict: {key} has {len(values)} entries for {len(self.records)} regulated tensors"
                )
        for key in ("grad_sq", "movement"):
            for record, value in zip(self.records, state.get(key) or []):
                target = getattr(record, key)
                if value is not None and target is not None and tuple(value.shape) != tuple(target.shape):
                    raise ValueError(
                        f"state_dict: a {key} entry has shape {tuple(value.shape)}, its tensor {tuple(target.shape)}"
                    )
        score = state.get("movement_score")
        if self.movement_score is not None and score is not None and score.shape != self.movement_score.shape:
            raise ValueError(
                f"state_dict: movement_score has shape {tuple(score.shape)}, this Regulator's "
                f"{tuple(self.movement_score.shape)}"
            )

    def remove(self) -> nn.Module:
        """Bake mask and gate into plain weights and detach from the model; returns the model."""
        self._check_attached()
        self.attachment.remove()
        if self.hebbian is not None:
            self.hebbian.remove()
        for tensor in self.tensors:
            _HOLDERS.get(tensor.module, {}).pop(tensor.param, None)
        self._attached = False
        return self.model

    def __repr__(self) -> str:
        return (
            f"Regulator({len(self.tensors)} tensors, {self.genes.n_genes} {self.config.genes} genes, "
            f"policy={self.config.policy!r}, sparsity={self.sparsity():.3f}, epoch={self.epoch})"
        )


def regulate(
    model: nn.Module,
    config: RegulatorConfig | dict | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    allow: Tensor | dict[str, Tensor] | None = None,
    process_group=None,
    **overrides,
) -> Regulator:
    """Attach gene regulation to `model`; settings from `config` and keyword overrides.

    `allow` is a structural mask (flat over genes, or per tensor name): connections outside it are
    pruned from the start and never grow. Under torch.distributed (DistributedDataParallel) every
    rank attaches its own Regulator with the same settings; `process_group` (default: the default
    group) is the group across which what ranks record is averaged (docs/distributed.md).

    Raises:
        ValueError: a setting is unknown or invalid, a named layer does not exist, or the
            optimizer does not hold a regulated weight.
    """
    return Regulator(model, make_config(config, **overrides), optimizer, allow, process_group)
