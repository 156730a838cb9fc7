"""JSON Lines output: each finding written as one complete line and flushed, so an
interrupted run leaves a valid, truncated-at-a-record file."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import IO, Any

from tracehound.errors import UsageError


class FindingWriter:
    def __init__(self, target: str | None, append: bool = False) -> None:
        self.count = 0
        self.path = target if target and target != "-" else None
        if self.path:
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                self._fh: IO[str] = open(self.path, "a" if append else "w", encoding="utf-8",
                                            errors="backslashreplace")  # noqa: SIM115
            except OSError as exc:
                raise UsageError(f"cannot write findings: {exc.strerror}", path=self.path) from exc
        else:
            self._fh = sys.stdout

    def write(self, doc: dict[str, Any]) -> None:
        self._fh.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str) + "\n")
        self._fh.flush()
        self.count += 1

    def write_line(self, line: str) -> None:
        self._fh.write(line if line.endswith("\n") else line + "\n")
        self.count += 1

    def tell(self) -> int:
        """Bytes written so far (after a flush): where a resumed run restarts."""
        self._fh.flush()
        return self._fh.tell() if self.path else 0

    def close(self) -> None:
        if self.path:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
        else:
            self._fh.flush()

    def __enter__(self) -> FindingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
