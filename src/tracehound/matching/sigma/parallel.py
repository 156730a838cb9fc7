"""The Sigma pass as a companion of the indicator hunt, run by the hunt's own fork-started workers
(they inherit the compiled rule set and its Hyperscan database; gc.freeze keeps those pages shared).

EVTX: the hunt's record loop hands each decoded event to an EvtxPass, so a record is decoded once
for the indicators and every rule. Other files: read whole by sigma_file, in the worker that
hunted the file (range 0 of a split one). Findings go to a temporary JSON Lines file (memory stays
bounded however many hits a noisy rule gives); the result carries the counts and the hits the
correlations need, which the parent merges in file order."""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import IO, Any

from tracehound.matching.sigma.engine import SigmaStats, _done, _size, sigma_evtx, sigma_text, windows_hits
from tracehound.matching.sigma.records import evtx_record
from tracehound.matching.sigma.ruleset import RuleSet
from tracehound.sources.logs.stream import ReadStats


@dataclass
class FileResult:
    path: str
    findings_file: str = ""  # "" when the file gave no finding
    findings: int = 0
    stats: SigmaStats = field(default_factory=SigmaStats)
    correlation_hits: list[list[Any]] = field(default_factory=list)
    error: str = ""


class _Out:
    """A file's findings, written to a temporary file opened at the first one."""

    def __init__(self, res: FileResult, out_dir: str) -> None:
        self.res, self.out_dir = res, out_dir
        self.fh: IO[str] | None = None

    def write(self, doc: dict[str, Any]) -> None:
        if self.fh is None:
            fd, self.res.findings_file = tempfile.mkstemp(prefix="sigma-", suffix=".jsonl", dir=self.out_dir)
            self.fh = os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace")
        self.fh.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str) + "\n")
        self.res.findings += 1

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


def _take_correlation_hits(rules: RuleSet, res: FileResult, before: list[int]) -> None:
    """Hand the correlations' new hits to the parent (and drop them here, also when run inline)."""
    corrs = rules.correlator.correlations if rules.correlator is not None else []
    for c, n in zip(corrs, before, strict=True):
        res.correlation_hits.append(c.hits[n:])
        del c.hits[n:]


def _hit_counts(rules: RuleSet) -> list[int]:
    return [len(c.hits) for c in rules.correlator.correlations] if rules.correlator is not None else []


class EvtxPass:
    """The rules over one EVTX file's records, as the indicator hunt decodes them."""

    def __init__(self, rules: RuleSet, path: str, options: Any, out_dir: str) -> None:
        self.rules, self.path, self.options = rules, path, options
        self.res = FileResult(path)
        self.out = _Out(self.res, out_dir)
        self.before = _hit_counts(rules)
        self.t0 = time.monotonic()

    def event(self, number: int, raw: str, event: dict[str, Any]) -> None:
        for doc in windows_hits(evtx_record(event), raw, self.path, number, "evtx", self.rules, self.res.stats,
                                self.options.since, self.options.until):
            self.out.write(doc)

    def finish(self, stats: ReadStats) -> FileResult:
        self.out.close()
        _done(self.res.stats, stats, self.t0, _size(self.path))
        _take_correlation_hits(self.rules, self.res, self.before)
        return self.res


@dataclass
class SigmaCompanion:
    """What the hunt engine's workers run beside the indicator hunt (engines.hunt_types.Companion)."""

    rules: RuleSet

    def evtx_pass(self, path: str, options: Any, out_dir: str) -> EvtxPass:
        return EvtxPass(self.rules, path, options, out_dir)

    def other_file(self, path: str, options: Any, out_dir: str) -> FileResult:
        return sigma_file(self.rules, path, options, out_dir)


def sigma_file(rules: RuleSet, path: str, options: Any, out_dir: str) -> FileResult:
    """The whole Sigma pass of one file, on its own read (text logs; an EVTX file only where the
    hunt's workers gave no result)."""
    from tracehound.engines.local_hunt import _make_reader, _mtime, detect_format
    from tracehound.errors import InputError

    res = FileResult(path)
    before = _hit_counts(rules)
    out = _Out(res, out_dir)
    try:
        fmt = detect_format(path, options.fmt)
        if fmt == "evtx":
            docs: Any = sigma_evtx(path, rules, res.stats, options.since, options.until)
        elif rules.text_rules or fmt == "jsonl":
            reader = _make_reader(fmt, options.mapping, _mtime(path))
            docs = sigma_text(path, fmt, reader, rules, res.stats, options.since, options.until,
                              options.max_line, options.max_ratio)
        else:
            docs = ()
        for d in docs:
            out.write(d)
    except (InputError, OSError) as exc:
        res.error = str(getattr(exc, "message", exc))[:120]
    finally:
        out.close()
    _take_correlation_hits(rules, res, before)
    return res


def merge_result(rules: RuleSet, total: SigmaStats, res: FileResult) -> None:
    """A file's result into the run's: counts, and its hits to the parent's correlations."""
    part = res.stats
    total.files += part.files
    total.records += part.records
    total.evaluations += part.evaluations
    total.hits += part.hits
    total.bytes += part.bytes
    total.seconds += part.seconds
    total.per_rule.update(part.per_rule)
    total.skipped.update(part.skipped)
    if rules.correlator is not None:
        for c, hits in zip(rules.correlator.correlations, res.correlation_hits, strict=True):
            c.hits.extend(hits)
