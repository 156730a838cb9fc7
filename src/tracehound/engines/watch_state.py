"""The state of `tracehound watch`: one JSON file, replaced atomically after each poll.

    {"version": 1, "store": "/abs/store", "polls": 3, "store_generation": "...",
     "sources": {LABEL: {"token": {...}, "indicators": {KEY: indicator}, "failures": 0,
                         "retry_at": ISO|"", "last_ok": ISO, "last_error": ""}},
     "findings": {FINDING_KEY: {"host", "kind", "value", "indicators": [KEY...], "first", "last",
                                "count", "poll", "withdrawn": ISO|""}}}

A finding's key is its (host, observed kind, value, aux, indicators): the same contact found again
at a later poll is the same finding (never appended twice); a withdrawn indicator marks its findings
with the time, it does not delete them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tracehound import safejson
from tracehound.errors import InputError
from tracehound.fsutil import atomic_write_text

VERSION = 1
BACKOFF_MAX = 3600.0


def now_iso(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime | None:
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def finding_key(host: str, kind: str, value: str, aux: str, indicators: list[str]) -> str:
    text = "\x1f".join([host, kind, value, aux, *sorted(indicators)])
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()[:32]


def backoff_seconds(interval: float, failures: int) -> float:
    """interval x 2^(failures-1), at least 30 s, at most an hour."""
    return min(max(interval, 30.0) * (2 ** max(failures - 1, 0)), BACKOFF_MAX)


@dataclass
class WatchState:
    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, store: str) -> WatchState:
        if not path.exists():
            return cls(path, {"version": VERSION, "store": store, "polls": 0, "store_generation": "",
                              "sources": {}, "findings": {}})
        try:
            data = safejson.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"watch state unreadable ({exc}); move it away to start afresh", path=str(path)) from exc
        if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("sources"), dict) \
                or not isinstance(data.get("findings"), dict):
            raise InputError("not a tracehound watch state (or of another version); move it away to start afresh",
                             path=str(path))
        if data.get("store") and data["store"] != store:
            raise InputError(f"watch state of another store ({data['store']}); give --state FILE for this one",
                             path=str(path))
        data["store"] = store
        return cls(path, data)

    def save(self) -> None:
        # compact: the C encoder (an indent makes json use its pure-Python one, 10x slower on 10k indicators)
        atomic_write_text(self.path, json.dumps(self.data, ensure_ascii=False, separators=(",", ":")) + "\n")

    @property
    def findings(self) -> dict[str, dict[str, Any]]:
        return self.data["findings"]

    def source(self, label: str) -> dict[str, Any]:
        return self.data["sources"].setdefault(label, {"token": {}, "indicators": {}, "failures": 0, "retry_at": "",
                                                       "last_ok": "", "last_error": ""})

    def waiting(self, label: str, now: datetime) -> datetime | None:
        """The time a failing source may be polled again, when that is still to come."""
        at = parse_iso(self.source(label).get("retry_at", ""))
        return at if at and at > now else None

    def failed(self, label: str, error: str, interval: float, now: datetime) -> float:
        s = self.source(label)
        s["failures"] = int(s.get("failures", 0)) + 1
        delay = backoff_seconds(interval, s["failures"])
        s["retry_at"] = now_iso(now + timedelta(seconds=delay))
        s["last_error"] = error
        return delay

    def succeeded(self, label: str, token: dict[str, Any], indicators: dict[str, Any], now: datetime) -> None:
        s = self.source(label)
        s.update(token=token, indicators=indicators, failures=0, retry_at="", last_ok=now_iso(now), last_error="")

    def forget_others(self, labels: list[str]) -> list[tuple[str, int]]:
        """Drop the sources of earlier runs not given now: (label, indicators it had), to report."""
        gone = [(label, len(s.get("indicators") or {})) for label, s in self.data["sources"].items()
                if label not in labels]
        for label, _n in gone:
            del self.data["sources"][label]
        return gone

    def indicators(self) -> dict[str, dict[str, Any]]:
        """The union of every source's current indicators (a failing source keeps its last good set)."""
        out: dict[str, dict[str, Any]] = {}
        for s in self.data["sources"].values():
            for k, d in (s.get("indicators") or {}).items():
                out.setdefault(k, d)
        return out

    def host_first(self) -> dict[str, datetime]:
        """Each host's earliest first contact over the findings not withdrawn."""
        out: dict[str, datetime] = {}
        for f in self.findings.values():
            first = parse_iso(f.get("first") or "")
            if f.get("withdrawn") or first is None:
                continue
            if f["host"] not in out or first < out[f["host"]]:
                out[f["host"]] = first
        return out

    def live_hosts(self) -> set[str]:
        return {f["host"] for f in self.findings.values() if not f.get("withdrawn")}
