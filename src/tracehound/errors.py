"""Error types. Every error raised on bad input names the file and, when known, the line."""

from __future__ import annotations


class TracehoundError(Exception):
    """Base class: the CLI prints these as one line and exits non-zero, never a traceback."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        return f"{where}{self.message}"


class InputError(TracehoundError):
    """Unreadable, malformed or hostile input."""


class PackError(InputError):
    """An indicator pack that cannot be loaded."""


class UsageError(TracehoundError):
    """Bad options or arguments."""
