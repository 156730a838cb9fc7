"""Spark engine scaling: the same corpus hunted at local[1] and local[2] (and the local engine
for reference), same findings checked.

  python bench/bench_spark.py --size-mb 1024
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import squid_log  # noqa: E402
from measure import table, workdir  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--workdir", default=None)
    a = ap.parse_args(argv)
    from tracehound.engines.hunt_summary import hunt_to_writer
    from tracehound.engines.local_hunt import HuntOptions
    from tracehound.engines.spark_hunt import SparkOptions, run_spark_hunt, session
    from tracehound.intel.builtin import load_intel

    with workdir(a.workdir, "th-bench-spark-") as work:
        hits = 0
        paths = []
        for n in range(a.files):
            p = work / f"access-{n}.log"
            if not p.exists():
                squid_log(p, a.size_mb * 1048576 // a.files, hits=100, seed=40 + n)
            hits += 100
            paths.append(str(p))
        pack = load_intel(None)
        rows = []
        results = {}
        t0 = time.perf_counter()
        lines: list[str] = []
        hunt_to_writer(pack, paths, HuntOptions(jobs=2), lines.append, first_seen=False)
        local_s = time.perf_counter() - t0
        results["local engine (2 processes)"] = (local_s, sorted(lines))
        for master in ("local[1]", "local[2]"):
            opt = SparkOptions(master=master, conf={"spark.sql.shuffle.partitions": "8"}, split_size=64 * 1048576)
            spark = session(opt)
            spark.range(1).count()  # JVM start-up is not hunt time
            t0 = time.perf_counter()
            out: list[str] = []
            for _rep, it in run_spark_hunt(pack, paths, HuntOptions(), opt):
                out += list(it)
            results[f"spark {master}"] = (time.perf_counter() - t0, sorted(out))
            spark.stop()
        mb = sum(Path(p).stat().st_size for p in paths) / 1048576
        base = results["spark local[1]"][0]
        for name, (secs, found) in results.items():
            same = "same findings" if found == results["local engine (2 processes)"][1] else "DIFFERENT findings"
            rows.append((name, f"{secs:.2f}", f"{mb / secs:.0f}", f"{base / secs:.2f}", f"{len(found)} ({same})"))
        print(f"corpus: {a.files} Squid logs, {mb:.0f} MB, {hits} injected contacts")
        print(table(rows, ("engine", "seconds", "MB/s", "speed-up vs local[1]", "findings")))
        print(json.dumps({"scaling_local2_vs_local1": round(base / results["spark local[2]"][0], 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
