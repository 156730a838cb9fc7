"""Where the wall time of one `tracehound hunt` goes: each phase's wall offsets and CPU, per process.

  python bench/hunt_phases.py -- --intel 3cx -j2 access.log        # the arguments of `tracehound hunt`

Runs the hunt in this process with the engine's functions wrapped (imports, pack load, planning,
prefilter, each range worker's hunt_file, the merge, each first-sightings piece) and prints one
line per call: process id, phase, start and end in seconds since this script started, CPU seconds
of that call in its process. Forked workers inherit the wrappers. Findings go where -o says
(default: discarded).
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

T0 = time.monotonic()


def _note(log: str, name: str, t0: float, c0: float) -> None:
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid():>7} {name:24s} {t0 - T0:7.3f} {time.monotonic() - T0:7.3f} {time.process_time() - c0:7.3f}\n")


def _wrap(log: str, mod: Any, attr: str, name: str | None = None, gen: bool = False) -> None:
    f: Callable[..., Any] = getattr(mod, attr)

    if gen:
        @functools.wraps(f)
        def wg(*a: Any, **k: Any) -> Any:
            t0, c0 = time.monotonic(), time.process_time()
            try:
                yield from f(*a, **k)
            finally:
                _note(log, name or attr, t0, c0)

        setattr(mod, attr, wg)
        return

    @functools.wraps(f)
    def w(*a: Any, **k: Any) -> Any:
        t0, c0 = time.monotonic(), time.process_time()
        try:
            return f(*a, **k)
        finally:
            _note(log, name or attr, t0, c0)

    setattr(mod, attr, w)


def main(argv: list[str]) -> int:
    args = argv[1:] if argv[:1] == ["--"] else argv
    fd, log = tempfile.mkstemp(prefix="hunt-phases-", suffix=".txt")
    os.close(fd)
    t0, c0 = time.monotonic(), time.process_time()
    import tracehound.cli.hunt as cli_hunt
    from tracehound.cli import main as cli_main

    _note(log, "import cli", t0, c0)
    t0, c0 = time.monotonic(), time.process_time()
    import tracehound.engines.first_seen as fs
    import tracehound.engines.hunt_summary as hs
    import tracehound.engines.local_hunt as lh
    from tracehound.intel import builtin

    _note(log, "import engines", t0, c0)
    _wrap(log, builtin, "load_intel")
    cli_hunt.load_intel = builtin.load_intel
    for mod, attr, name in ((lh, "plan_units", None), (lh, "_init_state", "matcher + prefilter"),
                            (lh, "hunt_file", "hunt range (worker)"), (hs, "find_first_sightings", "first sightings"),
                            (fs, "_unit", "first-sightings piece")):
        _wrap(log, mod, attr, name)
    _wrap(log, lh, "_merge_ranges", "hunt + merge (parent)", gen=True)
    parent = os.getpid()
    if "-o" not in args and "--output" not in args:
        args = ["-o", os.devnull, *args]
    sys.argv = ["tracehound", "hunt", "-q", *args]
    code = 0
    try:
        cli_main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    finally:
        if os.getpid() == parent:
            _note(log, "whole run (parent)", T0, 0.0)
    print(f"{'pid':>7} {'phase':24s} {'start':>7} {'end':>7} {'cpu s':>7}")
    with open(log, encoding="utf-8") as fh:
        sys.stdout.write(fh.read())
    os.unlink(log)
    return 0 if code in (0, 1) else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
