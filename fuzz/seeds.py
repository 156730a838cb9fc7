"""Seed inputs for the fuzz targets: real third-party files from ../shared/samples when present
(read in place, never copied into the repository), plus the project's own generated files, so
that every target starts from the shapes it meets in the field (a one-byte EVTX corpus reached
14 coverage edges in 1.1 M runs; the real EVTX files start past the chunk and template parsing)."""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples"
MAX_SEED = 128 * 1024  # libFuzzer's -max_len defaults to the largest seed: keep mutations fast

# target -> (sample globs, how a file becomes a seed). Reader seeds carry the reader index byte.
READER_SAMPLES = {"squid": ["logs/squid/*.log", "vendor-logs/pfsense/test-pfsense-squid.log"],
                  "panos": ["logs/panos/*.log", "vendor-logs/panw/*.log"], "w3c": ["logs/iis/*.log"],
                  "zeek": ["logs/zeek/dns.log", "logs/zeek/ssl.log"],
                  "zeek-json": ["logs/zeek/dns-json.log", "logs/zeek/http-json.log"],
                  "suricata": ["logs/suricata/*.log"], "jsonl": ["vendor-logs/aws/test-route53.log"],
                  "cef": ["vendor-logs/*/*.log"]}
SAMPLE_GLOBS = {
    "evtx_file": ["evtx/*.evtx"], "log_stream": ["logs/*/*.log", "vendor-logs/*/*.log"],
    "advisory": ["../seed/*.txt"], "split_hashes": ["../seed/*.txt", "loki-iocs/hash-iocs.txt"],
    "yara_rules": ["yara/*.yar"], "packs/loki": ["loki-iocs/*.txt"], "packs/misp": ["misp-events/*.json"],
}


def _files(globs: list[str]) -> list[Path]:
    if not SAMPLES.is_dir():
        return []
    out: list[Path] = []
    for g in globs:
        out += sorted(p for p in SAMPLES.glob(g) if p.is_file() and not p.name.endswith("-expected.json"))
    return out


def _head(path: Path, limit: int = MAX_SEED) -> bytes:
    data = path.read_bytes()[:limit]
    return data[: data.rfind(b"\n") + 1] if len(data) == limit and b"\n" in data else data


def real_seeds(target: str) -> list[bytes]:
    """Seeds from the real third-party samples (empty when ../shared/samples is absent)."""
    from tracehound.fuzzing import PACK_FORMATS, READER_NAMES

    if target == "evtx_file":
        from tracehound.sources.logs.evtx_source import EVTX_MAGIC

        # the target prepends the magic; the small files (header + one 64 KiB chunk) keep runs fast
        return [p.read_bytes()[len(EVTX_MAGIC):] for p in _files(SAMPLE_GLOBS["evtx_file"]) if p.stat().st_size <= 80 * 1024]
    if target == "evtx_record":
        import evtx

        out = []
        for p in _files(SAMPLE_GLOBS["evtx_file"])[:3]:
            for n, rec in enumerate(evtx.PyEvtxParser(str(p)).records_json()):
                if n >= 20:
                    break
                out.append(str(rec.get("data") or "").encode())
        return out
    if target == "readers":
        return [bytes([READER_NAMES.index(r)]) + _head(p, 32 * 1024) for r, globs in READER_SAMPLES.items()
                for p in _files(globs)]
    if target == "packs":
        return [bytes([PACK_FORMATS.index(fmt)]) + _head(p) for fmt in ("loki", "misp")
                for p in _files(SAMPLE_GLOBS[f"packs/{fmt}"])]
    if target in SAMPLE_GLOBS:
        return [_head(p) for p in _files(SAMPLE_GLOBS[target])]
    return []


@cache
def seeds_for(target: str) -> list[bytes]:
    """Real seeds first, then the generated ones (which cover the project's own shapes)."""
    return real_seeds(target) + generated_seeds(target)


def generated_seeds(target: str) -> list[bytes]:
    sys.path.insert(0, str(ROOT / "tests"))
    from logfixtures import FORMATS
    from tracehound.fuzzing import PACK_FORMATS, READER_NAMES
    from tracehound.intel.builtin import load_intel
    from tracehound.intel.formats import write_pack
    from tracehound.samples import make_asar

    pack = load_intel(None)
    logs = {name: fn()[0].encode() for name, fn in FORMATS.items()}
    advisory = ("Alerte – Exemple\n\nDomaine\nIP\nbad[.]example.com\n198.51[.]100.7\n\n"
                "Hash (sha-256)\nFilename\n5d99efa36f34aa6b43cd81e77544961 c5c8d692c96059fef92c2df2624550734\nx.dll\n"
                "Windows App version 1.2.3 est affectée. hxxps://evil[.]example/a\n").encode()
    # Advisories with pasted detection rules (intel/rules.py): the project's test advisories.
    with_rules = [(ROOT / "tests" / "data" / "advisories" / n).read_bytes()
                  for n in ("acme-smoothoperator.md", "acme-prose.txt", "acme-html.html")]
    # Host artefacts (intel/artefacts.py): paths, keys, mutexes, a Path column, the rules' own paths.
    artefacts = (ROOT / "tests" / "data" / "advisories" / "shadowcrane-eset-style.md").read_bytes()
    if target in ("advisory", "split_hashes"):
        return [advisory] + (with_rules[:2] + [artefacts] if target == "advisory" else [])
    if target == "advisory_html":
        return [b"<html><table><tr><th>Domain</th><th>IP</th></tr><tr><td>a[.]example.com</td><td>192.0.2[.]1</td></tr></table></html>",
                with_rules[2]]
    if target == "readers":
        return [bytes([READER_NAMES.index(r)]) + logs[f] for f, r in
                (("squid", "squid"), ("ncsa", "ncsa"), ("w3c-iis", "w3c"), ("zscaler", "zscaler"), ("panos", "panos"),
                 ("windns", "windns"), ("bind", "bind"), ("dnsmasq", "dnsmasq"), ("zeek-dns", "zeek"),
                 ("zeek-json", "zeek-json"), ("suricata", "suricata"), ("jsonl", "jsonl"), ("csv", "csv"), ("cef", "cef"))]
    if target == "log_stream":
        import gzip

        return [logs["squid"], logs["zeek-dns"], gzip.compress(logs["suricata"])]
    if target == "evtx_record":
        return [json.dumps({"Event": {"System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
                                                 "EventID": 3, "Computer": "PC"},
                                      "EventData": {"UtcTime": "2023-03-28 10:00:00.000", "DestinationIp": "1.2.3.4",
                                                    "Hashes": "SHA256=AB,MD5=CD"}}}).encode()]
    if target == "evtx_file":
        return [b"\x00" * 120 + b"ElfChnk\x00" + b"\x00" * 64]
    if target == "packs":
        out = []
        for fmt in PACK_FORMATS:
            text = write_pack(pack, fmt, None) or ""
            out.append(bytes([PACK_FORMATS.index(fmt)]) + text.encode()[:20000])
        return out
    if target == "xml_feeds":  # the project's feed fixtures, in the published layouts
        feeds = ROOT / "tests" / "data" / "feeds"
        return [bytes([0]) + (feeds / n).read_bytes() for n in ("3cx-openioc10.ioc", "host-artefacts-openioc11.ioc")] \
            + [bytes([1]) + (feeds / "talos-stix12.xml").read_bytes()]
    if target == "plist":
        import plistlib

        return [plistlib.dumps({"CFBundleName": "3CX Desktop App", "CFBundleShortVersionString": "18.12.407"}),
                plistlib.dumps({"CFBundleName": "x"}, fmt=plistlib.FMT_BINARY)]
    if target == "asar":
        return [make_asar({"productName": "3CX Desktop App", "version": "18.12.416"})]
    if target == "package_json":
        return [b'{"productName": "3CX Desktop App", "version": "18.12.416"}']
    if target == "pe_signature":
        import setuptools

        return [(Path(setuptools.__file__).parent / "cli-64.exe").read_bytes()[2:]]
    if target == "macho_signature":
        import struct

        cms = bytes.fromhex("3003020100") * 4
        blob = struct.pack(">II", 0xFADE0B01, 8 + len(cms)) + cms
        sb = struct.pack(">III", 0xFADE0CC0, 20 + len(blob), 1) + struct.pack(">II", 0x10000, 20) + blob
        thin = struct.pack("<IiiIIIII", 0xFEEDFACF, 0x01000007, 3, 2, 1, 16, 0, 0) + struct.pack("<IIII", 0x1D, 16, 48, len(sb)) + sb
        return [thin, struct.pack(">IIIIIII", 0xCAFEBABE, 1, 0x01000007, 3, 28, len(thin), 0) + thin]
    if target == "browser_history":
        import tempfile

        from tracehound.samples import make_chrome_history

        d = Path(tempfile.mkdtemp())
        from datetime import UTC, datetime

        make_chrome_history(d / "H", [("https://akamaicontainer.com/x", datetime(2023, 3, 28, tzinfo=UTC))])
        return [(d / "H").read_bytes()]
    if target == "yara_rules":
        return [b'rule a { strings: $a = "x" condition: $a and filename != "" }', b"import \"pe\"\nrule b { condition: pe.is_pe }"]
    if target == "inventory":
        return [b"hostname,ip,platform,product,version\nA,10.0.0.1,Windows,3CX Desktop App,18.12.416\n",
                b'[{"hostIdentifier": "M", "columns": {"name": "3CX Desktop App", "bundle_short_version": "18.12.402"}}]']
    return []
