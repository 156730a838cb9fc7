"""Vendor layouts as their vendors document them (tests/vendorcases.py), generated with C2 contacts and near misses.

Per hit line: the indicator, the source address, the host the finding is attributed to and its time.
Also: the registry, hostile records, Spark parity, mixed syslog collector files, the docs table.
"""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path

import pytest

from huntutil import hunt, make_pack
from logfixtures import C2_IP
from tracehound.findings.ecs import matched_indicators
from vendorcases import CASES, NEAR_IP, mixed_syslog


@pytest.mark.parametrize("name", sorted(CASES))
def test_vendor_layout(name: str, tmp_path: Path) -> None:
    text, fmt, expected = CASES[name]()
    f = tmp_path / f"{name}.log"
    f.write_text(text, encoding="utf-8")
    os.utime(f, (1680086400, 1680086400))  # the file's time gives year-less syslog lines their year (2023)
    docs, summary = hunt(make_pack(tmp_path), [str(f)], jobs=1)
    rep = summary.files[0]
    assert rep.error == "", rep.error
    assert rep.format == fmt
    got: dict[int, dict] = {}
    for d in docs:
        got.setdefault(d["tracehound"]["line"], d)
    assert sorted(got) == sorted(expected), f"lines hit {sorted(got)} != expected {sorted(expected)}"
    for d in docs:  # ECS ip-typed fields hold addresses only
        for fld in ("source", "destination"):
            if d.get(fld, {}).get("ip"):
                ipaddress.ip_address(d[fld]["ip"])
    for line, (ind, src, host, ts) in expected.items():
        d = got[line]
        assert ind in {m["value"] for m in matched_indicators(d)}, (line, d["threat"])
        assert d.get("source", {}).get("ip", "") == src, (line, d.get("source"))
        assert d["tracehound"]["host"] == host, (line, d["tracehound"])
        assert d["@timestamp"] == ts, (line, d["@timestamp"])
        assert "parse_error" not in d["tracehound"] and d["tracehound"].get("match") != "raw", d["tracehound"]


def test_actions_are_kept(tmp_path: Path) -> None:
    """Whether the device blocked the contact is part of the finding (Squid TCP_DENIED, Umbrella Blocked, ASA Deny)."""
    want = {"squid-combined": {4: "denied"}, "umbrella-dns": {3: "blocked"}, "cisco-asa-ftd": {5: "deny"}}
    for name, actions in want.items():
        text, _fmt, _exp = CASES[name]()
        f = tmp_path / f"{name}.log"
        f.write_text(text, encoding="utf-8")
        docs, _ = hunt(make_pack(tmp_path), [str(f)], jobs=1)
        got = {d["tracehound"]["line"]: d.get("event", {}).get("action", "") for d in docs}
        assert {line: got.get(line) for line in actions} == actions, (name, got)


def test_registry_orders_and_names_every_reader() -> None:
    from tracehound.sources.logs.readers import BY_NAME, READERS, TEXT_FORMATS, registry
    from tracehound.sources.logs.readers.base import Reader

    prio = registry.priorities()
    assert set(prio) == set(BY_NAME) and [prio[r.name] for r in READERS] == sorted(prio.values())
    assert {"kv", "asa", "umbrella", "winfw", "route53", "azurefw", "pfsense"} <= set(BY_NAME)
    assert READERS[-2:] == [BY_NAME["jsonl"], BY_NAME["csv"]]  # generic readers are tried last
    assert prio["winfw"] < prio["w3c"]  # pfirewall.log also has a '#Fields:' header
    assert "evtx" in TEXT_FORMATS and set(BY_NAME) <= set(TEXT_FORMATS)
    with pytest.raises(ValueError, match="two log readers"):
        registry.add(type("Dup", (Reader,), {"name": "kv"}), 1)


def test_hostile_key_value_line_is_linear(tmp_path: Path) -> None:
    """Each hostile shape: CPU time at 4x its size within 10x (scaling.py; a quadratic parser is 16x), then parsed
    at the size that took seconds with the former regexes. No wall clock."""
    from scaling import assert_linear
    from tracehound.sources.logs.readers import BY_NAME
    from tracehound.sources.logs.readers.keyvalue import pairs

    for shape in (lambda k: 'a="' * k, lambda k: "a=" * (2 * k), lambda k: 'k:"' * k,
                  lambda k: "x=1 " * k + 'y="unterminated'):
        assert_linear(pairs, shape, 500, what=shape(1))
        pairs(shape(20000))

    def parser(name: str):
        def parse(line: str) -> None:
            try:
                BY_NAME[name]({}).parse(line)
            except Exception as exc:  # noqa: BLE001 - only the cost matters here
                assert type(exc).__name__ == "RecordError", exc
        return parse
    for name, shape in (("asa", lambda k: "%FTD-1-430003: " + "a" * k),
                        ("asa", lambda k: "%ASA-6-302013: Built inbound TCP " + "a" * k),
                        ("asa", lambda k: "%ASA-4-106023: Deny tcp src " + "a" * k),
                        ("asa", lambda k: "%ASA-6-106100: access-list " + "a" * k),
                        ("asa", lambda k: "%ASA-6-106015: Deny TCP (no connection) from " + "1" * k),
                        ("asa", lambda k: "%ASA-6-302014: Teardown TCP connection 1 for " + "a:" * (k // 2)),
                        ("kv", lambda k: "LEEF:2.0|a|b|c|d|" + "x" * k), ("kv", lambda k: "a" * k + "=" + "a" * k),
                        ("pfsense", lambda k: " filterlog[1]: " + "," * k), ("jsonl", lambda k: "1" * (k // 2)),
                        ("azurefw", lambda k: '{"category":"AzureFirewallDnsProxy","n":' + "9" * (k // 2) + "}"),
                        ("azurefw", lambda k: '{"category":"AzureFirewallNetworkRule","properties":{"msg":"TCP request from '
                         + "Url: " * (k // 5) + '"}}')):
        assert_linear(parser(name), shape, 2048, what=f"{name}: {shape(0)[:30]}")
        parser(name)(shape(200000))


def test_tab_separated_export_with_known_header(tmp_path: Path) -> None:
    """Advanced Hunting results saved as tab-separated text; tab-separated text without a known header is not CSV."""
    from tracehound.sources.logs.readers.generic import CsvReader

    text = "Timestamp\tDeviceName\tRemoteIP\tRemoteUrl\tLocalIP\n" + \
        f"2023-03-28T10:03:00Z\tws-90\t{C2_IP}\t\t10.8.0.90\n2023-03-28T10:03:01Z\tws-91\t{NEAR_IP}\t\t10.8.0.91\n"
    f = tmp_path / "ah.tsv"
    f.write_text(text)
    docs, summary = hunt(make_pack(tmp_path), [str(f)], jobs=1)
    assert summary.files[0].format == "csv"
    assert [(d["tracehound"]["line"], d["source"]["ip"], d["tracehound"]["host"]) for d in docs] == [(2, "10.8.0.90", "ws-90")]
    assert not CsvReader.sniff(["alpha\tbeta\tgamma", "1\t2\t3"])


def test_docs_list_every_reader_and_synonym() -> None:
    from conftest import REPO
    from tracehound.sources.logs.readers import BY_NAME
    from tracehound.sources.logs.readers.synonyms import KV_FIELDS, RECORD_FIELDS

    doc = (REPO / "docs" / "log-formats.md").read_text(encoding="utf-8")
    missing = [n for n in BY_NAME if f"`{n}`" not in doc]
    missing += [f"{t}:{n}" for table in (RECORD_FIELDS, KV_FIELDS) for t, names in table.items() for n in names
                if f"`{n}`" not in doc]
    assert not missing, f"docs/log-formats.md does not list {missing}"


NEW_READERS = ("kv", "asa", "junos-flow", "umbrella", "winfw", "route53", "azurefw", "pfsense", "syslog-mixed", "csv",
               "jsonl")


def _seed_lines() -> list[str]:
    return [ln for fn in (*CASES.values(), mixed_syslog) for ln in fn()[0].splitlines() if ln]


@pytest.mark.parametrize("name", NEW_READERS)
def test_hostile_records_only_raise_record_error(name: str) -> None:
    """Mutated vendor lines and random text: a reader either parses or raises RecordError (counted), nothing else."""
    import random

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tracehound.sources.logs.observation import RecordError
    from tracehound.sources.logs.readers import BY_NAME

    seeds = _seed_lines()

    def mutate(rnd: random.Random) -> str:
        s = list(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 8)):
            p = rnd.randrange(len(s) + 1)
            op = rnd.randrange(4)
            if op == 0:
                s[p:p] = rnd.choice(['"', "=", ":", ",", "|", "\\", "\t", "/", "[", "]", "{", "\x00", "%ASA-6-302013:"])
            elif op == 1:
                del s[p:p + rnd.randint(1, 20)]
            elif op == 2:
                s[p:p] = s[p:p + 40] * 3
            else:
                s = s[:p]
        return "".join(s)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.one_of(st.text(max_size=400), st.randoms(use_true_random=False).map(mutate)))
    def run(line: str) -> None:
        r = BY_NAME[name]({})
        if line.startswith("#") and r.has_headers:
            r.header(line)
            return
        for text in (line, line):  # CSV-like readers take a header row first
            try:
                for o in r.parse(text):
                    assert o.dst_port is None or 0 <= o.dst_port < 65536
            except RecordError:
                pass

    run()


def test_same_findings_through_spark(tmp_path: Path) -> None:
    """--engine spark reads the same vendor layouts with the same readers: identical findings."""
    import shutil

    pytest.importorskip("pyspark", reason="pip install 'tracehound[spark]'")
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        pytest.skip("Java is needed for Spark")
    from tracehound.engines.local_hunt import HuntOptions
    from tracehound.engines.spark_hunt import SparkOptions, run_spark_hunt

    paths = []
    for name, fn in sorted(CASES.items()):
        p = tmp_path / f"{name}.log"
        p.write_text(fn()[0], encoding="utf-8")
        paths.append(str(p))
    pack = make_pack(tmp_path)
    local, _ = hunt(pack, paths, jobs=1)
    opt = SparkOptions(master="local[1]", conf={"spark.sql.shuffle.partitions": "2", "spark.driver.memory": "1g"})
    remote = [json.loads(line) for _rep, lines in run_spark_hunt(pack, paths, HuntOptions(), opt) for line in lines]
    assert len(local) == sum(len(fn()[2]) for fn in CASES.values())
    assert sorted(json.dumps(d, sort_keys=True) for d in local) == sorted(json.dumps(d, sort_keys=True) for d in remote)


def test_mixed_syslog_collector_file(tmp_path: Path) -> None:
    """Each device's lines through its own reader; the unrecognised line is counted, never silently dropped."""
    text, fmt, expected = mixed_syslog()
    f = tmp_path / "remote.log"
    f.write_text(text, encoding="utf-8")
    os.utime(f, (1680000000 + 86400, 1680000000 + 86400))  # the file's time gives syslog lines their year (2023)
    docs, summary = hunt(make_pack(tmp_path), [str(f)], jobs=1)
    assert summary.files[0].format == fmt
    by_line = {d["tracehound"]["line"]: d for d in docs}
    for line, (ind, src, host, ts) in expected.items():
        d = by_line[line]
        assert ind in {m["value"] for m in matched_indicators(d)}
        assert (d["source"]["ip"], d["tracehound"]["host"], d["@timestamp"]) == (src, host, ts)
    assert 4 not in by_line  # near misses
    # the cron line holds the C2 domain but no device format: reported from its raw text or counted, not lost
    assert 5 in by_line or any("unparseable" in k for k in summary.files[0].skipped), summary.files[0].skipped
