"""Pack formats: round-trips, real validators (stix2-validator, PyMISP), real Loki IOC files."""

import json
from pathlib import Path

import pytest

from tracehound.errors import PackError
from tracehound.intel.formats import detect, read_pack, write_pack
from tracehound.intel.formats.csvpack import neutralise
from tracehound.intel.model import IType


def keys(pack):
    return {(i.type.value, i.value, i.key[2]) for i in pack.indicators}


@pytest.mark.parametrize("fmt", ["json", "stix", "misp", "csv"])
def test_round_trip_keeps_every_indicator(pack3cx, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"pack.{fmt}"
    write_pack(pack3cx, fmt, str(out))
    back = read_pack(str(out))
    assert keys(back) == keys(pack3cx)
    d = back.get(IType.DOMAIN, "azuredeploystore.com")
    assert d.ctx("registrar") == ["Namesilo"] and d.ctx("asn") == ["AS23498"]
    sw = [i for i in back.of_type(IType.SOFTWARE) if i.ctx("platform") == ["windows"]][0]
    assert sw.ctx("versions") == ["18.12.407", "18.12.416"]


def test_loki_round_trip_network_and_hashes(pack3cx, tmp_path: Path) -> None:
    write_pack(pack3cx, "loki", str(tmp_path / "loki"))
    back = read_pack(str(tmp_path / "loki"))
    wanted = {k for k in keys(pack3cx) if k[0] in ("domain", "ipv4", "sha256", "sha1")}
    assert wanted <= keys(back)


def test_stix_bundle_passes_strict_validator(pack3cx) -> None:
    from stix2validator import ValidationOptions, validate_string

    from tracehound.intel.formats.stix import dumps

    text = dumps(pack3cx)
    result = validate_string(text, ValidationOptions(version="2.1", strict=True))
    assert result.is_valid, [str(e) for e in result.errors] + [str(w) for w in result.warnings]
    bundle = json.loads(text)
    patterns = {o["pattern"] for o in bundle["objects"] if o["type"] == "indicator"}
    assert "[domain-name:value = 'akamaicontainer.com']" in patterns
    assert "[ipv4-addr:value = '162.0.229.159']" in patterns
    assert "[url:value = 'github.com/IconStorages/images']" in patterns
    assert "[x509-certificate:hashes.'SHA-1' = '87c6d553a296d7473451d53caa298efa9b4870ad']" in patterns
    assert any(p.startswith("[file:hashes.'SHA-256'") for p in patterns)
    assert any(p.startswith("[software:name = '3CX Desktop App' AND software:version IN (") for p in patterns)
    assert any(o["type"] == "relationship" and o["relationship_type"] == "indicates" for o in bundle["objects"])


def test_stix_export_is_stable(pack3cx) -> None:
    from tracehound.intel.formats.stix import dumps

    assert dumps(pack3cx) == dumps(pack3cx)


def test_misp_event_loads_in_pymisp(pack3cx) -> None:
    from pymisp import MISPEvent

    from tracehound.intel.formats.misp import dumps

    ev = MISPEvent()
    ev.load(dumps(pack3cx))
    types = {a.type for a in ev.attributes}
    assert {"domain", "ip-dst", "url", "sha256", "sha1", "x509-fingerprint-sha1"} <= types
    assert len(ev.attributes) == len(pack3cx.indicators)


def test_csv_formula_injection_neutralised(tmp_path: Path) -> None:
    assert neutralise("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert neutralise("+1") == "'+1" and neutralise("@SUM") == "'@SUM" and neutralise("-2") == "'-2"
    assert neutralise("akamaicontainer.com") == "akamaicontainer.com"
    f = tmp_path / "p.csv"
    f.write_text("type,value,context\nfilename,=cmd.exe,\"{\"\"note\"\": \"\"=1+1\"\"}\"\n")
    pack = read_pack(str(f))
    out = tmp_path / "out.csv"
    write_pack(pack, "csv", str(out))
    assert "'=cmd.exe" in out.read_text()
    assert read_pack(str(out)).indicators[0].value == "=cmd.exe"


def test_csv_errors_name_line(tmp_path: Path) -> None:
    f = tmp_path / "p.csv"
    f.write_text("type,value\ndomain,good.example\nsha256,nothex\n")
    pack = read_pack(str(f))  # one bad value does not lose the pack: it is kept with its line and reason
    assert [i.value for i in pack.indicators] == ["good.example"]
    [rej] = pack.rejections()
    assert (rej.document, rej.line, rej.type, rej.value) == (str(f), 3, "sha256", "nothex")
    assert "64 hex digits" in rej.reason
    f.write_text("type,value\nsha256,nothex\n")
    with pytest.raises(PackError, match=r"p\.csv: no valid indicator: 1 value rejected: .*p\.csv:2 sha256"):
        read_pack(str(f))
    f.write_text("type,value\nbogus,x\n")
    with pytest.raises(PackError, match=r":2: unknown indicator type"):
        read_pack(str(f))


def test_detection_refuses_unknown_content(tmp_path: Path) -> None:
    f = tmp_path / "x.json"
    f.write_text('{"hello": 1}')
    with pytest.raises(PackError, match="neither"):
        read_pack(str(f))
    f.write_text("{bad json")
    with pytest.raises(PackError, match=r"invalid JSON"):
        read_pack(str(f))
    f.write_bytes(b"\x00\x01binary")
    with pytest.raises(PackError, match="binary"):
        read_pack(str(f))
    with pytest.raises(PackError, match="built-in"):
        read_pack(str(tmp_path / "nope"))


def test_real_loki_files(samples: Path) -> None:
    d = samples / "loki-iocs"
    assert detect((d / "hash-iocs.txt").read_text(encoding="utf-8"), "h") == "loki"
    hashes = read_pack(str(d / "hash-iocs.txt"))
    # 3,224 entries, 153 repeat (case-insensitively) with another comment: merged, not lost
    raw = [ln.split(";", 1)[0].lower() for ln in (d / "hash-iocs.txt").read_text(encoding="utf-8").splitlines()
           if ln.strip() and not ln.startswith("#")]
    assert len(raw) == 3224
    assert len(hashes.indicators) == len(set(raw))
    c2 = read_pack(str(d / "c2-iocs.txt"))  # no newline after the last line
    values = {i.value for i in c2.indicators}
    assert "192.119.99.42" in values and "akamaicontainer.com" in values and "msboxonline.com" in values
    assert all(not v.endswith("\n") for v in values)
    scored = [i for i in c2.indicators if i.value == "176.123.5.126"][0]
    assert scored.confidence == 65
    names = read_pack(str(d / "filename-iocs.txt"))
    assert all(i.type is IType.FILENAME_REGEX for i in names.indicators)
    assert len(names.indicators) > 3700
    merged = read_pack(str(d))  # the folder: all three files
    assert len(merged.indicators) == len(hashes.indicators) + len(c2.indicators) + len(names.indicators)


def test_deeply_nested_json_is_a_clear_error(tmp_path: Path, capsys) -> None:
    from conftest import run_cli
    from tracehound.sources.logs.observation import RecordError
    from tracehound.sources.logs.readers.generic import JsonLinesReader

    deep = "[" * 100_000 + "]" * 100_000
    f = tmp_path / "deep.json"
    f.write_text('{"type": "bundle", "objects": ' + deep + "}")
    with pytest.raises(PackError, match="too deeply nested"):
        read_pack(str(f), "stix")
    with pytest.raises(RecordError, match="too deeply nested"):
        JsonLinesReader().parse('{"a": ' + deep + "}")
    findings = tmp_path / "f.jsonl"
    findings.write_text('{"a": ' + deep + "}\n")
    run_cli(["case", "init", str(tmp_path / "c")], capsys)
    code, _, err = run_cli(["case", "add", str(tmp_path / "c"), str(findings)], capsys)
    # A file of nothing but an unreadable record holds no findings: refused (issue 12 item 6), naming the line.
    assert code == 2 and "holds no findings" in err and "1 unreadable" in err, err


def test_real_misp_events_every_attribute_read_or_counted(samples: Path) -> None:
    # read as indicators, context (to_ids false) or rules; 'link' is a report reference (counted, not read);
    # a yara object's yara-rule-name is the rule's name
    readable = {"sha1", "md5", "sha256", "filename", "domain", "url", "uri", "ip-src", "ip-dst", "ip-dst|port",
                "regkey", "regkey|value", "mutex", "yara"}
    for f in sorted((samples / "misp-events").glob("*.json")):
        data = json.loads(f.read_text(encoding="utf-8"))
        events = [e.get("Event", e) for e in (data["response"] if "response" in data else [data])]
        attrs = [a for ev in events for a in (ev.get("Attribute") or [])
                 + [x for o in ev.get("Object") or [] for x in o.get("Attribute") or []]]
        pack = read_pack(str(f))
        unread = sum(int(e.value.split()[0]) for e in pack.excluded if e.type == "misp")
        read = sum(a["type"] in readable or a.get("object_relation") == "yara-rule-name" for a in attrs)
        assert unread + read == len(attrs), f.name
    # every attribute of this event is to_ids false: context unless asked for
    sshdoor = read_pack(str(samples / "misp-events" / "sshdoor_misp-events_borleias.json"), include_context=True)
    ips = [i for i in sshdoor.indicators if i.type is IType.IPV4]  # from an ip-dst|port attribute
    assert len(ips) == 1


def test_nul_byte_rejects_one_loki_line_not_the_file(samples: Path, tmp_path: Path) -> None:
    """A corrupt byte in a real c2-iocs.txt: that line is rejected (named file:line), every other one loads."""
    lines = (samples / "loki-iocs" / "c2-iocs.txt").read_bytes().split(b"\n")
    n = next(i for i, ln in enumerate(lines) if ln.startswith(b"akamaicontainer.com"))
    lines[n] = lines[n].replace(b"container", b"contain\x00er")
    f = tmp_path / "c2-iocs.txt"
    f.write_bytes(b"\n".join(lines))
    clean = read_pack(str(samples / "loki-iocs" / "c2-iocs.txt"))
    got = read_pack(str(f))
    assert keys(clean) - keys(got) == {("domain", "akamaicontainer.com", "")}
    rej = got.rejections()
    assert [(e.document, e.line) for e in rej] == [(str(f), n + 1)] and "NUL byte" in rej[0].reason
    merged = read_pack(str(tmp_path))  # the folder reader too
    assert len(merged.indicators) == len(got.indicators) and len(merged.rejections()) == 1


def test_nul_byte_rejects_one_csv_row_not_the_file(pack3cx, tmp_path: Path) -> None:
    f = tmp_path / "pack.csv"
    write_pack(pack3cx, "csv", str(f))
    rows = f.read_bytes().split(b"\n")
    n = next(i for i, r in enumerate(rows) if r.startswith(b"domain,azuredeploystore.com"))
    rows[n] = rows[n].replace(b"azure", b"az\x00ure")
    f.write_bytes(b"\n".join(rows))
    got = read_pack(str(f))
    assert keys(pack3cx) - keys(got) == {("domain", "azuredeploystore.com", "")}
    rej = got.rejections()
    assert len(rej) == 1 and (rej[0].line, rej[0].type) == (n + 1, "domain") and "\\x00" in rej[0].value


def test_csv_round_trips_host_artefact_types(tmp_path: Path) -> None:
    from tracehound.intel.model import Pack

    pack = Pack(name="host")
    pack.add_value(IType.FILE_PATH, r"%APPDATA%\3CXDesktopApp\ffmpeg.dll", {"platform": "windows"})
    pack.add_value(IType.REGISTRY_KEY, r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run",
                   {"value_name": "3CX", "value_data": r"C:\Users\x\AppData\Local\3CX.exe"})
    pack.add_value(IType.REGISTRY_KEY, r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run", {"value_name": "Other"})
    pack.add_value(IType.MUTEX, "Global\\3CX-Update-Mutex")
    pack.add_value(IType.PDB_PATH, r"D:\Projects\Gopuram\x64\Release\guard64.pdb")
    assert len(pack.indicators) == 5
    out = tmp_path / "host.csv"
    write_pack(pack, "csv", str(out))
    back = read_pack(str(out))
    assert keys(back) == keys(pack) and not back.excluded
    run = [i for i in back.of_type(IType.REGISTRY_KEY) if i.ctx("value_name") == ["3CX"]][0]
    assert run.value.startswith("HKCU\\") and run.ctx("value_data") == [r"C:\Users\x\AppData\Local\3CX.exe"]
    assert back.of_type(IType.FILE_PATH)[0].ctx("platform") == ["windows"]
