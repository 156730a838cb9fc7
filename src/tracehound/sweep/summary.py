"""The per-host sweep result and its summary record (the last line of a sweep's output).

A sweep is complete only when it was not interrupted and every check that was asked for ran:
a YARA rule file that did not load is a check not done, listed in `not_checked` with its file,
line and reason, and said in the verdict text, so an unloaded rule set never reads as clean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracehound.sweep.docs import now_iso

if TYPE_CHECKING:
    from tracehound.intel.model import Pack

# Checks that were not done as a whole (said by their reason, not as inputs that did not load).
WHOLE = ("target", "intel")


@dataclass
class SweepResult:
    host: str
    os_type: str
    verdict: str = "clean"
    findings: int = 0
    files_seen: int = 0
    files_read: int = 0
    bytes_read: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    yara_rules: int = 0
    yara_errors: list[str] = field(default_factory=list)
    interrupted: bool = False
    not_checked: list[dict[str, Any]] = field(default_factory=list)  # {check, file, line, reason}
    installed: list[dict[str, str]] = field(default_factory=list)
    opened_without_noatime: int = 0  # folders and files whose access time the sweep may have changed

    @property
    def complete(self) -> bool:
        return not self.interrupted and not self.not_checked

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    def verdict_text(self) -> str:
        """The verdict as said to people: 'clean' is qualified when a requested check did not run."""
        text = self.verdict
        if self.interrupted:
            text += " (interrupted: not every file was checked)"
        if self.not_checked:
            text += f" (incomplete: {not_checked_text(self.not_checked)})"
        return text


def nothing_checked(result: SweepResult, pack: Pack, extra_yara: bool, root: str, live: bool) -> None:
    """An empty root of an offline sweep (a wrong mount point, an empty folder) or a pack with nothing to look
    for: the sweep checked nothing, which must not read as clean (a live sweep still checks processes)."""
    if not result.files_seen and not result.interrupted and not live:
        result.not_checked.append({"check": "target", "file": root,
                                   "reason": f"no file under {root} (wrong folder or mount point?)"})
    if not pack.indicators and not any(r.kind == "yara" and not r.error for r in pack.rules) and not extra_yara:
        name = pack.title or pack.name
        result.not_checked.append({"check": "intel", "file": name,
                                   "reason": f"the pack '{name}' holds no indicator and no YARA rule to look for"})


def not_checked_text(items: list[dict[str, Any]]) -> str:
    whole = [str(it.get("reason")) for it in items if it.get("check") in WHOLE]
    items = [it for it in items if it.get("check") not in WHOLE]
    by_check: dict[str, list[str]] = {}
    for it in items:
        where = f"{it.get('file')}:{it['line']}" if it.get("line") else str(it.get("file") or "")
        by_check.setdefault(str(it.get("check")), []).append(where)
    parts = []
    for check, wheres in by_check.items():
        noun = "rule file" if check == "yara" else "input"
        parts.append(f"{len(wheres)} {check.upper() if check == 'yara' else check} {noun}"
                     f"{'s' if len(wheres) > 1 else ''} not loaded ({', '.join(wheres[:5])}"
                     f"{', …' if len(wheres) > 5 else ''})")
    return "; ".join(whole + parts)


def summary_doc(result: SweepResult, pack_name: str, root: str, live: bool) -> dict[str, Any]:
    return {
        "@timestamp": now_iso(),
        "event": {"kind": "state", "category": ["host"], "type": ["info"], "module": "tracehound",
                  "dataset": "tracehound.sweep"},
        "host": {"name": result.host, "os": {"type": result.os_type}},
        "message": f"sweep of {result.host}: {result.verdict_text()}",
        "tracehound": {
            "source": "sweep", "record": "host-summary", "verdict": result.verdict, "host": result.host,
            "root": root, "mode": "live" if live else "offline", "complete": result.complete,
            "interrupted": result.interrupted, "not_checked": result.not_checked, "pack": pack_name,
            "counts": {"files_seen": result.files_seen, "files_read": result.files_read,
                       "bytes_read": result.bytes_read, "findings": result.findings,
                       "opened_without_noatime": result.opened_without_noatime},
            "skipped": result.skipped, "yara": {"rules": result.yara_rules, "errors": result.yara_errors},
        },
    }
