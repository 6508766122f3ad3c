"""What every configuration model shares: strict fields, finite floats, seeds in range, and no
boolean where a number belongs (pydantic reads `epochs = true` as 1, YAML's `hidden: [yes]` as [1]).

pydantic accepts `inf` and `nan` for a `float` field unless told otherwise, and a bound such as
`gt=0` lets `inf` through; `allow_inf_nan=False` closes the class at once for every float field
of every section. A seed is a non-negative integer below 2**63: numpy's `SeedSequence` refuses a
negative one and torch's generators hold 64 bits.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["STRICT", "Section", "Seed"]

STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
"""Unknown keys refused, instances immutable, every float finite."""

Seed = Annotated[int, Field(ge=0, lt=2**63)]


def _admits_bool(annotation: Any) -> bool:
    """Whether a field's type takes `True` as itself (`bool`, `bool | None`, a Literal of booleans)."""
    if annotation is bool:
        return True
    if typing.get_origin(annotation) is typing.Literal:
        return any(isinstance(value, bool) for value in typing.get_args(annotation))
    return any(_admits_bool(argument) for argument in typing.get_args(annotation))


def _holds_bool(value: Any) -> bool:
    return isinstance(value, bool) or (isinstance(value, (list, tuple)) and any(isinstance(v, bool) for v in value))


class Section(BaseModel):
    """A configuration section: `STRICT`, and a boolean refused where the field takes numbers."""

    model_config = STRICT

    @model_validator(mode="before")
    @classmethod
    def _no_boolean_for_a_number(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, value in data.items():
                field = cls.model_fields.get(name)
                if field is not None and _holds_bool(value) and not _admits_bool(field.annotation):
                    raise ValueError(f"{name}: {value!r} holds a boolean; this setting takes numbers")
        return data
