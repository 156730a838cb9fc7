"""The eight SigmaHQ 3CX rules on Sysmon and proxy records built around the 3CX behaviour (and their
near misses), and `hunt --sigma` end to end: findings in the IOC hunt's output, summary and case."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import evtx
import pytest

from conftest import SAMPLES, need, run_cli
from tracehound.matching.sigma.engine import SigmaStats, sigma_text
from tracehound.matching.sigma.hunt import load_ruleset
from tracehound.matching.sigma.records import evtx_record
from tracehound.sources.logs.readers.squid import SquidReader

APP = "C:\\Users\\bob\\AppData\\Local\\Programs\\3CXDesktopApp\\3CXDesktopApp.exe"
D3D_SHA256 = "11BE1803E2E307B647A8A7E02D128335C448FF741BF06BF52B332E0BBF423B03"


@pytest.fixture(scope="module")
def rules():  # noqa: ANN201
    return load_ruleset([str(need(SAMPLES / "sigma"))])


@pytest.fixture(scope="module")
def sysmon_template() -> dict:
    """A real Sysmon event from the EVTX samples: the exact shape the evtx parser gives."""
    f = need(SAMPLES / "evtx") / "exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx"
    for r in evtx.PyEvtxParser(str(f)).records_json():
        ev = json.loads(r["data"])
        if ev["Event"]["System"]["EventID"] == 1:
            return ev
    raise AssertionError("no Sysmon 1 event in the sample")


def sysmon(template: dict, eid: int, **data: str) -> dict:
    ev = copy.deepcopy(template)
    ev["Event"]["System"]["EventID"] = eid
    ev["Event"]["System"]["Computer"] = "WS-042.corp.example"
    ev["Event"]["EventData"] = dict(data)
    return ev


def fired(rules, event: dict) -> set[str]:  # noqa: ANN001
    return {r.title for r in rules.match_event(evtx_record(event))}


def test_sysmon_behaviour_fires_and_near_misses_do_not(rules, sysmon_template: dict) -> None:  # noqa: ANN001
    t = sysmon_template
    child = sysmon(t, 1, Image="C:\\Windows\\System32\\cmd.exe", ParentImage=APP, CommandLine="cmd /c whoami")
    assert fired(rules, child) == {"Potential Suspicious Child Process Of 3CXDesktopApp"}
    assert not fired(rules, sysmon(t, 1, Image="C:\\Windows\\System32\\cmd.exe", ParentImage="C:\\x\\explorer.exe"))
    assert not fired(rules, sysmon(t, 1, Image="C:\\Windows\\System32\\notepad.exe", ParentImage=APP))
    assert not fired(rules, sysmon(t, 3, Image="C:\\Windows\\System32\\cmd.exe", ParentImage=APP))  # not EID 1

    dll = sysmon(t, 7, Image=APP, ImageLoaded="C:\\...\\d3dcompiler_47.dll",
                 Hashes=f"SHA1=X,MD5=Y,SHA256={D3D_SHA256},IMPHASH=Z")
    assert fired(rules, dll) == {"Malicious DLL Load By Compromised 3CXDesktopApp"}
    assert not fired(rules, sysmon(t, 7, Image=APP, Hashes="SHA256=" + "0" * 64))

    update = sysmon(t, 1, Image="C:\\Users\\bob\\AppData\\Local\\3CXDesktopApp\\app\\update.exe",
                    CommandLine="update.exe --update https://download.3cx.com/electron/update/win32/18.12/x")
    assert fired(rules, update) == {"Potential Compromised 3CXDesktopApp Update Activity"}
    assert not fired(rules, sysmon(t, 1, Image=update["Event"]["EventData"]["Image"],
                                   CommandLine="update.exe --update https://download.3cx.com/electron/update/win32/18.13/x"))

    beacon = sysmon(t, 3, Image=APP, DestinationHostname="www.msstorageazure.com", DestinationIp="1.2.3.4")
    assert fired(rules, beacon) == {"Potential Compromised 3CXDesktopApp Beaconing Activity - Netcon"}
    assert not fired(rules, sysmon(t, 3, Image="C:\\x\\chrome.exe", DestinationHostname="msstorageazure.com"))

    dns = sysmon(t, 22, Image=APP, QueryName="msedgeupdate.net")
    assert fired(rules, dns) == {"Potential Compromised 3CXDesktopApp Beaconing Activity - DNS"}
    assert not fired(rules, sysmon(t, 22, Image=APP, QueryName="msedge.net"))

    hashes = sysmon(t, 1, Image=APP, Hashes="SHA256=DDE03348075512796241389DFEA5560C20A3D2A2EAC95C894E7BBED5E85A0ACC")
    assert fired(rules, hashes) == {"Potential Compromised 3CXDesktopApp Execution"}


SQUID = [
    "1680000000.000 120 10.1.2.3 TCP_MISS/200 512 GET https://raw.githubusercontent.com/IconStorages/images/main/icon12.ico - DIRECT/185.199.108.133 image/x-icon",
    "1680000001.000 120 10.1.2.4 TCP_MISS/200 512 GET https://github.com/IconStorages/images/main/readme.txt - DIRECT/185.199.108.133 text/plain",
    "1680000002.000 120 10.1.2.5 TCP_MISS/200 512 CONNECT www.pbxsources.com:443 - DIRECT/1.2.3.4 -",
    "1680000003.000 120 10.1.2.6 TCP_MISS/200 512 CONNECT pbxsource.com:443 - DIRECT/1.2.3.4 -",
]


def test_proxy_rules_on_squid_lines(rules, tmp_path: Path) -> None:  # noqa: ANN001
    log = tmp_path / "access.log"
    log.write_text("\n".join(SQUID) + "\n")
    stats = SigmaStats()
    docs = list(sigma_text(str(log), "squid", SquidReader(), rules, stats))
    got = {(d["tracehound"]["host"], d["rule"]["name"], d["tracehound"]["line"]) for d in docs}
    assert got == {("10.1.2.3", "Potential Compromised 3CXDesktopApp ICO C2 File Download", 1),
                   ("10.1.2.5", "Potential Compromised 3CXDesktopApp Beaconing Activity - Proxy", 3)}
    assert stats.records == 4 and not stats.skipped


def test_hunt_sigma_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reg = need(SAMPLES / "sigma-regression" / "regression_data")
    info = next(reg.rglob("proc_creation_win_*/info.yml"))
    rule_id = next(line.split(":", 1)[1].strip() for line in info.read_text().splitlines() if "- id:" in line)
    rule_file = next(p for p in (SAMPLES / "sigma-rules").rglob(info.parent.name + ".yml"))
    log = tmp_path / "access.log"
    log.write_text("\n".join(SQUID) + "\n")
    out, summary = tmp_path / "hits.jsonl", tmp_path / "summary.json"
    code, _stdout, err = run_cli(["hunt", "--sigma", str(SAMPLES / "sigma"), "--sigma", str(rule_file),
                                  str(log), str(next(info.parent.glob("*.evtx"))), "-o", str(out),
                                  "--summary", str(summary), "--no-first-seen"], capsys)
    assert code == 1, err
    docs = [json.loads(line) for line in out.read_text().splitlines()]
    sig = [d for d in docs if d["tracehound"]["kind"] == "sigma"]
    ioc = [d for d in docs if d["tracehound"]["kind"] != "sigma"]
    assert ioc and all(d["threat"]["enrichments"] for d in ioc)  # the 3CX pack's IOC hits are still there
    assert {d["rule"]["id"] for d in sig} >= {rule_id, "76bc1601-9546-4b75-9419-06e0e8d10651"}
    for d in sig:
        assert d["event"]["kind"] == "alert" and d["event"]["original"] and d["tracehound"]["sigma"]["level"]
        assert d["host"]["name"] if d["tracehound"]["format"] == "evtx" else d["tracehound"]["host"]
    evtx_hit = next(d for d in sig if d["rule"]["id"] == rule_id)
    assert evtx_hit["event"]["code"] == "1" and evtx_hit["tags"]
    s = json.loads(summary.read_text())
    assert s["findings"] == len(docs)
    assert s["sigma"]["run"] == 9 and s["sigma"]["hits"] == len(sig)
    assert "sigma: 9/9 rules loaded" in err and "rule hits" in err
    case_dir = tmp_path / "case"
    code, _o, err = run_cli(["case", "init", str(case_dir)], capsys)
    assert code == 0, err
    code, _o, err = run_cli(["case", "add", str(case_dir), str(out)], capsys)
    assert code == 0, err
    code, report, err = run_cli(["report", str(case_dir), "-f", "json", "-o", "-"], capsys)
    assert code == 0, err
    assert "Sigma rule 'Potential Compromised 3CXDesktopApp ICO C2 File Download' (high) matched" in report


def test_explain_and_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["hunt", "--sigma", str(need(SAMPLES / "sigma")), "--explain",
                              "76bc1601-9546-4b75-9419-06e0e8d10651", str(tmp_path)], capsys)
    assert code == 0, err
    assert "c-uri <- url" in out and "kind http, connect, tls" in out
    code, out, err = run_cli(["hunt", "--sigma", str(SAMPLES / "sigma"), "--explain",
                              "Potential Suspicious Child Process Of 3CXDesktopApp", str(tmp_path)], capsys)
    assert code == 0 and "Microsoft-Windows-Sysmon/Operational, EventID 1" in out
    assert "ParentImage  (also from Security 4688: ParentProcessName)" in out
    code, _o, err = run_cli(["hunt", "--sigma", str(SAMPLES / "sigma"), "--explain", "no-such-rule", str(tmp_path)],
                            capsys)
    assert code == 2 and "no-such-rule" in err
    code, _o, err = run_cli(["hunt", "--explain", "x", str(tmp_path)], capsys)
    assert code == 2 and "--sigma" in err
    code, _o, err = run_cli(["hunt", "--sigma", str(tmp_path / "none"), str(tmp_path)], capsys)
    assert code == 2 and "no such rule file" in err


def _flat(doc: dict, prefix: str = "") -> list[str]:
    out = []
    for k, v in doc.items():
        name = f"{prefix}{k}"
        out += _flat(v, name + ".") if isinstance(v, dict) else [name]
    return out


def test_sigma_findings_use_ecs_fields(rules, sysmon_template: dict, tmp_path: Path) -> None:  # noqa: ANN001
    """Every field of a Sigma finding is an ECS field (../shared/samples/ecs/ecs_flat.yml), except
    ours (tracehound.*: the rule level, which ECS has no field for, and the EVTX channel and record id)."""
    import re

    ecs_names = set(re.findall(r"^'?([@a-z_][\w.@]*)'?:\s*$", need(SAMPLES / "ecs" / "ecs_flat.yml").read_text(),
                               re.M))
    assert {"rule.id", "rule.name", "threat.technique.id"} <= ecs_names
    from tracehound.matching.sigma.findings import sigma_finding

    child = sysmon(sysmon_template, 1, Image="C:\\Windows\\System32\\cmd.exe", ParentImage=APP)
    rec = evtx_record(child)
    (hit,) = rules.match_event(rec)
    docs = [sigma_finding(hit, json.dumps(child), "x.evtx", 1, "evtx", None, "WS-042",
                          {"host.name": "WS-042", "tracehound.winlog.channel": rec["Channel"], "event.code": "1"})]
    log = tmp_path / "access.log"
    log.write_text("\n".join(SQUID) + "\n")
    docs += list(sigma_text(str(log), "squid", SquidReader(), rules, SigmaStats()))
    for d in docs:
        extra = [f for f in _flat(d) if f not in ecs_names and not f.startswith("tracehound.")]
        assert extra == [], extra


def test_host_table_names_the_rules_of_sigma_only_hosts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """10.1.2.3 fetched the ICO from raw.githubusercontent.com: a Sigma hit, no pack indicator. Its row
    in the host table names the rule instead of an empty 'indicators' cell; the summary lists it too."""
    log = tmp_path / "access.log"
    log.write_text("\n".join(SQUID) + "\n")
    summary = tmp_path / "summary.json"
    code, _out, err = run_cli(["hunt", "--sigma", str(need(SAMPLES / "sigma")), str(log), "-o", str(tmp_path / "h.jsonl"),
                               "--summary", str(summary), "--no-first-seen"], capsys)
    assert code == 1, err
    hosts = {h["host"]: h for h in json.loads(summary.read_text())["hosts"]}
    only_rule = hosts["10.1.2.3"]
    assert only_rule["indicators"] == {}
    assert only_rule["rules"] == {"Potential Compromised 3CXDesktopApp ICO C2 File Download": 1}
    assert hosts["10.1.2.5"]["indicators"] and hosts["10.1.2.5"]["rules"]
    row = next(ln for ln in err.splitlines() if "10.1.2.3" in ln)
    assert "sigma: Potential" in row  # the table cell (may wrap onto the next lines)
