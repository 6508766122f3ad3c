"""The errors biogrn raises for bad input, and the one-line form of a pydantic validation error.

The first three are `ValueError`s, so code that catches `ValueError` keeps working; the CLI
catches all four and prints their message instead of a traceback.
"""

from __future__ import annotations

import reprlib

__all__ = ["CheckpointError", "ConfigError", "DataError", "DivergedError", "cause", "format_validation_error"]

_short = reprlib.Repr()  # a value is quoted, never expanded: a YAML alias bomb would print billions
_short.maxlevel, _short.maxlist, _short.maxdict, _short.maxstring, _short.maxother = 2, 4, 4, 60, 60


class ConfigError(ValueError):
    """A setting is unknown or invalid; the message names the field and the value."""


class DataError(ValueError):
    """A data file is missing or malformed; the message names the file and, where it can, the line."""


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, or from another version or run."""


class DivergedError(ArithmeticError):
    """A computation left the finite numbers: training's loss or weights (the message says which epoch
    and what is kept), or a simulated member's state (which member)."""


def format_validation_error(error) -> str:
    """Every problem of a pydantic `ValidationError`, `field: what is allowed (got value)`, joined
    with "; " into one line (a refusal is one line, however many fields are wrong).

    Checks of a whole section (model validators) are written as their message says, prefixed by
    the section's path.
    """
    lines = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "value_error" and isinstance(problem["input"], dict):
            # a check of the whole section: its message starts with the field it names
            lines.append(f"{field}.{message}" if field else message)
        elif field:
            lines.append(f"{field}: {message} (got {_short.repr(problem['input'])})")
        else:
            lines.append(message)
    return "; ".join(lines)


def cause(error: BaseException, most: int = 200) -> str:
    """`Type: the first line of its message`, cut to `most` characters: what a one-line refusal
    says of a library's exception (some span lines, or quote a whole file's text)."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    if len(first) > most:
        first = first[: most - 3] + "..."
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
