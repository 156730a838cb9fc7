"""Run a command several times: median wall time and peak memory of its whole process tree,
sampled every 20 ms with psutil. The tree's memory is the sum of proportional set sizes (PSS):
fork-started workers share the parent's pages, and summing RSS would count them once per worker."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass
class Timing:
    name: str
    median_s: float
    runs: list[float]
    peak_rss_mb: float  # proportional set size of the tree, file-backed mapped pages included
    output: str
    peak_anon_mb: float = 0.0  # anonymous memory only (what the run allocates; no page cache)


def _anon(pid: int) -> int:
    """Pss_Anon + Pss_Shmem of one process (Linux smaps_rollup), bytes."""
    total = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(("Pss_Anon:", "Pss_Shmem:")):
                    total += int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0
    return total


def tree_anon(proc: psutil.Process) -> int:
    try:
        procs = [proc] + proc.children(recursive=True)
    except psutil.Error:
        return 0
    return sum(_anon(p.pid) for p in procs)


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        procs = [proc] + proc.children(recursive=True)
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_full_info().pss
        except psutil.Error:
            continue
    return total


def run(name: str, cmd: list[str] | str, repeat: int = 3, shell: bool = False) -> Timing:
    runs: list[float] = []
    peak = 0
    peak_anon = 0
    out = ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, shell=shell, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ps = psutil.Process(p.pid)
        while p.poll() is None:
            peak = max(peak, tree_rss(ps))
            peak_anon = max(peak_anon, tree_anon(ps))
            time.sleep(0.02)
        out = p.stdout.read() if p.stdout else ""
        runs.append(time.perf_counter() - t0)
    return Timing(name, statistics.median(runs), runs, peak / 1048576, out.strip(), peak_anon / 1048576)


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    sep = "-+-".join("-" * w for w in widths)
    body = "\n".join(" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)
    return f"{line}\n{sep}\n{body}"


@contextmanager
def workdir(path: str | None, prefix: str) -> Iterator[Path]:
    """The given folder (kept, corpora reused) or a temporary one (removed afterwards)."""
    work = Path(path or tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    try:
        yield work
    finally:
        if not path:
            shutil.rmtree(work, ignore_errors=True)
