"""Compile the rule groups of a rule set (yara_groups), on all cores when the rule set is large.

Every group is compiled by its own yara-x compiler, each rule file in its own namespace. Sources
that fail are returned (source index -> yara-x's message) and nothing is built then: the caller
leaves those files out and compiles again, so the costly builds run once. With more than one core
and at least PARALLEL_RULES rules, when at least two cores are free now (free_cores: on a busy
machine the extra processes, serialization and loading cost more than they save, measured), the groups are shared out (by size) over forked processes, each compiling and serializing
its share; the caller then holds serialized groups (Group.blob), which are deserialized where and
when first needed.
"""

from __future__ import annotations

import io
import os
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from tracehound.sweep.yara_groups import Group

PARALLEL_RULES = 1000
_JOB: dict[str, Any] = {}  # what forked compile processes read: groups, origins, externals


def free_cores() -> int:
    """Cores free now: the idle share of all cores over a 60 ms sample of /proc/stat (the load average
    lags by a minute: a sweep started just after another job would read it as busy, or the reverse);
    elsewhere core count minus the load average. Time of niced processes counts as busy."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    idle = _idle_now(cores)
    if idle is not None:
        return max(1, min(cores, int(idle + 0.5)))
    try:
        busy = os.getloadavg()[0]
    except OSError:
        return cores
    return max(1, min(cores, int(cores - busy)))


def _idle_now(cores: int, sample: float = 0.06) -> float | None:
    def read() -> list[int] | None:
        try:
            with open("/proc/stat", encoding="ascii") as fh:
                head = fh.readline().split()
        except OSError:
            return None
        return [int(x) for x in head[1:9]] if head and head[0] == "cpu" and len(head) >= 9 else None
    a = read()
    time.sleep(sample)
    b = read()
    if a is None or b is None:
        return None
    d = [y - x for x, y in zip(a, b, strict=True)]
    total = sum(d)
    return cores * (d[3] + d[4]) / total if total > 0 else None  # idle + iowait


def compiler(yara_x: Any, externals: dict[str, str]) -> Any:
    c = yara_x.Compiler()
    for k, v in externals.items():
        c.define_global(k, v)
    return c


def build_all(groups: list[Group], origins: list[str], externals: dict[str, str]) -> dict[int, str]:
    """Compile every group (each gets .rules, or .blob when compiled in another process); returns
    the sources that failed, with yara-x's message, and then builds nothing."""
    import yara_x

    small = len(groups) < 2 or sum(g.count for g in groups) < PARALLEL_RULES or (os.cpu_count() or 1) < 2
    cores = 1 if small else free_cores()  # (free_cores samples for 60 ms: only when it matters)
    if cores < 2:
        here, built = _add_and_build(yara_x, groups, origins, externals)
        for g, rules in zip(groups, built, strict=False):
            g.rules = rules
        return here
    shares: list[list[int]] = [[] for _ in range(min(cores, len(groups)))]
    weight = [0] * len(shares)
    for k in sorted(range(len(groups)), key=lambda k: -sum(len(p) for _, p in groups[k].pieces)):
        j = weight.index(min(weight))
        shares[j].append(k)
        weight[j] += sum(len(p) for _, p in groups[k].pieces)
    import multiprocessing

    _JOB.update(groups=groups, origins=origins, externals=externals)
    try:
        with ProcessPoolExecutor(len(shares), mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_share, shares))
    finally:
        _JOB.clear()
    failed: dict[int, str] = {}
    for f, _ in results:
        failed.update(f)
    if not failed:
        for share, (_, blobs) in zip(shares, results, strict=True):
            for k, blob in zip(share, blobs, strict=True):
                groups[k].blob = blob
    return failed


def _share(share: list[int]) -> tuple[dict[int, str], list[bytes]]:
    """In a forked process: compile and serialize some of the groups."""
    import yara_x

    groups = [_JOB["groups"][k] for k in share]
    failed, built = _add_and_build(yara_x, groups, _JOB["origins"], _JOB["externals"])
    blobs = []
    for rules in built:
        buf = io.BytesIO()
        rules.serialize_into(buf)
        blobs.append(buf.getvalue())
    return failed, blobs


def _add_and_build(yara_x: Any, groups: list[Group], origins: list[str],
                   externals: dict[str, str]) -> tuple[dict[int, str], list[Any]]:
    compilers, failed = [], {}
    for g in groups:
        c = compiler(yara_x, externals)
        for idx, piece in g.pieces:
            if idx in failed:
                continue
            c.new_namespace(f"f{idx}")
            try:
                c.add_source(piece, origin=origins[idx])
            except yara_x.CompileError as exc:
                failed[idx] = str(exc)
        compilers.append(c)
    if failed:
        return failed, []
    return failed, [c.build() for c in compilers]
