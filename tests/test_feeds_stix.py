"""STIX 2.1 patterns beyond one comparison, and yara/sigma indicators (issue 13, item 4).
Fixture: tests/data/feeds/host-artefacts-stix21.json, a bundle in the layout of published feeds
(checked with the OASIS stix2-validator)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli
from tracehound.intel.formats import read_pack, stix, stix_patterns
from tracehound.intel.model import Indicator, IType, Pack

FIXTURE = Path(__file__).parent / "data" / "feeds" / "host-artefacts-stix21.json"
SHA512 = "3e4b2c1d" * 16


def test_fixture_is_valid_stix() -> None:
    validator = pytest.importorskip("stix2validator")
    result = validator.validate_file(str(FIXTURE))
    assert result.is_valid, [str(e) for o in result.object_results for e in o.errors]


def test_compound_patterns_become_indicators_with_context() -> None:
    pack = read_pack(str(FIXTURE))
    got = {(i.type.value, i.value): i.context for i in pack.indicators}
    # hash AND name AND folder: the hash is the indicator, the rest its context (one indicator, not three)
    assert got[("sha512", SHA512)] == {
        "file_name": "d3dcompiler_47.dll",
        "file_path": "C:\\Users\\Public\\AppData\\Local\\Programs\\3CXDesktopApp\\d3dcompiler_47.dll"}
    assert got[("file-path", "C:\\Windows\\System32\\wlbsctrl.dll")] == {}  # name AND folder, no hash: the path
    assert got[("registry-key", "HKLM\\SYSTEM\\CurrentControlSet\\Services\\IKEEXT\\Parameters")] == {
        "value_name": "ServiceDll", "value_data": "C:\\Windows\\system32\\wlbsctrl.dll"}
    assert ("mutex", "Global\\3CXDesktopUpdateMutex") in got
    assert ("file-path", "/Library/Graphics/Quartz") in got  # file:name holding an absolute path
    assert {v for t, v in got if t == "domain"} == {"akamaicontainer.com", "azureonlinecloud.com",
                                                   "msstorageazure.com", "glcloudservice.com"}  # OR, OR, IN
    assert ("filename", "ffmpeg.dll") not in got  # name AND size: the name alone would match more


def test_what_is_not_read_is_counted_with_its_reason() -> None:
    pack = read_pack(str(FIXTURE))
    skipped = {e.reason: e.value for e in pack.excluded if e.type == "stix"}
    assert skipped == {
        "an AND of file properties without a hash, other than name AND parent_directory_ref.path, would match "
        "more files than the pattern": "1 indicator(s)",
        "observations joined by FOLLOWEDBY must be seen together: tracehound matches one observation at a time":
            "1 indicator(s)",
        "pattern_type 'snort' is not read (stix, yara and sigma are)": "1 indicator(s)"}
    assert pack.rejections() == []


def test_yara_and_sigma_pattern_types_become_rules() -> None:
    pack = read_pack(str(FIXTURE))
    rules = {r.name: r for r in pack.rules}
    assert set(rules) == {"TH_Fixture_3CX_ffmpeg_Loader", "TH_Fixture_Broken", "3CXDesktopApp spawns a shell (fixture)"}
    assert rules["TH_Fixture_3CX_ffmpeg_Loader"].error == "" and rules["3CXDesktopApp spawns a shell (fixture)"].error == ""
    broken = rules["TH_Fixture_Broken"]
    assert "undefined_thing" in broken.error and "E009" in broken.error and "STIX indicator--" in broken.document


@pytest.mark.parametrize(("pattern", "reason"), [
    ("[domain-name:value = 'a.com'] AND [url:value = 'https://a.com/x']", "observations joined by AND"),
    ("[file:name = 'x.dll'] REPEATS 3 TIMES", "qualified observation"),
    ("[domain-name:value NOT = 'a.com']", "negated comparison"),
    ("[domain-name:value LIKE 'a%']", "operator LIKE"),
    ("[url:value MATCHES '^https://a']", "MATCHES on url:value"),
    ("[process:name = 'evil.exe']", "process:name is not a property"),
    ("[windows-registry-key:values[*].name = 'Run']", "windows-registry-key:values[*].name is not a property"),
    ("[file:parent_directory_ref.path = 'C:\\\\Windows']", "file:parent_directory_ref.path is not a property"),
    ("[domain-name:value = 'a.com' AND (domain-name:value = 'b.com' OR domain-name:value = 'c.com')]", "nested"),
    ("[file:name = 'x.dll'", "not a valid STIX 2.1 pattern"),
])
def test_unsupported_forms_are_refused_with_a_reason(pattern: str, reason: str) -> None:
    r = stix_patterns.read(pattern)
    assert r.values == [] and len(r.refused) == 1 and reason in r.refused[0], r.refused


def test_or_keeps_the_parts_it_can_read_and_counts_the_others() -> None:
    r = stix_patterns.read("[domain-name:value = 'a.com'] OR [process:name = 'x.exe'] OR [ipv4-addr:value = '192.0.2.0/24']")
    assert r.values == [(IType.DOMAIN, "a.com", {}), (IType.CIDR, "192.0.2.0/24", {})]
    assert r.refused == ["process:name is not a property tracehound matches"]


def test_host_artefacts_round_trip_through_tracehound_stix() -> None:
    pack = Pack(name="t", title="t")
    for ind in (Indicator(IType.FILE_PATH, "C:\\Windows\\System32\\wlbsctrl.dll"),
                Indicator(IType.FILE_PATH, "/Library/Graphics/Quartz"),
                Indicator(IType.REGISTRY_KEY, "HKLM\\SOFTWARE\\x", {"value_name": "v", "value_data": "d"}),
                Indicator(IType.MUTEX, "Global\\m"), Indicator(IType.PDB_PATH, "D:\\b\\x.pdb"),
                Indicator(IType.SHA512, SHA512)):
        pack.add(ind)
    back = stix.loads(stix.dumps(pack), "rt.json")
    assert {i.key for i in back.indicators} == {i.key for i in pack.indicators}
    assert back.excluded == []


def test_bad_bundle_is_a_clear_error(tmp_path: Path, capsys) -> None:
    f = tmp_path / "cut.json"
    f.write_text(FIXTURE.read_text(encoding="utf-8")[:900], encoding="utf-8")
    code, _, err = run_cli(["intel", "convert", str(f), "-f", "json"], capsys)
    assert code != 0 and str(f) in err and "invalid JSON" in err and "Traceback" not in err
    f.write_text(json.dumps({"type": "bundle", "objects": [{"type": "indicator", "pattern": "[" * 5000,
                                                            "pattern_type": "stix"}, {"type": "indicator",
                                                            "pattern": "[domain-name:value = 'a.com']"}]}))
    pack = read_pack(str(f))
    assert [i.value for i in pack.indicators] == ["a.com"]
    assert [e.reason.split(":")[0] for e in pack.excluded] == ["not a valid STIX 2.1 pattern"]
