"""EVTX through the Rust-backed parser, on real Sysmon exports (../shared/samples/evtx)."""

import json
import shutil
from pathlib import Path

import evtx

from huntutil import hunt
from tracehound.intel.formats import read_pack


def pack(tmp_path: Path, rows: str):
    f = tmp_path / "p.csv"
    f.write_text("type,value,confidence\n" + rows)
    return read_pack(str(f))


def test_sysmon_network_connect(samples: Path, tmp_path: Path) -> None:
    f = samples / "evtx" / "exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx"
    docs, summary = hunt(pack(tmp_path, "domain,inwitelecom.net,80\nipv4,108.179.232.58,80\n"), [str(f)], jobs=1)
    assert summary.files[0].format == "evtx" and summary.files[0].records == 8
    got = {(d["destination"].get("domain"), d["destination"]["ip"]) for d in docs}
    assert got == {("aka112.inwitelecom.net", "105.73.6.112"), ("aka105.inwitelecom.net", "105.73.6.105"),
                   ("gator4243.hostgator.com", "108.179.232.58")}
    for d in docs:
        assert d["process"]["executable"].lower().endswith("mshta.exe")
        assert d["host"]["name"] and d["tracehound"]["winlog"]["record_id"] != d["tracehound"]["line"]  # two numberings, both kept
        raw = json.loads(d["event"]["original"])
        # time of the connection is EventData/UtcTime, not the record's TimeCreated
        assert d["@timestamp"].startswith(raw["Event"]["EventData"]["UtcTime"][:10])


def test_repeated_connections_and_empty_hostname(samples: Path, tmp_path: Path) -> None:
    f = samples / "evtx" / "PanacheSysmon_vs_AtomicRedTeam01.evtx"
    docs, _ = hunt(pack(tmp_path, "ipv4,151.101.0.133,80\n"), [str(f)], jobs=1)
    assert len(docs) == 3 and all("domain" not in d["destination"] for d in docs)


def test_uncompressed_ipv6(samples: Path, tmp_path: Path) -> None:
    f = samples / "evtx" / "DE_sysmon-3-rdp-tun.evtx"
    docs, _ = hunt(pack(tmp_path, "ipv6,fe80::80ac:4126:fa58:1b81,80\n"), [str(f)], jobs=1)
    assert docs and all("fe80:0:0:0:80ac:4126:fa58:1b81" in (d["source"].get("ip", ""), d["destination"].get("ip", ""))
                        for d in docs)


def test_sysmon_hashes(samples: Path, tmp_path: Path) -> None:
    f = samples / "evtx" / "Sysmon_UACME_64.evtx"
    sha = None
    for r in evtx.PyEvtxParser(str(f)).records_json():
        data = json.loads(r["data"])["Event"].get("EventData") or {}
        if "SHA256=" in str(data.get("Hashes", "")):
            sha = [p.split("=", 1)[1] for p in data["Hashes"].split(",") if p.startswith("SHA256=")][0]
            break
    assert sha
    docs, _ = hunt(pack(tmp_path, f"sha256,{sha.lower()},90\n"), [str(f)], jobs=1)
    assert docs and all(d["file"]["hash"]["sha256"] == sha.lower() for d in docs)


def test_corrupt_chunk_does_not_stop_the_file(samples: Path, tmp_path: Path) -> None:
    src = samples / "evtx" / "PanacheSysmon_vs_AtomicRedTeam01.evtx"
    bad = tmp_path / "bad.evtx"
    shutil.copy(src, bad)
    data = bytearray(bad.read_bytes())
    for off in range(0x1000 + 0x400, 0x1000 + 0x2400, 7):  # inside the first chunk's records
        data[off] = 0xFF
    bad.write_bytes(bytes(data))
    docs, summary = hunt(pack(tmp_path, "ipv4,151.101.0.133,80\n"), [str(bad)], jobs=1)
    rep = summary.files[0]
    assert rep.error == "" and rep.skipped  # unreadable records counted, the rest read
    assert rep.records > 100


def test_crafted_record_structure_does_not_crash() -> None:
    # atheris: a record whose elements are text where the schema has objects raised AttributeError
    from tracehound.sources.logs.evtx_source import record_observations

    for event in ({"Event": {"System": {"Provider": "x"}}}, {"Event": "x"}, {"Event": {"System": [], "EventData": "y"}},
                  {"Event": {"System": {"EventID": {"#text": "3"}, "Provider": {"#attributes": "z"},
                                        "TimeCreated": "t"}, "EventData": {"UtcTime": "not a time"}}}):
        obs, _computer, _eid, _rid, _image = record_observations(event)
        assert obs == []
