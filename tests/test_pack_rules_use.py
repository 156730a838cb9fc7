"""A pack's own YARA and Sigma rules (pasted in its advisory) run in sweep and hunt without --yara/--sigma,
are listed by `intel show`, and are in the yara/sigma exports, which still validate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli
from tracehound.intel.extract import ExtractOptions, extract_files
from tracehound.intel.formats.native import dumps
from tracehound.intel.model import Pack, Rule
from tracehound.intel.rule_check import pack_yara

ADV = Path(__file__).parent / "data" / "advisories"


def _pack_file(tmp_path: Path, name: str = "acme-smoothoperator.md") -> Path:
    pack = extract_files([str(ADV / name)], ExtractOptions(name="acme")).pack
    out = tmp_path / "acme.json"
    out.write_text(dumps(pack))
    return out


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "host"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("RULEBOX\n")
    (root / "notes.txt").write_text("nothing to see\n")
    (root / "data").mkdir()
    (root / "data" / "dropped.bin").write_bytes(b"\x00junk tracehound pack rule payload junk\x00")
    return root


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sweep_with_the_pack_alone_flags_the_file(tmp_path: Path, capsys, jobs: str) -> None:
    out = tmp_path / "o.jsonl"
    code, _, err = run_cli(["sweep", "--intel", str(_pack_file(tmp_path)), "--root", str(_tree(tmp_path)),
                            "-o", str(out), "--no-nice", "-j", jobs], capsys)
    assert code == 1, err
    docs = [json.loads(x) for x in out.read_text().splitlines()]
    hits = [d for d in docs if d["tracehound"].get("check") == "yara"]
    assert [(d["rule"]["name"], d["file"]["name"], d["tracehound"]["rule_origin"]) for d in hits] == [
        ("ACME_SmoothOperator_Loader", "dropped.bin", "acme-smoothoperator.md:14")]
    assert hits[0]["rule"]["ruleset"] == "pack" and hits[0]["tracehound"]["verdict"] == "compromised"
    assert "from the pack: acme-smoothoperator.md:14" in hits[0]["message"]
    summary = docs[-1]["tracehound"]
    assert summary["yara"] == {"rules": 3, "errors": []}  # the broken fourth rule is not run, and counted:
    assert summary["skipped"] == {"pack YARA rule that does not compile, not run (see `tracehound intel show`)": 1}
    assert "pack YARA rule ACME_Broken not run: acme-smoothoperator.md:56" in err
    assert "YARA: 3 rules from the pack (compiled" in err


def test_pack_rules_and_yara_files_compile_once_and_cache(tmp_path: Path) -> None:
    from tracehound.sweep import yara_rules
    from tracehound.sweep.yara_rules import compile_rules

    pack = extract_files([str(ADV / "acme-smoothoperator.md")], ExtractOptions()).pack
    extra = pack_yara(pack)
    rule_file = Path(__file__).parent / "data" / "yara"
    files = sorted(str(f) for f in rule_file.glob("*.yar") if "broken" not in f.name)[:1]
    cache = tmp_path / "cache"
    first = compile_rules(files, str(cache), extra)
    assert first.cache == "compiled, cached" and first.rules is not None
    yara_rules._MEMO.clear()
    again = compile_rules(files, str(cache), extra)
    assert again.cache == "loaded from cache" and again.origins == first.origins
    assert set(first.origins.values()) == {"acme-smoothoperator.md:14", "acme-smoothoperator.md:27",
                                           "acme-smoothoperator.md:28"}
    # Another rule text is another key: not the stale entry.
    edited = [(o, t.replace(b"tracehound pack rule payload", b"another marker"), n) for o, t, n in extra]
    assert compile_rules(files, str(cache), edited).cache == "compiled, cached"


def _sysmon_jsonl(path: Path) -> None:
    def ev(rid: int, image: str, cmd: str) -> dict:
        return {"Event": {"System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}}, "EventID": 1,
                                     "EventRecordID": rid, "Channel": "Microsoft-Windows-Sysmon/Operational",
                                     "Computer": "PC042",
                                     "TimeCreated": {"#attributes": {"SystemTime": "2023-04-03T10:00:00.000000Z"}}},
                          "EventData": {"Image": image, "CommandLine": cmd, "ProcessId": 4242}}}
    rows = [ev(1, "C:\\Windows\\System32\\cmd.exe", "cmd /c dir"),
            ev(2, "C:\\Users\\bob\\AppData\\Local\\smoothop.exe", "smoothop.exe --ping update-check-cdn.net")]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_hunt_with_the_pack_alone_fires_the_embedded_sigma_rule(tmp_path: Path, capsys) -> None:
    log = tmp_path / "sysmon.jsonl"
    _sysmon_jsonl(log)
    out = tmp_path / "hits.jsonl"
    code, _, err = run_cli(["hunt", "--intel", str(_pack_file(tmp_path)), str(log), "-o", str(out),
                            "--no-first-seen", "-j", "1"], capsys)
    assert code == 1, err
    [d] = [json.loads(x) for x in out.read_text().splitlines()]
    assert d["rule"]["id"] == "5f0c3b1e-2a7d-4c1b-9e8f-0a1b2c3d4e5f" and d["tracehound"]["line"] == 2
    assert d["tracehound"]["sigma"]["file"] == "pack:acme-smoothoperator.md:34"
    assert d["message"].endswith("(from the pack: acme-smoothoperator.md:34)")
    assert "sigma: 1/1 rules loaded from 0 files and 1 from the pack" in err


def test_pack_sigma_rule_runs_beside_sigma_files(tmp_path: Path, capsys) -> None:
    other = tmp_path / "other.yml"
    other.write_text("title: cmd started\nid: 7a1c2e3f-4b5d-4e6f-8a7b-9c0d1e2f3a4b\nlogsource:\n  category: process_creation\n"
                     "  product: windows\ndetection:\n  sel:\n    Image|endswith: '\\cmd.exe'\n  condition: sel\nlevel: low\n")
    log = tmp_path / "sysmon.jsonl"
    _sysmon_jsonl(log)
    out = tmp_path / "hits.jsonl"
    code, _, err = run_cli(["hunt", "--intel", str(_pack_file(tmp_path)), "--sigma", str(other), str(log),
                            "-o", str(out), "--no-first-seen", "-j", "1"], capsys)
    assert code == 1, err
    assert sorted(json.loads(x)["rule"]["name"] for x in out.read_text().splitlines()) == [
        "ACME SmoothOperator loader started", "cmd started"]


def test_intel_show_lists_the_rules(tmp_path: Path, capsys) -> None:
    code, out, _ = run_cli(["intel", "show", "--intel", str(_pack_file(tmp_path))], capsys)
    assert code == 0
    assert "5 detection rules (4 YARA, 1 Sigma), 1 not valid: kept, not run:" in out
    assert "yara ACME_SmoothOperator_Loader (acme-smoothoperator.md:14): valid" in out
    assert ("yara ACME_Broken (acme-smoothoperator.md:51): not valid: acme-smoothoperator.md:56: error[E001]: "
            "syntax error") in out
    assert "sigma ACME SmoothOperator loader started (acme-smoothoperator.md:34): valid" in out


def test_exports_carry_the_valid_rules_and_validate(tmp_path: Path, capsys) -> None:
    import yara_x
    from sigma.collection import SigmaCollection

    pack = extract_files([str(ADV / "acme-smoothoperator.md")], ExtractOptions(name="acme")).pack
    # A second advisory with a rule of the same name (and one using it): renamed, both still compile.
    pack.rules += [Rule("yara", "ACME_Helper", "private rule ACME_Helper { condition: filesize < 1MB }", "b.md", 3),
                   Rule("yara", "B_User", "rule B_User { condition: ACME_Helper and \"ACME_Helper\" != \"\" }", "b.md", 4)]
    f = tmp_path / "p.json"
    f.write_text(dumps(pack))
    code, _, err = run_cli(["export", "-f", "yara", "--intel", str(f), "-o", str(tmp_path / "x.yar")], capsys)
    assert code == 0, err
    text = (tmp_path / "x.yar").read_text()
    rules = yara_x.compile(text)
    assert "rule ACME_SmoothOperator_Loader : apt loader {" in text and "ACME_Broken" not in text
    assert "private rule ACME_Helper_2 { condition: filesize < 1MB }" in text
    assert 'rule B_User { condition: ACME_Helper_2 and "ACME_Helper" != "" }' in text
    assert "// from the pack's advisory: ACME_SmoothOperator_Loader (acme-smoothoperator.md:14)" in text
    hits = sorted(r.identifier for r in rules.scan(b"MZ tracehound pack rule payload").matching_rules)
    assert hits == ["ACME_SmoothOperator_Loader", "B_User"]  # not a signed PE: ACME_Signed stays quiet
    out = tmp_path / "sig"
    code, _, err = run_cli(["export", "-f", "sigma", "--intel", str(f), "-o", str(out)], capsys)
    assert code == 0, err
    mine = out / "acme_pack_acme_smoothoperator_loader_started.yml"
    assert mine.read_text() == next(r.text for r in pack.rules if r.kind == "sigma") + "\n"
    for y in sorted(out.glob("*.yml")):
        coll = SigmaCollection.from_yaml(y.read_text(), collect_errors=True)
        assert coll.errors == [] and len(coll.rules) == 1, y.name


def test_pack_without_rules_keeps_the_old_behaviour() -> None:
    assert pack_yara(Pack("empty")) == []


def test_a_sigmahq_rule_pasted_in_an_advisory_fires_on_its_evtx(tmp_path: Path, capsys) -> None:
    """Real data: a SigmaHQ rule and its regression EVTX (../shared/samples); the rule pasted in a Markdown
    advisory, the pack alone on the EVTX gives the same hit as --sigma with the rule file."""
    from conftest import SAMPLES, need

    reg = need(SAMPLES / "sigma-regression" / "regression_data")
    info = next(reg.rglob("proc_creation_win_*/info.yml"))
    rule = next((SAMPLES / "sigma-rules").rglob(info.parent.name + ".yml"))
    evtx_file = next(info.parent.glob("*.evtx"))
    adv = tmp_path / "vendor.md"
    adv.write_text(f"# Vendor advisory\n\nHunt with this rule:\n\n```yaml\n{rule.read_text().rstrip()}\n```\n\nThanks.\n")
    pack = extract_files([str(adv)], ExtractOptions(name="vendor")).pack
    [r] = pack.rules
    assert r.kind == "sigma" and r.error == "" and r.line == 6 and r.text == rule.read_text().rstrip()
    f = tmp_path / "vendor.json"
    f.write_text(dumps(pack))
    out_pack, out_file = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    code, _, err = run_cli(["hunt", "--intel", str(f), str(evtx_file), "-o", str(out_pack), "--no-first-seen"], capsys)
    assert code == 1, err
    empty = tmp_path / "empty.json"
    empty.write_text(dumps(Pack("empty")))
    code2, _, err2 = run_cli(["hunt", "--intel", str(empty), "--sigma", str(rule), str(evtx_file), "-o", str(out_file),
                              "--no-first-seen"], capsys)
    assert code2 == 1, err2
    a = [json.loads(x) for x in out_pack.read_text().splitlines()]
    b = [json.loads(x) for x in out_file.read_text().splitlines()]
    assert a and [(d["rule"]["id"], d["tracehound"]["line"]) for d in a] == [(d["rule"]["id"], d["tracehound"]["line"]) for d in b]
    assert all(d["tracehound"]["sigma"]["file"] == "pack:vendor.md:6" for d in a)


def test_sweep_with_yara_files_and_the_pack(tmp_path: Path, capsys) -> None:
    root = _tree(tmp_path)
    (root / "data" / "other.bin").write_bytes(b"MZ tracehound test payload")
    out = tmp_path / "o.jsonl"
    code, _, err = run_cli(["sweep", "--intel", str(_pack_file(tmp_path)), "--root", str(root), "--yara",
                            str(Path(__file__).parent / "data" / "yara" / "test_marker.yar"),
                            "-o", str(out), "--no-nice", "-j", "1"], capsys)
    assert code == 1, err
    assert "YARA: 4 rules from 1 files and the pack (3)" in err
    hits = sorted((d["rule"]["name"], d["file"]["name"], d["tracehound"].get("rule_origin"))
                  for x in out.read_text().splitlines() if (d := json.loads(x))["tracehound"].get("check") == "yara")
    assert hits == [("ACME_SmoothOperator_Loader", "dropped.bin", "acme-smoothoperator.md:14"),
                    ("TRACEHOUND_Test_Marker", "other.bin", None)]
