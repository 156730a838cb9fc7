"""`index` + `hunt --store`: the same (host, indicator, first, last, count) as the raw hunt, on every
format and on real third-party logs; idempotent and crash-safe ingestion."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from conftest import SAMPLES, need, run_cli
from huntutil import make_pack
from logfixtures import FORMATS
from storeutil import fixture_logs, index, raw_table, store_table
from tracehound.intel.builtin import load_intel
from tracehound.stores.layout import Batch, Store
from tracehound.stores.query import hunt_store


def _new_pack(tmp_path: Path) -> object:
    """Indicators the fixtures were not written for: a parent domain, a CIDR, a URL prefix, a DNS answer."""
    p = tmp_path / "new.csv"
    p.write_text("type,value\ndomain,example.com\ncidr,162.0.229.0/24\nurl,https://github.com/IconStorages\n"
                 "cidr,93.184.0.0/16\nipv4,10.0.0.100\n")
    return load_intel([str(p)])


def test_every_format_store_equals_raw_hunt(tmp_path: Path) -> None:
    paths = fixture_logs(tmp_path / "logs")
    index(tmp_path / "store", paths)
    for pack in (make_pack(tmp_path), _new_pack(tmp_path)):
        raw, raw_text = raw_table(pack, paths)
        assert raw and raw_text == 0
        assert store_table(tmp_path / "store", pack) == raw


def test_range_holding_the_clients_too_equals_raw_hunt(tmp_path: Path) -> None:
    """A CIDR that covers both ends of records (the clients' own 10.0.0.0/8, as a careless feed gives it): the
    raw hunt reports one contact of the client with both matches; the store used to name the destination as a
    second host (10.0.0.1, the resolver) and count the client's contacts once."""
    paths = fixture_logs(tmp_path / "logs")
    index(tmp_path / "store", paths)
    p = tmp_path / "own-range.csv"
    p.write_text("type,value\ncidr,10.0.0.0/8\n")
    pack = load_intel([str(p)])
    raw, _ = raw_table(pack, paths)
    assert ("10.0.0.5", "10.0.0.0/8") in raw and not any(h == "10.0.0.1" for h, _v in raw)
    assert store_table(tmp_path / "store", pack) == raw


@pytest.fixture(scope="module")
def real_corpus(tmp_path_factory) -> tuple[list[str], Path]:
    """Real Squid, Zeek DNS (TSV and JSON), Zeek SSL, Suricata EVE, vendor logs (one gzipped), indexed."""
    logs = need(SAMPLES / "logs")
    base = tmp_path_factory.mktemp("real")
    paths = [str(logs / "squid" / "access1.log"), str(logs / "squid" / "access2.log"),
             str(logs / "zeek" / "dns.log"), str(logs / "zeek" / "dns-json.log"), str(logs / "zeek" / "ssl.log"),
             str(logs / "suricata" / "eve-dns-4.1.4.log"), str(logs / "suricata" / "eve-small.log")]
    vendor = sorted(p for p in (SAMPLES / "vendor-logs").glob("*/*.log"))
    gz = base / "squid-pfsense.log.gz"
    gz.write_bytes(gzip.compress((SAMPLES / "vendor-logs" / "pfsense" / "test-pfsense-squid.log").read_bytes()))
    paths += [str(p) for p in vendor] + [str(gz)]
    store = base / "store"
    results = index(store, paths)
    assert all(r.status == "indexed" for r in results if r.path != str(gz)), [(r.path, r.detail) for r in results if r.status != "indexed"]
    return paths, store


def _real_pack(tmp_path: Path) -> object:
    """Indicators taken from the real Zeek DNS log: parent domains of queries, resolvers, a CIDR of answers."""
    names: list[str] = []
    resolvers: set[str] = set()
    for line in (SAMPLES / "logs" / "zeek" / "dns.log").read_text().splitlines():
        if line.startswith("#"):
            continue
        f = line.split("\t")
        resolvers.add(f[4])
        q = f[9].lower().rstrip(".")
        if q.count(".") >= 1 and ".".join(q.split(".")[-2:]) not in names:
            names.append(".".join(q.split(".")[-2:]))
    rows = ["type,value"] + [f"domain,{d}" for d in names[::3][:40]] + [f"ipv4,{ip}" for ip in sorted(resolvers)[:3]]
    rows += ["cidr,134.71.0.0/16", "domain,wrccdc.org"]
    p = tmp_path / "real.csv"
    p.write_text("\n".join(rows) + "\n")
    return load_intel([str(p)])


def test_real_logs_store_equals_raw_hunt(real_corpus: tuple[list[str], Path], tmp_path: Path) -> None:
    paths, store = real_corpus
    for pack in (load_intel(None), _real_pack(tmp_path)):
        raw, _raw_text = raw_table(pack, paths)
        assert store_table(store, pack) == raw
    assert len(raw) > 20  # the real pack hits many hosts: the comparison is not vacuous
    cov = hunt_store(Store(str(store)), load_intel(None)).coverage
    assert cov["records"] > 40000 and cov["days_with_data"] >= 4 and cov["days_without_data"]  # "no data" days told


def test_since_until_whole_days(real_corpus: tuple[list[str], Path], tmp_path: Path) -> None:
    from datetime import UTC, datetime

    paths, store = real_corpus
    pack = _real_pack(tmp_path)
    since, until = datetime(2018, 3, 24, tzinfo=UTC), datetime(2018, 3, 24, 23, 59, 59, 999999, tzinfo=UTC)
    from huntutil import hunt
    from tracehound.findings.ecs import matched_indicators

    docs, _ = hunt(pack, paths, jobs=1, since=since, until=until)
    raw: dict[tuple[str, str], int] = {}
    for d in docs:
        if d["tracehound"].get("match") != "raw":
            for m in matched_indicators(d):
                raw[(d["tracehound"]["host"], m["value"])] = raw.get((d["tracehound"]["host"], m["value"]), 0) + 1
    got = {k: v[2] for k, v in store_table(store, pack, since=since, until=until).items()}
    assert got == raw and raw
    cov = hunt_store(Store(str(store)), pack, since=datetime(2018, 3, 20, tzinfo=UTC), until=until).coverage
    assert cov["from"] == "2018-03-20" and "2018-03-20" in cov["days_without_data"][0]


def test_reindex_changes_nothing_appended_lines_once_rotations_skipped(tmp_path: Path) -> None:
    paths = fixture_logs(tmp_path / "logs")
    pack = make_pack(tmp_path)
    store = tmp_path / "store"
    index(store, paths)
    before = json.loads((store / "manifest.json").read_text())
    table = store_table(store, pack)
    again = index(store, paths)
    assert {r.status for r in again} == {"skipped"}
    assert json.loads((store / "manifest.json").read_text()) == before and store_table(store, pack) == table
    squid = Path(paths[0])
    assert squid.name == "squid.log"
    extra = "1680090000.000    100 10.0.0.77 TCP_MISS/200 500 GET http://akamaicontainer.com/x - DIRECT/1.2.3.4 text/html\n"
    rotated = tmp_path / "logs" / "squid.log.1"
    shutil.copy(squid, rotated)  # a rotated copy: same content
    (tmp_path / "logs" / "squid.log.2.gz").write_bytes(gzip.compress(squid.read_bytes()))  # ... and compressed
    with squid.open("a") as fh:
        fh.write(extra)
    res = {Path(r.path).name: r for r in index(store, [str(squid), str(rotated), str(tmp_path / "logs" / "squid.log.2.gz")])}
    assert res["squid.log"].status == "grown" and res["squid.log"].records == 1
    assert res["squid.log.1"].status == res["squid.log.2.gz"].status == "skipped"
    assert index(store, [str(squid)])[0].status == "skipped"
    raw, _ = raw_table(pack, paths)
    assert store_table(store, pack) == raw and ("10.0.0.77", "akamaicontainer.com") in raw


def test_interrupted_index_leaves_store_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = fixture_logs(tmp_path / "logs")
    pack = make_pack(tmp_path)
    store = tmp_path / "store"
    index(store, paths[:5])
    before = (store / "manifest.json").read_text()
    table = store_table(store, pack)
    real_write = Store._write_manifest

    def crash(self: Store) -> None:
        raise KeyboardInterrupt  # parts renamed into place, manifest not yet replaced

    monkeypatch.setattr(Store, "_write_manifest", crash)
    with pytest.raises(KeyboardInterrupt):
        index(store, paths)
    monkeypatch.setattr(Store, "_write_manifest", real_write)
    assert (store / "manifest.json").read_text() == before and store_table(store, pack) == table
    orphans = len(list((store / "obs").rglob("*.parquet")))
    assert orphans > len(json.loads(before)["parts"])  # the crash left parts no manifest names: ignored
    index(store, paths)  # the next run removes them and indexes what was missing, once
    raw, _ = raw_table(pack, paths)
    assert store_table(store, pack) == raw
    assert not (store / ".tmp").exists() or not any((store / ".tmp").iterdir())
    assert Batch  # the batch type the crash happened in


def test_cli_index_hunt_store_evidence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = fixture_logs(tmp_path / "logs")
    store = tmp_path / "store"
    code, _, err = run_cli(["index", *paths, "--store", str(store)], capsys)
    assert code == 0 and "20 files added" in err
    out = tmp_path / "hits.jsonl"
    code, _, err = run_cli(["hunt", "--store", str(store), "-o", str(out), "--evidence"], capsys)
    assert code == 1 and "no data" in err
    docs = [json.loads(x) for x in out.read_text().splitlines()]
    assert docs and all(d["tracehound"]["source"] == "store" for d in docs)
    lines = {p: Path(p).read_text().splitlines() for p in paths}
    for d in docs:
        assert d["tracehound"]["evidence"] == "found"
        assert d["event"]["original"] == lines[d["log"]["file"]["path"]][d["tracehound"]["line"] - 1]
    Path(paths[0]).unlink()
    run_cli(["hunt", "--store", str(store), "-o", str(out), "--evidence"], capsys)
    gone = [json.loads(x) for x in out.read_text().splitlines() if '"squid.log"' in x or "squid.log" in x]
    assert gone and all(d["tracehound"]["evidence"] == "file gone" for d in gone)
    code, _, err = run_cli(["hunt", "-o", str(out)], capsys)
    assert code == 2 and "--store" in err
    code, _, err = run_cli(["hunt", "--store", str(tmp_path / "nope")], capsys)
    assert code == 2 and "not a tracehound store" in err


def test_hostile_store_and_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import os

    paths = fixture_logs(tmp_path / "logs")
    store = tmp_path / "store"
    fifo = tmp_path / "pipe.log"
    os.mkfifo(fifo)
    gz = tmp_path / "cut.log.gz"
    gz.write_bytes(gzip.compress(Path(paths[0]).read_bytes() * 50)[:-40])  # a truncated gzip
    res = {Path(r.path).name: r for r in index(store, [*paths[:3], str(fifo), str(gz)])}
    assert res["pipe.log"].status == "error" and "not a regular file" in res["pipe.log"].detail
    assert res["cut.log.gz"].status == "indexed" and res["cut.log.gz"].detail.startswith("partly read")
    assert res["cut.log.gz"].records > 100
    part = store / json.loads((store / "manifest.json").read_text())["parts"][0]
    part.unlink()
    code, _, err = run_cli(["hunt", "--store", str(store)], capsys)
    assert code == 2 and "store damaged" in err and "Traceback" not in err
    (store / "manifest.json").write_text("{not json")
    code, _, err = run_cli(["hunt", "--store", str(store)], capsys)
    assert code != 0 and "unreadable store manifest" in err and "Traceback" not in err
    (tmp_path / "notstore").mkdir()
    (tmp_path / "notstore" / "x").write_text("x")
    code, _, err = run_cli(["index", paths[0], "--store", str(tmp_path / "notstore")], capsys)
    assert code == 2 and "not a store" in err


def _rows(store: Path) -> list[tuple[object, ...]]:
    con = Store(str(store)).connect()
    return sorted(con.execute("SELECT day, kind, value, client, aux, first, last, count, line, \"offset\" FROM obs").fetchall(),
                  key=repr)


def test_parallel_index_equals_serial_and_a_failing_file_leaves_nothing(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Files read by two worker processes give the rows one process gives; a file whose reading fails in a
    worker is an error of its own, the others are indexed, and the next run indexes it."""
    from tracehound.errors import InputError
    from tracehound.stores import ingest
    from tracehound.stores.ingest import IndexOptions, index_paths

    paths = fixture_logs(tmp_path / "logs")
    serial, parallel = tmp_path / "s", tmp_path / "p"
    index_paths(Store(str(serial), create=True), paths, IndexOptions(jobs=1))
    index_paths(Store(str(parallel), create=True), paths, IndexOptions(jobs=2))
    # file ids are the same in both (allocated by the parent in input order), so rows compare whole
    assert _rows(serial) == _rows(parallel) and len(_rows(serial)) > 50
    real = ingest.scan_records
    bad = paths[3]

    def failing(path: str, *a: object, **kw: object) -> object:
        if path == bad:
            raise InputError("decompression failed", path=path, line=7)
        return real(path, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest, "scan_records", failing)  # forked workers inherit the patch
    third = tmp_path / "third"
    res = {r.path: r for r in index_paths(Store(str(third), create=True), paths, IndexOptions(jobs=2))}
    assert res[bad].status == "error" and "decompression failed" in res[bad].detail
    assert all(r.status == "indexed" for p, r in res.items() if p != bad)
    assert not list((third / ".tmp").glob("*/rows-*")) and str(bad) not in json.dumps(Store(str(third)).files)
    monkeypatch.setattr(ingest, "scan_records", real)
    again = {r.path: r.status for r in index_paths(Store(str(third)), paths, IndexOptions(jobs=2))}
    assert again[bad] == "indexed" and sum(s == "skipped" for s in again.values()) == len(paths) - 1
    assert _rows(third) == _rows(serial)  # file ids differ (the failed file got a new one), rows do not


def test_index_says_which_symlinks_it_did_not_follow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A log bundle with a symlink inside (to a file and to a folder outside it): not read, and said per path."""
    logs = tmp_path / "bundle"
    logs.mkdir()
    outside = tmp_path / "outside.log"
    outside.write_text(FORMATS["squid"]()[0])
    (logs / "real.log").write_text(FORMATS["squid"]()[0])
    (logs / "link.log").symlink_to(outside)
    (logs / "etc").symlink_to("/etc")
    code, _out, err = run_cli(["index", str(logs), "--store", str(tmp_path / "store")], capsys)
    flat = " ".join(err.split())
    assert code == 0, err
    assert "not followed: 2 symlink(s)" in flat and "link.log" in flat and "etc" in flat
    assert "1 files added" in flat
    assert [f["path"] for f in Store(str(tmp_path / "store")).files.values()] == [str(logs / "real.log")]
