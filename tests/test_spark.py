"""The Spark engine (local[2]) gives the same findings as the local engine."""

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import run_cli
from huntutil import hunt, make_pack
from logfixtures import FORMATS

pyspark = pytest.importorskip("pyspark", reason="pip install 'tracehound[spark]' (CI installs it)")
if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
    pytest.skip("Java is needed for Spark", allow_module_level=True)

from tracehound.engines.local_hunt import HuntOptions  # noqa: E402
from tracehound.engines.spark_hunt import SparkOptions, run_spark_hunt  # noqa: E402
from tracehound.findings.ecs import matched_indicators  # noqa: E402


@pytest.fixture(scope="module")
def spark_opt() -> SparkOptions:
    return SparkOptions(master="local[2]", conf={"spark.sql.shuffle.partitions": "4", "spark.driver.memory": "1g"})


def spark_hunt(pack, paths: list[str], opt: SparkOptions, **kw) -> list[dict]:
    docs = []
    for _rep, lines in run_spark_hunt(pack, paths, HuntOptions(**kw), opt):
        docs += [json.loads(line) for line in lines]
    return docs


def key(d: dict) -> tuple:
    return (d["log"]["file"]["path"], d["tracehound"]["line"], d["tracehound"].get("log", {}).get("offset"),
            tuple(sorted(m["value"] for m in matched_indicators(d))))


def test_text_logs_same_findings_as_local(tmp_path: Path, spark_opt: SparkOptions) -> None:
    paths = []
    for name, fn in sorted(FORMATS.items()):
        text, _ = fn()
        p = tmp_path / f"{name}.log"
        p.write_text(text)
        paths.append(str(p))
    big = tmp_path / "big-squid.log"
    big.write_text(FORMATS["squid"]()[0] * 3000)  # split into several ranges below
    paths.append(str(big))
    pack = make_pack(tmp_path)
    local, _ = hunt(pack, paths, jobs=1)
    opt = SparkOptions(master=spark_opt.master, conf=spark_opt.conf, split_size=256 * 1024)
    remote = spark_hunt(pack, paths, opt)
    assert sorted(map(key, local)) == sorted(map(key, remote))
    assert len(local) > 15000
    assert sorted(json.dumps(d, sort_keys=True) for d in local) == sorted(json.dumps(d, sort_keys=True) for d in remote)


def test_parquet_table_with_mapping(tmp_path: Path, spark_opt: SparkOptions, pack3cx) -> None:
    from tracehound.engines.spark_hunt import session

    spark = session(spark_opt)
    rows = [("2023-03-28T10:00:00Z", "10.0.0.5", "www.example.com", "93.184.216.34", "http://www.example.com/"),
            ("2023-03-28T10:00:01Z", "10.0.0.5", "cdn.akamaicontainer.com.", "9.9.9.9", None),
            ("2023-03-28T10:00:02Z", "10.0.0.6", "notakamaicontainer.com", "162.0.229.15", None),
            ("2023-03-28T10:00:03Z", "10.0.0.7", None, "162.0.229.159", None),
            ("2023-03-28T10:00:04Z", "10.0.0.8", "github.com", "140.82.121.4", "https://github.com/IconStorages/images/x.ico"),
            ("2023-03-28T10:00:05Z", "10.0.0.9", "github.com", "140.82.121.4", "https://github.com/IconStoragesX/images")]
    out = tmp_path / "proxy.parquet"
    spark.createDataFrame(rows, "when string, client string, q string, server string, link string").coalesce(1) \
        .write.parquet(str(out))
    docs = spark_hunt(pack3cx, [str(out)], SparkOptions(master=spark_opt.master, conf=spark_opt.conf,
                                                         input_format="parquet"),
                      mapping={"@timestamp": "when", "source.ip": "client", "destination.domain": "q",
                               "destination.ip": "server", "url.full": "link"})
    got = {(d["tracehound"]["line"], m["value"]) for d in docs for m in matched_indicators(d)}
    assert got == {(2, "akamaicontainer.com"), (4, "162.0.229.159"), (5, "github.com/IconStorages/images")}
    assert {d["source"]["ip"] for d in docs} == {"10.0.0.5", "10.0.0.7", "10.0.0.8"}


def test_cli_spark_engine_and_parquet_output(tmp_path: Path, capsys) -> None:
    text, _ = FORMATS["squid"]()
    f = tmp_path / "s.log"
    f.write_text(text)
    code, _, err = run_cli(["hunt", "--engine", "spark", "--spark-master", "local[2]", "--output-format", "parquet",
                            "-o", str(tmp_path / "out"), str(f)], capsys)
    assert code == 1, err
    assert any(p.suffix == ".parquet" for p in (tmp_path / "out").iterdir())
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 5


def test_soundness_shapes_same_through_spark(tmp_path: Path, spark_opt: SparkOptions, pack3cx) -> None:
    """Issue 12 items 0-3 and 7 through --engine spark: split-field URLs, layouts with no known
    field, an unknown format, a garbage first line, a truncated gzip, Windows DNS coverage."""
    import gzip

    from soundshapes import SPLIT_FIELD, UNRECOGNISED
    from test_hunt_soundness import APPLIANCE, SQUID, SQUID_HITS, WINDNS_HEADER, _windns
    from tracehound.engines.hunt_summary import hunt_to_writer
    from tracehound.sources.logs.stream import DEFAULT_MAX_LINE

    expected: dict[str, set[int]] = {}
    for fn in [*SPLIT_FIELD.values(), *UNRECOGNISED.values()]:
        name, text, exp = fn()
        (tmp_path / name).write_text(text)
        expected[name] = set(exp)
    (tmp_path / "acme.log").write_text("\n".join(APPLIANCE) + "\n")
    expected["acme.log"] = {3, 5, 7}
    (tmp_path / "first-long.log").write_bytes(b"Z" * (2 * DEFAULT_MAX_LINE) + b"\n" + "\n".join(SQUID).encode() + b"\n")
    expected["first-long.log"] = {n + 1 for n in SQUID_HITS}
    blob = gzip.compress(("\n".join(SQUID * 20000) + "\n").encode())
    (tmp_path / "cut.log.gz").write_bytes(blob[: len(blob) // 2])
    (tmp_path / "dns.log").write_text("\r\n".join(WINDNS_HEADER + [
        _windns("8:00:01 AM", "Rcv", "10.20.1.55", False, "cdn.akamaicontainer.com"),
        _windns("8:00:02 AM", "Snd", "10.20.0.1", False, "www.example.org")]) + "\r\n")
    paths = sorted(str(p) for p in tmp_path.iterdir())

    def run(engine) -> tuple[list[dict], list]:
        lines: list[str] = []
        summary = hunt_to_writer(pack3cx, paths, HuntOptions(jobs=1), lines.append, engine=engine)
        return [json.loads(s) for s in lines], summary.files

    local, local_files = run(None)
    opt = SparkOptions(master=spark_opt.master, conf=spark_opt.conf, split_size=256 * 1024)
    remote, remote_files = run(lambda p, f, o: run_spark_hunt(p, f, o, opt))
    assert sorted(json.dumps(d, sort_keys=True) for d in local) == sorted(json.dumps(d, sort_keys=True) for d in remote)
    for name, lines in expected.items():
        assert {d["tracehound"]["line"] for d in remote if d["log"]["file"]["path"].endswith("/" + name)} == lines, name
    by_path = {r.path: r for r in remote_files}
    for r in local_files:
        s = by_path[r.path]
        assert (s.format, s.records, s.raw_matches, s.recognised > 0, s.first_ts, s.last_ts, bool(s.truncated)) == \
            (r.format, r.records, r.raw_matches, r.recognised > 0, r.first_ts, r.last_ts, bool(r.truncated)), r.path
    assert by_path[str(tmp_path / "acme.log")].format == "raw"
    assert by_path[str(tmp_path / "dns.log")].first_ts == "2023-03-29T08:00:01Z"
    assert "breaks at compressed byte" in by_path[str(tmp_path / "cut.log.gz")].truncated
