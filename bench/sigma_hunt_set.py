"""bench_sigma.py --evtx-set GB: a large EVTX set made of hard links to the real files (under /tmp,
removed afterwards), hunted with `tracehound hunt --sigma` (indicator pack and every rule in one
pass), the process tree's memory sampled by memsample.py. Prints time, records/s, MB/s and the peaks."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from memsample import MB, run


def allocated(path: str) -> int:
    return os.stat(path).st_blocks * 512


def build(files: list[str], gb: float, work: Path) -> tuple[Path, int, int, int]:
    """Hard links of `files` in work/set/cNNNN/, enough copies for `gb` GB allocated (1 GB = 1e9 bytes).
    Returns the folder, its file count, apparent and allocated bytes."""
    one_alloc = sum(allocated(f) for f in files)
    one_size = sum(os.path.getsize(f) for f in files)
    copies = max(1, math.ceil(gb * 1e9 / max(one_alloc, 1)))
    if shutil.disk_usage(work).free < 512 * MB:
        raise SystemExit(f"--evtx-set: less than 512 MB free under {work}")
    root = work / "set"
    for c in range(copies):
        d = root / f"c{c:04d}"
        d.mkdir(parents=True)
        for i, f in enumerate(files):
            os.link(f, d / f"{i:03d}-{Path(f).name}")
    return root, copies * len(files), copies * one_size, copies * one_alloc


def hunt(src: str, rules: list[str], root: Path, jobs: int, work: Path) -> tuple[Any, dict[str, Any]]:
    out, summ = work / f"out-j{jobs}.jsonl", work / f"summary-j{jobs}.json"
    cmd = [sys.executable, "-m", "tracehound", "hunt", "-q", "-i", "3cx", "-j", str(jobs), "-o", str(out),
           "--summary", str(summ), *[a for r in rules for a in ("--sigma", r)], str(root)]
    env = dict(os.environ, PYTHONPATH=src)
    log = work / f"stderr-j{jobs}.txt"
    with log.open("w") as err:
        peaks = run(cmd, progress=60, env=env, stdout=subprocess.DEVNULL, stderr=err)
    if peaks.returncode not in (0, 1):  # 1: findings
        print(log.read_text(errors="replace")[-2000:], file=sys.stderr)
    summary = json.loads(summ.read_text()) if summ.exists() else {}
    lines = sum(1 for _ in out.open(encoding="utf-8")) if out.exists() else 0
    summary["_lines"] = lines
    out.unlink(missing_ok=True)
    return peaks, summary


def big_set(args: Any, files: list[str], rules: list[str]) -> None:
    work = Path(tempfile.mkdtemp(prefix="tracehound-evtxset-", dir="/tmp"))
    try:
        root, n, size, alloc = build(files, args.evtx_set, work)
        print(f"EVTX set: {n:,} files (hard links), {size / 1e9:.2f} GB apparent, {alloc / 1e9:.2f} GB allocated")
        for jobs in [int(j) for j in str(args.jobs).split(",") if j.strip()]:
            peaks, summary = hunt(args.hunt_src, rules, root, jobs, work)
            sig = summary.get("sigma", {})
            records = sig.get("records", 0)
            s = max(peaks.seconds, 1e-9)
            print(f"tracehound hunt --sigma -i 3cx -j {jobs}: {peaks.seconds:.0f} s (exit {peaks.returncode}), "
                  f"{records / s:,.0f} records/s, {size / 1e6 / s:.1f} MB/s of EVTX, {records:,} records, "
                  f"{sig.get('hits', 0):,} rule hits, {summary['_lines']:,} finding lines")
            print(f"  {peaks.line()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
