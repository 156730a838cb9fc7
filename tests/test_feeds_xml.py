"""XML feeds: OpenIOC 1.0/1.1 (.ioc, as published for 3CX) and STIX 1.x packages (Talos, CERTs), parsed
safely (issue 13, item 4). Fixtures in tests/data/feeds/ follow the published layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from tracehound.errors import PackError
from tracehound.intel.formats import detect, read_pack

DATA = Path(__file__).parent / "data" / "feeds"
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<ioc xmlns="http://schemas.mandiant.com/2010/ioc"><definition><Indicator operator="OR">
<IndicatorItem condition="is"><Context search="Network/DNS"/><Content>&lol9;</Content></IndicatorItem>
</Indicator></definition></ioc>
"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<stix:STIX_Package xmlns:stix="http://stix.mitre.org/stix-1"><stix:STIX_Header><stix:Title>&x;</stix:Title>
</stix:STIX_Header></stix:STIX_Package>
"""


def values(pack) -> dict[tuple[str, str], dict]:
    return {(i.type.value, i.value): i.context for i in pack.indicators}


def test_openioc_10_or_items_and_and_groups() -> None:
    f = DATA / "3cx-openioc10.ioc"
    pack = read_pack(str(f))
    assert pack.title == "3CX Supply Chain Compromise (IconStealer)" and pack.published == "2023-03-30"
    got = values(pack)
    assert got == {
        ("sha256", "59e1edf4d82fae4978e97512b0331b7eb21dd4b838b850ba46794d9c7a2c0983"): {},
        ("sha256", "5407cda7d3a75e7b1e030b1f33337a56f293578ffa8b3ae19c671051ed314290"): {},
        # AND(FileName, Sha256sum): the hash names the file, the name is its context
        ("sha256", "11be1803e2e307b647a8a7e02d128335c448ff741bf06bf52b332e0bbf423b03"): {"file_name": "d3dcompiler_47.dll"},
        ("domain", "akamaicontainer.com"): {}, ("domain", "azureonlinecloud.com"): {},
        ("file-path", "%LOCALAPPDATA%\\Programs\\3CXDesktopApp\\ffmpeg.dll"): {},
    }
    left = {(e.type, e.value): (e.reason, e.line) for e in pack.excluded}
    # AND(FileName ffmpeg.dll, PEInfo contains ...): neither part is an indicator alone (not fabricated)
    assert left[("openioc FileItem/FileName", "ffmpeg.dll")][0].startswith("one of 2 conditions of an AND group")
    assert left[("openioc Network/URI", "/v2/storage")] == (
        "condition 'contains' is not an exact value: context, not an indicator", 46)
    assert "'isnot'" in left[("openioc FileItem/FileName", "3CXDesktopApp.exe")][0]
    assert left[("openioc", "1 item(s)")][0] == "search term 'FileItem/PEInfo/PETimeStamp' is not one tracehound matches"


def test_openioc_11_registry_group_negate_and_conditions() -> None:
    pack = read_pack(str(DATA / "host-artefacts-openioc11.ioc"))
    assert pack.published == "2023-04-03"
    assert values(pack) == {
        ("registry-key", "HKLM\\SYSTEM\\CurrentControlSet\\Services\\IKEEXT\\Parameters"): {
            "value_name": "ServiceDll", "value_data": "C:\\Windows\\system32\\wlbsctrl.dll"},  # Hive + KeyPath + ...
        ("mutex", "Global\\3CXDesktopUpdateMutex"): {},
        ("ipv4", "185.220.101.4"): {},
    }
    mutex = next(i for i in pack.indicators if i.type.value == "mutex")
    assert [(s.document.rsplit("/", 1)[-1], s.lines) for s in mutex.sources] == [("host-artefacts-openioc11.ioc", [30])]
    reasons = {e.value: e.reason for e in pack.excluded}
    assert reasons["10.0.0.1"] == "condition 'not is' is not an exact value: context, not an indicator"  # negate="true"
    assert "'starts-with'" in reasons["C:\\ProgramData\\Microsoft\\"]
    assert reasons["IKEEXT"].startswith("one of 2 conditions of an AND group")


def test_stix1_package_indicators_observables_and_objects() -> None:
    pack = read_pack(str(DATA / "talos-stix12.xml"))
    assert pack.title == "3CX supply chain attack: indicators" and pack.published == "2023-03-31"
    got = values(pack)
    assert {v for t, v in got if t == "domain"} == {"akamaicontainer.com", "azureonlinecloud.com", "msstorageazure.com"}
    ffmpeg = {"indicator": "Trojanised ffmpeg.dll", "file_name": "ffmpeg.dll",
              "file_path": "%LOCALAPPDATA%\\Programs\\3CXDesktopApp\\ffmpeg.dll"}
    assert got[("sha256", "7986bbaee8940da11ce089383521ab420c443ab7b15ed42aed91fd31ce833896")] == ffmpeg  # by idref
    assert got[("md5", "74bc2d0b6680faa1a5a76b27e5479cbc")] == ffmpeg
    assert got[("registry-key", "HKCU\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run")] == {
        "indicator": "Persistence and host artefacts", "value_name": "3CXUpdater", "value_data": "C:\\Users\\Public\\3cxupd.exe"}
    assert ("mutex", "AVMonitorRefreshEvent") in got and ("file-path", "C:\\Windows\\system32\\wlbsctrl.dll") in got
    assert got[("ipv4", "185.220.101.4")] == {}  # a top-level observable no indicator names
    assert ("url", "https://raw.githubusercontent.com/IconStorages/images/main/icon13.ico") in got
    left = {(e.type, e.reason) for e in pack.excluded}
    assert ("stix1 Value", "condition 'Contains' is not an exact value: not an indicator") in left
    assert ("stix1", "CybOX object EmailMessageObjectType is not one tracehound matches") in left


@pytest.mark.parametrize(("name", "fmt"), [("3cx-openioc10.ioc", "openioc"), ("host-artefacts-openioc11.ioc", "openioc"),
                                           ("talos-stix12.xml", "stix1")])
def test_formats_detected_by_content(name: str, fmt: str, tmp_path: Path) -> None:
    text = (DATA / name).read_text(encoding="utf-8")
    assert detect(text, "feed.txt") == fmt  # by the root element, whatever the extension
    f = tmp_path / "renamed.dat"
    f.write_text(text, encoding="utf-8")
    assert read_pack(str(f)).indicators


@pytest.mark.parametrize(("text", "what"), [(BILLION_LAUGHS, "DTDForbidden"), (XXE, "DTDForbidden")])
def test_entity_expansion_and_external_entities_are_refused(text: str, what: str, tmp_path: Path, capsys) -> None:
    f = tmp_path / "hostile.ioc" if "ioc" in text else tmp_path / "hostile.xml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(PackError, match="unsafe XML refused") as exc:
        read_pack(str(f))
    assert what in str(exc.value) and str(f) in str(exc.value)
    code, out, err = run_cli(["intel", "convert", str(f), "-f", "json"], capsys)
    assert code != 0 and "unsafe XML refused" in err and "Traceback" not in err and "lollol" not in out + err
    assert "root:" not in out + err


def test_broken_xml_names_file_and_line(tmp_path: Path, capsys) -> None:
    lines = (DATA / "3cx-openioc10.ioc").read_text(encoding="utf-8").splitlines()
    lines[20] = lines[20].replace("</Content>", "</Contents>")
    f = tmp_path / "broken.ioc"
    f.write_text("\n".join(lines), encoding="utf-8")
    code, _, err = run_cli(["intel", "show", "--intel", str(f)], capsys)
    assert code != 0 and f"{f}:21: invalid XML" in err and "Traceback" not in err, err


def test_other_xml_and_deep_nesting_are_clear_errors(tmp_path: Path) -> None:
    f = tmp_path / "feed.xml"
    f.write_text("<rss><channel/></rss>", encoding="utf-8")
    with pytest.raises(PackError, match=r"root element <rss> is neither OpenIOC"):
        read_pack(str(f))
    f.write_text('<ioc xmlns="http://schemas.mandiant.com/2010/ioc"><definition>' + "<Indicator>" * 500
                 + "</Indicator>" * 500 + "</definition></ioc>", encoding="utf-8")
    with pytest.raises(PackError, match="nested deeper than 200"):
        read_pack(str(f))
    f.write_text('{"STIX_Package": {"STIX_Header": {}}}', encoding="utf-8")
    with pytest.raises(PackError, match="STIX 1.x JSON is not read"):
        read_pack(str(f))


def test_cli_convert_lists_what_a_feed_left_out(capsys) -> None:
    code, out, err = run_cli(["intel", "convert", str(DATA / "host-artefacts-openioc11.ioc"), "-f", "csv"], capsys)
    assert code == 0 and "read 3 indicators: 1 ipv4, 1 mutex, 1 registry-key" in err
    assert "left out openioc PortItem/remoteIP 10.0.0[.]1" in err
    assert "registry-key,HKLM\\SYSTEM\\CurrentControlSet\\Services\\IKEEXT\\Parameters" in out


def test_sweep_with_a_stix1_pack_alone_flags_the_tree(tmp_path: Path) -> None:
    """The file-path indicator of the STIX 1.x package flags a tree holding the DLL, and nothing else."""
    from tracehound.sweep.engine import SweepOptions, run_sweep

    system32 = tmp_path / "Windows" / "System32"
    (system32 / "config").mkdir(parents=True)
    (system32 / "wlbsctrl.dll").write_bytes(b"MZ fixture")
    (system32 / "wlbsctrl.dll.bak").write_bytes(b"MZ fixture")  # near miss
    docs: list[dict] = []
    run_sweep(read_pack(str(DATA / "talos-stix12.xml")), SweepOptions(target=str(tmp_path), jobs=1), docs.append)
    flagged = [(d["tracehound"]["check"], d["tracehound"]["verdict"], d["threat"]["enrichments"][0]["matched"]["atomic"])
               for d in docs[:-1] if d["tracehound"]["verdict"] != "info"]
    assert flagged == [("paths", "compromised", "C:\\Windows\\System32\\wlbsctrl.dll")]
