"""Real-shaped inputs the hunt must read right: concatenated Zeek rotations split across workers,
UTF-16 exports (Windows PowerShell, DNS debug and IIS logs), built from ../shared/samples."""

from __future__ import annotations

from pathlib import Path

from conftest import SAMPLES, need
from huntutil import hunt
from tracehound.intel.builtin import load_intel

ZEEK = SAMPLES / "logs" / "zeek"
# Names and addresses that occur in both rotations (ssl.log server_name / dns.log query, answers).
ZEEK_PACK = """type,value,confidence
domain,arena1.wrccdc.cpp.edu,80
domain,docs.google.com,80
domain,o.aolcdn.com,80
ipv4,10.47.3.200,80
"""


def zeek_pack(tmp_path: Path):
    f = tmp_path / "zeek-pack.csv"
    f.write_text(ZEEK_PACK)
    return load_intel([str(f)])


def _key(d: dict) -> tuple:
    return d["tracehound"]["line"], d["tracehound"].get("log", {}).get("offset")


def test_concatenated_zeek_rotations_split_equal_whole(tmp_path: Path, monkeypatch) -> None:
    """`cat ssl.log dns.log`: two '#fields' headers with different columns. A range starting in the
    dns part must read it with the dns header, not the file's first (ssl) one."""
    from tracehound.engines import local_hunt

    ssl, dns = need(ZEEK / "ssl.log").read_bytes(), need(ZEEK / "dns.log").read_bytes()
    f = tmp_path / "zeek-cat.log"
    f.write_bytes(ssl + dns)
    pack = zeek_pack(tmp_path)
    whole, s1 = hunt(pack, [str(f)], jobs=1)
    monkeypatch.setattr(local_hunt, "SPLIT_MIN", 1024 * 1024)
    units = local_hunt.plan_units(str(f), 2)
    assert len(units) == 2 and units[1].start > len(ssl)  # the second range starts inside the dns part
    split, s2 = hunt(pack, [str(f)], jobs=2)
    dns_part = [d for d in whole if d["tracehound"]["log"]["offset"] >= len(ssl)]
    assert dns_part and all(d["tracehound"].get("match") != "raw" for d in dns_part)  # read with dns fields
    assert any(d.get("dns", {}).get("question", {}).get("name") == "docs.google.com" for d in dns_part)
    assert sorted(whole, key=_key) == sorted(split, key=_key)
    a, b = s1.files[0], s2.files[0]
    assert (a.skipped, a.records, a.first_ts, a.last_ts) == (b.skipped, b.records, b.first_ts, b.last_ts)


def test_header_block_found_backwards(tmp_path: Path) -> None:
    from tracehound.engines.text_hunt import last_header_block

    f = tmp_path / "z.log"
    f.write_bytes(b"#fields\ta\tb\n1\t2\n#close\tx\n#path\tdns\n#fields\tts\tquery\n1\tq\n2\tr\n")
    start = f.read_bytes().index(b"2\tr")
    assert last_header_block(str(f), start) == ["#close\tx", "#path\tdns", "#fields\tts\tquery"]
    assert last_header_block(str(f), f.read_bytes().index(b"1\t2")) == []  # only the top block: given already


def test_ipv6_zone_id_is_not_identity_and_counted(tmp_path: Path) -> None:
    """A link-local peer logged with its zone (Windows, macOS logs: fe80::1%12, fe80::1%eth0) matches the
    indicator fe80::1; the zone is dropped on purpose and the matches are counted in the summary."""
    from tracehound.matching.normalize import has_zone, norm_ip

    assert norm_ip("fe80::1%eth0") == norm_ip("[fe80::1%25eth0]") == "fe80::1"
    assert norm_ip("10.0.0.1%eth0") == "" and not has_zone("10.0.0.1%eth0") and has_zone("fe80::1%12")
    lines = need(ZEEK / "dns.log").read_text().splitlines()
    head = [ln for ln in lines[:20] if ln.startswith("#")]
    body = [ln for ln in lines if not ln.startswith("#")][:50]
    body[7] = body[7].replace("\t10.0.0.100\t", "\tfe80::1%eth0\t", 1)
    body[9] = body[9].replace("\t10.0.0.100\t", "\tfe80::1\t", 1)
    f = tmp_path / "dns.log"
    f.write_text("\n".join(head + body) + "\n")
    p = tmp_path / "p.csv"
    p.write_text("type,value\nipv6,fe80::1\n")
    docs, summary = hunt(load_intel([str(p)]), [str(f)], jobs=1)
    assert sorted(d["tracehound"]["line"] for d in docs) == [len(head) + 8, len(head) + 10]
    assert summary.zone_matches == 1 and summary.to_dict()["zone_matches"] == 1
    summary.check_lookback(30, None, None, None)
    assert any("1 findings: IPv6 zone id ignored" in w for w in summary.warnings)
