"""What a loader does with a malformed row or an unreadable file: raise at once, or skip and count.

With `on_error="raise"` the first problem stops the load with a `DataError` that names the file
and line; with `"skip"` every problem is kept, the row or file is left out, and one warning at
the end says how many were skipped and shows the first.
"""

from __future__ import annotations

import warnings

from biogrn.core import DataError

__all__ = ["Problems"]


class Problems:
    """The problems met while loading `source`, under the `on_error` rule.

    Raises:
        ValueError: `on_error` is neither `raise` nor `skip`.
    """

    def __init__(self, on_error: str, source):
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error: {on_error!r} is unknown; choose 'raise' or 'skip'")
        self.on_error, self.source = on_error, source
        self.messages: list[str] = []

    @property
    def raising(self) -> bool:
        return self.on_error == "raise"

    def report(self, message: str) -> None:
        """Raise `DataError(message)`, or keep it and go on.

        Raises:
            DataError: under `on_error="raise"`.
        """
        if self.raising:
            raise DataError(message)
        self.messages.append(message)

    def __len__(self) -> int:
        return len(self.messages)

    def warn(self, what: str) -> None:
        """One warning for everything skipped (`what`: "malformed row(s)", "file(s)"...), if anything was."""
        if self.messages:
            warnings.warn(
                f"{self.source}: skipped {len(self.messages)} {what}; the first: {self.messages[0]}", stacklevel=3
            )
