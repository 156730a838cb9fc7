"""The store folder: Parquet parts partitioned by day, a manifest, atomic commits, the DuckDB view.

    STORE/manifest.json                      files indexed, parts committed (the only truth)
    STORE/obs/day=YYYY-MM-DD/part-BATCH.parquet   observation rows
    STORE/ledger/part-BATCH.parquet          coverage per source file and day
    STORE/.tmp/BATCH/                        a batch being written (removed at the next run)

A batch is written under .tmp, its parts renamed into place, then the manifest replaced
atomically: a crash before the manifest leaves parts no manifest names, ignored and removed by
the next `index`; the store reads as it was."""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tracehound.errors import InputError, UsageError
from tracehound.fsutil import atomic_write_text
from tracehound.stores.rows import Aggregator

VERSION = 1
ROW_COLUMNS = ("day", "kind", "value", "client", "aux", "first", "last", "count", "file_id", "line", "offset", "ip4")
LEDGER_COLUMNS = ("file_id", "day", "records", "errors", "first", "last")
_ROW_TYPES = {"day": "VARCHAR", "kind": "VARCHAR", "value": "VARCHAR", "client": "VARCHAR", "aux": "VARCHAR",
              "first": "TIMESTAMPTZ", "last": "TIMESTAMPTZ", "count": "BIGINT", "file_id": "INTEGER",
              "line": "BIGINT", "offset": "BIGINT", "ip4": "UBIGINT"}
# Derived at commit, for equality joins at query time: a name's last two and three labels (an indicator of
# three labels or more joins on s3, so 'evil.co.uk' does not pull every co.uk row), the client as an IPv4 integer.
_DERIVED = {"s2": ("VARCHAR", "CASE WHEN kind IN ('dns', 'http', 'tls', 'connect', 'host', 'answer') AND NOT regexp_full_match(value, "
                              "'[0-9.]+') THEN array_to_string(string_split(value, '.')[-2:], '.') END"),
            "s3": ("VARCHAR", "CASE WHEN kind IN ('dns', 'http', 'tls', 'connect', 'host', 'answer') AND NOT regexp_full_match(value, "
                              "'[0-9.]+') AND length(string_split(value, '.')) >= 3 THEN array_to_string(string_split(value, '.')[-3:], '.') END"),
            "cip4": ("UBIGINT", "CASE WHEN kind = 'ip' AND regexp_full_match(client, '\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}') "
                                "THEN list_reduce(list_transform(string_split(client, '.'), lambda x: TRY_CAST(x AS UBIGINT)), "
                                "lambda a, b: a * 256 + b) END")}
# A value's IPv4 integer (PartWriter leaves it to the commit: one vectorized expression, not a Python call a row).
_IP4 = ("CASE WHEN kind IN ('ip', 'iplit', 'src', 'answer') AND regexp_full_match(value, '\\d+\\.\\d+\\.\\d+\\.\\d+') "
        "THEN list_reduce(list_transform(string_split(value, '.'), lambda x: TRY_CAST(x AS UBIGINT)), lambda a, b: a * 256 + b) END")
# Layout 2 (stores created from now on): rows of a day sorted by `k` in row groups of ROW_GROUP rows, so a
# lookup of a few values reads the row groups whose min/max can hold them and skips the rest. `k` is the
# name reversed label by label for names ('com.example.www': a domain suffix is a key prefix, one range),
# the value itself otherwise. A layout-1 store (no `k`) keeps being read and written as it was.
LAYOUT = 2
ROW_GROUP = 4096
_KEY = ("CASE WHEN kind IN ('dns', 'http', 'tls', 'connect', 'host', 'answer') AND NOT regexp_full_match(value, '[0-9.]+') "
        "THEN array_to_string(list_reverse(string_split(value, '.')), '.') ELSE value END")
_LEDGER_TYPES = {"file_id": "INTEGER", "day": "VARCHAR", "records": "BIGINT", "errors": "BIGINT",
                 "first": "TIMESTAMPTZ", "last": "TIMESTAMPTZ"}


def duckdb_connect(spill: Path | None = None) -> Any:
    """Bounded: 1 GB of memory at most (sorts spill to `spill`), two threads."""
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone='UTC'")
    con.execute("SET memory_limit='1GB'")
    con.execute("SET threads=2")
    con.execute("SET enable_progress_bar=false")
    con.execute("SET preserve_insertion_order=false")
    if spill is not None:
        con.execute(f"SET temp_directory={_q(spill)}")
    return con


class Store:
    def __init__(self, root: str, create: bool = False) -> None:
        self.root = Path(root).absolute()
        self.manifest_path = self.root / "manifest.json"
        if not self.manifest_path.exists():
            if not create:
                raise UsageError("not a tracehound store (no manifest.json; build one with 'tracehound index')",
                                 path=root)
            if self.root.exists() and any(p for p in self.root.iterdir() if p.name != ".tmp"):
                raise UsageError("folder exists, is not empty and is not a store", path=root)
            self.root.mkdir(parents=True, exist_ok=True)
            self.manifest: dict[str, Any] = {"version": VERSION, "files": {}, "parts": [], "ledger": [], "next_id": 1,
                                             "layout": LAYOUT, "clients": [], "keys": []}
            self._write_manifest()
        else:
            self.manifest = _read_manifest(self.manifest_path)

    # ---- manifest -----------------------------------------------------------------------
    def reload(self) -> None:
        self.manifest = _read_manifest(self.manifest_path)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive lock on STORE/.lock for the writer (released when the process ends, whatever happens)."""
        import fcntl

        with (self.root / ".lock").open("a") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _write_manifest(self) -> None:
        atomic_write_text(self.manifest_path, json.dumps(self.manifest, indent=1, sort_keys=True))

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        return self.manifest["files"]

    @property
    def layout(self) -> int:
        return int(self.manifest.get("layout", 1))

    def file_path(self, file_id: int) -> str:
        return str(self.files.get(str(file_id), {}).get("path", ""))

    def cleanup(self) -> int:
        """Remove what an interrupted run left: its .tmp folder and parts no manifest names."""
        shutil.rmtree(self.root / ".tmp", ignore_errors=True)
        listed = set(self.manifest["parts"]) | set(self.manifest["ledger"]) | set(self.manifest.get("clients", [])) | \
            set(self.manifest.get("keys", []))
        removed = 0
        for sub in ("obs", "ledger", "clients", "keys"):
            for p in (self.root / sub).rglob("*.parquet") if (self.root / sub).exists() else ():
                if str(p.relative_to(self.root)) not in listed:
                    p.unlink()
                    removed += 1
        return removed

    # ---- writing a batch ----------------------------------------------------------------
    def new_batch(self) -> Batch:
        return Batch(self)

    # ---- reading ------------------------------------------------------------------------
    def connect(self) -> Any:
        """A DuckDB connection with views `obs` and `ledger` over the committed parts."""
        missing = [p for p in self.manifest["parts"] + self.manifest["ledger"] + self.manifest.get("clients", [])
                   + self.manifest.get("keys", []) if not (self.root / p).is_file()]
        if missing:
            raise InputError(f"store damaged: {len(missing)} part(s) the manifest names are missing, e.g. {missing[0]}",
                             path=str(self.root))
        con = duckdb_connect()
        parts = [str(self.root / p) for p in self.manifest["parts"]]
        ledger = [str(self.root / p) for p in self.manifest["ledger"]]
        if parts:
            con.execute(f"CREATE VIEW obs AS SELECT * FROM read_parquet({_sql_list(parts)}, hive_partitioning=true, "
                        "hive_types={'day': VARCHAR})")
        else:
            types = {**_ROW_TYPES, **{c: t for c, (t, _e) in _DERIVED.items()}}
            cols = ", ".join(f'NULL::{t} AS "{c}"' for c, t in types.items())
            con.execute(f"CREATE VIEW obs AS SELECT {cols} WHERE false")
        if ledger:
            con.execute(f"CREATE VIEW ledger AS SELECT * FROM read_parquet({_sql_list(ledger)})")
        else:
            cols = ", ".join(f'NULL::{t} AS "{c}"' for c, t in _LEDGER_TYPES.items())
            con.execute(f"CREATE VIEW ledger AS SELECT {cols} WHERE false")
        return con


def parse_manifest(text: str, where: str) -> dict[str, Any]:
    """A manifest's text checked (any file system: local here, Hadoop's for the Spark engine)."""
    try:
        m = json.loads(text)
    except ValueError as exc:
        raise InputError(f"unreadable store manifest: {exc}", path=where) from exc
    if not isinstance(m, dict) or m.get("version") != VERSION:
        raise InputError("store manifest of an unknown version", path=where)
    if not (isinstance(m.get("files"), dict) and isinstance(m.get("parts"), list) and isinstance(m.get("ledger"), list)
            and isinstance(m.get("next_id"), int)):
        raise InputError("store manifest damaged (files, parts, ledger or next_id missing)", path=where)
    return m


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise InputError(f"unreadable store manifest: {exc}", path=str(path)) from exc
    return parse_manifest(text, str(path))


def _q(path: object) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _sql_list(paths: list[str]) -> str:
    return "[" + ", ".join(_q(p) for p in paths) + "]"


def _cols(types: dict[str, str]) -> str:
    return "{" + ", ".join(f"'{c}': '{t}'" for c, t in types.items()) + "}"


def _arrow_schemas() -> tuple[Any, Any]:
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    rows = pa.schema([("day", pa.string()), ("kind", pa.string()), ("value", pa.string()), ("client", pa.string()),
                      ("aux", pa.string()), ("first", ts), ("last", ts), ("count", pa.int64()), ("file_id", pa.int32()),
                      ("line", pa.int64()), ("offset", pa.int64()), ("ip4", pa.uint64())])
    ledger = pa.schema([("file_id", pa.int32()), ("day", pa.string()), ("records", pa.int64()), ("errors", pa.int64()),
                        ("first", ts), ("last", ts)])
    return rows, ledger


def _parts(folder: Path, prefix: str, types: dict[str, str]) -> str:
    """The batch's parts of one table as a DuckDB relation: Parquet from PartWriter, CSV from older writers."""
    sources = []
    pq_files = sorted(str(p) for p in folder.glob(f"{prefix}-*.parquet"))
    if pq_files:
        sources.append(f"SELECT {', '.join(chr(34) + c + chr(34) for c in types)} FROM read_parquet({_sql_list(pq_files)})")
    csv_files = sorted(str(p) for p in folder.glob(f"{prefix}-*.csv"))
    if csv_files:
        sources.append(f"SELECT * FROM read_csv({_sql_list(csv_files)}, header=false, quote='\"', escape='\"', nullstr='', "
                       f"columns={_cols(types)}, parallel=false)")
    return "(" + " UNION ALL ".join(sources) + ")"


class PartWriter:
    """The rows and ledger of one file, as Parquet in the batch folder (a worker process may write them):
    each flush is a row group built column by column with pyarrow, no per-row formatting."""

    def __init__(self, folder: Path, tag: str) -> None:
        self.folder, self.tag = folder, tag
        row_schema, ledger_schema = _arrow_schemas()
        # opened here, as the CSV files were: a batch folder that cannot be written fails the task, not one file
        self._rows: Any = self._writer(f"rows-{tag}.parquet", row_schema)
        self._ledger: Any = self._writer(f"ledger-{tag}.parquet", ledger_schema)
        self.rows = 0
        self.ledger = 0

    def _writer(self, name: str, schema: Any) -> Any:
        import pyarrow.parquet as pq

        return pq.ParquetWriter(str(self.folder / name), schema, compression="lz4")

    def flush(self, agg: Aggregator) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        row_schema, ledger_schema = _arrow_schemas()
        if agg.rows:
            day, kind, value, client, aux = zip(*agg.rows, strict=True)
            first, last, count, file_id, line, offset = zip(*agg.rows.values(), strict=True)
            cols = [pa.array(day, pa.string()), pa.array(kind, pa.string()),
                    *(pc.replace_substring(pa.array(c, pa.string()), "\x00", "\ufffd") for c in (value, client, aux)),
                    pa.array(first, row_schema.field("first").type), pa.array(last, row_schema.field("last").type),
                    pa.array(count, pa.int64()), pa.array(file_id, pa.int32()), pa.array(line, pa.int64()),
                    pa.array(offset, pa.int64()), pa.nulls(len(kind), pa.uint64())]  # ip4: at commit
            self._rows.write_table(pa.Table.from_arrays(cols, schema=row_schema))
        if agg.ledger:
            fids, days = zip(*agg.ledger, strict=True)
            records, errors, lfirst, llast = zip(*agg.ledger.values(), strict=True)
            cols = [pa.array(fids, pa.int32()), pa.array(days, pa.string()), pa.array(records, pa.int64()),
                    pa.array(errors, pa.int64()), pa.array(lfirst, ledger_schema.field("first").type),
                    pa.array(llast, ledger_schema.field("last").type)]
            self._ledger.write_table(pa.Table.from_arrays(cols, schema=ledger_schema))
        self.rows += len(agg.rows)
        self.ledger += len(agg.ledger)
        agg.rows.clear()
        agg.ledger.clear()

    def close(self, keep: bool) -> tuple[int, int]:
        """Close; a file not kept (it failed) leaves nothing. Returns the (rows, ledger) counts kept."""
        self._rows.close()
        self._ledger.close()
        for name, n in ((f"rows-{self.tag}.parquet", self.rows), (f"ledger-{self.tag}.parquet", self.ledger)):
            if not keep or not n:
                (self.folder / name).unlink(missing_ok=True)
        return (self.rows, self.ledger) if keep else (0, 0)


class Batch:
    """Rows of one `index` run: flushed to CSV as they come (one pair of files per log file, possibly by
    worker processes), turned into Parquet at commit."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        self.dir = store.root / ".tmp" / self.id
        self.dir.mkdir(parents=True)
        self.row_count = 0
        self.ledger_count = 0
        self.files: dict[str, dict[str, Any]] = {}  # file entries to add or replace at commit
        self._part: PartWriter | None = None

    def begin(self, tag: str) -> None:
        """Start the rows of one file (kept apart, so a file that fails leaves nothing)."""
        self._part = PartWriter(self.dir, tag)

    def flush(self, agg: Aggregator) -> None:
        assert self._part is not None
        self._part.flush(agg)

    def end(self, keep: bool) -> None:
        assert self._part is not None
        self.add_part(*self._part.close(keep))
        self._part = None

    def add_part(self, rows: int, ledger: int) -> None:
        """Count a file's part written by a PartWriter (here or in a worker)."""
        self.row_count += rows
        self.ledger_count += ledger

    def commit(self) -> None:
        con = duckdb_connect(self.dir / "spill")
        out = self.dir / "out"
        out.mkdir()
        new_parts: list[str] = []
        new_ledger: list[str] = []
        if self.row_count:
            rows = _parts(self.dir, "rows", _ROW_TYPES)
            select = ", ".join(f"coalesce({c}, '') AS {c}" if t == "VARCHAR" else f"coalesce(ip4, {_IP4}) AS ip4" if c == "ip4"
                               else f'"{c}"' for c, t in _ROW_TYPES.items())
            select += "".join(f", {expr} AS {c}" for c, (_t, expr) in _DERIVED.items())
            sorted_layout = self.store.layout >= 2
            if sorted_layout:
                select += f", {_KEY} AS k"
            # Two steps, so a sort never holds more than a day: the batch's rows split by day as they come (no sort,
            # little memory), then each day sorted on its own into one file. One sort of the whole batch written with
            # PARTITION_BY spilled 19 GB of temporary files for a 5 GB corpus, and its parallel writers could leave a
            # day's rows out of order (wider row groups, less pruning).
            con.execute(f"COPY (SELECT {select} FROM {rows}) TO {_q(self.dir / 'stage')} "
                        "(FORMAT PARQUET, PARTITION_BY (day), COMPRESSION LZ4_RAW, OVERWRITE_OR_IGNORE)")
            order = "k" if sorted_layout else "kind, value"

            def sort_day(day_dir: Path) -> None:
                (out / "obs" / day_dir.name).mkdir(parents=True)
                staged = _sql_list(sorted(str(p) for p in day_dir.glob("*.parquet")))
                con.cursor().execute(f"COPY (SELECT * FROM read_parquet({staged}, hive_partitioning=false) ORDER BY {order}) "
                                     f"TO {_q(out / 'obs' / day_dir.name / 'data_0.parquet')} (FORMAT PARQUET, COMPRESSION "
                                     f"ZSTD{f', ROW_GROUP_SIZE {ROW_GROUP}' if sorted_layout else ''})")
                shutil.rmtree(day_dir)

            # two days at a time (a small day's sort runs on one thread); DuckDB's memory limit bounds both
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(sort_day, sorted(p for p in (self.dir / "stage").iterdir() if p.is_dir())))
            for p in sorted(out.rglob("*.parquet")):
                rel = Path("obs") / p.parent.name / f"part-{self.id}-{p.stem}.parquet"
                (self.store.root / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(p, self.store.root / rel)
                new_parts.append(str(rel))
        if self.ledger_count:
            led = _parts(self.dir, "ledger", _LEDGER_TYPES)
            rel = Path("ledger") / f"part-{self.id}.parquet"
            (self.store.root / "ledger").mkdir(exist_ok=True)
            tmp = self.dir / "ledger.parquet"
            con.execute(f"COPY (SELECT * FROM {led}) TO {_q(tmp)} (FORMAT PARQUET, COMPRESSION ZSTD)")
            os.replace(tmp, self.store.root / rel)
            new_ledger.append(str(rel))
        new_clients = self._clients(con, new_parts)
        new_keys = self._keys(con, new_parts)
        con.close()
        m = self.store.manifest
        m["parts"] += new_parts
        m["ledger"] += new_ledger
        if new_clients:
            m["clients"] = m.get("clients", []) + new_clients
        if new_keys:
            m["keys"] += new_keys
        m["files"].update(self.files)
        self.store._write_manifest()  # the commit point
        shutil.rmtree(self.dir, ignore_errors=True)

    def _clients(self, con: Any, parts: list[str]) -> list[str]:
        """Layout 2: the batch's distinct clients of `ip` rows, in a small side file, so a hunt learns which
        clients are indicators (an inbound contact) without reading the client column of every row."""
        if self.store.layout < 2 or not parts:
            return []
        return self._side_file(con, parts, "clients", "SELECT DISTINCT client FROM {rows} WHERE kind = 'ip'")

    def _keys(self, con: Any, parts: list[str]) -> list[str]:
        """A store created with a key index (manifest "keys", every batch since the first): the batch's distinct
        keys `k`, in a small side file, so a hunt finds the keys its ranges hold without scanning every row."""
        if self.store.layout < 2 or "keys" not in self.store.manifest or not parts:
            return []
        return self._side_file(con, parts, "keys", "SELECT DISTINCT k FROM {rows} ORDER BY k")

    def _side_file(self, con: Any, parts: list[str], name: str, select: str) -> list[str]:
        """The batch's side file NAME/part-ID.parquet from a query over its parts' rows (written, then moved)."""
        rel = Path(name) / f"part-{self.id}.parquet"
        (self.store.root / name).mkdir(exist_ok=True)
        tmp = self.dir / f"{name}.parquet"
        rows = f"read_parquet({_sql_list([str(self.store.root / p) for p in parts])})"
        con.execute(f"COPY ({select.format(rows=rows)}) TO {_q(tmp)} (FORMAT PARQUET, COMPRESSION ZSTD)")
        os.replace(tmp, self.store.root / rel)
        return [str(rel)]

    def abort(self) -> None:
        if self._part is not None:
            self._part.close(False)
        shutil.rmtree(self.dir, ignore_errors=True)
