"""Run a command several times: median wall time and peak memory of its whole process tree,
sampled every 20 ms with psutil. The tree's memory is the sum of proportional set sizes (PSS):
fork-started workers share the parent's pages, and summing RSS would count them once per worker."""

from __future__ import annotations

import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
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
    cpu_s: float = 0.0  # median user + system CPU seconds of the tree (waited-for children): load-independent


def _rollup(pid: int) -> tuple[int, int]:
    """(Pss, Pss_Anon + Pss_Shmem) of one process in bytes, from one read of /proc/PID/smaps_rollup (Linux).
    Reading it walks the process's page tables: a run being sampled is slowed (0.1-0.3 s on a 1 s hunt with
    20 ms samples), so timed runs are not sampled (run())."""
    pss = anon = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
                elif line.startswith(("Pss_Anon:", "Pss_Shmem:")):
                    anon += int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0, 0
    return pss, anon


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc] + proc.children(recursive=True)
    except psutil.Error:
        return []


def _anon(pid: int) -> int:
    return _rollup(pid)[1]


def tree_anon(proc: psutil.Process) -> int:
    return sum(_rollup(p.pid)[1] for p in _tree(proc))


def tree_rss(proc: psutil.Process) -> int:
    """PSS of the process tree (file-backed mapped pages included)."""
    return sum(_rollup(p.pid)[0] for p in _tree(proc))


def run(name: str, cmd: list[str] | str, repeat: int = 3, shell: bool = False, sample: bool = True) -> Timing:
    """`repeat` timed runs; with `sample`, the first one is also sampled for peak memory (every 50 ms), and its
    time counts only when it is the only run (sampling slows the process it reads)."""
    runs: list[float] = []
    cpus: list[float] = []
    peak = 0
    peak_anon = 0
    out = ""
    for i in range(repeat):
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, shell=shell, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if sample and i == 0:
            ps = psutil.Process(p.pid)
            while p.poll() is None:
                for q in _tree(ps):
                    pss, anon = _rollup(q.pid)
                    peak, peak_anon = max(peak, pss), max(peak_anon, anon)
                time.sleep(0.05)
        out = p.communicate()[0] or ""
        if sample and i == 0 and repeat > 1:
            continue
        runs.append(time.perf_counter() - t0)
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime)
    return Timing(name, statistics.median(runs), runs, peak / 1048576, out.strip(), peak_anon / 1048576,
                  statistics.median(cpus))


def interleaved(cmds: list[tuple[str, list[str] | str]], repeat: int = 3, shell: bool = False,
                before: dict[str, Callable[[], None]] | None = None) -> dict[str, Timing]:
    """Each command once per round, in turn, `repeat` rounds: on a shared machine the load hits all
    of them alike. Timing.median_s is the BEST run here (the least disturbed) of the rounds after the first,
    whose runs are sampled for peak memory (all of one round if repeat is 1). `before[name]` runs before each run of that command (e.g. clearing a cache)."""
    got: dict[str, list[Timing]] = {name: [] for name, _ in cmds}
    for r in range(repeat):
        for name, cmd in cmds:
            if before and name in before:
                before[name]()
            # memory sampled in the first round only (peaks do not vary); with one round its run is sampled
            got[name].append(run(name, cmd, 1, shell, sample=r == 0))
    out = {}
    for name, ts in got.items():
        runs = [t.runs[0] for t in (ts[1:] if len(ts) > 1 else ts)]  # the sampled first round's time left out
        out[name] = Timing(name, min(runs), runs, max(t.peak_rss_mb for t in ts), ts[-1].output,
                           max(t.peak_anon_mb for t in ts))
    return out


def parallel_ceiling(jobs: int) -> float:
    """How many cores this machine gives us right now: the speed-up of `jobs` processes of pure
    Python arithmetic over one (a shared machine gives less than its core count)."""
    code = "x=0\nfor i in range(6_000_000): x+=i"
    one = min(run("one", [sys.executable, "-c", code], 1).median_s for _ in range(2))
    par = min(run("par", f"{' & '.join([shlex.quote(sys.executable) + ' -c ' + shlex.quote(code)] * jobs)} & wait",
                  1, shell=True).median_s for _ in range(2))
    return jobs * one / par


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
