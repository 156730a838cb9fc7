"""Linearity without a wall clock: the CPU time of this process (time.process_time, which other processes
on a loaded machine do not inflate) for an input of size n and of size 4n, compared as a ratio.

A linear function costs about 4x as much on the larger input, a quadratic one 16x: the tests accept up to
MAX_RATIO (10x), with a FLOOR so that timer noise on a function that costs next to nothing cannot fail
them. Each figure is the best of a few runs, each run repeating the call until it has cost MIN_RUN of CPU,
so a cheap function is measured over many calls. Speed itself is measured in bench/, never asserted here.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

FACTOR = 4
MAX_RATIO = 10.0
FLOOR = 1e-4  # s of CPU per call under which a measurement is noise
MIN_RUN = 0.02  # s of CPU a run lasts at least
RUNS = 3
LONG_CALL = 0.5  # a call this slow is measured once (a regression must fail fast, not run for minutes)


def cpu_per_call(fn: Callable[[Any], object], arg: Any, out: list[object] | None = None, runs: int = RUNS) -> float:
    """Best CPU seconds per call of fn(arg) over `runs` runs; the last result is appended to `out` when given."""
    best = float("inf")
    result: object = None
    reps = 1
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(runs):
            while True:
                start = time.process_time()
                for _ in range(reps):
                    result = fn(arg)
                spent = time.process_time() - start
                if spent >= MIN_RUN or reps >= 1 << 20:
                    break
                reps *= 2
            best = min(best, spent / reps)
            if spent / reps >= LONG_CALL:
                break
    finally:
        if enabled:
            gc.enable()
    if out is not None:
        out.append(result)
    return best


def assert_linear(fn: Callable[[Any], object], make: Callable[[int], Any], n: int, what: str = "",
                  max_ratio: float = MAX_RATIO, floor: float = FLOOR) -> object:
    """fn(make(FACTOR * n)) costs at most max_ratio times fn(make(n)) (or the floor): linear, not quadratic.
    Returns fn(make(FACTOR * n)), for the caller's checks of the result."""
    small_in, large_in = make(n), make(FACTOR * n)
    fn(small_in)  # warm-up: caches, lazy imports, compiled patterns
    # The two sizes measured in turn, best of each: a busy sibling core slows this process's CPU seconds too
    # (shared caches, hyperthreads), and in turn both sizes see the same slow and quiet moments.
    small = large = float("inf")
    got: list[object] = []
    for _ in range(RUNS):
        small = min(small, cpu_per_call(fn, small_in, runs=1))
        large = min(large, cpu_per_call(fn, large_in, got, runs=1))
        if large >= LONG_CALL:
            break
    assert large <= max_ratio * max(small, floor), (
        f"{what or getattr(fn, '__name__', 'fn')}: {large * 1e3:.2f} ms CPU at {FACTOR * n} vs {small * 1e3:.3f} ms "
        f"at {n} (x{large / max(small, 1e-12):.1f}; linear is about x{FACTOR})")
    return got[0]
