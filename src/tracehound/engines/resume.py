"""Resumable hunts. After each file's findings are written and flushed, the state file
(OUTPUT.state.json) records that file (path, size, mtime) and the output's size at that
point. `--resume` truncates the output back to the last recorded size — dropping findings of
a file that was interrupted — and skips the files already done: nothing lost, nothing twice."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracehound.errors import UsageError
from tracehound.fsutil import atomic_write_text, is_special

STATE_VERSION = 1


def _identity(path: str) -> list[int]:
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns]


@dataclass
class HuntState:
    output: Path
    done: dict[str, dict[str, Any]] = field(default_factory=dict)  # path -> {"id": [size, mtime], "report": {...}}
    output_size: int = 0

    @property
    def path(self) -> Path:
        return self.output.with_name(self.output.name + ".state.json")

    @classmethod
    def start(cls, output: str, resume: bool) -> HuntState:
        if output in ("", "-") or is_special(output):  # stdout, /dev/null, a FIFO: no state file beside it
            if resume:
                raise UsageError("--resume needs -o FILE, a regular file (stdout, devices and pipes cannot be resumed)")
            return cls(Path(os.devnull))
        state = cls(Path(output))
        if not resume:
            state.path.unlink(missing_ok=True)
            return state
        if not state.path.exists():
            raise UsageError(f"--resume: no state file {state.path} (the hunt finished, or never started with -o {output})")
        try:
            data = json.loads(state.path.read_text(encoding="utf-8"))
            state.done = dict(data["done"])
            state.output_size = int(data["output_size"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"--resume: unreadable state file {state.path}: {exc}") from exc
        if data.get("version") != STATE_VERSION:
            raise UsageError(f"--resume: state file {state.path} is from another tracehound version")
        out = Path(output)
        size = out.stat().st_size if out.exists() else 0
        if size < state.output_size:
            raise UsageError(f"--resume: {output} is shorter than recorded ({size} < {state.output_size} bytes)")
        with out.open("r+b") as fh:
            fh.truncate(state.output_size)  # findings of the interrupted file go; they are hunted again
        return state

    def pending(self, files: list[str]) -> list[str]:
        out = []
        for f in files:
            rec = self.done.get(f)
            try:
                if rec is not None and rec["id"] == _identity(f):
                    continue
            except OSError:
                pass
            out.append(f)
        return out

    def previous_findings(self) -> list[str]:
        if not self.output_size:
            return []
        with self.output.open(encoding="utf-8") as fh:
            return fh.readlines()

    def record(self, path: str, report: dict[str, Any], output_size: int) -> None:
        if self.output == Path(os.devnull):
            return
        try:
            ident = _identity(path)
        except OSError:
            ident = [-1, -1]
        self.done[path] = {"id": ident, "report": report}
        self.output_size = output_size
        atomic_write_text(self.path, json.dumps({"version": STATE_VERSION, "output_size": output_size,
                                                 "done": self.done}))

    def finish(self) -> None:
        if self.output != Path(os.devnull):
            self.path.unlink(missing_ok=True)
