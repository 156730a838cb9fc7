"""File-path and registry-key indicators in the sweep: a pack holding only those flags a tree (and
a KAPE zip of it) holding the artefacts, with exactly the expected findings and no near miss."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hivebuild import write_hive
from hosttree import snapshot
from scaling import FLOOR, cpu_per_call
from targettree import kape_zip
from tracehound.intel.model import IType, Pack
from tracehound.sweep.engine import SweepOptions, run_sweep
from tracehound.sweep.paths import PathIndex

GUID = "{6F1C2A9E-2B7D-4C8E-9A51-0D3E8B7F4C21}"


def pack_of(paths: list[str] = (), keys: list[tuple[str, dict]] = (), confidence: int = 80) -> Pack:
    p = Pack("artefacts-test")
    for v in paths:
        assert p.add_value(IType.FILE_PATH, v, confidence=confidence) is not None, v
    for v, ctx in keys:
        assert p.add_value(IType.REGISTRY_KEY, v, ctx, confidence=confidence) is not None, v
    return p


def sweep(pack: Pack, target: Path) -> tuple[list[dict], dict]:
    docs: list[dict] = []
    run_sweep(pack, SweepOptions(target=str(target), jobs=1), docs.append)
    summary = docs.pop()
    assert summary["tracehound"]["record"] == "host-summary"
    return docs, summary


def hits(docs: list[dict], check: str) -> list[tuple[str, str]]:
    return sorted((d["tracehound"]["verdict"], d["threat"]["enrichments"][0]["matched"]["atomic"])
                  for d in docs if d["tracehound"]["check"] == check and d["tracehound"]["verdict"] != "info")


# ---- path indicators: the matcher ----------------------------------------------------------
def matched(idx: PathIndex, rel: str) -> list[str]:
    return [p.ind.value for p in idx.match(rel.split("/"))]


def test_windows_paths_expand_and_compare_case_insensitively() -> None:
    idx = PathIndex.build(pack_of([r"C:\Windows\system32\catroot2\edb.chk.log", r"%APPDATA%\Evil\<GUID>.dll",
                                   r"%TEMP%\upd*.tmp", r"C:\ProgramData\{GUID}\cfg.bin", r"D:\data\x.bin",
                                   r"C:\Users\%USERNAME%\AppData\Local\Evil"]), "windows")
    assert matched(idx, "Windows/System32/CatRoot2/EDB.CHK.LOG") == [r"C:\Windows\system32\catroot2\edb.chk.log"]
    assert matched(idx, f"Users/bob/AppData/Roaming/evil/{GUID}.dll") == [r"%APPDATA%\Evil\<GUID>.dll"]
    assert matched(idx, f"Users/bob/AppData/Roaming/evil/{GUID[1:-1]}.dll") == [r"%APPDATA%\Evil\<GUID>.dll"]
    assert matched(idx, "Users/bob/AppData/Local/Temp/upd42.tmp") == [r"%TEMP%\upd*.tmp"]
    assert matched(idx, "Windows/Temp/UPD.tmp") == [r"%TEMP%\upd*.tmp"]  # both %TEMP% folders
    assert matched(idx, f"ProgramData/{GUID.lower()}/cfg.bin") == [r"C:\ProgramData\{GUID}\cfg.bin"]
    assert matched(idx, "D/data/x.bin") == [r"D:\data\x.bin"]  # another drive: its letter folder
    assert matched(idx, "Users/alice/AppData/Local/Evil") == [r"C:\Users\%USERNAME%\AppData\Local\Evil"]
    # near misses: not a GUID, one folder too deep, another drive, the indicator's folder elsewhere
    for rel in ("Users/bob/AppData/Roaming/Evil/notaguid.dll", f"Users/bob/AppData/Roaming/x/Evil/{GUID}.dll",
                "data/x.bin", "Windows/system32/catroot2/edb.chk.log.bak", "Temp/upd1.tmp",
                "Users/alice/AppData/Local/Evil2"):
        assert matched(idx, rel) == [], rel


def test_posix_paths_home_aliases_and_case() -> None:
    pack = pack_of(["/private/etc/apdl.cf", "~/Library/Graphics/Quartz", "/tmp/.x11-unix-lock", "~/.config/evil.sh"])
    mac = PathIndex.build(pack, "macos")
    assert matched(mac, "etc/apdl.cf") == ["/private/etc/apdl.cf"]  # /etc is /private/etc on macOS
    assert matched(mac, "private/etc/apdl.cf") == ["/private/etc/apdl.cf"]
    assert matched(mac, "Users/alice/Library/Graphics/quartz") == ["~/Library/Graphics/Quartz"]  # macOS: any case
    assert matched(mac, "private/tmp/.x11-unix-lock") == ["/tmp/.x11-unix-lock"]
    linux = PathIndex.build(pack, "linux")
    assert matched(linux, "home/bob/.config/evil.sh") == ["~/.config/evil.sh"]
    assert matched(linux, "root/.config/evil.sh") == ["~/.config/evil.sh"]
    assert matched(linux, "home/bob/.config/Evil.sh") == []  # Linux compares exactly
    assert matched(linux, "home/.config/evil.sh") == []


def test_indicators_that_cannot_run_are_counted() -> None:
    idx = PathIndex.build(pack_of([r"\\fileserver\share\drop.exe", r"%NOSUCHVAR%\x.exe", r"C:\*\*",
                                   r"C:\Windows\x.exe"]), "windows")
    assert idx.refused == {
        "path indicator not run (a network share path (\\\\server\\share) is not on the host's tree)": 1,
        "path indicator not run (unknown variable %NOSUCHVAR%)": 1,
        "path indicator not run (no literal component: it would match every path)": 1}
    assert matched(idx, "Windows/x.exe") == [r"C:\Windows\x.exe"]


def test_matching_cost_does_not_grow_with_the_indicators() -> None:
    """Walk cost: a path costs a few dictionary lookups, not one test per indicator."""
    rels = [f"Users/u{i % 50}/AppData/Roaming/App{i % 997}/sub{i % 7}/file{i}.dat".split("/") for i in range(20_000)]

    def cost(n: int) -> float:  # CPU seconds of one walk (scaling.cpu_per_call: process_time, best of runs)
        idx = PathIndex.build(pack_of([rf"%APPDATA%\Vendor{i}\<GUID>\payload{i}.dll" for i in range(n)] +
                                      [rf"C:\ProgramData\Tool{i}\*.cfg" for i in range(n)]), "windows")
        assert not any(idx.match(r) for r in rels)
        return cpu_per_call(lambda paths: [idx.match(r) for r in paths], rels)

    small, large = cost(5), cost(500)
    assert large < small * 3 + FLOOR, (small, large)  # 100x the indicators: a per-indicator test would be 100x


# ---- one tree: path artefacts and hives ----------------------------------------------------
RUN = ["Software", "Microsoft", "Windows", "CurrentVersion", "Run"]
KEYS = [
    (r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run", {"value_name": "EvilUpdater",
                                                             "value_data": r"C:\Users\Public\upd.exe"}),
    (r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run", {"value_name": "OtherName"}),  # near miss: absent
    (r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run", {"value_name": "Decoy", "value_data": "good.exe"}),
    (r"HKCU\Software\EvilCorp", {}),
    (r"HKCU\Software\EvilCorpX", {}),  # near miss: a similar key
    (rf"HKCU\Software\Classes\CLSID\{GUID}\InprocServer32", {}),
    (r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Image File Execution Options\sethc.exe",
     {"value_name": "Debugger", "value_data": "cmd.exe"}),
    (r"HKLM\SYSTEM\CurrentControlSet\Services\EvilSvc", {"value_name": "Start", "value_data": "2"}),
    (r"HKLM\SYSTEM\CurrentControlSet\Services\StaleSvc", {}),  # near miss: only in a control set not current
    (r"HKLM\HARDWARE\DESCRIPTION\System", {}),  # not in any hive file: counted
    # HKU\<SID>: the SID's profile from ProfileList; bob's Run value, not alice's (she has one too)
    (r"HKU\S-1-5-21-1-2-3-1002\Software\Microsoft\Windows\CurrentVersion\Run", {"value_name": "EvilUpdater"}),
    (rf"HKU\S-1-5-21-1-2-3-1001_Classes\CLSID\{GUID}\InprocServer32", {}),
    (r"HKU\S-1-5-21-9-9-9-1005\Software\EvilCorp", {}),  # a SID no profile has: counted
]
PATHS = [r"%APPDATA%\Evil\<GUID>.dll", r"C:\ProgramData\EvilCorp", r"C:\Windows\System32\catroot2\edb.chk.log",
         r"C:\Windows\Temp\absent.tmp"]


def windows_host(root: Path) -> Path:
    alice = root / "Users/alice"
    write_hive(alice / "NTUSER.DAT", [
        {"key": RUN, "values": {"EvilUpdater": r"c:\users\public\UPD.exe", "Decoy": "evil.exe"}},
        {"key": ["Software", "EvilCorp"], "values": {"id": 7}}])
    write_hive(alice / "AppData/Local/Microsoft/Windows/UsrClass.dat",
               [{"key": ["CLSID", GUID, "InprocServer32"], "values": {"": r"C:\ProgramData\EvilCorp\x.dll"}}])
    write_hive(root / "Users/bob/NTUSER.DAT", [{"key": RUN, "values": {"EvilUpdater": "elsewhere.exe"}}])
    config = root / "Windows/System32/config"
    profiles = ["Microsoft", "Windows NT", "CurrentVersion", "ProfileList"]
    write_hive(config / "SOFTWARE", [
        {"key": ["Microsoft", "Windows NT", "CurrentVersion", "Image File Execution Options", "sethc.exe"],
         "values": {"Debugger": "CMD.EXE"}},
        {"key": [*profiles, "S-1-5-21-1-2-3-1001"], "values": {"ProfileImagePath": r"C:\Users\alice"}},
        {"key": [*profiles, "S-1-5-21-1-2-3-1002"], "values": {"ProfileImagePath": r"%SystemDrive%\Users\bob"}}])
    write_hive(config / "SYSTEM", [{"key": ["Select"], "values": {"Current": 2}},
                                   {"key": ["ControlSet002", "Services", "EvilSvc"], "values": {"Start": 2}},
                                   {"key": ["ControlSet001", "Services", "StaleSvc"], "values": {"Start": 2}}])
    (root / f"Users/alice/AppData/Roaming/Evil/{GUID}.dll").parent.mkdir(parents=True)
    (root / f"Users/alice/AppData/Roaming/Evil/{GUID}.dll").write_bytes(b"MZ not malware")
    (root / "Users/alice/AppData/Roaming/Evil/readme.dll").write_bytes(b"MZ decoy")
    (root / "ProgramData/EvilCorp/logs").mkdir(parents=True)
    (root / "ProgramData/EvilCorp/logs/a.log").write_text("x\n")
    (root / "ProgramData/EvilCorp/b.log").write_text("x\n")
    (root / "Windows/System32/CatRoot2").mkdir(parents=True)
    (root / "Windows/System32/CatRoot2/edb.chk.log").write_text("x\n")
    return root


EXPECTED_PATHS = [("compromised", rf"C:\Users\alice\AppData\Roaming\Evil\{GUID}.dll"),
                  ("compromised", r"C:\ProgramData\EvilCorp"),
                  ("compromised", r"C:\Windows\System32\CatRoot2\edb.chk.log")]
EXPECTED_KEYS = [
    ("compromised", r"HKCU\Software\Classes\CLSID" + "\\" + GUID + r"\InprocServer32"),
    ("compromised", r"HKCU\Software\EvilCorp"),
    ("compromised", r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run\EvilUpdater"),
    ("compromised", r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Image File Execution Options\sethc.exe"
                    r"\Debugger"),
    ("compromised", r"HKLM\SYSTEM\ControlSet002\Services\EvilSvc\Start"),
    ("compromised", r"HKU\S-1-5-21-1-2-3-1001_Classes\CLSID" + "\\" + GUID + r"\InprocServer32"),
    ("compromised", r"HKU\S-1-5-21-1-2-3-1002\Software\Microsoft\Windows\CurrentVersion\Run\EvilUpdater"),
]


def check_host_findings(docs: list[dict], summary: dict) -> None:
    assert hits(docs, "paths") == sorted(EXPECTED_PATHS)
    assert hits(docs, "registry") == sorted(EXPECTED_KEYS)
    assert [d for d in docs if d["tracehound"]["verdict"] == "info"] == []
    assert summary["tracehound"]["verdict"] == "compromised"
    assert summary["tracehound"]["skipped"] == {
        "registry-key indicator not run (HKLM\\HARDWARE is not kept in a hive file)": 1,
        "registry-key indicator not checked (HKU\\<SID>: the SID is not in the SOFTWARE hive's ProfileList)": 1}
    bobs = next(d for d in docs if d.get("user", {}).get("id") == "S-1-5-21-1-2-3-1002")
    assert bobs["user"]["name"] == "bob" and bobs["registry"]["data"]["strings"] == ["elsewhere.exe"]
    run = next(d for d in docs if d.get("registry", {}).get("path", "").endswith("EvilUpdater"))
    assert run["user"]["name"] == "alice" and run["registry"]["hive"] == "HKCU"
    assert run["registry"]["data"]["strings"] == [r"c:\users\public\UPD.exe"]
    assert run["tracehound"]["evidence_path"].endswith("Users/alice/NTUSER.DAT")
    assert run["threat"]["enrichments"][0]["indicator"]["type"] == "windows-registry-key"
    assert run["threat"]["enrichments"][0]["indicator"]["registry"]["value"] == "EvilUpdater"
    folder = next(d for d in docs if d["tracehound"]["check"] == "paths" and d["file"].get("type") == "dir")
    assert folder["file"]["path"].endswith("ProgramData/EvilCorp")
    dll = next(d for d in docs if d["tracehound"]["check"] == "paths" and d["file"].get("type") != "dir")
    assert dll["threat"]["enrichments"][0]["indicator"]["file"]["path"] == r"%APPDATA%\Evil\<GUID>.dll"


def test_folder_and_zip_sweep_flag_exactly_the_artefacts(tmp_path: Path) -> None:
    root = windows_host(tmp_path / "host")
    pack = pack_of(PATHS, KEYS)
    before = snapshot(root)
    docs, summary = sweep(pack, root)
    check_host_findings(docs, summary)
    assert snapshot(root) == before  # hives are read on private copies; nothing written
    archive = kape_zip(root, tmp_path / "Collection-PC1.zip")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    zdocs, zsummary = sweep(pack, archive)
    check_host_findings(zdocs, zsummary)
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == digest


def test_low_confidence_and_wildcard_names_are_only_suspicious(tmp_path: Path) -> None:
    root = tmp_path / "host"
    (root / "Users/alice/AppData/Local/Temp").mkdir(parents=True)
    (root / "Users/alice/AppData/Local/Temp/upd7.tmp").write_text("x\n")
    (root / "Windows/Temp").mkdir(parents=True)
    (root / "Windows/Temp/note.txt").write_text("x\n")
    docs, summary = sweep(pack_of([r"%TEMP%\upd*.tmp"]), root)
    assert hits(docs, "paths") == [("suspicious", r"C:\Users\alice\AppData\Local\Temp\upd7.tmp")]
    docs, _ = sweep(pack_of([r"C:\Windows\Temp\note.txt"], confidence=50), root)
    assert hits(docs, "paths") == [("suspicious", r"C:\Windows\Temp\note.txt")]
    assert summary["tracehound"]["verdict"] == "suspicious"


# ---- hostile hives -------------------------------------------------------------------------
@pytest.mark.parametrize("body", ["truncated", "garbage-regf", "garbage"])
def test_hostile_hive_is_a_counted_error(tmp_path: Path, body: str) -> None:
    root = tmp_path / "host"
    good = write_hive(tmp_path / "good.dat", [{"key": ["Software", "EvilCorp"]}]).read_bytes()
    data = {"truncated": good[: len(good) // 3], "garbage-regf": b"regf" + bytes(range(256)) * 64,
            "garbage": b"\xff" * 9000}[body]
    (root / "Users/alice").mkdir(parents=True)
    (root / "Users/alice/NTUSER.DAT").write_bytes(data)
    write_hive(root / "Users/bob/NTUSER.DAT", [{"key": ["Software", "EvilCorp"]}])
    docs, summary = sweep(pack_of(keys=[(r"HKCU\Software\EvilCorp", {})]), root)
    bob = [d for d in docs if d["tracehound"]["check"] == "registry" and d["tracehound"]["verdict"] != "info"]
    if body == "truncated" and any(d.get("user", {}).get("name") == "alice" for d in bob):
        pytest.fail("a key past the end of a truncated hive was reported")
    assert [d["user"]["name"] for d in bob] == ["bob"]  # the other hive is still checked
    info = [d for d in docs if d["tracehound"]["verdict"] == "info"]
    skipped = summary["tracehound"]["skipped"]
    if body == "garbage":
        assert skipped == {"not a registry hive (no regf signature): its keys not checked": 1}
    else:
        assert len(skipped) == 1 and next(iter(skipped)).startswith(("unreadable registry hive",
                                                                      "registry hive partly unreadable")), skipped
    assert len(info) == 1 and "NTUSER.DAT" in info[0]["message"]


def test_minimal_hive_made_here_works_without_the_samples(tmp_path: Path) -> None:
    """The hive tests run on a minimal hive when the shared samples are absent: this one always does."""
    root = tmp_path / "host"
    write_hive(root / "Users/carol/NTUSER.DAT", [{"key": RUN, "values": {"EvilUpdater": r"C:\Users\Public\upd.exe",
                                                                           "Decoy": "good.exe"}},
                                                  {"key": ["Software", "EvilCorp"]}], real=False)
    write_hive(root / "Windows/System32/config/SYSTEM", [{"key": ["Select"], "values": {"Current": 1}},
                                                         {"key": ["ControlSet001", "Services", "EvilSvc"],
                                                          "values": {"Start": 2}}], real=False)
    docs, summary = sweep(pack_of(keys=KEYS), root)
    assert hits(docs, "registry") == sorted([
        ("compromised", r"HKCU\Software\EvilCorp"),
        ("compromised", r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run\Decoy"),
        ("compromised", r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run\EvilUpdater"),
        ("compromised", r"HKLM\SYSTEM\ControlSet001\Services\EvilSvc\Start")])
    users = [d.get("user", {}).get("name") for d in docs if d["tracehound"]["check"] == "registry"]
    assert sorted(users, key=str) == [None] + ["carol"] * 3
    assert summary["tracehound"]["verdict"] == "compromised"
    assert summary["tracehound"]["skipped"] == {  # hives the tree lacks: said, never read as clean
        "registry-key indicator not run (HKLM\\HARDWARE is not kept in a hive file)": 1,
        "registry-key indicator not checked (no UsrClass.dat hive in the target)": 1,
        "registry-key indicator not checked (no SOFTWARE hive in the target)": 1,
        "registry-key indicator not checked (HKU\\<SID>: no SOFTWARE hive in the target to resolve the SID)": 3}


def test_disk_image_flags_the_same_artefacts(tmp_path: Path) -> None:
    pytest.importorskip("dissect.target")
    import shutil
    import subprocess

    mke2fs = shutil.which("mke2fs") or ("/usr/sbin/mke2fs" if Path("/usr/sbin/mke2fs").exists() else None)
    if not mke2fs:
        pytest.skip("mke2fs not installed (scripts/install-system-deps.sh installs it)")
    root = windows_host(tmp_path / "host")
    image = tmp_path / "disk.ext4"
    subprocess.run([mke2fs, "-q", "-t", "ext4", "-d", str(root), str(image), "64M"], check=True)
    digest = hashlib.sha256(image.read_bytes()).hexdigest()
    docs, summary = sweep(pack_of(PATHS, KEYS), image)
    check_host_findings(docs, summary)
    assert hashlib.sha256(image.read_bytes()).hexdigest() == digest


def test_findings_are_ecs_outside_tracehound(tmp_path: Path) -> None:
    """Checked against Elastic's own field reference (as tests/test_ecs_fields.py does for the other kinds)."""
    yaml = pytest.importorskip("yaml")
    from conftest import SAMPLES, need
    from test_ecs_fields import violations

    ref = need(SAMPLES / "ecs" / "ecs_flat.yml")
    ecs = {k: v["type"] for k, v in yaml.safe_load(ref.read_text(encoding="utf-8")).items()}
    docs, summary = sweep(pack_of(PATHS, KEYS), windows_host(tmp_path / "host"))
    kinds = {d["tracehound"]["check"] for d in docs}
    assert kinds == {"paths", "registry"}
    assert violations([*docs, summary], ecs) == {}
    assert {d["event"]["category"][1] for d in docs} == {"file", "registry"}
