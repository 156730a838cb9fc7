"""Scope from inventories: CSV (Intune, SCCM, custom with --map), osquery JSON."""

import json
from pathlib import Path

import pytest

from conftest import run_cli
from tracehound.engines.scope import run_scope
from tracehound.errors import InputError


def scope(pack, tmp_path: Path, name: str, text: str, mapping: dict | None = None) -> list[dict]:
    f = tmp_path / name
    f.write_text(text)
    docs: list[dict] = []
    run_scope(pack, [str(f)], mapping or {}, docs.append)
    return docs


def exposure(docs: list[dict]) -> dict[str, str]:
    return {d["host"]["name"]: d["tracehound"]["status"] for d in docs if d["tracehound"].get("check") == "inventory"}


def test_intune_export_headers(pack3cx, tmp_path: Path) -> None:
    text = ('"Device name","Device ID","Application name","Application version","Platform"\n'
            '"PC-1","a1","3CX Desktop App","18.12.416","Windows"\n'
            '"PC-2","a2","3CX Desktop App","18.12.422","Windows"\n'
            '"MAC-1","a3","3CX Desktop App (MacOS)","18.11.1213","macOS"\n'
            '"MAC-2","a4","3CX Desktop App","18.12.401","macOS"\n'
            '"PC-3","a5","3CXDesktopApp","18.11.1213","Windows"\n')  # 18.11.1213 is affected on macOS only
    assert exposure(scope(pack3cx, tmp_path, "intune.csv", text)) == {
        "PC-1": "affected", "PC-2": "unaffected", "MAC-1": "affected", "MAC-2": "unaffected", "PC-3": "unaffected"}


def test_sccm_export_semicolons(pack3cx, tmp_path: Path) -> None:
    text = "Netbios_Name0;DisplayName0;Version0;Publisher0\nSRV-9;3CX Desktop App;18.12.407.0;3CX\nSRV-8;Notepad++;8.5;Don Ho\n"
    docs = scope(pack3cx, tmp_path, "sccm.csv", text)
    assert exposure(docs) == {"SRV-9": "affected"}  # no platform column: any platform's affected list counts
    hosts = {d["host"]["name"] for d in docs if d["tracehound"].get("record") == "inventory-host"}
    assert hosts == {"SRV-9", "SRV-8"}


def test_custom_columns_with_map(pack3cx, tmp_path: Path, capsys) -> None:
    f = tmp_path / "assets.csv"
    f.write_text("AssetName,Addr,OS,Soft,Ver\nWS-7,10.1.1.7 10.1.9.7,Windows 10,3CX Desktop App,18.12.407\n")
    code, _, err = run_cli(["scope", str(f), "-o", str(tmp_path / "o.jsonl")], capsys)
    assert code == 2 and "no column for host" in err and "--map" in err
    code, _, err = run_cli(["scope", str(f), "--map", "host=AssetName", "--map", "ip=Addr", "--map", "platform=OS",
                            "--map", "product=Soft", "--map", "version=Ver", "-o", str(tmp_path / "o.jsonl")], capsys)
    assert code == 1 and "WS-7" in err
    docs = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    inv = [d for d in docs if d["tracehound"].get("record") == "inventory-host"][0]
    assert inv["host"]["ip"] == ["10.1.1.7", "10.1.9.7"]


def test_osquery_programs_and_apps(pack3cx, tmp_path: Path) -> None:
    programs = [{"hostIdentifier": "WIN-11", "columns": {"name": "3CX Desktop App", "version": "18.12.416",
                                                       "publisher": "3CX", "install_location": "C:\\\\Users\\\\a"}},
                {"hostIdentifier": "WIN-12", "columns": {"name": "3CX Desktop App", "version": "18.12.425",
                                                       "publisher": "3CX", "install_location": ""}}]
    apps = "\n".join(json.dumps({"hostIdentifier": h, "columns": {"name": "3CX Desktop App.app", "bundle_name": "3CX Desktop App",
                                                                  "bundle_short_version": v, "bundle_identifier": "com.3cx"}})
                     for h, v in (("MAC-11", "18.12.402"), ("MAC-12", "18.12.416.0")))
    assert exposure(scope(pack3cx, tmp_path, "programs.json", json.dumps(programs))) == {"WIN-11": "affected", "WIN-12": "unaffected"}
    assert exposure(scope(pack3cx, tmp_path, "apps.jsonl", apps)) == {"MAC-11": "affected", "MAC-12": "affected"}


def test_bad_inventories(pack3cx, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="empty inventory"):
        scope(pack3cx, tmp_path, "e.csv", "")
    with pytest.raises(InputError, match=r"x\.json:2: invalid JSON"):
        scope(pack3cx, tmp_path, "x.json", '{"hostIdentifier": "a", "columns": {}}\n{broken\n')
    with pytest.raises(InputError, match="row without a host name"):
        scope(pack3cx, tmp_path, "n.csv", "hostname,product,version\n,3CX Desktop App,18.12.416\n")


# plain `osqueryi --json "select * from programs"` output: one machine, no host column (every value a string)
OSQUERYI_PROGRAMS = json.dumps([
    {"identifying_number": "{8F4E4C1E-0000}", "install_date": "20230322", "install_location": "C:\\Users\\a\\AppData\\Local\\Programs\\3CXDesktopApp\\",
     "install_source": "", "language": "", "name": "3CX Desktop App", "publisher": "3CX Ltd", "uninstall_string": "",
     "upgrade_code": "", "version": "18.12.416"},
    {"identifying_number": "", "install_date": "", "install_location": "", "install_source": "", "language": "",
     "name": "7-Zip 22.01 (x64)", "publisher": "Igor Pavlov", "uninstall_string": "", "upgrade_code": "", "version": "22.01"},
], indent=2)


def test_plain_osqueryi_output_with_host(tmp_path: Path, capsys) -> None:
    f = tmp_path / "pc7.json"
    f.write_text(OSQUERYI_PROGRAMS)
    out = tmp_path / "scope.jsonl"
    code, _, err = run_cli(["scope", str(f), "--host", "PC-7", "-o", str(out)], capsys)
    assert code == 1, err
    docs = [json.loads(x) for x in out.read_text().splitlines()]
    assert exposure(docs) == {"PC-7": "affected"}
    assert {d["host"]["name"] for d in docs if d["tracehound"].get("record") == "inventory-host"} == {"PC-7"}


def test_plain_osqueryi_output_without_host_leaves_no_output(tmp_path: Path, capsys) -> None:
    good = tmp_path / "intune.csv"
    good.write_text("Device name,Application name,Application version\nPC-1,3CX Desktop App,18.12.416\n")
    bare = tmp_path / "pc7.json"
    bare.write_text(OSQUERYI_PROGRAMS)
    out = tmp_path / "scope.jsonl"
    code, _, err = run_cli(["scope", str(good), str(bare), "-o", str(out)], capsys)
    assert code == 2
    assert f"{bare}:1:" in err and "--host NAME" in err
    assert not out.exists() and not list(tmp_path.glob(".scope.jsonl.*"))  # nothing that looks complete
    code, _, err = run_cli(["scope", str(good), str(bare), "--host", "PC-7", "-o", str(out)], capsys)
    assert code == 2 and "--host FILE=NAME" in err  # ambiguous with two files
    code, _, err = run_cli(["scope", str(good), str(bare), "--host", f"{bare}=PC-7", "-o", str(out)], capsys)
    assert code == 1, err
    assert exposure([json.loads(x) for x in out.read_text().splitlines()]) == {"PC-1": "affected", "PC-7": "affected"}


def test_one_host_csv_with_host(tmp_path: Path, capsys) -> None:
    f = tmp_path / "apps.csv"
    f.write_text("name,version\n3CX Desktop App,18.12.407\n")
    code, _, err = run_cli(["scope", str(f), "-o", "-"], capsys)
    assert code == 2 and "--host NAME" in err
    code, out, err = run_cli(["scope", str(f), "--host", "SRV-2", "-o", "-"], capsys)
    assert code == 1 and exposure([json.loads(x) for x in out.splitlines()]) == {"SRV-2": "affected"}
