"""What a hunt works on and reports: options, work units, per-file reports (and their merge)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Protocol

from tracehound.sources.logs.stream import DEFAULT_MAX_LINE, DEFAULT_MAX_RATIO

RAW_FORMAT = "raw"  # a text file of no known format, hunted on its raw text


@dataclass
class HuntOptions:
    since: datetime | None = None
    until: datetime | None = None
    fmt: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    include_weak: bool = False
    max_line: int = DEFAULT_MAX_LINE
    max_ratio: int = DEFAULT_MAX_RATIO
    jobs: int = 0
    prefilter_cache: str | None = None  # folder of compiled prefilter databases (None: the default; "": none)
    track_sightings: bool = True  # collect hit hosts' first sightings in the hunt's pass (sight_track.py)


@dataclass
class FileReport:
    path: str
    format: str = ""
    bytes: int = 0
    records: int = 0
    candidates: int = 0
    findings: int = 0
    raw_matches: int = 0  # findings made on the raw text (the reader gave no matching observation)
    parsed: int = 0  # records parsed (candidates and the coverage probes at each end)
    recognised: int = 0  # of those, records with a host/destination field the reader recognised
    skipped: dict[str, int] = field(default_factory=dict)
    truncated: str = ""
    error: str = ""
    first_ts: str | None = None  # earliest record time read
    last_ts: str | None = None  # latest record time read
    encoding: str = ""  # 'UTF-16LE' / 'UTF-16BE' when decoded from UTF-16 (UTF-8 otherwise)
    findings_file: str = ""
    companion: Any = None  # the companion pass's result for this file (the Sigma pass), not journaled
    sightings: list[Any] = field(default_factory=list)  # per range hunted: sight_track.Part; not journaled

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("findings_file", "companion", "sightings")}
        d["skipped"] = dict(self.skipped)
        return d

    def add_time(self, iso: str | None) -> None:
        if iso:
            self.first_ts = iso if self.first_ts is None or iso < self.first_ts else self.first_ts
            self.last_ts = iso if self.last_ts is None or iso > self.last_ts else self.last_ts

    def no_fields(self) -> bool:
        """Read, but no record had a host/destination field the reader knows."""
        return not self.error and self.format != "evtx" and self.records > 0 and self.recognised == 0

    def warnings(self) -> list[str]:
        out = []
        if self.format == RAW_FORMAT:
            out.append(f"{self.path}: unknown log format: {self.records} records, no host/destination field "
                       "recognised; hunted on the raw text (use --format/--map to read its fields)")
        elif self.no_fields():
            out.append(f"{self.path}: {self.records} records, no host/destination field recognised "
                       f"({self.format} reader); indicators matched on the raw text only (use --format/--map)")
        if self.raw_matches:
            out.append(f"{self.path}: {self.raw_matches} findings matched on the raw text only "
                       "(tracehound.match: raw; the reader did not give the field)")
        return out


def merge_reports(path: str, parts: Iterable[FileReport]) -> FileReport:
    """One report for a file hunted in several ranges (counts summed, times min/max)."""
    merged = FileReport(path=path)
    for r in parts:
        merged.format = merged.format or r.format
        merged.encoding = merged.encoding or r.encoding
        for name in ("bytes", "records", "candidates", "findings", "raw_matches", "parsed", "recognised"):
            setattr(merged, name, getattr(merged, name) + getattr(r, name))
        for k, v in r.skipped.items():
            merged.skipped[k] = merged.skipped.get(k, 0) + v
        merged.add_time(r.first_ts)
        merged.add_time(r.last_ts)
        merged.error = merged.error or r.error
        merged.truncated = merged.truncated or r.truncated
        merged.companion = merged.companion if merged.companion is not None else r.companion
        merged.sightings += r.sightings
    return merged


class EventPass(Protocol):
    """A companion's work on one EVTX file, fed each decoded record by the indicator hunt's loop."""

    def event(self, number: int, raw: str, event: dict[str, Any]) -> None: ...

    def finish(self, stats: Any) -> Any: ...  # stats: the file's ReadStats (records read, read skips)


class Companion(Protocol):
    """A second pass run by the hunt's workers on the files they hunt (the Sigma rules): EVTX
    records decoded once for both; other files handed over whole, once (range 0 of a split file)."""

    def evtx_pass(self, path: str, options: HuntOptions, out_dir: str) -> EventPass: ...

    def other_file(self, path: str, options: HuntOptions, out_dir: str) -> Any: ...


def report_from_dict(d: dict[str, Any]) -> FileReport:
    return FileReport(**{k: v for k, v in d.items() if k in FileReport.__dataclass_fields__})


@dataclass(frozen=True)
class WorkUnit:
    """A file, or a newline-aligned byte range of a large uncompressed file (range index of count)."""

    path: str
    start: int = 0
    end: int | None = None
    index: int = 0
    count: int = 1
