"""`index --engine spark`: the observation store built from logs on shared storage, files read by Spark tasks.

The same steps as the local `index` (stores/ingest.py), with Spark in place of the process pool:
the driver takes the store's lock, plans every file (plan_file: content hash, a grown log's
base, the format; it alone touches the manifest), Spark runs scan_file for each planned file as
one task (the task writes the file's part into the batch folder and returns what it read), and
the driver accounts each file (finish_file) and commits the batch (Parquet parts, then the
manifest, atomically). A file already indexed is skipped before any task runs; a grown log adds
only its new part; a task that cannot read its file is that file's error, the others are indexed;
a failed Spark job leaves the store as it was.

The logs and the store must be seen at the same paths by the driver and every executor (local
disk with local[N], NFS or another shared POSIX mount on a cluster)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tracehound.engines.spark_store import error_line
from tracehound.errors import InputError
from tracehound.stores.ingest import FileResult, IndexOptions, Job, Scanned, index_paths, scan_file
from tracehound.stores.layout import Store


def scan_on_spark(spark: Any, jobs: list[Job], folder: Path, options: IndexOptions) -> list[Scanned]:
    """scan_file of each job as one Spark task (largest files first); results in the jobs' order."""
    if not jobs:
        return []
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].ident.size)
    where = str(folder)

    def task(item: tuple[int, Job]) -> tuple[int, Scanned]:
        return item[0], scan_file(item[1], Path(where), options)

    rdd = spark.sparkContext.parallelize([(i, jobs[i]) for i in order], numSlices=len(jobs))
    spark.sparkContext.setJobDescription(f"tracehound index: {len(jobs)} files")
    try:
        done = dict(rdd.map(task).collect())
    except Exception as exc:  # py4j: a task failed outside scan_file's own error handling
        raise InputError(f"Spark tasks failed, nothing committed: {error_line(exc)} (do the executors see the logs "
                         "and the store at the same path as the driver?)", path=where) from exc
    return [done[i] for i in range(len(jobs))]


def index_paths_spark(spark: Any, store: Store, paths: list[str], options: IndexOptions,
                      on_file: Callable[[FileResult], None] | None = None) -> list[FileResult]:
    """index_paths with Spark tasks reading the files: one batch, committed at the end (all or nothing)."""

    def on_spark(jobs: list[Job], folder: Path, opt: IndexOptions) -> Iterator[Scanned]:
        return iter(scan_on_spark(spark, jobs, folder, opt))

    return index_paths(store, paths, options, on_file, scanner=on_spark)


__all__ = ["index_paths_spark", "scan_on_spark"]
