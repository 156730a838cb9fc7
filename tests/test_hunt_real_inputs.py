"""Real-shaped inputs the hunt must read right: concatenated Zeek rotations split across workers,
UTF-16 exports (Windows PowerShell, DNS debug and IIS logs), built from ../shared/samples."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

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


IIS = SAMPLES / "logs" / "iis" / "test-iis-7.5.log"
SQUID = SAMPLES / "logs" / "squid" / "access1.log"
WIN_PACK = """type,value,confidence
domain,goonernews.com,80
ipv4,10.0.140.2,80
ipv6,2001:cdba::3257:9652,80
"""


def _utf16(text: str, codec: str, bom: bool) -> bytes:
    data = text.replace("\n", "\r\n").encode(codec)  # Windows writes CRLF
    return ({"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[codec] if bom else b"") + data


@pytest.mark.parametrize("sample,codec,bom,gz", [
    (IIS, "utf-16-le", True, False),  # Windows PowerShell 5: Get-Content ... | Out-File
    (SQUID, "utf-16-le", False, False),  # a UTF-16LE export without BOM
    (SQUID, "utf-16-be", True, False),
    (SQUID, "utf-16-le", True, True),  # gzip'd
])
def test_utf16_logs_hunted_like_utf8(tmp_path: Path, sample: Path, codec: str, bom: bool, gz: bool) -> None:
    text = need(sample).read_text(encoding="utf-8")
    lines = text.splitlines()
    lines[0] = lines[0].replace("badeyek", "bädeyek\U0001f600")  # non-ASCII and beyond U+FFFF before the hits
    text = "\n".join(lines) + "\n"
    plain = tmp_path / "utf8.log"
    plain.write_bytes(text.replace("\n", "\r\n").encode())
    raw = _utf16(text, codec, bom)
    wide = tmp_path / ("utf16.log.gz" if gz else "utf16.log")
    wide.write_bytes(gzip.compress(raw) if gz else raw)
    p = tmp_path / "p.csv"
    p.write_text(WIN_PACK)
    pack = load_intel([str(p)])
    want, s8 = hunt(pack, [str(plain)], jobs=1)
    got, s16 = hunt(pack, [str(wide)], jobs=1)
    assert want and s16.files[0].error == "" and s16.files[0].format == s8.files[0].format
    assert s16.decoded() == {codec.upper().replace("UTF-16-", "UTF-16"): 1} and s8.decoded() == {}
    assert s16.to_dict()["decoded"] == s16.decoded()
    strip = lambda d: {k: v for k, v in d.items() if k not in ("log", "tracehound")}  # noqa: E731
    assert [strip(d) for d in got] == [strip(d) for d in want]
    assert [d["tracehound"]["line"] for d in got] == [d["tracehound"]["line"] for d in want]
    assert s16.files[0].records == s8.files[0].records
    start = 2 if bom else 0
    for d in got:  # the offset is the byte offset of the line in the original (decompressed) UTF-16 bytes
        off = d["tracehound"]["log"]["offset"]
        assert off >= start and (off - start) % 2 == 0
        line = raw[off:].decode(codec, errors="replace").split("\r\n", 1)[0]
        assert line == d["event"]["original"] == lines[d["tracehound"]["line"] - 1]


def test_utf16_detection_is_strict() -> None:
    from tracehound.sources.logs.textenc import utf16_of, width

    assert utf16_of("abc def\n".encode("utf-16-le") * 4) == ("utf-16-le", 0)
    assert utf16_of(b"\xfe\xff" + "x".encode("utf-16-be")) == ("utf-16-be", 2)
    assert utf16_of(b"a\x00b\x00" * 2) == ("", 0)  # too short to call it
    assert utf16_of(b"\x00" * 64) == ("", 0)  # NULs everywhere: binary, not UTF-16
    assert utf16_of(bytes(range(256)) * 4) == ("", 0)
    assert utf16_of(b"plain ascii text, one line\n" * 4) == ("", 0)
    s = "aé€\U0001f600\n"
    assert width(s.encode()) == len(s.encode("utf-16-le"))


def test_utf16_hunt_cli_says_decoded(tmp_path: Path, capsys) -> None:
    from conftest import run_cli

    text = need(SQUID).read_text(encoding="utf-8")
    f = tmp_path / "export.log"
    f.write_bytes(_utf16(text, "utf-16-le", True))
    p = tmp_path / "p.csv"
    p.write_text(WIN_PACK)
    code, _, err = run_cli(["hunt", "--intel", str(p), str(f), "-o", str(tmp_path / "o.jsonl"), "--no-first-seen"],
                           capsys)
    assert code == 1 and "decoded as UTF-16LE: 1 file" in err and "binary" not in err


def test_utf16_offsets_exact_across_blocks_and_never_split(tmp_path: Path, monkeypatch) -> None:
    """~10 MB of UTF-16 (several 4 MiB read blocks, non-ASCII in every copy), hunted with -j2 and a
    small split size: one unit (a cut at a 0x0A byte would fall mid-character), every offset exact."""
    from tracehound.engines import local_hunt

    lines = need(SQUID).read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("badeyek", "bädeyek\U0001f600")
    text = "\n".join(lines * 400) + "\n"
    raw = _utf16(text, "utf-16-le", True)
    f = tmp_path / "big.log"
    f.write_bytes(raw)
    monkeypatch.setattr(local_hunt, "SPLIT_MIN", 1024 * 1024)
    assert len(local_hunt.plan_units(str(f), 2)) == 1
    p = tmp_path / "p.csv"
    p.write_text(WIN_PACK)
    docs, summary = hunt(load_intel([str(p)]), [str(f)], jobs=2)
    per_copy = sum(1 for d in docs if d["tracehound"]["line"] <= len(lines))
    assert per_copy and len(docs) == 400 * per_copy and summary.files[0].records == 400 * len(lines)
    for d in docs[:: max(1, len(docs) // 50)] + docs[-3:]:
        off = d["tracehound"]["log"]["offset"]
        assert raw[off:].decode("utf-16-le", errors="replace").split("\r\n", 1)[0] == d["event"]["original"]


def test_evidence_line_read_back_at_reported_offset(tmp_path: Path) -> None:
    """line_at() gives the line a finding's offset names, for plain, gzip'd and UTF-16 files alike."""
    from tracehound.sources.logs.stream import line_at

    text = need(SQUID).read_text(encoding="utf-8").replace("badeyek", "bädeyek\U0001f600", 1)
    p = tmp_path / "p.csv"
    p.write_text(WIN_PACK)
    pack = load_intel([str(p)])
    files = {"a.log": text.encode(), "b.log": _utf16(text, "utf-16-le", True),
             "c.log.gz": gzip.compress(_utf16(text, "utf-16-be", True)), "d.log.gz": gzip.compress(text.encode())}
    for name, blob in files.items():
        (tmp_path / name).write_bytes(blob)
        docs, _ = hunt(pack, [str(tmp_path / name)], jobs=1)
        assert docs
        for d in docs:
            assert line_at(str(tmp_path / name), d["tracehound"]["log"]["offset"]) == d["event"]["original"], name
    assert line_at(str(tmp_path / "b.log"), 3) is None  # mid-line in a UTF-16 file
