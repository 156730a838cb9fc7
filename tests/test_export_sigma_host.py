"""Sigma export of host artefacts (file_event, registry_event) and CIDRs: validated by pySigma, fired by
tracehound's own Sigma engine and by pySigma's SQLite backend on real Sysmon events (SigmaHQ's regression
EVTX and the EVTX samples), from indicators written the way advisories write them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import evtx
import pytest

from conftest import SAMPLES, need
from sigma_sqlite import SqliteEvents
from tracehound.intel.model import Indicator, IType, Pack
from tracehound.matching.sigma.hunt import load_ruleset
from tracehound.matching.sigma.record import SigmaRecord
from tracehound.matching.sigma.records import evtx_record
from tracehound.outputs.exports import FORMATS
from tracehound.outputs.exports.select import ExportOptions, select
from tracehound.outputs.exports.sigma_host import key_forms, path_forms

SYSMON = "Microsoft-Windows-Sysmon/Operational"
_USER = re.compile(r"C:\\Users\\[^\\]+\\", re.I)
_BRACED_GUID = re.compile(r"\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}", re.I)


def _export(pack: Pack) -> tuple[dict[str, str], list]:
    options = ExportOptions()
    sel = select(pack, options)
    return FORMATS["sigma"].exporter(sel, options), sel.refused


def _ind(itype: IType, value: str, **ctx: str) -> Indicator:
    return Indicator(itype, value, dict(ctx))


def test_path_forms_follow_the_env_table_and_placeholders() -> None:
    assert path_forms(_ind(IType.FILE_PATH, r"%LOCALAPPDATA%\Programs\3CXDesktopApp\app\ffmpeg.dll")) == (
        "windows", [r"?:\\Users\\*\\AppData\\Local\\Programs\\3CXDesktopApp\\app\\ffmpeg.dll"])
    assert path_forms(_ind(IType.FILE_PATH, r"C:\ProgramData\{GUID}\x?.dll")) == (
        "windows", [r"C:\\ProgramData\\*\\x?.dll"])
    product, forms = path_forms(_ind(IType.FILE_PATH, "~/Library/Application Support/3CX Desktop App/UpdateAgent",
                                     platform="macos"))
    assert product == "macos" and "/Users/*/Library/Application Support/3CX Desktop App/UpdateAgent" in forms
    assert path_forms(_ind(IType.FILE_PATH, "/private/etc/evil.conf"))[1] == ["/private/etc/evil.conf", "/etc/evil.conf"]
    from tracehound.outputs.exports.safety import Refused
    for bad in (r"%NOSUCHVAR%\x.dll", r"\\server\share\x.dll", r"C:\Users\*", "relative\\x.dll", "a\nb"):
        with pytest.raises(Refused):
            path_forms(_ind(IType.FILE_PATH, bad))


def test_key_forms_are_the_sysmon_target_objects() -> None:
    run = key_forms(_ind(IType.REGISTRY_KEY, r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run", value_name="3CX"))
    assert run == [r"HKU\\*\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\3CX"]
    cs = key_forms(_ind(IType.REGISTRY_KEY, r"HKLM\SYSTEM\ControlSet001\Services\evil"))
    assert r"HKLM\\SYSTEM\\CurrentControlSet\\Services\\evil" in cs and r"HKLM\\SYSTEM\\CurrentControlSet\\Services\\evil\\*" in cs
    cls = key_forms(_ind(IType.REGISTRY_KEY, r"HKCR\CLSID\{1}\InprocServer32", value_name="(Default)"))
    assert r"HKCR\\WOW6432Node\\CLSID\\{1}\\InprocServer32\\(Default)" in cls
    assert r"HKU\\*_Classes\\CLSID\\{1}\\InprocServer32\\(Default)" in cls


def _sysmon_events() -> list[dict]:
    files = sorted(need(SAMPLES / "sigma-regression" / "regression_data").rglob("*.evtx"))
    files += sorted(need(SAMPLES / "evtx").glob("*.evtx"))
    out = []
    for f in files:
        for r in evtx.PyEvtxParser(str(f)).records_json():
            rec = evtx_record(json.loads(r["data"]))
            if rec.get("Channel") == SYSMON and rec.get("EventID") in (11, 12, 13, 14):
                out.append(rec)
    return out


def _as_advisory(rec: dict) -> Indicator:
    """The indicator an advisory would write for this event's file or key."""
    if rec["EventID"] == 11:
        p = str(rec["TargetFilename"])
        p = _BRACED_GUID.sub("{GUID}", p)
        m = _USER.match(p)
        if m and p[m.end():].lower().startswith("appdata\\local\\"):
            p = "%LOCALAPPDATA%\\" + p[m.end() + 14:]
        elif m:
            p = "%USERPROFILE%\\" + p[m.end():]
        return _ind(IType.FILE_PATH, p)
    obj = str(rec["TargetObject"])
    root, _, rest = obj.partition("\\")
    root = {"HKU": "HKCU"}.get(root, root)
    if root == "HKCU":
        rest = rest.partition("\\")[2]  # the SID
    if root == "HKCR" and rest.lower().startswith("wow6432node\\"):
        rest = rest[12:]
    key = {"HKLM": "HKEY_LOCAL_MACHINE"}.get(root, root) + "\\" + rest
    if rec["EventID"] == 13 or rec.get("EventType") == "DeleteValue":
        key, _, name = key.rpartition("\\")
        return _ind(IType.REGISTRY_KEY, re.sub("^HKEY_LOCAL_MACHINE", "HKLM", key), value_name=name)
    return _ind(IType.REGISTRY_KEY, re.sub("^HKEY_LOCAL_MACHINE", "HKLM", key))


def test_exported_rules_fire_on_real_sysmon_events(tmp_path: Path) -> None:
    from sigma.collection import SigmaCollection
    from sigma.validation import SigmaValidator
    from sigma.validators.core import validators

    events = _sysmon_events()
    assert len(events) >= 80  # measured 84: 26 file creations, 14 key events, 44 values set
    inds = {}
    for n, rec in enumerate(events):
        ind = _as_advisory(rec)
        inds.setdefault(ind.key, (ind, []))[1].append(n)
    chosen = list(inds.values())[::2]  # half of the artefacts: the other half's events must stay quiet
    pack = Pack(name="host-artefacts", indicators=[i for i, _ in chosen])
    files, refused = _export(pack)
    assert refused == []
    assert sorted(n for n in files if "file_event" in n or "registry" in n) == [
        "host_artefacts_file_event_paths_windows.yml", "host_artefacts_registry_event_keys.yml"]
    offline = [v for k, v in validators.items() if k not in ("attacktag", "d3_fendtag")]
    texts = []
    for name, text in files.items():
        coll = SigmaCollection.from_yaml(text)
        assert not coll.errors, (name, coll.errors)
        issues = SigmaValidator(offline).validate_rules(coll)
        assert not [i for i in issues if i.severity.name in ("HIGH", "MEDIUM")], (name, issues)
        (tmp_path / name).write_text(text)
        texts.append(str(tmp_path / name))
    rules = load_ruleset(texts)
    assert not rules.failures and len(rules.rules) == 2
    db = SqliteEvents(events)
    fired: set[int] = set()
    for r in rules.rules:
        selected = {i + 1 for i, rec in enumerate(events) if r in rules.for_event(SYSMON, rec.get("EventID"))}
        ours = {i for i in selected if r.predicate(events[i - 1])}
        theirs = db.matches(r.rule)
        assert not isinstance(theirs, str), theirs
        assert ours == theirs & selected, (r.path, sorted(ours ^ (theirs & selected)))
        fired |= {i - 1 for i in ours}
    want = {n for _i, ns in chosen for n in ns}
    assert want <= fired  # every event of an exported artefact fires
    # and the others only where they share the artefact's file or value name (a broader form, never another name)
    names = {re.split(r"\\", (i.ctx("value_name") or [i.value])[0])[-1].lower() for i, _ in chosen}
    extra = fired - want
    assert all(re.split(r"\\", str(events[n].get("TargetFilename") or events[n]["TargetObject"]))[-1].lower() in names
               or _as_advisory(events[n]).type is IType.REGISTRY_KEY and not _as_advisory(events[n]).ctx("value_name")
               for n in extra), [events[n].get("TargetObject") or events[n].get("TargetFilename") for n in extra]
    assert len(fired) < len(events)  # the rules are not "every event"


def test_cidr_rule_fires_inside_the_network_only() -> None:
    from sigma.collection import SigmaCollection

    pack = Pack(name="nets", indicators=[_ind(IType.CIDR, "203.0.113.0/24"), _ind(IType.IPV4, "198.51.100.7")])
    files, refused = _export(pack)
    assert refused == []
    text = files["nets_network_connection_c2_ips.yml"]
    assert not SigmaCollection.from_yaml(text).errors
    rules = load_ruleset([], [("nets.yml", text)])
    (r,) = rules.rules
    def fires(ip: str) -> bool:
        return bool(r.predicate(SigmaRecord(Channel=SYSMON, EventID=3, DestinationIp=ip)))

    assert fires("203.0.113.77") and fires("198.51.100.7")
    assert not fires("203.0.114.1") and not fires("198.51.100.70")


def test_hostile_artefacts_cannot_add_a_line_or_a_rule() -> None:
    pack = Pack(name="hostile", indicators=[
        _ind(IType.FILE_PATH, "C:\\x\n  condition: 1 of them\\evil.dll"),
        _ind(IType.REGISTRY_KEY, "HKLM\\SOFTWARE\\x", value_name="a\u2028b"),
        _ind(IType.FILE_PATH, r"C:\ok\fine.dll"),
        _ind(IType.MUTEX, "Global\\3cx"),
    ])
    files, refused = _export(pack)
    assert sorted(i.value[:6] for _f, i, _w in refused) == ["C:\\x\n ", "HKLM\\S"]
    (name,) = [n for n in files if "file_event" in n]
    doc = json.loads(files[name])
    assert doc["detection"]["selection"]["TargetFilename"] == [r"C:\\ok\\fine.dll"]
    assert all("\u2028" not in t and "\n  condition" not in t for t in files.values())
    assert FORMATS["sigma"].reason(IType.MUTEX)
