"""Every log format: detection, hits, near misses (look-alikes, IP prefixes, CONNECT to a URL host)."""

from pathlib import Path

import pytest

from huntutil import hits, hunt, make_pack
from logfixtures import EXPECTED_READER, FORMATS, jsonl_mapped
from tracehound.findings.ecs import matched_indicators


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_format(name: str, tmp_path: Path) -> None:
    text, expected = FORMATS[name]()
    f = tmp_path / f"{name}.log"
    f.write_text(text, encoding="utf-8")
    docs, summary = hunt(make_pack(tmp_path), [str(f)], jobs=1)
    rep = summary.files[0]
    assert rep.error == "", rep.error
    assert rep.format == EXPECTED_READER.get(name, name)
    got = hits(docs)
    assert set(got) == set(expected), f"lines hit {sorted(got)} != expected {sorted(expected)}"
    for line, ind in expected.items():
        assert ind in got[line]
    for d in docs:
        assert d["event"]["kind"] == "alert" and d["event"]["original"]
        assert d["log"]["file"]["path"] == str(f)
        assert isinstance(d["tracehound"]["line"], int)


def test_mapped_jsonl(tmp_path: Path) -> None:
    text, expected = jsonl_mapped()
    f = tmp_path / "m.jsonl"
    f.write_text(text)
    docs, _ = hunt(make_pack(tmp_path), [str(f)], jobs=1, fmt="jsonl",
                   mapping={"destination.domain": "q", "source.ip": "client", "@timestamp": "when"})
    assert set(hits(docs)) == set(expected)
    assert docs[0]["source"]["ip"] == "10.0.0.5" and docs[0]["@timestamp"] == "2023-03-28T10:00:01Z"


def test_weak_connect_only_on_request(tmp_path: Path) -> None:
    f = tmp_path / "s.log"
    f.write_text("1680000003.000    100 10.0.0.7 TCP_MISS/200 500 CONNECT github.com:443 carol DIRECT/140.82.121.4 -\n")
    docs, _ = hunt(make_pack(tmp_path), [str(f)], jobs=1)
    assert docs == []
    docs, _ = hunt(make_pack(tmp_path), [str(f)], jobs=1, include_weak=True)
    assert len(docs) == 1 and docs[0]["tracehound"]["weak"] is True and docs[0]["tracehound"]["verdict"] == "suspicious"


def test_ecs_fields(tmp_path: Path) -> None:
    text, _ = FORMATS["squid"]()
    f = tmp_path / "a.log"
    f.write_text(text)
    docs, _ = hunt(make_pack(tmp_path), [str(f)], jobs=1)
    d = docs[0]
    assert d["@timestamp"] == "2023-03-28T10:40:01Z"
    assert d["source"]["ip"] == "10.0.0.5" and d["user"]["name"] == "alice"
    assert d["destination"]["domain"] == "www.akamaicontainer.com"
    assert d["url"]["full"] == "http://www.akamaicontainer.com/x"
    e = {x["value"]: x for x in d["tracehound"]["indicators"]}
    m = {x["value"]: x for x in matched_indicators(d)}
    assert m["akamaicontainer.com"]["field"] == "destination.domain"
    assert e["akamaicontainer.com"]["stage"] == "Stage 1"
    assert e["akamaicontainer.com"]["context"]["registrar"] == "Namecheap"
    assert m["162.0.229.159"]["field"] == "destination.ip"
    assert d["tracehound"]["log"]["offset"] == len(text.splitlines()[0]) + 1
    assert d["tracehound"]["line"] == 2 and d["tracehound"]["verdict"] == "compromised"


def test_inbound_from_c2_names_our_server_as_host(tmp_path: Path) -> None:
    text, _ = FORMATS["w3c-iis"]()
    f = tmp_path / "iis.log"
    f.write_text(text)
    docs, summary = hunt(make_pack(tmp_path), [str(f)], jobs=1)
    assert [d["tracehound"]["host"] for d in docs] == ["10.1.1.1"]  # the web server, not the C2 address
    assert "162.0.229.159" not in summary.hosts
