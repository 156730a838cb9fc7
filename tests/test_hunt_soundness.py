"""Hunt soundness (issue 12, items 0-3 and 7): nothing the prefilter flags is dropped, whatever
the format; URLs in split-field logs; garbage first lines; truncated compressed streams; coverage
from the records read."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from pathlib import Path

import pytest
import zstandard

from conftest import run_cli
from huntutil import hits, hunt
from soundshapes import C2, C2_IP, MAPPING, SPLIT_FIELD, UNRECOGNISED, URL_IND, csv_mapped
from tracehound.engines.text_hunt import BINARY_HEAD
from tracehound.findings.ecs import matched_indicators
from tracehound.sources.logs.stream import DEFAULT_MAX_LINE


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def check(docs: list[dict], expected: dict[int, str]) -> None:
    got = hits(docs)
    assert set(got) == set(expected), f"lines hit {sorted(got)} != expected {sorted(expected)}"
    for line, ind in expected.items():
        assert ind in got[line], (line, got[line])


@pytest.mark.parametrize("shape", sorted(SPLIT_FIELD))
def test_url_indicator_in_split_field_logs(tmp_path: Path, pack3cx, shape: str) -> None:
    name, text, expected = SPLIT_FIELD[shape]()
    f = write(tmp_path, name, text)
    docs, summary = hunt(pack3cx, [str(f)], jobs=1)
    check(docs, expected)
    url_docs = [d for d in docs if any(m["value"] == URL_IND for m in matched_indicators(d))]
    assert url_docs and all(d["url"]["full"].lower().startswith(("http://github.com/", "https://github.com/"))
                            and d["tracehound"].get("match") != "raw" for d in url_docs)  # read from the fields
    assert summary.files[0].raw_matches == 0


def test_bluecoat_exact_line(tmp_path: Path, pack3cx) -> None:
    name, text, _ = SPLIT_FIELD["bluecoat"]()
    line = next(ln for ln in text.splitlines() if "icon12.ico" in ln)
    assert "GET http github.com 80 /IconStorages/images/main/icon12.ico - - " in line
    docs, _ = hunt(pack3cx, [str(write(tmp_path, name, text))], jobs=1)
    d = next(d for d in docs if d["event"]["original"] == line)
    assert d["url"]["full"] == "http://github.com/IconStorages/images/main/icon12.ico"
    assert d["source"]["ip"] == "10.20.1.55" and d["@timestamp"] == "2023-03-29T08:12:44Z"


def test_csv_with_map_host_and_path_columns(tmp_path: Path, pack3cx) -> None:
    name, text, expected = csv_mapped()
    docs, _ = hunt(pack3cx, [str(write(tmp_path, name, text))], jobs=1, fmt="csv", mapping=MAPPING)
    check(docs, expected)
    assert docs[0]["url"]["full"] == "http://github.com/IconStorages/images/main/icon12.ico"


def test_prefilter_looks_for_the_url_host_never_the_whole_url(pack3cx) -> None:
    from tracehound.matching.prefilter import literals_for

    lits = literals_for(pack3cx)
    assert "github.com" in lits and not any("/" in lit for lit in lits)


@pytest.mark.parametrize("shape", sorted(UNRECOGNISED))
def test_layout_read_without_known_fields_is_never_clean(tmp_path: Path, pack3cx, shape: str) -> None:
    name, text, expected = UNRECOGNISED[shape]()
    docs, summary = hunt(pack3cx, [str(write(tmp_path, name, text))], jobs=1)
    rep = summary.files[0]
    assert rep.error == ""
    check(docs, expected)  # by the reader's fields, or on the raw text: every C2 line, no near miss
    raw = [d for d in docs if d["tracehound"].get("match") == "raw"]
    assert rep.raw_matches == len(raw)
    for d in raw:
        assert d["event"]["original"] in text.splitlines()
        assert all(e["matched"]["field"] == "event.original" for e in d["threat"]["enrichments"])
    if rep.no_fields():
        summary.check_lookback(30, None, None, None)
        assert any(f"{rep.records} records, no host/destination field recognised" in w for w in summary.warnings)


APPLIANCE = [  # a vendor layout no reader knows
    "ACME-GW v2 session log",
    "when=2023-03-29T08:10:00Z who=10.20.1.55 peer=93.184.216.34 name=www.example.com verdict=pass",
    f"when=2023-03-29T08:10:01Z who=10.20.1.55 peer={C2_IP} name=www.example.com verdict=pass",
    f"when=2023-03-29T08:10:02Z who=10.20.1.56 peer=162.0.229.15 name=not{C2} verdict=pass",
    "when=2023-03-29T08:10:03Z who=10.20.1.57 peer=140.82.121.4 name=github.com get=/IconStorages/images/x.ico",
    "when=2023-03-29T08:10:04Z who=10.20.1.57 peer=140.82.121.4 name=github.com get=/IconStoragesX/images/x.ico",
    f"when=2023-03-29T08:10:05Z who=10.20.1.58 peer=9.9.9.9 name=cdn.{C2.upper()}. verdict=pass",
]


def test_unknown_text_format_hunted_on_raw_text(tmp_path: Path, pack3cx, capsys) -> None:
    f = write(tmp_path, "acme.log", "\n".join(APPLIANCE) + "\n")
    docs, summary = hunt(pack3cx, [str(f)], jobs=1)
    rep = summary.files[0]
    assert rep.error == "" and rep.format == "raw" and rep.records == len(APPLIANCE)
    check(docs, {3: C2_IP, 5: URL_IND, 7: C2})  # line 5: host and path in separate fields, joined
    assert rep.raw_matches == 3 == len(docs)
    for d in docs:
        assert d["tracehound"]["match"] == "raw" and d["tracehound"]["host"] == "unknown"
        assert d["event"]["original"] == APPLIANCE[d["tracehound"]["line"] - 1]
    assert summary.to_dict()["coverage"]["raw"]["raw_matches"] == 3
    code, _, err = run_cli(["hunt", "-o", str(tmp_path / "o.jsonl"), "--summary", str(tmp_path / "s.json"), str(f)], capsys)
    assert code == 1
    assert "unknown log format: 7 records, no host/destination field recognised" in " ".join(err.split())


def test_unparseable_record_with_indicator_checked_on_raw_text(tmp_path: Path, pack3cx) -> None:
    name, text, expected = SPLIT_FIELD["bluecoat"]()
    lines = text.splitlines()
    lines.append(f"2023-03-29 08:13:00 15 10.20.1.61 200 TCP_NC_MISS GET http github.com 80 "
                 f"/IconStorages/images/x.ico cut-short {C2_IP}")  # too few fields: RecordError
    lines.append("2023-03-29 08:13:01 15 10.20.1.62 200 TCP_NC_MISS GET http github.com 80 /IconStoragesX/y short")
    docs, summary = hunt(pack3cx, [str(write(tmp_path, name, "\n".join(lines) + "\n"))], jobs=1)
    check(docs, {**expected, len(lines) - 1: URL_IND})
    d = next(d for d in docs if d["tracehound"]["line"] == len(lines) - 1)
    assert d["tracehound"]["match"] == "raw" and "fields" in d["tracehound"]["parse_error"]
    assert {m["value"] for m in matched_indicators(d)} == {URL_IND, C2_IP}
    assert summary.files[0].raw_matches == 1
    assert sum(v for k, v in summary.skipped().items() if k.startswith("unparseable")) == 2


# ---- first line garbage (item 2) -------------------------------------------------------------

SQUID = [
    "1680077560.101    120 10.20.1.55 TCP_MISS/200 512 GET http://www.example.com/ alice DIRECT/93.184.216.34 text/html",
    f"1680077561.101    120 10.20.1.55 TCP_MISS/200 512 GET http://www.{C2}/x alice DIRECT/{C2_IP} text/html",
    f"1680077562.101    120 10.20.1.56 TCP_MISS/200 512 GET http://not{C2}/ bob DIRECT/162.0.229.15 text/html",
    f"1680077563.101    120 10.20.1.57 TCP_MISS/200 512 GET https://{URL_IND}/main/icon1.ico carol DIRECT/140.82.121.4 -",
]
SQUID_HITS = {2: C2, 4: URL_IND}


@pytest.mark.parametrize("first", ["long", "binary", "empty"])
def test_first_line_garbage_skipped_rest_hunted(tmp_path: Path, pack3cx, first: str) -> None:
    garbage = {"long": b"Z" * (2 * DEFAULT_MAX_LINE) + f" {C2}".encode(),  # over the documented --max-line bound
               "binary": bytes(range(256)).replace(b"\n", b"") * 64,
               "empty": b"\n\n"}[first]
    f = tmp_path / "access.log"
    f.write_bytes(garbage + b"\n" + "\n".join(SQUID).encode() + b"\n")
    docs, summary = hunt(pack3cx, [str(f)], jobs=1)
    rep = summary.files[0]
    assert rep.error == "" and rep.format == "squid"
    shift = 3 if first == "empty" else 1
    check(docs, {n + shift: ind for n, ind in SQUID_HITS.items()})
    assert rep.records == len(SQUID) + shift
    if first == "long":
        assert rep.skipped == {f"line longer than {DEFAULT_MAX_LINE} bytes": 1}
    elif first == "binary":
        assert rep.skipped == {BINARY_HEAD: 1}
    assert rep.first_ts == "2023-03-29T08:12:40.101000Z" and rep.last_ts == "2023-03-29T08:12:43.101000Z"


def test_binary_first_line_does_not_become_the_csv_header(tmp_path: Path, pack3cx) -> None:
    f = tmp_path / "export.csv"
    f.write_bytes(b"\x00\x01\x02PK\x03\x04\n@timestamp,source.ip,destination.domain\n"
                  + f"2023-03-29T08:10:00Z,10.20.1.55,{C2}\n".encode())
    docs, summary = hunt(pack3cx, [str(f)], jobs=1)
    assert summary.files[0].format == "csv"
    assert [(d["tracehound"]["line"], d["source"]["ip"], d.get("tracehound", {}).get("match")) for d in docs] == \
        [(3, "10.20.1.55", None)]


# ---- truncated compressed streams (item 3) ---------------------------------------------------

def _incremental(kind: str, blob: bytes) -> bytes:
    """What an incremental decompressor gets out of a cut stream (the reference, not our code)."""
    if kind == "gzip":
        return zlib.decompressobj(31).decompress(blob)
    if kind == "bz2":
        return bz2.BZ2Decompressor().decompress(blob)
    if kind == "xz":
        return lzma.LZMADecompressor().decompress(blob)
    return zstandard.ZstdDecompressor().decompressobj().decompress(blob)  # no zstd in this Python's stdlib


COMPRESS = {"gzip": lambda b: gzip.compress(b, 6), "bz2": lambda b: bz2.compress(b, 9),
            "xz": lambda b: lzma.compress(b, preset=1), "zstd": lambda b: zstandard.ZstdCompressor(level=3).compress(b)}


@pytest.mark.parametrize("kind", sorted(COMPRESS))
def test_truncated_stream_every_complete_line_hunted(tmp_path: Path, pack3cx, kind: str) -> None:
    rows = []
    for i in range(30000):
        host = f"cdn{i % 7}.{C2}" if i % 97 == 13 else f"host{i * 7919 % 100003}.example.net"
        rows.append(f"{1680077560 + i}.{i % 1000:03d}    {i % 500} 10.20.{i % 250}.{i % 199} TCP_MISS/200 {i * 31 % 9000} "
                    f"GET http://{host}/p/{i * 104729 % 1000003:x} u{i % 40} DIRECT/93.184.{i % 256}.{i % 211} text/html")
    data = ("\n".join(rows) + "\n").encode()
    blob = COMPRESS[kind](data)
    cut = blob[: len(blob) // 2]
    f = tmp_path / f"access.log.{kind}"
    f.write_bytes(cut)
    readable = _incremental(kind, cut)
    complete = readable[: readable.rfind(b"\n") + 1].decode().splitlines()
    expected = {n + 1 for n, line in enumerate(complete) if C2 in line}
    assert len(expected) > 100 and max(expected) > len(complete) - 200  # hits run up to the cut
    docs, summary = hunt(pack3cx, [str(f)], jobs=1)
    rep = summary.files[0]
    found = {d["tracehound"]["line"] for d in docs}
    assert {n for n in found if n <= len(complete)} == expected
    assert found - expected <= {len(complete) + 1}  # at most the cut line itself, on its raw text
    assert f"{kind} stream breaks at compressed byte {len(cut)} of {len(cut)}" in rep.truncated
    assert f"{rep.records} lines read and hunted before the break" in rep.truncated
    assert rep.records in (len(complete), len(complete) + 1)


# ---- coverage from the records read (item 7) -------------------------------------------------

WINDNS_HEADER = """DNS Server log file creation at 3/29/2023 8:00:00 AM
Log file wrap at 3/29/2023 8:00:00 AM

Message logging key (for packets - other items use a subset of these fields):
\tField #  Information         Values
\t-------  -----------         ------
\t   1     Date
\t   2     Time
\t   3     Thread ID
\t   4     Context
\t   5     Internal packet identifier
\t   6     UDP/TCP indicator
\t   7     Send/Receive indicator
\t   8     Remote IP
\t   9     Xid (hex)
\t  10     Query/Response      R = Response
\t                             blank = Query
\t  11     Opcode              Q = Standard Query
\t                             N = Notify
\t                             U = Update
\t                             ? = Unknown
\t  12     [ Flags (hex)
\t  13     Flags (char codes)  A = Authoritative Answer
\t                             T = Truncated Response
\t                             D = Recursion Desired
\t                             R = Recursion Available
\t  14     ResponseCode ]
\t  15     Question Type
\t  16     Question Name

""".splitlines()


def _windns(t: str, direction: str, ip: str, resp: bool, name: str) -> str:
    flags = "R Q [8081   DR NOERROR]" if resp else "  Q [0001   D   NOERROR]"
    wire = "".join(f"({len(p)}){p}" for p in name.split(".")) + "(0)"
    return f"3/29/2023 {t} 0E40 PACKET  000001E4D5A0C1B0 UDP {direction} {ip:<15} 8b1f {flags} A      {wire}"


def test_windows_dns_coverage_from_records(tmp_path: Path, pack3cx) -> None:
    rows = [_windns("8:00:01 AM", "Rcv", "10.20.1.55", False, "www.example.com"),
            _windns("8:00:02 AM", "Rcv", "10.20.1.55", False, f"cdn.{C2}"),
            _windns("8:00:02 AM", "Snd", "10.20.1.55", True, f"cdn.{C2}"),
            _windns("9:59:58 AM", "Rcv", "10.20.1.56", False, "www.example.org"),
            _windns("9:59:58 AM", "Snd", "10.20.0.1", False, "www.example.org"),  # forwarded upstream
            _windns("9:59:59 AM", "Rcv", "10.20.0.1", True, "www.example.org")]  # the upstream answer
    f = write(tmp_path, "dns.log", "\r\n".join(WINDNS_HEADER + rows) + "\r\n")
    docs, summary = hunt(pack3cx, [str(f)], jobs=1)
    assert summary.files[0].format == "windns" and len(docs) == 2
    cov = summary.coverage()["windns"]
    assert (cov["first"], cov["last"]) == ("2023-03-29T08:00:01Z", "2023-03-29T09:59:58Z")
    summary.check_lookback(1, None, None, None)
    assert not any("no timestamps" in w for w in summary.warnings)
    assert all(d["@timestamp"].startswith("2023-03-29T08:00:02") for d in docs)


# ---- real vendor lines (../shared/samples/vendor-logs): every record with a pack value is found --

DEST_FIELDS = ("destination.ip", "destination.domain", "url.domain", "dns.question.name", "server.domain")


def _flat(doc: dict, key: str):
    cur = doc
    for part in key.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _pack_value(v: str, sources: set[str]) -> str | None:
    import ipaddress
    import re

    if v in sources:
        return None
    try:
        ip = ipaddress.ip_address(v)
    except ValueError:
        return "domain" if re.fullmatch(r"(?:[a-z0-9_-]+\.)+[a-z]{2,}", v.lower()) else None
    if ip.is_private or ip.is_loopback or ip.is_multicast or ip.is_link_local or ip.is_unspecified or ip.is_reserved:
        return None
    return f"ipv{ip.version}"


def vendor_cases(root: Path) -> list[tuple[Path, list[str], dict[int, set[str]]]]:
    """(input, raw lines, {line: expected destination values}) for each aligned vendor sample."""
    import json

    out = []
    for exp in sorted(root.glob("*/*-expected.json")):
        src = exp.with_name(exp.name[: -len("-expected.json")])
        if src.suffix == ".json":
            lines = [_flat(e, "event.original") or "" for e in json.loads(src.read_text())["events"]]
        else:
            lines = src.read_text(encoding="utf-8").splitlines()
        docs = [d for d in json.loads(exp.read_text())["expected"] if d]
        sources = {str(_flat(d, "source.ip")) for d in docs if _flat(d, "source.ip")}
        want: dict[int, set[str]] = {}
        for n, d in enumerate(docs):
            orig = _flat(d, "event.original")
            if orig is not None:
                if orig not in lines:
                    continue
                line = lines.index(orig) + 1
            elif len(docs) == len(lines):
                line = n + 1
            else:
                continue
            for key in DEST_FIELDS:
                v = _flat(d, key)
                if isinstance(v, str) and _pack_value(v, sources):
                    want.setdefault(line, set()).add(v.lower())
        if want:
            out.append((src, lines, want))
    return out


def test_real_vendor_lines_never_read_as_clean(tmp_path: Path, samples: Path) -> None:
    from tracehound.intel.formats import read_pack

    cases = vendor_cases(samples / "vendor-logs")
    assert len(cases) >= 10
    missed: list[str] = []
    total = 0
    for src, lines, want in cases:
        values = sorted({v for vs in want.values() for v in vs})
        sources: set[str] = set()
        pack = tmp_path / f"{src.stem}.csv"
        pack.write_text("type,value\n" + "".join(f"{_pack_value(v, sources)},{v}\n" for v in values))
        log = tmp_path / f"{src.stem}.log"
        log.write_text("\n".join(lines) + "\n")  # .json inputs: their raw lines (event.original)
        docs, summary = hunt(read_pack(str(pack)), [str(log)], jobs=1)
        assert summary.files[0].error == "", (src, summary.files[0].error)
        got = hits(docs)
        for line, vals in want.items():
            total += 1
            if not got.get(line):
                missed.append(f"{src.name}:{line} {sorted(vals)}")
    assert total >= 50
    assert missed == [], f"{len(missed)} of {total} records with a pack value not found: {missed}"
