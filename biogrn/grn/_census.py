r"""RACIPE's steady-state census: for every parameter set, the distinct stable states reached from
several initial conditions, and how many sets are mono-, bi- or multistable.

The model's member axis holds `sets x initial` members, set-major (member `s * initial + i` is set
`s` from initial condition `i`; `repeat_members` lays out parameters so, `log_uniform_states`
draws the initial conditions as RACIPE does). Every member is integrated with its own steps
(`dynamics.integrate_members`) until it is at rest by a stable steady state, which Newton's
method then gives (a member resting by a saddle it passes slowly goes on), or reaches `t_end`.
An end point at `t_end` is polished by Newton's method (`polish_steady_states`) where Newton
converges within `tolerance` of it. Every end point is classified by the eigenvalues of its
Jacobian (`classify_steady_states`). `stepping="batch"` is the reference: one `odeint` call to
`t_end` for every member, no polishing. The stable end points of a set are deduplicated in
$\log(1 + y)$ space: two states are one when

    max_v |log(1 + y_v) - log(1 + y'_v)| < tolerance,

all sets at once (no loop over sets or states). Members that are not at a stable steady state by
`t_end` (oscillators, slow transients) are counted as `unsettled`, never as states; with
`stepping="member"`, a slow transient that ends within `tolerance` of a stable steady state (the
distance at which two states count as one) is counted as that state.

`cluster_states` groups the distinct states of every set as RACIPE users do: each variable's
$\log(1 + y)$ is z-scored over the states, and Ward's hierarchical clustering
(`scipy.cluster.hierarchy`) cuts the tree into a chosen number of clusters.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr
from torch import Tensor

from biogrn.dynamics import classify_steady_states, integrate_members, polish_steady_states

__all__ = ["cluster_states", "log_uniform_states", "repeat_members", "steady_state_census"]


def repeat_members(parameters: dict[str, Tensor], initial: int) -> dict[str, Tensor]:
    """Each parameter set repeated `initial` times along the member axis, set-major."""
    return {name: value.repeat_interleave(initial, dim=0) for name, value in parameters.items()}


def log_uniform_states(
    members: int,
    variables: int,
    low: float = 1e-2,
    high: float = 100.0,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
) -> Tensor:
    """Initial conditions drawn log-uniformly in `[low, high]`, as RACIPE draws them: a basin that
    hugs an axis (a state with one gene nearly off) is reached as often as one in the middle."""
    exponent = torch.empty(members, variables, dtype=dtype).uniform_(
        float(np.log(low)), float(np.log(high)), generator=generator
    )
    return exponent.exp()


def _log_levels(y: Tensor) -> Tensor:
    r"""$\log(1 + y)$, the space in which states are compared."""
    return torch.log1p(y.clamp_min(0))


def _end_points(
    model, y0: Tensor, times: Tensor, rtol: float, atol: float, stepping: str, tolerance: float
) -> tuple[Tensor, Tensor]:
    """Every member's end point and whether it is a stable steady state."""
    if stepping == "batch":
        import torchdiffeq

        end = torchdiffeq.odeint(model, y0, times, method="dopri5", rtol=rtol, atol=atol)[-1]
        return end, classify_steady_states(model, end)["stable"]
    end = integrate_members(model, y0, times, rtol=rtol, atol=atol, stop_at_rest=True)[-1]
    polished, converged = polish_steady_states(model, end)
    moved = (_log_levels(polished) - _log_levels(end)).abs().amax(dim=1)
    near = converged & (moved < tolerance)  # Newton stayed at the state the integration ended by
    end = torch.where(near.unsqueeze(1), polished, end)
    return end, classify_steady_states(model, end)["stable"]


def steady_state_census(
    model: torch.nn.Module,
    y0: Tensor,
    initial: int,
    t_end: float = 200.0,
    tolerance: float = 1e-2,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    stepping: str = "member",
) -> xr.Dataset:
    """Distinct stable steady states of every parameter set of `model` (members = sets x `initial`).

    `stepping="member"` (members stop at rest, then Newton) or `"batch"` (one `odeint` call to
    `t_end`, the reference); both are dopri5 at `rtol`, `atol`.

    Returns:
        A Dataset over `set`: `n_states` (distinct stable states), `unsettled` (members not at a
        stable steady state by `t_end`), and over `set, initial, variable` the end points `state`
        with `distinct` marking the first member of each distinct stable state. Its attributes
        `monostable`, `bistable`, `multistable` and `no_state` are the fractions of sets.

    Raises:
        ValueError: the member count is not a multiple of `initial`, or an unknown `stepping`.
    """
    members, variables = y0.shape
    if members % initial:
        raise ValueError(f"initial: {members} members do not split into sets of {initial} initial conditions")
    if stepping not in ("member", "batch"):
        raise ValueError(f"stepping: {stepping!r} is not one of ('member', 'batch')")
    sets = members // initial
    times = torch.tensor([0.0, t_end], dtype=y0.dtype, device=y0.device)
    with torch.no_grad():
        end, stable = _end_points(model, y0, times, rtol, atol, stepping, tolerance)
    stable = stable.cpu().view(sets, initial)
    end = end.cpu()
    log_state = _log_levels(end).view(sets, initial, variables)
    distance = (log_state[:, :, None, :] - log_state[:, None, :, :]).abs().amax(dim=-1)  # (S, I, I)
    earlier = torch.ones(initial, initial, dtype=torch.bool).tril(-1)  # [j, i]: i comes before j
    repeated = ((distance < tolerance) & earlier & stable[:, None, :]).any(dim=-1)
    distinct = stable & ~repeated
    n_states = distinct.sum(dim=1)
    counts = n_states.numpy()
    return xr.Dataset(
        {
            "n_states": ("set", counts),
            "unsettled": ("set", (~stable).sum(dim=1).numpy()),
            "state": (("set", "initial", "variable"), end.view(sets, initial, variables).numpy()),
            "distinct": (("set", "initial"), distinct.numpy()),
        },
        coords={
            "set": np.arange(sets),
            "initial": np.arange(initial),
            "variable": list(getattr(model, "variables", range(variables))),
        },
        attrs={
            "monostable": float((counts == 1).mean()),
            "bistable": float((counts == 2).mean()),
            "multistable": float((counts >= 3).mean()),
            "no_state": float((counts == 0).mean()),
            "t_end": t_end,
            "tolerance": tolerance,
        },
    )


def cluster_states(census: xr.Dataset, clusters: int) -> xr.Dataset:
    """The distinct stable states of a census in `clusters` groups (Ward on z-scored $\\log(1 + y)$).

    Returns:
        A Dataset with `label (set, initial)`: the cluster of each distinct state, -1 elsewhere;
        `count` and `fraction` over `cluster`: the distinct states in each; `mean_log (cluster,
        variable)`: each cluster's mean $\\log(1 + y)$; `sets (set, cluster)`: whether a set has a
        state in the cluster (a bistable set with one state in each of two clusters shows which
        phenotypes coexist). Clusters are numbered from the largest.

    Raises:
        ValueError: `clusters` below 1 or above the number of distinct states.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    distinct = census["distinct"].values
    states = np.log1p(np.clip(census["state"].values[distinct], 0, None))  # (n, variables)
    if not 1 <= clusters <= len(states):
        raise ValueError(f"clusters: {clusters} must lie in 1..{len(states)} (the distinct states)")
    spread = states.std(axis=0)
    z = (states - states.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    raw = fcluster(linkage(z, method="ward"), clusters, criterion="maxclust") if len(z) > 1 else np.ones(1, int)
    sizes = np.bincount(raw)
    order = np.argsort(-sizes[1:], kind="stable")  # largest first; equal sizes keep scipy's order
    rank = np.empty(len(order), int)
    rank[order] = np.arange(len(order))
    labels = rank[raw - 1]
    found = len(order)
    cluster = np.full(distinct.shape, -1)
    cluster[distinct] = labels
    count = np.bincount(labels, minlength=found)
    mean_log = np.stack([states[labels == c].mean(axis=0) for c in range(found)])
    in_set = (cluster[:, :, None] == np.arange(found)).any(axis=1)
    return xr.Dataset(
        {
            "label": (("set", "initial"), cluster),
            "count": ("cluster", count),
            "fraction": ("cluster", count / count.sum()),
            "mean_log": (("cluster", "variable"), mean_log),
            "sets": (("set", "cluster"), in_set),
        },
        coords={
            "set": census["set"].values,
            "initial": census["initial"].values,
            "cluster": np.arange(found),
            "variable": census["variable"].values,
        },
    )
