"""Sigma throughput on EVTX: tracehound's evaluator against pySigma's SQLite backend, same rules and
same events, in the same run.

  python bench/bench_sigma.py                       # all SigmaHQ Windows rules, regression + sample EVTX
  python bench/bench_sigma.py --rules DIR --evtx DIR [--no-sqlite] [--copies N]
  python bench/bench_sigma.py --evtx-set 4 --jobs 1,2   # and `tracehound hunt --sigma` on a 4 GB set

tracehound: EVTX decoded once, each record given to the rules its logsource selects.
SQLite: the same decoded records loaded into one table, each rule converted by pysigma-backend-sqlite
and run as a query (the Zircolite approach); its time includes the load and the conversion.
--evtx-set GB: the EVTX files hard-linked into a temporary folder under /tmp as many times as it takes
to reach GB gigabytes (allocated), hunted by `tracehound hunt --sigma RULES -i 3cx -j N` (the IOC hunt
and every rule, one decode per record), its process tree's memory sampled (memsample.py: PSS summed).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
SAMPLES = ROOT.parent / "shared" / "samples"

from memsample import MB, rollup  # noqa: E402
from sigma_hunt_set import big_set  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rules", action="append", help="rule folders (default: every SigmaHQ rule, Windows ones run)")
    ap.add_argument("--evtx", action="append", help="EVTX folders (default: sigma-regression and evtx samples)")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--copies", type=int, default=1, help="read the EVTX set this many times (memory stays flat)")
    ap.add_argument("--evtx-set", type=float, default=0.0, metavar="GB",
                    help="also hunt a set of this many GB (hard links under /tmp) with `tracehound hunt --sigma`")
    ap.add_argument("--jobs", default="2", help="with --evtx-set: -j values to run, comma-separated (e.g. 1,2)")
    ap.add_argument("--hunt-src", default=str(ROOT / "src"), help="with --evtx-set: the tracehound sources to run")
    args = ap.parse_args(argv)
    import json

    import evtx

    from tracehound.matching.sigma.engine import SigmaStats, sigma_evtx
    from tracehound.matching.sigma.hunt import load_ruleset
    from tracehound.matching.sigma.records import evtx_record

    t0 = time.monotonic()
    rules = load_ruleset(args.rules or [str(SAMPLES / "sigma-rules")])
    windows = [r for r in rules.rules if r.windows]
    load_s = time.monotonic() - t0
    files = sorted(str(p) for d in (args.evtx or [str(SAMPLES / "sigma-regression"), str(SAMPLES / "evtx")])
                   for p in Path(d).rglob("*.evtx"))
    files = files * max(args.copies, 1)
    size = sum(Path(f).stat().st_size for f in files)
    stats = SigmaStats()
    t1 = time.monotonic()
    hits = sum(1 for f in files for _ in sigma_evtx(f, rules, stats))
    ours = time.monotonic() - t1
    print(f"rules: {len(rules.rules)} run ({len(windows)} Windows), {len(rules.failures)} not loaded, "
          f"load+compile {load_s:.1f} s")
    print(f"EVTX: {len(files)} files, {size / 1e6:.1f} MB, {stats.records} records")
    print(f"tracehound: {ours:.2f} s, {stats.records / ours:,.0f} records/s, {size / 1e6 / ours:.1f} MB/s of EVTX, "
          f"{hits} hits, {stats.evaluations} rule evaluations")
    if not args.no_sqlite:
        from sigma_sqlite import SqliteEvents

        t2 = time.monotonic()
        records = [evtx_record(json.loads(r["data"])) for f in files for r in evtx.PyEvtxParser(f).records_json()]
        db = SqliteEvents(records)
        sql_hits = refused = 0
        for r in windows:
            got = db.matches(r.rule)
            if isinstance(got, str):
                refused += 1
                continue
            selected = {i + 1 for i in got if r in rules.for_event(str(records[i - 1].get("Channel") or ""),
                                                                    records[i - 1].get("EventID"))}
            sql_hits += len(selected)
        theirs = time.monotonic() - t2
        print(f"pySigma SQLite backend: {theirs:.2f} s, {len(records) / theirs:,.0f} records/s, "
              f"{size / 1e6 / theirs:.1f} MB/s, {sql_hits} hits (after the same logsource selection), "
              f"{refused} rules refused by the backend")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    now = rollup(os.getpid()) or (0, 0)
    print(f"peak RSS {peak:.0f} MB (one process; at the end PSS {now[0] / MB:.0f} MB, USS {now[1] / MB:.0f} MB)")
    if args.evtx_set:
        big_set(args, sorted(set(files)), args.rules or [str(SAMPLES / "sigma-rules")])


if __name__ == "__main__":
    main()
