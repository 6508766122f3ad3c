"""What every configuration model shares: strict fields, finite floats, seeds in range.

pydantic accepts `inf` and `nan` for a `float` field unless told otherwise, and a bound such as
`gt=0` lets `inf` through; `allow_inf_nan=False` closes the class at once for every float field
of every section. A seed is a non-negative integer below 2**63: numpy's `SeedSequence` refuses a
negative one and torch's generators hold 64 bits.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

__all__ = ["STRICT", "Seed"]

STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
"""Unknown keys refused, instances immutable, every float finite."""

Seed = Annotated[int, Field(ge=0, lt=2**63)]
