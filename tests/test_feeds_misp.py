"""MISP events as responders receive them: host artefacts, rules, composite attributes, objects, and
`to_ids: false` kept as context (issue 13, item 4). Fixture: tests/data/feeds/host-artefacts-misp.json
(an event in the layout ESET and MISP export); real events: ESET's public MISP files (shared samples)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from conftest import run_cli
from tracehound.intel.formats import misp, read_pack
from tracehound.intel.formats.misp_attrs import CONTEXT, TO_IDS_FALSE, WARNING
from tracehound.intel.model import IType

FIXTURE = Path(__file__).parent / "data" / "feeds" / "host-artefacts-misp.json"


def by_type(pack) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for i in pack.indicators:
        out.setdefault(i.type.value, {})[i.value] = i.context
    return out


def test_host_artefacts_composites_and_objects_become_indicators() -> None:
    pack = read_pack(str(FIXTURE))
    got = by_type(pack)
    assert got["registry-key"] == {
        "HKLM\\SYSTEM\\CurrentControlSet\\Services\\IKEEXT\\Parameters": {"comment": "persistence: DLL hijack of IKEEXT"},
        "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run": {"value_data": "C:\\Users\\Public\\3cxupd.exe"}}
    assert list(got["mutex"]) == ["Global\\3CXDesktopUpdateMutex"]
    assert list(got["pdb-path"]) == ["D:\\Projects\\IconStealer\\x64\\Release\\IconStealer.pdb"]
    assert got["file-path"] == {"C:\\Windows\\system32\\wlbsctrl.dll": {}}  # a 'filename' holding a full path
    assert got["ipv4"]["185.220.101.4"] == {"port": "443"}  # ip-dst|port
    assert got["domain"]["msstorageazure.com"] == {"resolves_to": "104.21.8.114"}  # domain|ip: both, naming each other
    assert got["ipv4"]["104.21.8.114"] == {"resolution_of": "msstorageazure.com"}
    assert got["domain"]["sbmsa.wiki"] == {"port": "443"}  # hostname|port
    assert got["sha256"]["7986bbaee8940da11ce089383521ab420c443ab7b15ed42aed91fd31ce833896"] == {"file_name": "ffmpeg.dll"}
    # file object: the hash is the indicator, its name and folder the context; the name alone is not one
    assert got["sha256"]["11be1803e2e307b647a8a7e02d128335c448ff741bf06bf52b332e0bbf423b03"] == {
        "file_name": "d3dcompiler_47.dll", "file_path": "%LOCALAPPDATA%\\Programs\\3CXDesktopApp\\d3dcompiler_47.dll"}
    assert "filename" not in got and "ffmpeg.dll" not in str(got.get("filename", {}))
    assert all(i.confidence == 80 and not i.warnings for i in pack.indicators)


def test_rules_are_validated_whatever_to_ids_says() -> None:
    pack = read_pack(str(FIXTURE))
    rules = {(r.kind, r.name): r for r in pack.rules}
    assert set(rules) == {("yara", "TH_Fixture_IconStealer"), ("sigma", "Service DLL of IKEEXT replaced (fixture)")}
    assert all(r.error == "" for r in rules.values())  # yara-x (with `import "pe"`) and pySigma accept both
    assert "\r" not in rules[("yara", "TH_Fixture_IconStealer")].text  # CRLF as MISP stores it, kept as lines


def test_a_rule_that_does_not_compile_is_kept_with_its_error(tmp_path: Path) -> None:
    ev = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for a in ev["Event"]["Attribute"]:
        if a["type"] == "yara":
            a["value"] = a["value"].replace("pe.is_dll()", "pe.is_dll() and no_such_thing")
    f = tmp_path / "bad-rule.json"
    f.write_text(json.dumps(ev), encoding="utf-8")
    (rule,) = [r for r in read_pack(str(f)).rules if r.kind == "yara"]
    assert "no_such_thing" in rule.text and "unknown identifier" in rule.error and "MISP yara attribute" in rule.error


def test_to_ids_false_is_context_unless_opted_in() -> None:
    pack = read_pack(str(FIXTURE))
    context = {(e.type, e.value): e.reason for e in pack.excluded if e.reason.startswith(CONTEXT)}
    assert set(context) == {("domain", "www.3cx.com"),
                            ("url", "https://raw.githubusercontent.com/IconStorages/images/main/icon13.ico")}
    assert "legitimate vendor site" in context[("domain", "www.3cx.com")]
    assert pack.get(IType.DOMAIN, "www.3cx.com") is None
    opted = read_pack(str(FIXTURE), include_context=True)
    ind = opted.get(IType.DOMAIN, "www.3cx.com")
    assert ind is not None and ind.confidence == 40 and ind.warnings == [TO_IDS_FALSE]
    assert not [e for e in opted.excluded if e.reason.startswith(CONTEXT)]


def test_unsupported_types_are_counted_and_named() -> None:
    pack = read_pack(str(FIXTURE))
    counted = {e.reason: int(e.value.split()[0]) for e in pack.excluded if e.type == "misp"}
    assert counted == {"MISP type 'btc' is not an indicator tracehound matches": 1,
                       "MISP 'link' is a reference to a report, not an indicator": 1,
                       "MISP type 'size-in-bytes' is not an indicator tracehound matches": 1,
                       "MISP type 'text' is not an indicator tracehound matches": 1}


def test_own_export_round_trips_with_host_artefacts() -> None:
    pack = read_pack(str(FIXTURE), include_context=True)
    back = misp.loads(misp.dumps(pack), "again.json")
    assert {i.key for i in back.indicators} == {i.key for i in pack.indicators}
    key = back.get(IType.DOMAIN, "www.3cx.com")
    assert key is not None and not key.warnings  # a tracehound export: to_ids false is a confidence, not context


def test_context_only_event_warns_with_the_option(tmp_path: Path, capsys) -> None:
    ev = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for a in ev["Event"]["Attribute"] + ev["Event"]["Object"][0]["Attribute"]:
        a["to_ids"] = False
    f = tmp_path / "context-only.json"
    f.write_text(json.dumps(ev), encoding="utf-8")
    code, out, err = run_cli(["intel", "convert", str(f), "-f", "json"], capsys)
    assert code == 0 and "to_ids false" in err and "--include-context" in err, err
    assert json.loads(out)["indicators"] == []
    code, out, err = run_cli(["intel", "convert", str(f), "--include-context", "-f", "json"], capsys)
    assert code == 0 and "--include-context" not in err
    inds = json.loads(out)["indicators"]
    assert len(inds) == 14 and all(i["confidence"] == 40 for i in inds)  # the 12 above and the 2 context values


# ---- ESET's public MISP events -------------------------------------------------------------------
def _attributes(f: Path) -> list[dict]:
    data = json.loads(f.read_text(encoding="utf-8"))
    events = [e.get("Event", e) for e in (data["response"] if "response" in data else [data])]
    return [a for ev in events for a in (ev.get("Attribute") or [])
            + [x for o in ev.get("Object") or [] for x in o.get("Attribute") or []]]


def test_real_eset_events_every_attribute_accounted_for(samples: Path) -> None:
    files = sorted((samples / "misp-events").glob("*.json"))
    assert len(files) == 8
    context_only = []
    loaded: Counter[str] = Counter()
    for f in files:
        r = misp.read(f.read_text(encoding="utf-8"), str(f))
        total = len(_attributes(f))
        accounted = sum(r.indicators.values()) + sum(r.context.values()) + sum(r.unsupported.values()) \
            + sum(r.consumed.values()) + len({a["uuid"] for a in _attributes(f) if a["type"] in ("yara", "sigma")})
        assert accounted == total, f.name
        named = {e.reason for e in r.pack.excluded if e.type == "misp"}
        assert all(any(repr(t) in reason or t in reason for reason in named) for t in r.unsupported), f.name
        if any(e.type == WARNING for e in r.pack.excluded):
            context_only.append(f.name)
        opted = misp.read(f.read_text(encoding="utf-8"), str(f), include_context=True)
        loaded.update(opted.indicators)
    assert len(context_only) == 6  # 6 of the 8 events are all to_ids false: each one says so
    # host artefacts the former reader dropped (invisimole): now read
    assert loaded["regkey|value"] == 94 and loaded["regkey"] == 5 and loaded["mutex"] == 4


def test_real_eset_yara_rules_compile_with_their_private_rule(samples: Path) -> None:
    pack = read_pack(str(samples / "misp-events" / "windigo_ebury.misp.json"))
    names = sorted(r.name for r in pack.rules)
    assert names == ["ApacheModule", "cw_Linux_ebury_HelimodProxy", "cw_Linux_ebury_HelimodRedirect",
                     "cw_Linux_ebury_HelimodSteal", "cw_Linux_ebury_libkeyutils_with_ctor", "cw_Linux_ebury_v1_7_crypto"]
    assert [r.error for r in pack.rules] == [""] * 6  # HelimodSteal uses ApacheModule, published in another attribute


def test_real_invisimole_registry_values(samples: Path) -> None:
    from tracehound.intel.values import canonical_registry_key

    f = samples / "misp-events" / "invisimole_misp_invisimole.json"
    pack = read_pack(str(f), include_context=True)
    expected = {canonical_registry_key(a["value"].split("|")[0]) for a in _attributes(f) if a["type"].startswith("regkey")}
    assert {k.value for k in pack.of_type(IType.REGISTRY_KEY)} == expected and len(expected) > 20
    cpl = [k for k in pack.of_type(IType.REGISTRY_KEY) if k.value.endswith("Control Panel\\CPLs")]
    assert cpl and "infocard" in cpl[0].ctx("value_data")  # 'key | infocard': the data half, as MISP defines it
    assert pack.rejections() == []
    assert read_pack(str(f)).indicators == []  # without the option: context only (and a warning says so)
