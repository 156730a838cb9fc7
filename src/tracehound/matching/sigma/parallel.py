"""The Sigma pass over many files on all cores: one task per file in fork-started worker processes
(they inherit the compiled rule set and its Hyperscan database), run alongside the indicator
hunt. Each task writes its findings to a temporary JSON Lines file (memory stays bounded however
many hits a noisy rule gives) and returns its counts and the hits its correlations need."""

from __future__ import annotations

import json
import multiprocessing
import os
import tempfile
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tracehound.matching.sigma.engine import SigmaStats, sigma_evtx, sigma_text
from tracehound.matching.sigma.ruleset import RuleSet

_STATE: dict[str, Any] = {}


@dataclass
class FileResult:
    path: str
    findings_file: str = ""
    findings: int = 0
    stats: SigmaStats = field(default_factory=SigmaStats)
    correlation_hits: list[list[Any]] = field(default_factory=list)
    error: str = ""


def sigma_file(path: str, options: Any, out_dir: str) -> FileResult:
    from tracehound.engines.local_hunt import _make_reader, _mtime, detect_format
    from tracehound.errors import InputError

    rules: RuleSet = _STATE["rules"]
    res = FileResult(path)
    corrs = rules.correlator.correlations if rules.correlator is not None else []
    before = [len(c.hits) for c in corrs]
    fd, res.findings_file = tempfile.mkstemp(prefix="sigma-", suffix=".jsonl", dir=out_dir)
    with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as out:
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
                out.write(json.dumps(d, ensure_ascii=False, separators=(",", ":"), default=str) + "\n")
                res.findings += 1
        except (InputError, OSError) as exc:
            res.error = str(getattr(exc, "message", exc))[:120]
    # Hand the correlations' new hits to the parent (and drop them here, also when run inline).
    for c, n in zip(corrs, before, strict=True):
        res.correlation_hits.append(c.hits[n:])
        del c.hits[n:]
    return res


class SigmaPool:
    """Submit every file at once; results are taken in the indicator hunt's file order."""

    def __init__(self, rules: RuleSet, files: list[str], options: Any) -> None:
        _STATE["rules"] = rules
        self.rules = rules
        self.tmpdir = tempfile.mkdtemp(prefix="tracehound-sigma-")
        jobs = min(options.jobs or os.cpu_count() or 1, max(len(files), 1))
        self.pool: ProcessPoolExecutor | None = None
        self.futures: dict[str, Future[FileResult]] = {}
        self.options = options
        if jobs > 1 and "fork" in multiprocessing.get_all_start_methods():
            self.pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"))
            for f in files:
                self.futures[f] = self.pool.submit(sigma_file, f, options, self.tmpdir)

    def result(self, path: str, stats: SigmaStats) -> FileResult:
        fut = self.futures.pop(path, None)
        res = fut.result() if fut is not None else sigma_file(path, self.options, self.tmpdir)
        _merge(stats, res.stats)
        if self.rules.correlator is not None:
            for c, hits in zip(self.rules.correlator.correlations, res.correlation_hits, strict=True):
                c.hits.extend(hits)
        return res

    def close(self) -> None:
        if self.pool is not None:
            for fut in self.futures.values():
                fut.cancel()
            self.pool.shutdown(wait=True)
        for name in os.listdir(self.tmpdir):
            os.unlink(os.path.join(self.tmpdir, name))
        os.rmdir(self.tmpdir)


def _merge(total: SigmaStats, part: SigmaStats) -> None:
    total.files += part.files
    total.records += part.records
    total.evaluations += part.evaluations
    total.hits += part.hits
    total.bytes += part.bytes
    total.seconds += part.seconds
    total.per_rule.update(part.per_rule)
    total.skipped.update(part.skipped)
