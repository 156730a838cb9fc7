"""All benchmarks with their default sizes (make bench). Each prints its own table.

  python bench/run_all.py            # 2 GB Squid log (3CX and 100,000-indicator packs), 1 GB mixed corpus, 5 GB tree,
                                     # SigmaHQ on the real EVTX and on a 4 GB EVTX set (-j1, -j2), intel extract on 1 MB advisories,
                                     # the store on Spark local[2] (512 MB, 30 days) vs local index / DuckDB
  python bench/run_all.py --quick    # small sizes, a minute
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bench_extract  # noqa: E402
import bench_hunt  # noqa: E402
import bench_sigma  # noqa: E402
import bench_spark_store  # noqa: E402
import bench_sweep  # noqa: E402


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    print("== hunt: tracehound vs ripgrep and grep ==")
    bench_hunt.main(["--size-mb", "256" if quick else "2048", "--mixed-mb", "128" if quick else "1024",
                     "--big-pack", "20000" if quick else "100000", "--repeat", "1" if quick else "3"])
    print("\n== sweep: tracehound vs parallel coreutils hashing ==")
    bench_sweep.main(["--size-mb", "512" if quick else "5120", "--files", "2000" if quick else "20000",
                      "--repeat", "1" if quick else "3"])
    print("\n== intel extract: a 1 MB vendor-shaped advisory and a one-line one ==")
    bench_extract.main(["--size-mb", "0.25" if quick else "1", "--repeat", "1" if quick else "3"])
    print("\n== Sigma: tracehound vs pySigma's SQLite backend; hunt --sigma memory ==")
    bench_sigma.main([] if quick else ["--evtx-set", "4", "--jobs", "1,2"])
    print("\n== observation store on Spark: index local -j2 vs spark local[2], hunt --store DuckDB vs Spark ==")
    bench_spark_store.main(["--size-mb", "64" if quick else "512", "--days", "30",
                            "--big-pack", "20000" if quick else "100000"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
