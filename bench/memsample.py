"""Peak memory of a process tree, the way Linux shares it: every `interval` seconds, each process's
/proc/PID/smaps_rollup is read and the tree's PSS summed (fork-started workers share the parent's
copy-on-write pages; summing RSS counts those once per worker). The largest single process is
given by its USS (private pages: what killing it would free) and by its PSS.

  python bench/memsample.py -- tracehound hunt ...   # runs the command, prints the peaks
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

MB = 1024 * 1024


@dataclass
class Peaks:
    pss_sum: int = 0  # bytes: the highest sum of PSS over the tree seen in one sample
    uss_max: int = 0  # bytes: the highest USS of one process
    pss_max: int = 0  # bytes: the highest PSS of one process
    procs_max: int = 0  # most processes in the tree in one sample
    samples: int = 0
    unreadable: int = 0  # processes whose smaps_rollup could not be read (exited between listing and reading)
    seconds: float = 0.0
    returncode: int = 0
    at_peak: list[tuple[int, int, int]] = field(default_factory=list)  # (pid, pss, uss) at the PSS-sum peak

    def line(self) -> str:
        return (f"peak PSS sum {self.pss_sum / MB:,.0f} MB over {self.procs_max} processes, largest process "
                f"USS {self.uss_max / MB:,.0f} MB / PSS {self.pss_max / MB:,.0f} MB ({self.samples} samples)")


def rollup(pid: int) -> tuple[int, int] | None:
    """(PSS, USS) of one process in bytes from smaps_rollup; None when it is gone."""
    pss = uss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
                elif line.startswith(("Private_Clean:", "Private_Dirty:")):
                    uss += int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return pss, uss


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text(encoding="ascii", errors="replace")
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def tree(pid: int) -> list[int]:
    kids = _children()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def sample(pid: int, peaks: Peaks) -> None:
    total = 0
    rows = []
    for p in tree(pid):
        got = rollup(p)
        if got is None:
            peaks.unreadable += 1
            continue
        rows.append((p, *got))
        total += got[0]
        peaks.uss_max = max(peaks.uss_max, got[1])
        peaks.pss_max = max(peaks.pss_max, got[0])
    peaks.samples += 1
    peaks.procs_max = max(peaks.procs_max, len(rows))
    if total > peaks.pss_sum:
        peaks.pss_sum = total
        peaks.at_peak = rows


def run(cmd: list[str], interval: float = 0.5, progress: float = 0.0, **popen: object) -> Peaks:
    """Run cmd to its end, sampling its tree; output as the caller's Popen keywords say. With
    progress > 0, the peaks so far on stderr every `progress` seconds (kept if the run is cut short)."""
    peaks = Peaks()
    t0 = last = time.monotonic()
    proc = subprocess.Popen(cmd, **popen)  # type: ignore[call-overload]
    while proc.poll() is None:
        sample(proc.pid, peaks)
        if progress and time.monotonic() - last >= progress:
            last = time.monotonic()
            print(f"  [{last - t0:.0f} s] {peaks.line()}", file=sys.stderr, flush=True)
        time.sleep(interval)
    peaks.seconds = time.monotonic() - t0
    peaks.returncode = proc.returncode
    return peaks


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1:]
    if not argv:
        print(__doc__)
        return 2
    peaks = run(argv)
    print(f"{peaks.seconds:.1f} s, exit {peaks.returncode}; {peaks.line()}", file=sys.stderr)
    return peaks.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
