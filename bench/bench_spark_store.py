"""The observation store on Spark: index time (local -j2 vs Spark local[2]) and store-hunt time (DuckDB vs
Spark local[2]) on the same generated corpus (bench_store.generate: Squid + Zeek DNS + Zeek SSL, one file per
source and day), same answers checked.

  python bench/bench_spark_store.py --size-mb 256 --days 30

In one process: the JVM start-up, the Spark session and a first (warm-up) store hunt are not counted (a
cluster has them running); each figure is the median of --repeat runs."""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_store import big_pack, generate  # noqa: E402
from measure import table, workdir  # noqa: E402


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    runs, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), out


def _key(result: Any) -> list[tuple[Any, ...]]:
    return sorted((h.host, h.kind, h.value, h.aux, h.first, h.last, h.count,
                   tuple(sorted(m.indicator.value for m in h.matches))) for h in result.hits)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=256)
    ap.add_argument("--hosts", type=int, default=600)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--big-pack", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workdir")
    a = ap.parse_args(argv)
    from tracehound.engines.spark_hunt import SparkOptions, session
    from tracehound.engines.spark_index import index_paths_spark
    from tracehound.engines.spark_store import hunt_store_spark
    from tracehound.intel.builtin import load_intel
    from tracehound.stores.ingest import IndexOptions, index_paths
    from tracehound.stores.layout import Store
    from tracehound.stores.query import hunt_store

    with workdir(a.workdir, "bench-spark-store-") as work:
        logs = work / "logs"
        if not logs.exists():
            generate(logs, a.size_mb, a.hosts, a.days)
        files = sorted(str(p) for p in logs.glob("*.log"))
        mb = sum(Path(p).stat().st_size for p in files) / 1048576
        big = work / "big.csv"
        big_pack(big, a.big_pack)
        spark = session(SparkOptions(master="local[2]", conf={"spark.sql.shuffle.partitions": "4"}))
        spark.range(1).count()  # JVM start-up is not index or hunt time
        local, remote = work / "store-local", work / "store-spark"

        def fresh(path: Path) -> Store:
            shutil.rmtree(path, ignore_errors=True)
            return Store(str(path), create=True)

        rows: list[tuple[str, ...]] = []
        t_local, _ = _timed(lambda: index_paths(fresh(local), files, IndexOptions(jobs=2)), a.repeat)
        t_spark, _ = _timed(lambda: index_paths_spark(spark, fresh(remote), files, IndexOptions()), a.repeat)
        rows += [("index, local -j2", f"{t_local:.2f}", f"{mb / t_local:.1f}", ""),
                 ("index, spark local[2]", f"{t_spark:.2f}", f"{mb / t_spark:.1f}", f"{t_spark / t_local:.1f}x")]
        hunt_store_spark(spark, str(local), load_intel(None))  # warm the JVM's query code paths (not counted)
        checks = []
        for label, pack in (("3cx pack", load_intel(None)), (f"{a.big_pack:,}-indicator pack", load_intel([str(big)]))):
            t_duck, duck = _timed(partial(hunt_store, Store(str(local)), pack), a.repeat)
            t_sp, (_st, sp) = _timed(partial(hunt_store_spark, spark, str(local), pack), a.repeat)
            other = hunt_store(Store(str(remote)), pack)
            same = _key(duck) == _key(sp) == _key(other) and duck.coverage == sp.coverage == other.coverage
            checks.append(same)
            rows += [(f"hunt --store, DuckDB, {label}", f"{t_duck:.2f}", "", ""),
                     (f"hunt --store, spark local[2], {label}", f"{t_sp:.2f}", "", f"{t_sp / t_duck:.1f}x")]
            print(f"{label}: {'same' if same else 'DIFFERENT'} findings and coverage (DuckDB on both stores, Spark), "
                  f"{len(duck.hits)} hits, {duck.candidates} candidates")
        print(f"corpus: {mb:.0f} MB, {len(files)} files, {a.hosts} hosts, {a.days} days (Squid + Zeek DNS + Zeek SSL)")
        print(table(rows, ("run", "wall s", "MB/s", "time vs local / DuckDB")))
        return 0 if all(checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
