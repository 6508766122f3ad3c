r"""BEELINE's six synthetic networks and its curated HSC network as Boolean models (Pratapa et al. 2020).

The synthetic topologies (BEELINE, Fig. 2a) drive trajectories of known shape: linear (LI, 7
genes), cycle (CY, 6), linear long (LL, 18), bifurcating (BF, 7), bifurcating-converging (BFC,
10) and trifurcating (TF, 8); HSC is Krumsiek et al. 2011's myeloid differentiation model (11
genes, 30 edges). Each is simulated in BoolODE's form (`BoolODE`) from BoolODE's start (the
genes in `initially_on` at mRNA 1, the others at 0.01) to `t_end`; `strengths` are the
interaction strengths BoolODE sets so that the trajectories take their shape (a threshold
$K/s$), written here as `(regulator, target, s)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from biogrn.grn._boolode import BooleanRules, BoolODE

__all__ = ["BEELINE_MODELS", "BeelineModel"]


@dataclass(frozen=True)
class BeelineModel:
    """One of BEELINE's networks: rules in `.bnet` form, the genes BoolODE starts on, the
    interaction strengths and the simulated time."""

    rules: str
    initially_on: tuple[str, ...]
    strengths: tuple[tuple[str, str, float], ...]
    t_end: float

    def boolean_rules(self) -> BooleanRules:
        return BooleanRules.from_bnet_text(self.rules, "BEELINE model")

    def form(self, members: int, dtype: torch.dtype = torch.float64, device=None) -> BoolODE:
        """`members` copies at BoolODE's default parameters (they differ only by their noise)."""
        strengths = {(regulator, target): s for regulator, target, s in self.strengths}
        return BoolODE.defaults(self.boolean_rules(), members, strengths, dtype=dtype, device=device)

    def initial_state(self, form: BoolODE) -> torch.Tensor:
        return form.initial_state({gene: 1.0 for gene in self.initially_on})


def _chain(first: int, last: int) -> str:
    return "".join(f"g{i}, g{i - 1}\n" for i in range(first + 1, last + 1))


BEELINE_MODELS = {
    "linear": BeelineModel(
        "g1, !g7\n" + _chain(1, 6) + "g7, g6 | g7\n",
        ("g1",),
        (("g7", "g7", 5.0), ("g7", "g1", 5.0)),
        5.0,
    ),
    "cycle": BeelineModel(
        "g1, !g5\ng2, !g1\ng3, !g2\ng4, g3\ng5, g4\ng6, g1\n",
        ("g1", "g2", "g3"),
        (("g1", "g2", 100.0), ("g2", "g3", 100.0), ("g5", "g1", 100.0)),
        8.0,
    ),
    "linear-long": BeelineModel(
        "g1, !g18\n" + _chain(1, 17) + "g18, g17 | g18\n",
        ("g1",),
        (("g18", "g18", 5.0), ("g18", "g1", 5.0)),
        15.0,
    ),
    "bifurcating": BeelineModel(
        "g1, !(g4 | g6)\ng2, g1\ng3, g2\ng4, (g3 | g4) & !g6\ng6, (g6 | g3) & !g4\ng7, g4\ng8, !g4\n",
        ("g1",),
        (
            ("g4", "g4", 10.0),
            ("g6", "g6", 10.0),
            ("g6", "g4", 10.0),
            ("g4", "g6", 10.0),
            ("g4", "g1", 10.0),
            ("g6", "g1", 10.0),
            ("g2", "g3", 0.2),
            ("g4", "g8", 10.0),
        ),
        8.0,
    ),
    "bifurcating-converging": BeelineModel(
        "g1, !g9\ng2, g1\ng3, g2\ng4, (g3 | g4) & !(g5 | g8)\ng5, (g3 | g5) & !(g4 | g8)\n"
        "g6, g4\ng7, g5\ng8, g7 | g6 | g8\ng9, g8\ng10, g9\n",
        ("g1",),
        (
            ("g4", "g4", 10.0),
            ("g5", "g5", 10.0),
            ("g5", "g4", 100.0),
            ("g4", "g5", 100.0),
            ("g4", "g6", 0.25),
            ("g5", "g7", 0.25),
            ("g8", "g8", 10.0),
            ("g8", "g4", 10.0),
            ("g8", "g5", 10.0),
            ("g9", "g1", 10.0),
        ),
        8.0,
    ),
    "trifurcating": BeelineModel(
        "g1, !(g4 | g5 | g6)\ng2, g1\ng3, g2\ng4, (g3 | g4) & !(g5 | g6)\ng5, (g5 | g3) & !(g4 | g6)\n"
        "g6, (g3 | g6 | g7) & !(g5 | g4)\ng7, g6\ng8, !g4\n",
        ("g1",),
        (
            ("g4", "g1", 10.0),
            ("g5", "g1", 10.0),
            ("g6", "g1", 10.0),
            ("g4", "g4", 10.0),
            ("g5", "g4", 10.0),
            ("g5", "g5", 10.0),
            ("g6", "g6", 10.0),
            ("g4", "g6", 10.0),
            ("g6", "g4", 10.0),
            ("g4", "g8", 10.0),
        ),
        8.0,
    ),
    "HSC": BeelineModel(
        "Gata2, Gata2 & !(Pu1 | (Gata1 & Fog1))\n"
        "Gata1, (Gata1 | Gata2 | Fli1) & !Pu1\n"
        "Fog1, Gata1\n"
        "Eklf, Gata1 & !Fli1\n"
        "Fli1, Gata1 & !Eklf\n"
        "Scl, Gata1 & !Pu1\n"
        "Cebpa, Cebpa & !(Scl | (Fog1 & Gata1))\n"
        "Pu1, (Cebpa | Pu1) & !(Gata1 | Gata2)\n"
        "cJun, Pu1 & !Gfi1\n"
        "EgrNab, Pu1 & cJun & !Gfi1\n"
        "Gfi1, Cebpa & !EgrNab\n",
        ("Cebpa", "Pu1", "Gata2"),
        (),
        8.0,
    ),
}
"""BEELINE's networks by name; HSC's rules are Krumsiek et al. 2011's (as in pyboolnet's `krumsiek_myeloid`)."""
