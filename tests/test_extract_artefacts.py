"""Host artefacts out of advisory text (issue 13): file paths, registry keys with value name/data, mutexes
and PDB paths from prose and table columns, what is not taken and why, and the end to end case: a
vendor-shaped advisory -> `intel extract` -> pack -> `sweep --intel PACK` flags a tree holding the
artefacts (a file, a Run value in a hive, a file the pasted YARA rule matches) and passes a clean one."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conftest import SAMPLES, need, run_cli
from hivebuild import write_hive
from tracehound.defang import is_defanged, refang
from tracehound.intel.documents import _markdown_line
from tracehound.intel.extract import extract_text
from tracehound.intel.model import IType, Pack, canonical_value

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

ADV = Path(__file__).parent / "data" / "advisories" / "shadowcrane-eset-style.md"
RUN = ["Software", "Microsoft", "Windows", "CurrentVersion", "Run"]


def values(pack: Pack, itype: IType) -> list[str]:
    return sorted(i.value for i in pack.of_type(itype))


def excluded(pack: Pack, itype: str) -> dict[str, str]:
    return {e.value: e.reason for e in pack.excluded if e.type == itype}


# ---- forms on real-shaped lines ------------------------------------------------------------
def test_windows_paths_variables_placeholders_and_spaces() -> None:
    pack = extract_text(
        "The loader drops C:\\Program Files (x86)\\Evil Corp\\agent.exe, then C:\\Windows\\system32\\wlbsctrl.dll.\n"
        "A blob goes to %APPDATA%\\Microsoft\\Crypto\\[GUID]\\cfg.dat and a log to %TEMP%\\~dsc{random}.tmp.\n"
        "It also writes `C:\\ProgramData\\CraneSvc\\` (a folder) and C:\\\\Users\\\\Public\\\\esc.exe in its config.\n")
    assert values(pack, IType.FILE_PATH) == [
        "%APPDATA%\\Microsoft\\Crypto\\<GUID>\\cfg.dat", "%TEMP%\\~dsc<random>.tmp",
        "C:\\Program Files (x86)\\Evil Corp\\agent.exe", "C:\\ProgramData\\CraneSvc", "C:\\Users\\Public\\esc.exe",
        "C:\\Windows\\system32\\wlbsctrl.dll"]
    ind = next(i for i in pack.of_type(IType.FILE_PATH) if i.value.endswith("wlbsctrl.dll"))
    assert "drops C:\\Program Files" in str(ind.context["line"]) and ind.sources[0].lines == [1]


def test_posix_paths_and_platform() -> None:
    pack = extract_text(
        "The macOS build installs /Library/Graphics/Quartz and ~/Library/LaunchAgents/com.apple.quartzd.plist,\n"
        "keeps settings in /private/etc/apdl.cf and /Library/Application Support/Crane Data/db.sqlite.\n"
        "On Linux: /tmp/.ICE-unix/.crane and /home/*/.config/autostart/crane.desktop for /Users/<username>/x.\n")
    got = {i.value: i.context.get("platform", "") for i in pack.of_type(IType.FILE_PATH)}
    assert got == {"/Library/Graphics/Quartz": "macos", "~/Library/LaunchAgents/com.apple.quartzd.plist": "macos",
                   "/private/etc/apdl.cf": "macos", "/Library/Application Support/Crane Data/db.sqlite": "macos",
                   "/tmp/.ICE-unix/.crane": "", "/home/*/.config/autostart/crane.desktop": "linux",
                   "/Users/<user>/x": "macos"}


def test_registry_keys_with_value_name_and_data() -> None:
    pack = extract_text(
        'reg add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v CraneUpdate /t REG_SZ /d "C:\\x\\u.exe" /f\n'
        "New-ItemProperty -Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon' -Name 'Shell' "
        "-Value 'explorer.exe, C:\\x\\s.exe'\n"
        "Settings are under HKEY_LOCAL_MACHINE\\SOFTWARE\\CraneSoft\\Settings.\n"
        "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Shell Extensions\n"
        "Registry: Computer\\HKEY_CLASSES_ROOT\\CLSID\\{6F1C2A9E-2B7D-4C8E-9A51-0D3E8B7F4C21}\\InprocServer32, "
        "value (Default)\n")
    keys = {(i.value, str(i.context.get("value_name", "")), str(i.context.get("value_data", "")))
            for i in pack.of_type(IType.REGISTRY_KEY)}
    assert keys == {
        ("HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run", "CraneUpdate", "C:\\x\\u.exe"),
        ("HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon", "Shell", "explorer.exe, C:\\x\\s.exe"),
        ("HKLM\\SOFTWARE\\CraneSoft\\Settings", "", ""),
        ("HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Shell Extensions", "", ""),
        ("HKCR\\CLSID\\{6F1C2A9E-2B7D-4C8E-9A51-0D3E8B7F4C21}\\InprocServer32", "(Default)", ""),
    }


def test_mutexes_and_pdb_paths() -> None:
    pack = extract_text(
        "It creates the mutex Global\\CraneMtx-7f3a91 so only one copy runs; a mutex named \"crane_once\" too.\n"
        "The mutex prevents a second instance. Build path: D:\\dev\\Crane\\x64\\Release\\CraneLoader.pdb\n\n"
        "Mutexes\n- CraneMtx-Local-02\n")
    assert values(pack, IType.MUTEX) == ["CraneMtx-Local-02", "Global\\CraneMtx-7f3a91", "crane_once"]
    assert values(pack, IType.PDB_PATH) == ["D:\\dev\\Crane\\x64\\Release\\CraneLoader.pdb"]
    assert values(pack, IType.FILE_PATH) == []  # a PDB path is the developer's machine, not the victim's


def test_false_forms_are_not_taken() -> None:
    text = ("See https://example.org/etc/passwd and https://blog.example.org/2023/11/02/x/ for 1/3 of hosts, and/or\n"
            "run cmd.exe /c start /min x.exe /s on 12/03/2024; the file invoice.lnk is a bare name; /blog/2023/crane.\n"
            "The dropper reads C:\\Windows\\System32\\drivers\\etc\\hosts and /etc/passwd, writes to %APPDATA%\\x\n"
            "and copies the legitimate C:\\Windows\\System32\\SearchIndexer.exe; it injects into\n"
            "C:\\Windows\\SysWOW64\\notepad.exe and %WINDIR%\\explorer.exe (every Windows has them); the Run key\n"
            "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run is on every machine; file:///C:/Users/x.exe;\n"
            "[guide](/usr/share/doc/guide.html) is a link;\n[2]: /var/www/ref.html\n"
            "\\\\10.0.0.5\\share\\evil.exe, %FOO%\\bar\\x.exe and …\\config\\TxR\\<GUID>.TxR.0.regtrans-ms.\n")
    pack = extract_text(text)
    assert values(pack, IType.FILE_PATH) == ["%APPDATA%\\x"]
    assert values(pack, IType.REGISTRY_KEY) == []
    why = excluded(pack, "file-path")
    assert why["C:\\Windows\\System32\\SearchIndexer.exe"] == "the text calls it 'legitimate': context, not an indicator"
    assert "every host" in why["/etc/passwd"] and "every host" in why["C:\\Windows\\System32\\drivers\\etc\\hosts"]
    assert "network share" in why["\\\\10.0.0.5\\share\\evil.exe"] and "unknown variable %FOO%" in why["%FOO%\\bar\\x.exe"]
    assert "elided" in why["…\\config\\TxR\\<GUID>.TxR.0.regtrans-ms"]
    assert "every host" in why["C:\\Windows\\SysWOW64\\notepad.exe"] and "every host" in why["%WINDIR%\\explorer.exe"]
    assert "every host" in excluded(pack, "registry-key")["HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"]


def test_path_column_table_and_benign_row() -> None:
    pack = extract_text(
        "| Chemin | SHA-256 | Détection |\n|---|---|---|\n"
        f"| C:\\ProgramData\\CraneSvc\\CraneUpdate.exe | {'3f' * 32} | Win64/ShadowCrane.A |\n"
        f"| C:\\Windows\\System32\\SearchIndexer.exe | {'0a' * 32} | binaire légitime |\n"
        f"| AppData\\Roaming\\x.dll | {'7e' * 32} | relatif |\n", suffix=".md")
    ind = pack.of_type(IType.FILE_PATH)
    assert [(i.value, i.context["sha256"], i.confidence) for i in ind] == [
        ("C:\\ProgramData\\CraneSvc\\CraneUpdate.exe", "3f" * 32, 90)]
    assert values(pack, IType.SHA256) == sorted(["3f" * 32, "7e" * 32])
    why = {e.value: e.reason for e in pack.excluded}
    assert "marks this row as context" in excluded(pack, "file-path")["C:\\Windows\\System32\\SearchIndexer.exe"]
    assert "not an absolute path" in why["AppData\\Roaming\\x.dll"]


def test_registry_and_mutex_columns() -> None:
    pack = extract_text(
        "| Registry key | Value name | Value data |\n|---|---|---|\n"
        "| HKLM\\SYSTEM\\CurrentControlSet\\Services\\CraneSvc | ImagePath | C:\\ProgramData\\CraneSvc\\svc.exe |\n"
        "\n| Mutex | Family |\n|---|---|\n| Crane-{A1B2} | ShadowCrane |\n", suffix=".md")
    [key] = pack.of_type(IType.REGISTRY_KEY)
    assert (key.value, key.context["value_name"], key.context["value_data"]) == (
        "HKLM\\SYSTEM\\CurrentControlSet\\Services\\CraneSvc", "ImagePath", "C:\\ProgramData\\CraneSvc\\svc.exe")
    assert values(pack, IType.MUTEX) == ["Crane-{A1B2}"]


def test_last_component_with_a_space_in_real_text() -> None:
    # ESET's Stealth Falcon post (peer-suites iof-0070): the key in prose, then alone on its line
    pack = extract_text(
        "The configuration values are stored in the HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion"
        "\\Shell Extensions registry key. All values are prefixed by the malware's filename.\n\n"
        "Registry keys/values\nHKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Shell Extensions\n"
        "Log file name patterns\n%TEMP%\\dsc*\n")
    assert values(pack, IType.REGISTRY_KEY) == ["HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Shell Extensions"]
    assert values(pack, IType.FILE_PATH) == ["%TEMP%\\dsc*"]


def _misp_attributes(o: object):
    if isinstance(o, dict):
        if isinstance(o.get("type"), str) and isinstance(o.get("value"), str):
            yield o["type"], o["value"]
        for v in o.values():
            yield from _misp_attributes(v)
    elif isinstance(o, list):
        for v in o:
            yield from _misp_attributes(v)


def test_real_misp_artefact_values_are_read_from_text() -> None:
    """ESET's public MISP events (regkey, regkey|value, mutex, file names with a path), each value written on a
    line as an advisory lists it: every one that is a valid indicator comes out, exactly."""
    kinds = {"regkey": IType.REGISTRY_KEY, "regkey|value": IType.REGISTRY_KEY, "mutex": IType.MUTEX, "pdb": IType.PDB_PATH}
    cases: set[tuple[IType, str]] = set()
    for f in sorted(need(SAMPLES / "misp-events").glob("*.json")):
        for t, v in _misp_attributes(json.loads(f.read_text(encoding="utf-8"))):
            text = v.split("|")[0]
            if t in kinds:
                cases.add((kinds[t], text))
            elif t.startswith("filename") and ("\\" in text or text.startswith(("/", "~/"))):
                cases.add((IType.PDB_PATH if text.lower().endswith(".pdb") else IType.FILE_PATH, text))
    missed, valid = [], 0
    for itype, text in sorted(cases):
        try:
            want = canonical_value(itype, text)
        except ValueError:
            continue  # `%APPDATA%Realtek\\...`, `Windows\\<id>`: not absolute, refused by the pack too
        valid += 1
        got = values(extract_text(("Mutex: " if itype is IType.MUTEX else "IOC: ") + text + "\n"), itype)
        if want not in got:
            missed.append((text, got))
    assert valid >= 70 and missed == []


# ---- the two defects on paths ----------------------------------------------------------------
def test_refang_keeps_backslash_dot_of_a_path() -> None:
    assert refang("HKCU\\Software\\Classes\\.lnk\\shell") == "HKCU\\Software\\Classes\\.lnk\\shell"
    assert refang("C:\\Users\\bob\\.config\\x and evil-c2\\.com") == "C:\\Users\\bob\\.config\\x and evil-c2.com"
    assert refang("sub\\.evil-c2\\.com") == "sub.evil-c2.com"
    assert not is_defanged("HKCR\\.lnk") and is_defanged("beacon to evil-c2\\.com")
    pack = extract_text("The key HKCU\\Software\\Classes\\.lnk\\shell\\open\\command is hijacked; C2 evil-c2\\.com.\n")
    assert values(pack, IType.REGISTRY_KEY) == ["HKCU\\Software\\Classes\\.lnk\\shell\\open\\command"]
    assert values(pack, IType.DOMAIN) == ["evil-c2.com"]


def test_markdown_keeps_underscores_and_code_of_paths() -> None:
    assert _markdown_line("Dropped to C:\\__MACOSX\\x.dll and **bold** __also__") == \
        "Dropped to C:\\__MACOSX\\x.dll and bold also"
    assert _markdown_line("`C:\\ProgramData\\__x__\\y.exe` and value`CraneUpdate`") == \
        "C:\\ProgramData\\__x__\\y.exe and value CraneUpdate"
    pack = extract_text("Files: `C:\\__MACOSX\\__init__\\run.py` and C:\\Users\\**\\x.tmp\n", suffix=".md")
    assert values(pack, IType.FILE_PATH) == ["C:\\Users\\**\\x.tmp", "C:\\__MACOSX\\__init__\\run.py"]


# ---- a large document: correctness only (timing is bench/bench_extract.py) ---------------------
def test_one_megabyte_advisory_and_one_line_document_are_exact() -> None:
    from bench_extract import check
    from corpus_advisory import advisory

    for one_line in (False, True):
        text, truth = advisory(1 << 20, one_line=one_line)
        pack = extract_text(text, "big", ".txt" if one_line else ".md")
        assert check(pack, truth) == [], one_line
        assert len(truth.paths) > 1500 and len(pack.of_type(IType.REGISTRY_KEY)) == len(truth.keys)


# ---- end to end: advisory -> pack -> sweep ------------------------------------------------------
def _pack(tmp_path: Path, capsys) -> Path:
    out = tmp_path / "shadowcrane.json"
    code, _, err = run_cli(["intel", "extract", str(ADV), "-o", str(out)], capsys)
    assert code == 0, err
    return out


def _windows_tree(root: Path, infected: bool) -> Path:
    (root / "Windows/System32/config").mkdir(parents=True)
    run = {"CraneUpdate": r"C:\ProgramData\CraneSvc\CraneUpdate.exe"} if infected else {"OneDrive": r"C:\x\OneDrive.exe"}
    write_hive(root / "Users/alice/NTUSER.DAT", [{"key": RUN, "values": run}])
    (root / "Users/alice/Documents").mkdir(parents=True)
    body = b"MZ\x00 ShadowCrane loader config v2 \x00" if infected else b"MZ\x00 an ordinary document\x00"
    (root / "Users/alice/Documents/cfg.bin").write_bytes(body)
    (root / "Windows/System32/SearchIndexer.exe").write_bytes(b"MZ legitimate")  # the benign row: never flagged
    if infected:
        (root / "Windows/System32/WLBSCTRL.DLL").write_bytes(b"MZ side-loaded")  # case differs from the advisory
    return root


def _sweep(pack: Path, root: Path, tmp_path: Path, capsys) -> tuple[int, list[dict]]:
    out = tmp_path / f"{root.name}.jsonl"
    code, _, err = run_cli(["sweep", "--intel", str(pack), "--root", str(root), "-o", str(out), "--no-nice", "-j", "1"],
                           capsys)
    return code, [json.loads(x) for x in out.read_text().splitlines()]


def test_advisory_pack_alone_sweeps_a_tree(tmp_path: Path, capsys) -> None:
    pack_file = _pack(tmp_path, capsys)
    pack = json.loads(pack_file.read_text())
    types = {i["type"] for i in pack["indicators"]}
    assert {"file-path", "registry-key", "mutex", "pdb-path", "sha256", "domain"} <= types
    assert sorted(r["name"] for r in pack["rules"]) == ["ShadowCrane side-loaded wlbsctrl.dll", "ShadowCrane_Loader"]
    paths = {i["value"] for i in pack["indicators"] if i["type"] == "file-path"}
    assert "C:\\ProgramData\\CraneSvc\\inrule.bin" not in paths and "C:\\Windows\\System32\\sigmaonly.dll" not in paths
    assert "C:\\Windows\\System32\\SearchIndexer.exe" not in paths  # legitimate in prose and in the table

    code, docs = _sweep(pack_file, _windows_tree(tmp_path / "infected", True), tmp_path, capsys)
    found = sorted((d["tracehound"]["check"], d["tracehound"]["verdict"]) for d in docs[:-1]
                   if d["tracehound"]["verdict"] != "info")
    assert found == [("paths", "compromised"), ("registry", "compromised"), ("yara", "compromised")], found
    by_check = {d["tracehound"]["check"]: d for d in docs[:-1]}
    assert by_check["paths"]["file"]["path"].endswith("Windows/System32/WLBSCTRL.DLL")
    assert by_check["registry"]["registry"]["value"] == "CraneUpdate"
    assert by_check["yara"]["rule"]["name"] == "ShadowCrane_Loader"
    assert docs[-1]["tracehound"]["verdict"] == "compromised" and code == 1

    code, docs = _sweep(pack_file, _windows_tree(tmp_path / "clean", False), tmp_path, capsys)
    assert [d for d in docs[:-1] if d["tracehound"]["verdict"] not in ("info", "clean")] == []
    assert docs[-1]["tracehound"]["verdict"] == "clean" and code == 0


def test_stix_and_misp_outputs_carry_the_artefacts(tmp_path: Path, capsys) -> None:
    """`intel extract -f stix|misp` and `export -f stix|misp` write the host artefacts (STIX file / windows-registry-key
    / mutex patterns, MISP regkey / mutex / filename attributes): read back, and the STIX bundle valid for the OASIS
    validator."""
    from stix2validator import ValidationOptions, validate_string

    from tracehound.intel.formats import read_pack

    want = {"file-path", "registry-key", "mutex"}
    for fmt in ("stix", "misp"):
        out = tmp_path / f"sc.{fmt}.json"
        code, _, err = run_cli(["intel", "extract", str(ADV), "-q", "-f", fmt, "-o", str(out)], capsys)
        assert code == 0 and "internal error" not in err and "not written" not in err, err
        assert want <= {i.type.value for i in read_pack(str(out)).indicators}
        if fmt == "stix":
            assert validate_string(out.read_text(), ValidationOptions(version="2.1", strict=True)).is_valid
    pack = _pack(tmp_path, capsys)
    for fmt in ("stix", "misp"):
        out = tmp_path / f"export.{fmt}.json"
        code, _, err = run_cli(["export", "-i", str(pack), "-f", fmt, "-o", str(out)], capsys)
        assert code == 0 and "refused by a format" not in err, err
        json.loads(out.read_text())


def test_context_is_the_markdown_section_its_stage_and_the_line() -> None:
    from tracehound.intel.extract import ExtractOptions, extract_files

    pack = extract_files([str(ADV)], ExtractOptions()).pack
    ctx = {i.value: i.context for i in pack.indicators}
    assert ctx["/private/etc/apdl.cf"]["section"] == "Stage 3: the macOS and Linux variants"
    assert ctx["/private/etc/apdl.cf"]["stage"] == "Stage 3"
    assert ctx["/private/etc/apdl.cf"]["line"] == \
        "~/Library/LaunchAgents/com.apple.quartzd.plist, and keeps its settings in /private/etc/apdl.cf."
    # the cue ends one line, the value starts the next: found in the prose (line 33) and in the list (66)
    mutex = next(i for i in pack.of_type(IType.MUTEX) if i.value == "Global\\CraneMtx-7f3a91")
    assert mutex.sources[0].lines == [33, 66] and "Stage 2" in mutex.ctx("stage")
    assert ctx["C:\\Windows\\system32\\wlbsctrl.dll"]["sha256"] == "7e6d5c4b3a29180f" * 4


def test_path_column_in_flattened_and_csv_tables() -> None:
    flat = extract_text(f"File path\nSHA-256\nC:\\ProgramData\\x\\a.exe\n{'ab' * 32}\n/tmp/.x/b\n{'cd' * 32}\n")
    assert {(i.value, i.context["sha256"]) for i in flat.of_type(IType.FILE_PATH)} == {
        ("C:\\ProgramData\\x\\a.exe", "ab" * 32), ("/tmp/.x/b", "cd" * 32)}
    csv = extract_text(f"path,sha256,comment\nC:\\ProgramData\\x\\a.exe,{'ab' * 32},loader\n"
                       f"%TEMP%\\b.dll,{'cd' * 32},legitimate test\n", suffix=".csv")
    assert values(csv, IType.FILE_PATH) == ["C:\\ProgramData\\x\\a.exe"]
    assert "marks this row as context" in excluded(csv, "file-path")["%TEMP%\\b.dll"]


def test_service_image_paths_nt_prefixes() -> None:
    pack = extract_text("ImagePath: \\SystemRoot\\System32\\drivers\\crane.sys\n"
                        "ImagePath = \\??\\C:\\Windows\\crane64.sys and \\\\?\\C:\\ProgramData\\long\\path.bin\n")
    assert values(pack, IType.FILE_PATH) == ["%SYSTEMROOT%\\System32\\drivers\\crane.sys", "C:\\ProgramData\\long\\path.bin",
                                             "C:\\Windows\\crane64.sys"]


def test_artefact_columns_do_not_turn_prose_into_tables() -> None:
    # a prose line listing words that are column names is no CSV header (docs/formats.md has one)
    pack = extract_text("attributes of other types —\nregkey, mutex, yara, text… — are counted per type, never dropped\n"
                        "silently), CSV, Loki/signature-base hash-iocs.txt, c2-iocs.txt (a folder holding them).\n")
    assert values(pack, IType.MUTEX) == [] and values(pack, IType.REGISTRY_KEY) == []
    # a table keyed only by a Path column: its other cells are still read as prose (they were before)
    pack = extract_text("| Path | Description |\n|---|---|\n"
                        "| C:\\ProgramData\\x\\a.exe | beacons to evil-c2[.]example.com |\n", suffix=".md")
    assert values(pack, IType.DOMAIN) == ["evil-c2.example.com"]
    assert values(pack, IType.FILE_PATH) == ["C:\\ProgramData\\x\\a.exe"]


def test_roots_and_placeholder_only_paths_are_locations() -> None:
    pack = extract_text("It lists /Library/ and /home/*/ and /private/etc/, walks C:\\Users\\<username>\\ and %APPDATA%\\*,\n"
                        "then drops /home/*/.config/crane.sh and C:\\Users\\<username>\\crane.exe.\n")
    assert values(pack, IType.FILE_PATH) == ["/home/*/.config/crane.sh", "C:\\Users\\<user>\\crane.exe"]
    assert {"/home/*", "/private/etc", "C:\\Users\\<user>", "%APPDATA%\\*"} <= set(excluded(pack, "file-path"))


def test_left_out_lines_defang_hosts_not_file_names(tmp_path: Path, capsys) -> None:
    """What `intel extract` says it left out: network values defanged, paths and rule names as written."""
    code, _, err = run_cli(["intel", "extract", str(ADV), "-o", str(tmp_path / "p.json")], capsys)
    flat = " ".join(err.split())
    assert code == 0, err
    assert "C:\\Windows\\System32\\SearchIndexer.exe" in flat and "SearchIndexer[.]exe" not in flat
    assert "apdl[.]cf" in flat and " apdl.cf" not in flat
    assert "side-loaded wlbsctrl.dll" in flat and "attack.mitre[.]org" in flat
