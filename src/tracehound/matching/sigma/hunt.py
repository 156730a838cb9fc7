"""`hunt --sigma`: the rule set loaded once, and a hunt engine wrapper that has the hunt's workers
run the Sigma pass over each file they read, adding its findings to the same output and summary."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any

from tracehound.matching.sigma.engine import SigmaStats
from tracehound.matching.sigma.loader import load_rules
from tracehound.matching.sigma.ruleset import RuleSet

Engine = Callable[..., Iterator[tuple[Any, Iterator[str]]]]
SHOW_FAILURES = 50


def load_ruleset(specs: list[str], texts: list[tuple[str, str]] | None = None) -> RuleSet:
    """Rule files, and rules in memory as (origin, text): a pack's Sigma rules (intel/rule_check.py)."""
    return RuleSet.build(load_rules(specs, texts))


def with_sigma(inner: Engine, rules: RuleSet, stats: SigmaStats) -> Engine:
    """Wrap the local hunt engine: its workers run the rules beside the indicator hunt (one decode
    of each EVTX record for both, parallel.py); after each file's indicator findings, that file's
    rule hits; the correlations' findings after the last file's."""
    import json

    from tracehound.matching.sigma.parallel import SigmaCompanion, merge_result, sigma_file

    def run(pack: Any, files: list[str], options: Any) -> Iterator[tuple[Any, Iterator[str]]]:
        tmpdir = tempfile.mkdtemp(prefix="tracehound-sigma-")
        try:
            seen = 0
            for report, lines in inner(pack, files, options, companion=SigmaCompanion(rules)):
                seen += 1
                extra: Iterator[str] = iter(())
                if not report.error:
                    # The workers' result; a file they gave none for (no fork here) gets its own pass.
                    res = report.companion or sigma_file(rules, report.path, options, tmpdir)
                    report.companion = None
                    merge_result(rules, stats, res)
                    if res.error:
                        report.skipped["Sigma pass stopped: " + res.error] = 1
                    report.findings += res.findings
                    extra = _lines(res.findings_file)
                if seen == len(files):
                    # The last file (run_hunt yields one report per input file, in order) carries the
                    # correlations' findings, before the engine removes its temporary files.
                    docs = rules.correlator.finish() if rules.correlator is not None else []
                    stats.hits += len(docs)
                    for d in docs:
                        stats.per_rule[d["rule"]["id"] or d["rule"]["name"]] += 1
                    report.findings += len(docs)
                    extra = chain(extra, (json.dumps(d, ensure_ascii=False, separators=(",", ":"), default=str)
                                          + "\n" for d in docs))
                yield report, chain(lines, extra)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
    return run


def _lines(path: str) -> Iterator[str]:
    if not path:
        return
    try:
        with open(path, encoding="utf-8") as fh:
            yield from fh
    finally:
        if os.path.exists(path):
            os.unlink(path)


def load_report(rules: RuleSet) -> list[str]:
    """Lines for people: how many rules loaded, and each one that did not, once, with its reason."""
    loaded = len(rules.rules) + len(rules.not_run)
    total = loaded + len(rules.failures)
    source = f"{rules.files} files" + (f" and {rules.texts} from the pack" if rules.texts else "")
    out = [f"sigma: {loaded}/{total} rules loaded from {source}, {len(rules.rules)} run on the records "
           f"tracehound reads, {len(rules.failures)} not loaded, {len(rules.not_run)} loaded but with a logsource "
           f"no reader produces"]
    if rules.correlator is not None:
        out.append(f"  {len(rules.correlator.correlations)} correlation rules run over the hits of the rules they name")
    for reason, n in rules.failure_reasons().most_common():
        out.append(f"  not loaded {n}: {reason}")
    for f in rules.failures[:SHOW_FAILURES]:
        out.append(f"    {f.path}: {f.title + ': ' if f.title else ''}{f.reason}")
    if len(rules.failures) > SHOW_FAILURES:
        out.append(f"    ... {len(rules.failures) - SHOW_FAILURES} more (all in --summary under sigma.failures)")
    for reason, n in rules.not_run_reasons().most_common():
        out.append(f"  not run {n}: {reason}")
    return out


def run_report(rules: RuleSet, stats: SigmaStats) -> list[str]:
    mb = stats.bytes / 1e6
    rate = mb / stats.seconds if stats.seconds else 0.0
    out = [f"sigma: {stats.hits} rule hits, {len(stats.per_rule)} rules fired, {stats.records} records read "
           f"({mb:.1f} MB, {rate:.1f} MB/s per worker), {stats.evaluations} rule evaluations"]
    for reason, n in stats.skipped.most_common():
        out.append(f"  sigma pass skipped {n}: {reason}")
    if rules.correlator is not None:
        for title, n in rules.correlator.untimed.most_common():
            out.append(f"  correlation {title!r}: {n} hits without a time, not placed in a window")
    return out


def summary_part(rules: RuleSet, stats: SigmaStats) -> dict[str, Any]:
    return {
        "files": rules.files, "run": len(rules.rules), "not_run": len(rules.not_run),
        "not_loaded": len(rules.failures),
        "not_loaded_reasons": dict(rules.failure_reasons().most_common()),
        "not_run_reasons": dict(rules.not_run_reasons().most_common()),
        "failures": [{"path": f.path, "title": f.title, "reason": f.reason} for f in rules.failures],
        "hits": stats.hits, "hits_per_rule": dict(stats.per_rule.most_common()),
        "records": stats.records, "bytes": stats.bytes, "seconds": round(stats.seconds, 3),
        "skipped": dict(stats.skipped),
    }
