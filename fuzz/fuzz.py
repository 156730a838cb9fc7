"""Coverage-guided fuzzing of one parser with atheris (libFuzzer).

  python fuzz/fuzz.py TARGET [-max_total_time=600] [libFuzzer options]
  python fuzz/fuzz.py --list

Targets are the entry points in tracehound/fuzzing.py (one per parser family). The seed
corpus is generated from the project's own fixtures; crashes are written as crash-* files
in the current folder. Only tracehound's own error types may escape a target.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 2
    if sys.argv[1] == "--list":
        from tracehound.fuzzing import TARGETS as names

        print("\n".join(sorted(names)))
        return 0
    try:
        import atheris
    except ImportError:
        print("atheris is not installed: run `make fuzz TARGET=...` (it installs the 'fuzz' extra) "
              "or `pip install -e '.[fuzz]'`", file=sys.stderr)
        return 2

    with atheris.instrument_imports():
        import tracehound.engines.local_hunt  # noqa: F401
        import tracehound.intel.extract  # noqa: F401
        import tracehound.intel.formats  # noqa: F401
        import tracehound.sources.inventory  # noqa: F401
        import tracehound.sources.logs.evtx_source  # noqa: F401
        import tracehound.sources.logs.readers  # noqa: F401
        import tracehound.sweep.browsers  # noqa: F401
        import tracehound.sweep.signing  # noqa: F401
        import tracehound.sweep.software  # noqa: F401
        import tracehound.sweep.yara_rules  # noqa: F401
        from tracehound.fuzzing import TARGETS, check
    target = sys.argv[1]
    if target not in TARGETS:
        print(f"unknown target {target!r}; one of: {', '.join(sorted(TARGETS))}", file=sys.stderr)
        return 2
    from seeds import seeds_for

    extra = sys.argv[2:]
    if any(not a.startswith("-") for a in extra):
        args = [sys.argv[0], *extra]  # replaying given inputs (e.g. a crash file): no seed corpus
    else:
        corpus = Path(tempfile.mkdtemp(prefix=f"th-corpus-{target}-"))
        for n, seed in enumerate(seeds_for(target)):
            (corpus / f"seed{n}").write_bytes(seed)
        args = [sys.argv[0], *extra, str(corpus)]
    atheris.Setup(args, lambda data: check(target, data))
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
