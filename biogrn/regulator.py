"""The `Regulator`: gene-regulated pruning and rewiring attached to any PyTorch model.

    reg = biogrn.regulate(model, optimizer=opt)      # attach
    ...; opt.step(); reg.step()                       # in the training loop
    reg.epoch_end(val_metric=acc)                     # once per epoch

Per step nothing reads back to the host. Host reads happen once per integration only where a
count is needed (none by default) and once per prune/rewire update: the number of candidates
per layer (to clamp k), the number of active genes per scope (`target`), and the update's
statistics for `history`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from biogrn.config import RegulatorConfig, make_config
from biogrn.expression import GeneField, GeneState, integrate
from biogrn.gating import GeneGate
from biogrn.hebbian import HebbianRecorder
from biogrn.importance import connection_drive, importance, normalize_per_layer, reduce_to_units
from biogrn.kinetics import Basal, DriveActivation, PoolRepression, SelfActivation, Transcription
from biogrn.layout import Target, find_targets
from biogrn.policies import make_policy
from biogrn.rewiring import make_sigma_schedule
from biogrn.seeding import stream_seed

__all__ = ["Regulator", "regulate", "reset_optimizer_entries", "transcription_from_config"]

STATE_VERSION = 2


def transcription_from_config(config: RegulatorConfig) -> Transcription:
    """The transcription terms that the config switches on."""
    terms = []
    if config.basal > 0:
        terms.append(Basal(config.basal))
    if config.drive_rate > 0:
        terms.append(DriveActivation(config.drive_rate, config.drive_half, config.drive_hill))
    if config.self_rate > 0:
        terms.append(SelfActivation(config.self_rate, config.self_half, config.self_hill))
    if config.pool_half is not None:
        terms.append(PoolRepression(config.pool_half, config.pool_hill))
    return Transcription(terms)


def reset_optimizer_entries(optimizer: torch.optim.Optimizer | None, param: Tensor, where: Tensor) -> None:
    """Zero the optimizer's per-entry state of `param` (Adam moments, momentum buffers...) at `where`.

    Every state tensor with the parameter's shape is per-entry state; scalars such as Adam's step
    count are shared by the whole tensor and left alone.
    """
    if optimizer is None:
        return
    state = optimizer.state.get(param)
    if not state:
        return
    for value in state.values():
        if torch.is_tensor(value) and value.shape == param.shape:
            value.masked_fill_(where, 0)


class Regulator:
    """Gene regulation of a model's weights: Eq. 1 dynamics, Eq. 2 scores, pruning, Eq. 3 rewiring.

    Create it with `regulate`. Move the model to its device before attaching: the gene state,
    masks and random generator live on the device of the regulated weights.
    """

    def __init__(self, model: nn.Module, config: RegulatorConfig, optimizer: torch.optim.Optimizer | None = None,
                 allow: Tensor | dict[str, Tensor] | None = None):
        self.config = config
        self.model = model
        self.targets: list[Target] = find_targets(model, config.layers, config.genes)
        weights = [t.original for t in self.targets]
        devices = {w.device for w in weights}
        dtypes = {w.dtype for w in weights}
        if len(devices) > 1:
            raise ValueError(f"layers: the regulated weights are on several devices {sorted(map(str, devices))}")
        if len(dtypes) > 1:
            raise ValueError(f"layers: the regulated weights have several dtypes {sorted(map(str, dtypes))}")
        self.device = devices.pop()
        weight_dtype = dtypes.pop()
        state_dtype = weight_dtype if weight_dtype in (torch.float32, torch.float64) else torch.float32

        self.state = GeneState([t.n_genes for t in self.targets], [t.n_pools for t in self.targets],
                               device=self.device, dtype=state_dtype)
        self.state.y[0].fill_(config.initial_m)
        self.state.y[1].fill_(config.initial_p)
        self.mask = torch.ones(self.state.n_genes, device=self.device, dtype=weight_dtype)
        self.allow = torch.ones(self.state.n_genes, device=self.device, dtype=torch.bool)
        self.field = GeneField(transcription_from_config(config), config.gamma_m, config.gamma_p, config.k_p,
                               state=self.state)

        self.policy = make_policy(config)
        self.hebbian: HebbianRecorder | None = None
        self._hebbian_index: dict[int, int] = {}  # target -> recorder layer; other targets use taylor
        if config.drive == "hebbian":
            linear = [i for i, t in enumerate(self.targets) if isinstance(t.module, nn.Linear) and t.param == "weight"]
            if not linear:
                raise ValueError("drive: 'hebbian' needs at least one regulated Linear layer")
            self._hebbian_index = {target: k for k, target in enumerate(linear)}
            self.hebbian = HebbianRecorder([self.targets[i].module for i in linear], config.hebbian_target,
                                           config.hebbian_rate)
        self.gates: list[GeneGate] = []
        self.bias_gates: list[GeneGate | None] = []
        for target, sl in zip(self.targets, self.state.slices):
            shape = target.gene_view_shape
            gate = GeneGate(self.mask[sl].view(shape), self.state.y[1, sl].view(shape), config.gate,
                            config.gate_half, config.gate_hill, record=self.policy.uses_expression,
                            weight_shape=target.weight_shape, keep_last=self.policy.needs_last_gradient)
            parametrize.register_parametrization(target.module, target.param, gate)
            self.gates.append(gate)
            self.bias_gates.append(self._gate_bias(target, sl))

        self.sigma_schedule = make_sigma_schedule(config.sigma_schedule, config.sigma0, config.sigma_min,
                                                  config.sigma_decay)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(stream_seed(config.seed, "regulator"))

        self.step_count = 0
        self.epoch = 0
        self._steps_since_integration = 0
        self._epoch_start_step = 0
        self._steps_per_epoch: int | None = None
        self.history: list[dict] = []
        self.optimizer: torch.optim.Optimizer | None = None
        self._attached = True
        if optimizer is not None:
            self.attach_optimizer(optimizer)
        if allow is not None:  # connections outside the structural mask never exist
            self.allow.copy_(self._flat_allow(allow))
            self._apply(~self.allow, torch.zeros_like(self.allow))
        initial = self.policy.initial_prune(self)
        if initial is not None:  # sparse-to-sparse policies start sparse
            self._apply(initial, torch.zeros_like(initial))

    # -- attaching --------------------------------------------------------------------------------
    def _flat_allow(self, allow: Tensor | dict[str, Tensor]) -> Tensor:
        """A flat boolean gene mask from a flat tensor or `{tensor name: mask in gene or weight shape}`.

        Raises:
            ValueError: a name is not regulated, or a shape or size does not match.
        """
        if isinstance(allow, Tensor):
            if allow.shape != (self.state.n_genes,):
                raise ValueError(f"allow: expected a flat mask of {self.state.n_genes} genes, got {tuple(allow.shape)}")
            return allow.to(device=self.device, dtype=torch.bool)
        names = [t.name for t in self.targets]
        unknown = sorted(set(allow) - set(names))
        if unknown:
            raise ValueError(f"allow: {unknown} are not regulated tensors; regulated: {names}")
        flat = torch.ones(self.state.n_genes, dtype=torch.bool, device=self.device)
        for target, sl in zip(self.targets, self.state.slices):
            if target.name in allow:
                mask = torch.as_tensor(allow[target.name]).to(device=self.device, dtype=torch.bool)
                if mask.numel() != target.n_genes:
                    raise ValueError(f"allow[{target.name!r}]: {mask.numel()} entries for {target.n_genes} genes")
                flat[sl] = mask.reshape(-1)
        return flat


    def _gate_bias(self, target: Target, sl: slice) -> GeneGate | None:
        """Unit genes also gate the unit's bias, so a pruned unit is silent."""
        bias = getattr(target.module, "bias", None)
        if self.config.genes != "unit" or target.param != "weight" or not isinstance(bias, torch.Tensor):
            return None
        if bias.shape != (target.weight_shape[0],):
            return None
        gate = GeneGate(self.mask[sl], self.state.y[1, sl], self.config.gate, self.config.gate_half,
                        self.config.gate_hill, record=False)
        parametrize.register_parametrization(target.module, "bias", gate)
        return gate

    def attach_optimizer(self, optimizer: torch.optim.Optimizer) -> None:
        """Use `optimizer`'s state: pruned and regrown entries get their moments reset.

        Raises:
            ValueError: the optimizer does not hold one of the regulated weights.
        """
        held = {id(p) for group in optimizer.param_groups for p in group["params"]}
        for target in self.targets:
            if id(target.original) not in held:
                raise ValueError(f"optimizer: it does not hold the regulated weight {target.name!r}")
        self.optimizer = optimizer

    def _check_attached(self) -> None:
        if not self._attached:
            raise RuntimeError("this Regulator was removed; attach a new one with biogrn.regulate")

    # -- time -----------------------------------------------------------------------------------------
    @property
    def epochs_done(self) -> float:
        """Completed epochs, with the fraction of the current one once an epoch length is known."""
        if self._steps_per_epoch:
            return self.epoch + (self.step_count - self._epoch_start_step) / self._steps_per_epoch
        return float(self.epoch)

    @property
    def time(self) -> float:
        """Training progress $\\mathrm{Time} = \\mathrm{epochs\\ done} / \\mathrm{epochs}$ in [0, 1]."""
        return min(1.0, self.epochs_done / self.config.epochs)

    @property
    def sigma(self) -> float:
        return self.sigma_schedule(self.time, self.epoch)

    # -- the training loop ----------------------------------------------------------------------------
    def step(self) -> None:
        """Call once after each `optimizer.step()`."""
        self._check_attached()
        cfg = self.config
        self.step_count += 1
        self._steps_since_integration += 1
        if self.hebbian is not None:
            self.hebbian.count_step()
        if self._steps_since_integration >= cfg.integrate_every and self.policy.uses_expression:
            self.integrate()
        if cfg.update_every is not None and self.step_count % cfg.update_every == 0 \
                and self.epochs_done >= cfg.start_epoch:
            self.update()

    def epoch_end(self, val_metric: float | None = None) -> None:
        """Call once per epoch: integrates pending steps, feeds the plateau rule, prunes and rewires."""
        self._check_attached()
        self.integrate()
        if self.step_count > self._epoch_start_step:
            self._steps_per_epoch = self.step_count - self._epoch_start_step
        self._epoch_start_step = self.step_count
        self.epoch += 1
        self.policy.observe(val_metric)
        if self.config.update_every is None and self.epoch > self.config.start_epoch:
            self.update()

    # -- Eq. 1 -----------------------------------------------------------------------------------------
    def drive(self) -> Tensor:
        """The drive $u$ of every gene from the gradients recorded since the last integration."""
        parts = []
        for i, (target, gate, sl) in enumerate(zip(self.targets, self.gates, self.state.slices)):
            if i in self._hebbian_index:
                u = self.hebbian.drive(self._hebbian_index[i])
                parts.append(reduce_to_units(u) if self.config.genes == "unit" else u.reshape(-1))
                continue
            weight = target.original.detach()
            active = self.mask[sl].view(target.gene_view_shape) > 0
            kind = "taylor" if self.config.drive == "hebbian" else self.config.drive  # conv layers: taylor
            u = connection_drive(kind, weight, gate.grad_sq, gate.n_backward, active)
            parts.append(reduce_to_units(u) if self.config.genes == "unit" else u.reshape(-1))
        u = torch.cat(parts).to(self.state.y.dtype)
        if self.config.normalize_drive:
            u = normalize_per_layer(u, self.state.slices, "mean")
        return u

    def integrate(self) -> None:
        """Advance every gene over the steps since the last integration (one odeint call)."""
        n = self._steps_since_integration
        if n == 0 or not self.policy.uses_expression:
            self._steps_since_integration = 0
            return
        cfg = self.config
        y1 = integrate(self.field, self.state.y, n * cfg.dt, cfg.method, cfg.step_size, cfg.rtol, cfg.atol,
                       drive=self.drive(), compile=cfg.compile)
        self.state.y.copy_(y1)
        for gate in self.gates:
            gate.reset_record()
        if self.hebbian is not None:
            self.hebbian.reset()
        self._steps_since_integration = 0

    # -- Eq. 2, pruning, Eq. 3 --------------------------------------------------------------------------
    def magnitudes(self) -> Tensor:
        """$|w|$ per gene (fan-in mean for unit genes), flat."""
        parts = []
        for target in self.targets:
            w = target.original.detach().abs()
            parts.append(reduce_to_units(w) if self.config.genes == "unit" else w.reshape(-1))
        return torch.cat(parts).to(self.state.y.dtype)

    def scores(self) -> Tensor:
        """Eq. 2 for every gene, flat."""
        cfg = self.config
        return importance(self.magnitudes(), self.state.p, self.state.slices, cfg.alpha, cfg.beta, self.time,
                          cfg.normalization)

    def last_gradient(self, masked: bool = False) -> Tensor:
        """$|g|$ of the last backward pass per gene, flat (fan-in mean for unit genes).

        $g$ is the dense gradient of the effective weight; `masked` gives the gradient that reached
        the stored weight, $g \\odot M$ (what `weight.grad` holds).

        Raises:
            RuntimeError: the policy keeps no gradient (only `rigl` and `listing` do).
        """
        parts = []
        for target, gate, sl in zip(self.targets, self.gates, self.state.slices):
            if gate.last_grad is None:
                raise RuntimeError(f"policy {self.config.policy!r} keeps no last gradient")
            g = gate.last_grad.abs()
            if masked:
                g = g * self.mask[sl].view(target.gene_view_shape)
            parts.append(reduce_to_units(g) if self.config.genes == "unit" else g.reshape(-1))
        return torch.cat(parts).to(self.state.y.dtype)

    def update(self) -> dict:
        """One prune + rewire event decided by the policy; returns (and appends to `history`) its statistics."""
        self._check_attached()
        sigma = self.sigma
        decision = self.policy.decide(self)
        self._apply(decision.prune, decision.grow)
        slices = self.state.slices
        counts = torch.stack([
            torch.stack([decision.prune[s].sum() for s in slices]),
            torch.stack([decision.grow[s].sum() for s in slices]),
        ]).tolist()
        tau = decision.tau.tolist() if decision.tau is not None else [float("nan")] * len(slices)
        record = {
            "step": self.step_count,
            "epoch": self.epoch,
            "time": self.time,
            "sigma": sigma,
            "frozen": bool(self.policy.frozen),
            "n_pruned": [int(x) for x in counts[0]],
            "n_regrown": [int(x) for x in counts[1]],
            "tau": [float(x) for x in tau],
            "sparsity": list(self.layer_sparsity().values()),
        }
        self.history.append(record)
        return record

    def _apply(self, prune: Tensor, grow: Tensor) -> None:
        """Mask off `prune`, mask on `grow`; zero pruned weights; initialise regrown ones; reset moments.

        Policies that keep pruned weights (`listing`) change the mask only.
        """
        cfg = self.config
        self.mask.masked_fill_(prune, 0)
        self.mask.masked_fill_(grow, 1)
        if not self.policy.zeroes_pruned:
            return
        with torch.no_grad():
            for target, bias_gate, sl in zip(self.targets, self.bias_gates, self.state.slices):
                shape = target.gene_view_shape
                pruned, grown = prune[sl].view(shape), grow[sl].view(shape)
                weight = target.original
                weight.masked_fill_(pruned, 0)
                if self.regrow_init == "zero":
                    weight.masked_fill_(grown, 0)
                else:
                    keep = (self.mask[sl].view(shape) > 0) & ~grown
                    kept = weight[keep.expand_as(weight)]
                    scale = cfg.regrow_scale * (kept.std() if kept.numel() > 1 else weight.std())
                    noise = torch.randn(weight.shape, generator=self.generator, device=weight.device,
                                        dtype=weight.dtype) * scale
                    weight.copy_(torch.where(grown, noise, weight))
                reset_optimizer_entries(self.optimizer, weight, pruned | grown)
                if bias_gate is not None:
                    bias = target.module.parametrizations["bias"].original
                    changed = prune[sl] | grow[sl]
                    bias.masked_fill_(changed, 0)
                    reset_optimizer_entries(self.optimizer, bias, changed)

    @property
    def regrow_init(self) -> str:
        """The initialisation of regrown weights, with `auto` resolved by the gene granularity."""
        if self.config.regrow_init != "auto":
            return self.config.regrow_init
        return "zero" if self.config.genes == "connection" else "normal"

    # -- views for users ---------------------------------------------------------------------------------
    def masks(self) -> dict[str, Tensor]:
        """Boolean mask of every regulated weight, in the weight's shape."""
        return {t.name: (self.mask[sl].view(t.gene_view_shape) > 0).expand(t.weight_shape).clone()
                for t, sl in zip(self.targets, self.state.slices)}

    def expression(self) -> dict[str, Tensor]:
        """Protein level $p$ of every layer's genes (weight-shaped, or `(out,)` for unit genes)."""
        shape = (lambda t: t.weight_shape) if self.config.genes == "connection" else (lambda t: (t.weight_shape[0],))
        return {t.name: self.state.y[1, sl].view(shape(t)).clone() for t, sl in zip(self.targets, self.state.slices)}

    def layer_sparsity(self) -> dict[str, float]:
        """Fraction of pruned connections of each regulated weight."""
        pruned = torch.stack([(self.mask[sl] == 0).sum() for sl in self.state.slices]).tolist()
        return {t.name: k / t.n_genes for t, k in zip(self.targets, pruned)}

    def sparsity(self) -> float:
        """Fraction of pruned connections over every regulated weight."""
        total = sum(t.weight_shape.numel() for t in self.targets)
        pruned = sum(s * t.weight_shape.numel() for t, s in zip(self.targets, self.layer_sparsity().values()))
        return pruned / total

    # -- persistence --------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything needed to continue identically (with the model's and optimizer's own state)."""
        return {
            "version": STATE_VERSION,
            "layers": [t.name for t in self.targets],
            "sizes": list(self.state.sizes),
            "y": self.state.y.clone(),
            "mask": self.mask.clone(),
            "allow": self.allow.clone(),
            "grad_sq": [g.grad_sq.clone() if g.grad_sq is not None else None for g in self.gates],
            "n_backward": [g.n_backward for g in self.gates],
            "step_count": self.step_count,
            "epoch": self.epoch,
            "steps_since_integration": self._steps_since_integration,
            "epoch_start_step": self._epoch_start_step,
            "steps_per_epoch": self._steps_per_epoch,
            "policy": self.policy.state_dict(),
            "generator": self.generator.get_state(),
            "history": [dict(r) for r in self.history],
            "hebbian": self.hebbian.state_dict() if self.hebbian is not None else None,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore a `state_dict` taken from a Regulator of the same layers and config.

        Raises:
            ValueError: the state was taken from other layers or another version.
        """
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"state_dict: version {state.get('version')!r} is not {STATE_VERSION}")
        names = [t.name for t in self.targets]
        if state["layers"] != names or list(state["sizes"]) != self.state.sizes:
            raise ValueError(f"state_dict: it regulates {state['layers']} with sizes {state['sizes']}, "
                             f"this Regulator {names} with sizes {self.state.sizes}")
        self.state.y.copy_(state["y"])
        self.mask.copy_(state["mask"])
        self.allow.copy_(state["allow"])
        for gate, grad_sq, n in zip(self.gates, state["grad_sq"], state["n_backward"]):
            if grad_sq is not None:
                gate.grad_sq.copy_(grad_sq)
            gate.n_backward = int(n)
        self.step_count = int(state["step_count"])
        self.epoch = int(state["epoch"])
        self._steps_since_integration = int(state["steps_since_integration"])
        self._epoch_start_step = int(state["epoch_start_step"])
        self._steps_per_epoch = state["steps_per_epoch"]
        self.policy.load_state_dict(state["policy"])
        self.generator.set_state(state["generator"].cpu())  # generator states are CPU byte tensors
        self.history = [dict(r) for r in state["history"]]
        if self.hebbian is not None:
            self.hebbian.load_state_dict(state["hebbian"])

    def remove(self) -> nn.Module:
        """Bake mask and gate into plain weights and detach from the model; returns the model."""
        self._check_attached()
        for target, bias_gate in zip(self.targets, self.bias_gates):
            parametrize.remove_parametrizations(target.module, target.param, leave_parametrized=True)
            if bias_gate is not None:
                parametrize.remove_parametrizations(target.module, "bias", leave_parametrized=True)
        if self.hebbian is not None:
            self.hebbian.remove()
        self._attached = False
        return self.model

    def __repr__(self) -> str:
        return (f"Regulator({len(self.targets)} tensors, {self.state.n_genes} {self.config.genes} genes, "
                f"policy={self.config.policy!r}, sparsity={self.sparsity():.3f}, epoch={self.epoch})")


def regulate(model: nn.Module, config: RegulatorConfig | dict | None = None,
             optimizer: torch.optim.Optimizer | None = None, allow: Tensor | dict[str, Tensor] | None = None,
             **overrides) -> Regulator:
    """Attach gene regulation to `model`; settings from `config` and keyword overrides.

    `allow` is a structural mask (flat over genes, or per tensor name): connections outside it are
    pruned from the start and never grow.

    Raises:
        ValueError: a setting is unknown or invalid, a named layer does not exist, or the
            optimizer does not hold a regulated weight.
    """
    return Regulator(model, make_config(config, **overrides), optimizer, allow)
