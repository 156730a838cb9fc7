"""Resumable hunts. After each file's findings are written and flushed, the state file
(OUTPUT.state.json) records that file (path, size, mtime) and the output's size at that
point. `--resume` truncates the output back to the last recorded size — dropping findings of
a file that was interrupted — and skips the files already done: nothing lost, nothing twice.

The state is a journal (JSON Lines: a header, then one line per finished file, each fsynced), so
recording a file costs one short append whatever the number of files already done (rewriting the
whole state per file made a hunt of 10,000 files quadratic). A line torn by a crash is ignored on
resume, and the journal is rewritten whole once then."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tracehound.errors import UsageError
from tracehound.fsutil import is_special

STATE_VERSION = 2


def _identity(path: str) -> list[int]:
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns]


@dataclass
class HuntState:
    output: Path
    done: dict[str, dict[str, Any]] = field(default_factory=dict)  # path -> {"id": [size, mtime], "report": {...}}
    output_size: int = 0
    _fh: IO[str] | None = field(default=None, repr=False)

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
        state._load()
        out = Path(output)
        size = out.stat().st_size if out.exists() else 0
        if size < state.output_size:
            raise UsageError(f"--resume: {output} is shorter than recorded ({size} < {state.output_size} bytes)")
        with out.open("r+b") as fh:
            fh.truncate(state.output_size)  # findings of the interrupted file go; they are hunted again
        state._rewrite()  # compacted, without a torn last line, before appending again
        return state

    def _load(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
            header = json.loads(lines[0]) if lines else {}
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise UsageError(f"--resume: unreadable state file {self.path}: {exc}") from exc
        if not isinstance(header, dict) or header.get("version") != STATE_VERSION:
            raise UsageError(f"--resume: state file {self.path} is from another tracehound version")
        for n, line in enumerate(lines[1:], start=2):
            try:
                rec = json.loads(line)
                self.done[str(rec["path"])] = {"id": list(rec["id"]), "report": dict(rec["report"])}
                self.output_size = int(rec["output_size"])
            except (ValueError, KeyError, TypeError) as exc:
                if n == len(lines):
                    break  # the line being written when the hunt stopped: that file is hunted again
                raise UsageError(f"--resume: unreadable state file {self.path} line {n}: {exc}") from exc

    def _open(self, mode: str) -> None:
        self._fh = open(self.path, mode, encoding="utf-8")  # noqa: SIM115 - kept open for the whole hunt

    def _append(self, obj: dict[str, Any]) -> None:
        fh = self._fh
        assert fh is not None
        fh.write(json.dumps(obj) + "\n")
        fh.flush()
        os.fsync(fh.fileno())

    def _rewrite(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(json.dumps({"version": STATE_VERSION}) + "\n")
            for path, rec in self.done.items():
                fh.write(json.dumps({"path": path, **rec, "output_size": self.output_size}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        self._open("a")

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
        if self._fh is None:
            self._open("w")
            self._append({"version": STATE_VERSION})
        self._append({"path": path, "id": ident, "report": report, "output_size": output_size})

    def finish(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self.output != Path(os.devnull):
            self.path.unlink(missing_ok=True)
