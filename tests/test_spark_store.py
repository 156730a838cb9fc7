"""The store on Spark (local[2]): `hunt --engine spark --store` gives the DuckDB store hunt's and the raw
hunt's findings; `index --engine spark` builds the store the local index builds, idempotently."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import SAMPLES, run_cli
from huntutil import make_pack
from storeutil import _add, fixture_logs, index, raw_table, store_table
from tracehound.intel.builtin import load_intel
from tracehound.intel.model import Pack
from tracehound.stores.layout import Store
from tracehound.stores.query import StoreHunt, hunt_store

pytest.importorskip("pyspark", reason="pip install 'tracehound[spark]' (CI installs it)")
if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
    pytest.skip("Java is needed for Spark", allow_module_level=True)

from tracehound.engines.spark_hunt import SparkOptions, session  # noqa: E402
from tracehound.engines.spark_index import index_paths_spark  # noqa: E402
from tracehound.engines.spark_store import hunt_store_spark  # noqa: E402
from tracehound.stores.ingest import IndexOptions  # noqa: E402

MASTER = "local[2]"


@pytest.fixture(scope="module")
def spark() -> Any:
    return session(SparkOptions(master=MASTER, conf={"spark.sql.shuffle.partitions": "2",
                                                     "spark.default.parallelism": "2", "spark.driver.memory": "1g"}))


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Every log format of the store tests, indexed once by the local index."""
    base = tmp_path_factory.mktemp("spark-store")
    paths = fixture_logs(base / "logs")
    index(base / "store", paths)
    return base, paths


def _new_pack(tmp_path: Path) -> Pack:
    """Indicators the fixtures were not written for: a parent domain, three-label names, v4 and v6 CIDRs,
    a URL prefix, a client address."""
    p = tmp_path / "new.csv"
    p.write_text("type,value\ndomain,example.com\ndomain,www.example.com\ndomain,cdn.akamaicontainer.com\n"
                 "cidr,162.0.229.0/24\nurl,https://github.com/IconStorages\ncidr,93.184.0.0/16\ncidr,2001:db8::/32\n"
                 "ipv4,10.0.0.100\n")
    return load_intel([str(p)])


def _table(result: StoreHunt) -> dict[tuple[str, str], tuple[Any, Any, int]]:
    out: dict[tuple[str, str], list[Any]] = {}
    for h in result.hits:
        for m in h.matches:
            _add(out, (h.host, m.indicator.value), h.first and h.first.isoformat(), h.last and h.last.isoformat(), h.count)
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def _hits(result: StoreHunt) -> list[tuple[Any, ...]]:
    """Every field of a hit but its example (file, line, offset): a tie on the first time may pick either."""
    return sorted((h.host, h.kind, h.value, h.aux, h.first, h.last, h.count,
                   tuple(sorted((m.indicator.value, m.field) for m in h.matches))) for h in result.hits)


def test_every_format_spark_equals_duckdb_and_raw(spark: Any, logs: tuple[Path, list[str]], tmp_path: Path) -> None:
    base, paths = logs
    store = base / "store"
    for pack in (make_pack(tmp_path), _new_pack(tmp_path)):
        raw, raw_text = raw_table(pack, paths)
        duck = hunt_store(Store(str(store)), pack)
        _st, sp = hunt_store_spark(spark, str(store), pack)
        assert raw and raw_text == 0
        assert _table(sp) == store_table(store, pack) == raw
        assert _hits(sp) == _hits(duck) and sp.candidates == duck.candidates
        assert sp.coverage == duck.coverage and sp.coverage["records"] > 50
    assert {"2001:db8::/32", "www.example.com", "93.184.0.0/16"} <= {v for _h, v in _table(sp)}
    # Clients inside a CIDR (the client-address range path), through a URI: the manifest is read by Spark (Hadoop
    # file system), not by the local Store; the same answer as DuckDB's (and the raw hunt's, test_store).
    inbound = tmp_path / "inbound.csv"
    inbound.write_text("type,value\ncidr,10.0.0.0/8\n")
    pack = load_intel([str(inbound)])
    st, by_uri = hunt_store_spark(spark, store.as_uri(), pack)
    assert _hits(by_uri) == _hits(hunt_store(Store(str(store)), pack)) and len(by_uri.hits) > 5
    assert st.files == Store(str(store)).files and type(st).__name__ == "ManifestStore"
    assert by_uri.coverage == sp.coverage


def test_real_logs_spark_equals_duckdb_and_raw_since_until(spark: Any, tmp_path: Path) -> None:
    if not (SAMPLES / "logs").is_dir():
        pytest.skip(f"real samples not present: {SAMPLES}")
    from test_store import _real_pack

    logs = SAMPLES / "logs"
    paths = [str(logs / "squid" / "access1.log"), str(logs / "zeek" / "dns.log"), str(logs / "suricata" / "eve-small.log")]
    gz = tmp_path / "squid-pfsense.log.gz"
    gz.write_bytes(gzip.compress((SAMPLES / "vendor-logs" / "pfsense" / "test-pfsense-squid.log").read_bytes()))
    paths.append(str(gz))
    store = tmp_path / "store"
    index(store, paths)
    pack = _real_pack(tmp_path)
    raw, _ = raw_table(pack, paths)
    _st, whole = hunt_store_spark(spark, str(store), pack)
    assert _table(whole) == raw and len(raw) > 20
    assert whole.coverage == hunt_store(Store(str(store)), pack).coverage and whole.coverage["days_without_data"]
    # whole UTC days: 2018-03-20..24 keeps the Zeek log, not the 2006 Squid, 2018-07 Suricata, 2020 pfSense ones (the
    # DuckDB store's window is held to the raw hunt's in test_store.py)
    since, until = datetime(2018, 3, 20, tzinfo=UTC), datetime(2018, 3, 24, 23, 59, 59, 999999, tzinfo=UTC)
    duck = hunt_store(Store(str(store)), pack, since, until)
    _st, sp = hunt_store_spark(spark, str(store), pack, since, until)
    assert _hits(sp) == _hits(duck) and sp.hits
    assert sp.coverage == duck.coverage and sp.coverage["from"] == "2018-03-20"
    assert "2018-03-20" in sp.coverage["days_without_data"][0] and sp.coverage["records"] < whole.coverage["records"]


def _rows(store: Path) -> list[tuple[object, ...]]:
    con = Store(str(store)).connect()
    return sorted(con.execute('SELECT day, kind, value, client, aux, first, last, count, file_id, line, "offset", '
                              "ip4, s2, s3, cip4 FROM obs").fetchall(), key=repr)


def test_spark_index_equals_local_and_is_idempotent(spark: Any, logs: tuple[Path, list[str]], tmp_path: Path) -> None:
    base, paths = logs
    mine = [shutil.copy(p, tmp_path / Path(p).name) for p in paths]
    local, remote = tmp_path / "local", tmp_path / "remote"
    index(local, mine)
    res = index_paths_spark(spark, Store(str(remote), create=True), mine, IndexOptions())
    assert {r.status for r in res} == {"indexed"} and sum(r.records for r in res) > 50
    assert _rows(remote) == _rows(local)  # file ids allocated by the driver in input order: rows compare whole
    pack = make_pack(tmp_path)
    assert store_table(remote, pack) == store_table(local, pack) == raw_table(pack, mine)[0]
    before = (remote / "manifest.json").read_text()
    assert {r.status for r in index_paths_spark(spark, Store(str(remote)), mine, IndexOptions())} == {"skipped"}
    assert (remote / "manifest.json").read_text() == before
    squid = Path(mine[0])
    assert squid.name == "squid.log"
    with squid.open("a") as fh:
        fh.write("1680090000.000    100 10.0.0.77 TCP_MISS/200 500 GET http://akamaicontainer.com/x - DIRECT/1.2.3.4 x\n")
    (tmp_path / "rotated.log.gz").write_bytes(gzip.compress(Path(mine[1]).read_bytes()))  # same content: skipped
    fifo = tmp_path / "pipe.log"
    os.mkfifo(fifo)
    res = {Path(r.path).name: r for r in index_paths_spark(spark, Store(str(remote)), [str(squid), str(tmp_path / "rotated.log.gz"),
                                                                                      str(fifo)], IndexOptions())}
    assert res["squid.log"].status == "grown" and res["squid.log"].records == 1
    assert res["rotated.log.gz"].status == "skipped" and res["pipe.log"].status == "error"
    assert store_table(remote, pack) == raw_table(pack, mine)[0] and ("10.0.0.77", "akamaicontainer.com") in \
        store_table(remote, pack)
    assert not (remote / ".tmp").exists() or not any((remote / ".tmp").iterdir())


def test_spark_index_failed_tasks_commit_nothing(spark: Any, logs: tuple[Path, list[str]], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Executors that do not see the batch folder (the store not on shared storage): the job fails, the
    error says so, the store is as it was."""
    from tracehound.engines import spark_index
    from tracehound.errors import InputError

    _base, paths = logs
    store = tmp_path / "store"
    index_paths_spark(spark, Store(str(store), create=True), paths[:2], IndexOptions())
    before = (store / "manifest.json").read_text()
    real = spark_index.scan_on_spark
    monkeypatch.setattr(spark_index, "scan_on_spark", lambda s, jobs, folder, o: real(s, jobs, folder / "gone", o))
    with pytest.raises(InputError, match="Spark tasks failed, nothing committed.*same path") as failed:
        index_paths_spark(spark, Store(str(store)), paths[:4], IndexOptions())
    assert "No such file or directory" in failed.value.message and "Traceback" not in failed.value.message
    assert (store / "manifest.json").read_text() == before and not any((store / ".tmp").iterdir())


def _pairs(path: Path) -> dict[tuple[str, str], tuple[Any, Any, int]]:
    out: dict[tuple[str, str], list[Any]] = {}
    for line in path.read_text().splitlines():
        th = json.loads(line)["tracehound"]
        for ind in th["indicators"]:
            _add(out, (th["host"], ind["value"]), th["first_contact"], th["last_contact"], th["count"])
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def test_cli_spark_index_and_store_hunt(spark: Any, logs: tuple[Path, list[str]], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    base, paths = logs
    store = tmp_path / "store"
    code, _, err = run_cli(["index", "--engine", "spark", "--spark-master", MASTER, *paths, "--store", store.as_uri()],
                           capsys)
    assert code == 0 and f"{len(paths)} files added" in err
    out, ref = tmp_path / "spark.jsonl", tmp_path / "duck.jsonl"
    code, _, err = run_cli(["hunt", "--engine", "spark", "--spark-master", MASTER, "--store", store.as_uri(),
                            "-o", str(out), "--evidence", "--summary", str(tmp_path / "s.json")], capsys)
    assert code == 1 and "no data" in err and "Coverage (store)" in err
    code, _, _ = run_cli(["hunt", "--store", str(base / "store"), "-o", str(ref)], capsys)
    assert code == 1 and _pairs(out) == _pairs(ref) and _pairs(out)
    docs = [json.loads(x) for x in out.read_text().splitlines()]
    assert all(d["tracehound"]["source"] == "store" and d["tracehound"]["evidence"] == "found" for d in docs)
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["coverage"]["records"] == sum(f["records"] for f in summary["coverage"]["formats"].values()) > 50


def test_cli_spark_hostile_stores(spark: Any, logs: tuple[Path, list[str]], tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    base, _paths = logs
    spk = ["--engine", "spark", "--spark-master", MASTER]
    code, _, err = run_cli(["hunt", *spk, "--store", (tmp_path / "nope").as_uri()], capsys)
    assert code == 2 and "not a tracehound store" in err and "Traceback" not in err
    store = tmp_path / "store"
    shutil.copytree(base / "store", store)
    part = store / json.loads((store / "manifest.json").read_text())["parts"][0]
    part.write_bytes(b"PAR1 not a parquet file")
    code, _, err = run_cli(["hunt", *spk, "--store", store.as_uri()], capsys)
    assert code != 0 and "store unreadable" in err and "Traceback" not in err
    part.unlink()
    code, _, err = run_cli(["hunt", *spk, "--store", str(store)], capsys)
    assert code == 2 and "store damaged" in err
    code, _, err = run_cli(["index", *spk, "x.log", "--store", "hdfs://nn/th"], capsys)
    assert code == 2 and "shared POSIX" in err
