r"""Model forms of a network, batched over parameter sets (a leading *member* axis).

- `ShiftedHill` (RACIPE, Huang et al. 2017), one variable per gene, exactly as RACIPE-1.0
  (`Hillshift(...)/lambda` for an activation) and GRiNS (`psH`, `nsH`) write it:
  $\dot x_i = g_i \prod_{j \to^+ i} H^S(x_j; K_{ji}, n_{ji}, \lambda_{ji}) / \lambda_{ji}
  \prod_{j \dashv i} H^S(x_j; K_{ji}, n_{ji}, \lambda_{ji}) - k_i x_i$, with $\lambda \ge 1$ for
  an activation and $\lambda \le 1$ for a repression: every factor lies in $(0, 1]$, so $g_i$ is
  the gene's largest production and its level never passes $g_i / k_i$ from below.
- `TwoStage` (the mRNA/protein form of Eq. 1, as BoolODE writes it),
  $\dot m_i = b_i + a_i \prod_{j \to i} H^\pm(p_j; K_{ji}, n_{ji}) - \gamma^m_i m_i$,
  $\dot p_i = \kappa_i m_i - \gamma^p_i p_i$ (the regulators act together, an AND of their inputs).

The product over each gene's regulators is a `scatter_reduce` over the edges: no Python loop over
members or edges. Each form also gives its production and degradation fluxes (`rates`), which the
chemical Langevin equation needs.
"""

from __future__ import annotations

import torch
from torch import Tensor

from biogrn.dynamics import hill_activation, hill_repression, shifted_hill
from biogrn.grn._network import Network

__all__ = ["ShiftedHill", "TwoStage"]


def _of_members(x: Tensor, index: Tensor) -> Tensor:
    """Rows `index` of a per-member parameter; one shared by every member (first axis 1) as it is."""
    return x if x.shape[0] == 1 else x[index]


def _subset(form: torch.nn.Module, index: Tensor) -> torch.nn.Module:
    """The same form (its class, network and parameters) for the members `index` only."""
    parameters = {name: _of_members(value, index) for name, value in form.parameters_dict().items()}
    return type(form)(form.network, **parameters).to(form.sources.device)


def racipe_factor(x: Tensor, threshold: Tensor, hill: Tensor, fold: Tensor, activating: Tensor) -> Tensor:
    r"""RACIPE's factor of one edge: $H^S(x)/\lambda$ for an activation, $H^S(x)$ for a repression."""
    # the divisor is 1 off the activating edges: a pure repression's fold of 0 never divides
    return shifted_hill(x, threshold, hill, fold) / torch.where(activating, fold, 1.0)


def _product_over_regulators(values: Tensor, targets: Tensor, n_genes: int) -> Tensor:
    """`(members, edges)` factors -> `(members, genes)` products over each gene's incoming edges."""
    out = torch.ones(values.shape[0], n_genes, dtype=values.dtype, device=values.device)
    return out.scatter_reduce(1, targets.expand_as(values), values, reduce="prod")


class ShiftedHill(torch.nn.Module):
    r"""RACIPE's one-variable form for a batch of parameter sets.

    $$\dot x_i = g_i \prod_{j \to^+ i} \frac{H^S(x_j; K_{ji}, n_{ji}, \lambda_{ji})}{\lambda_{ji}}
    \prod_{j \dashv i} H^S(x_j; K_{ji}, n_{ji}, \lambda_{ji}) - k_i x_i,
    \qquad H^S = \lambda + (1 - \lambda) H^-,$$

    the activating edges (sign +1 in the network) divided by their fold, as RACIPE-1.0 and GRiNS
    do. Parameters (`members` leading): `production` $g$ and `degradation` $k$ `(M, genes)`;
    `threshold` $K$, `hill` $n$ and `fold` $\lambda$ `(M, edges)`: $\lambda \ge 1$ on an
    activating edge (RACIPE's `ActFld`), $\lambda \le 1$ on a repressing one (`InhFld`, 0 for a
    pure repression).
    """

    def __init__(
        self, network: Network, production: Tensor, degradation: Tensor, threshold: Tensor, hill: Tensor, fold: Tensor
    ):
        super().__init__()
        self.network = network
        self.register_buffer("sources", torch.as_tensor(network.sources, dtype=torch.long))
        self.register_buffer("targets", torch.as_tensor(network.targets, dtype=torch.long))
        self.register_buffer("activating", torch.as_tensor(network.signs) > 0)
        self.production, self.degradation = production, degradation
        self.threshold, self.hill, self.fold = threshold, hill, fold
        self.variables = list(network.genes)

    def rates(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Production and degradation fluxes, each `(M, genes)`; the field is their difference."""
        factors = racipe_factor(x[:, self.sources], self.threshold, self.hill, self.fold, self.activating)
        made = self.production * _product_over_regulators(factors, self.targets, self.network.n_genes)
        return made, self.degradation * x

    def forward(self, t: Tensor, x: Tensor) -> Tensor:
        made, lost = self.rates(x)
        return made - lost

    def subset(self, index: Tensor) -> ShiftedHill:
        """The same form for the members `index` only (`dynamics.integrate_members` drops finished ones)."""
        return _subset(self, index)

    def parameters_dict(self) -> dict[str, Tensor]:
        return {
            "production": self.production,
            "degradation": self.degradation,
            "threshold": self.threshold,
            "hill": self.hill,
            "fold": self.fold,
        }


class TwoStage(torch.nn.Module):
    """The mRNA/protein form for a batch of parameter sets; state `(M, 2 * genes)` = `[m, p]`.

    Parameters: `basal`, `rate`, `gamma_m`, `translation`, `gamma_p` `(M, genes)`; `threshold`,
    `hill` `(M, edges)`. Activating edges use $H^+$, repressing ones $H^-$.
    """

    def __init__(
        self,
        network: Network,
        basal: Tensor,
        rate: Tensor,
        gamma_m: Tensor,
        translation: Tensor,
        gamma_p: Tensor,
        threshold: Tensor,
        hill: Tensor,
    ):
        super().__init__()
        self.network = network
        self.register_buffer("sources", torch.as_tensor(network.sources, dtype=torch.long))
        self.register_buffer("targets", torch.as_tensor(network.targets, dtype=torch.long))
        self.register_buffer("activating", torch.as_tensor(network.signs) > 0)
        self.basal, self.rate, self.gamma_m = basal, rate, gamma_m
        self.translation, self.gamma_p, self.threshold, self.hill = translation, gamma_p, threshold, hill
        self.variables = [f"m_{g}" for g in network.genes] + [f"p_{g}" for g in network.genes]

    def rates(self, y: Tensor) -> tuple[Tensor, Tensor]:
        """Production and degradation fluxes of `[m, p]`, each `(M, 2 * genes)`."""
        n = self.network.n_genes
        m, p = y[:, :n], y[:, n:]
        regulator = p[:, self.sources]
        factors = torch.where(
            self.activating,
            hill_activation(regulator, self.threshold, self.hill),
            hill_repression(regulator, self.threshold, self.hill),
        )
        transcription = self.basal + self.rate * _product_over_regulators(factors, self.targets, n)
        made = torch.cat([transcription, self.translation * m], dim=1)
        return made, torch.cat([self.gamma_m * m, self.gamma_p * p], dim=1)

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        made, lost = self.rates(y)
        return made - lost

    def subset(self, index: Tensor) -> TwoStage:
        """The same form for the members `index` only (`dynamics.integrate_members` drops finished ones)."""
        return _subset(self, index)

    def parameters_dict(self) -> dict[str, Tensor]:
        return {
            "basal": self.basal,
            "rate": self.rate,
            "gamma_m": self.gamma_m,
            "translation": self.translation,
            "gamma_p": self.gamma_p,
            "threshold": self.threshold,
            "hill": self.hill,
        }
