"""The objects a `RegulatorConfig` names: the transcription terms of Eq. 1 and the policy."""

from __future__ import annotations

from biogrn.dynamics import (
    Basal,
    DriveActivation,
    PoolRepression,
    SelfActivation,
    SignedDriveActivation,
    Transcription,
)
from biogrn.policies import (
    GenePolicy,
    HysteresisPolicy,
    ListingPolicy,
    MagnitudePolicy,
    MovementPolicy,
    PaperThreshold,
    Policy,
    RigLPolicy,
    ScheduledThreshold,
    SemiStructuredPolicy,
    SETPolicy,
)
from biogrn.regulation._drive import signed_drive
from biogrn.regulation._regulator_config import RegulatorConfig

__all__ = ["make_policy", "transcription_from_config"]


def transcription_from_config(config: RegulatorConfig) -> Transcription:
    """The transcription terms that the config switches on."""
    terms = []
    if config.basal > 0:
        terms.append(Basal(config.basal))
    if config.drive_rate > 0 and signed_drive(config.drive):
        terms.append(SignedDriveActivation(config.drive_rate, config.drive_half))  # a signed drive: sigmoid
    elif config.drive_rate > 0:
        terms.append(DriveActivation(config.drive_rate, config.drive_half, config.drive_hill))
    if config.self_rate > 0:
        terms.append(SelfActivation(config.self_rate, config.self_half, config.self_hill))
    if config.pool_half is not None:
        terms.append(PoolRepression(config.pool_half, config.pool_hill))
    return Transcription(terms)


def _scheduled_threshold(config: RegulatorConfig) -> ScheduledThreshold:
    return ScheduledThreshold(
        config.target_sparsity, config.initial_sparsity, float(config.start_epoch), config.schedule_end
    )


def make_policy(config: RegulatorConfig) -> Policy:
    """The policy object `config.policy` names, with its settings from the config.

    Raises:
        ValueError: an unknown policy.
    """
    name = config.policy
    if name in ("paper", "target"):
        threshold = (
            PaperThreshold(config.tau_sigmas, config.median_rule, config.patience, config.plateau_tol)
            if name == "paper"
            else _scheduled_threshold(config)
        )
        return GenePolicy(
            threshold,
            config.alpha,
            config.beta,
            config.normalization,
            config.scope,
            config.rewire,
            config.max_regrow,
            config.max_regrow_fraction,
            config.delta,
        )
    if name == "hysteresis":
        return HysteresisPolicy(
            config.target_sparsity,
            config.hysteresis_band,
            config.initial_sparsity,
            float(config.start_epoch),
            config.schedule_end,
            config.max_regrow_fraction,
        )
    if name == "nm":
        return SemiStructuredPolicy(config.nm_n, config.nm_m, config.alpha, config.beta, config.normalization)
    if name == "magnitude":
        return MagnitudePolicy(_scheduled_threshold(config), config.scope)
    if name == "movement":
        return MovementPolicy(_scheduled_threshold(config))
    if name in ("set", "rigl"):
        kind = SETPolicy if name == "set" else RigLPolicy
        return kind(
            config.target_sparsity, config.drop_fraction, config.drop_schedule, config.start_epoch, config.schedule_end
        )
    if name == "listing":
        return ListingPolicy(
            config.alpha,
            config.beta,
            config.epochs,
            config.tau_sigmas,
            config.median_rule,
            config.max_regrow,
            config.rewire,
        )
    raise ValueError(
        f"policy: {name!r} is unknown; choose from paper, target, hysteresis, nm, magnitude, movement, set, rigl, "
        "listing"
    )
