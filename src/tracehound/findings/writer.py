"""JSON Lines output: each finding written as one complete line and flushed, so an
interrupted run leaves a valid, truncated-at-a-record file.

Targets: a regular file (created with its folder), '-' or None for stdout, or an existing
device or FIFO (`-o /dev/null`, a named pipe), written in place: no fsync, no temporary file.
With `atomic=True` a regular file is written as FILE.tmp and renamed on success only, so a run
that fails half-way never leaves a file that looks complete (the temporary file is removed)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import IO, Any

from tracehound.errors import UsageError
from tracehound.fsutil import is_special


class FindingWriter:
    def __init__(self, target: str | None, append: bool = False, atomic: bool = False) -> None:
        self.count = 0
        self.path = target if target and target != "-" else None
        self.special = bool(self.path) and is_special(self.path or "")
        self._tmp: str | None = None
        if self.path:
            if os.path.isdir(self.path):
                raise UsageError("is a folder: give a file name for the findings", path=self.path)
            try:
                if not self.special:
                    Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                name = self.path
                if atomic and not self.special and not append:
                    p = Path(self.path)
                    self._tmp = name = str(p.with_name(f".{p.name}.{os.getpid()}.tmp"))
                self._fh: IO[str] = open(name, "a" if append else "w", encoding="utf-8",  # noqa: SIM115
                                         errors="backslashreplace")
            except OSError as exc:
                raise UsageError(f"cannot write findings: {exc.strerror}", path=self.path) from exc
        else:
            self._fh = sys.stdout

    @property
    def resumable(self) -> bool:
        """Only a regular file can be truncated back and appended to by --resume."""
        return bool(self.path) and not self.special

    def write(self, doc: dict[str, Any]) -> None:
        self._fh.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str) + "\n")
        self._fh.flush()
        self.count += 1

    def write_line(self, line: str) -> None:
        self._fh.write(line if line.endswith("\n") else line + "\n")
        self.count += 1

    def tell(self) -> int:
        """Bytes written so far (after a flush): where a resumed run restarts (0 for stdout, devices, pipes)."""
        self._fh.flush()
        return self._fh.tell() if self.resumable else 0

    def close(self, ok: bool = True) -> None:
        try:
            self._fh.flush()
            if self.path:
                if not self.special:
                    os.fsync(self._fh.fileno())
                self._fh.close()
        except BrokenPipeError:
            if self.path is None:
                raise
            ok = False  # the reader of a FIFO went away
        finally:
            if self._tmp:
                if ok:
                    os.replace(self._tmp, self.path or "")
                else:
                    Path(self._tmp).unlink(missing_ok=True)
                self._tmp = None

    def __enter__(self) -> FindingWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(ok=exc_type is None)
