"""Install time: from dates the evidence records; on a copy whose mtimes are the copy's, said unknown, not wrong."""

import json
import lzma
import os
import plistlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import SAMPLES, need, run_cli
from tracehound.intel.builtin import load_intel
from tracehound.samples import make_asar
from tracehound.sweep.engine import SweepOptions, run_sweep
from tracehound.sweep.installs import MtimeProfile, registry_install_date, settle_install_times

INSTALL = datetime(2023, 3, 20, 9, 15, 0, tzinfo=UTC)
APP = Path("Users/alice/AppData/Local/Programs/3CXDesktopApp")


def workstation(base: Path, copied: bool) -> Path:
    """A Windows tree with the affected Electron app; either as lived in (mtimes spread over two years,
    the app's files at their install time) or as an offline copy (every file written now)."""
    root = base / ("copy" if copied else "disk")
    (root / APP / "resources").mkdir(parents=True)
    (root / APP / "resources" / "app.asar").write_bytes(make_asar({"productName": "3CX Desktop App",
                                                                   "version": "18.12.416"}))
    for name in ("3CXDesktopApp.exe", "ffmpeg.dll", "d3dcompiler_47.dll", "LICENSE.electron.txt"):
        (root / APP / name).write_bytes(b"stand-in " + name.encode())
    docs = root / "Users/alice/Documents"
    docs.mkdir(parents=True)
    for i in range(40):
        (docs / f"doc{i}.txt").write_text(f"note {i}\n")
    if not copied:
        for i in range(40):
            t = (INSTALL - timedelta(days=700) + timedelta(days=18 * i)).timestamp()
            os.utime(docs / f"doc{i}.txt", (t, t))
        for f in (root / APP).rglob("*"):
            if f.is_file():
                os.utime(f, (INSTALL.timestamp() + 2, INSTALL.timestamp() + 2))
    return root


def software_docs(root: Path) -> list[dict]:
    docs: list[dict] = []
    run_sweep(load_intel(None), SweepOptions(root=str(root), jobs=1), docs.append)
    return [d for d in docs if d["tracehound"].get("check") == "software"]


def test_copy_says_unknown_not_the_copy_time(tmp_path: Path) -> None:
    [d] = software_docs(workstation(tmp_path, copied=True))
    assert d["tracehound"]["verdict"] == "exposed"
    assert "installed" not in d["package"]  # no date rather than the copy's date
    assert d["tracehound"]["install_time"] == "install time unknown (mtimes are the copy's)"
    assert d["message"].endswith("is an affected version; install time unknown (mtimes are the copy's)")


def test_lived_in_disk_keeps_the_mtime(tmp_path: Path) -> None:
    [d] = software_docs(workstation(tmp_path, copied=False))
    want = (INSTALL + timedelta(seconds=2)).isoformat().replace("+00:00", "Z")
    assert d["package"]["installed"] == want and d["tracehound"]["install_time_source"] == "file mtime"
    assert "install_time" not in d["tracehound"] and f"installed {want} (file mtime)" in d["message"]


def test_copy_with_a_macos_receipt_uses_the_recorded_date(tmp_path: Path) -> None:
    root = tmp_path / "mac"
    contents = root / "Applications/3CX Desktop App.app/Contents"
    contents.mkdir(parents=True)
    (contents / "Info.plist").write_bytes(plistlib.dumps({"CFBundleName": "3CX Desktop App",
                                                          "CFBundleShortVersionString": "18.12.416"}))
    history = root / "Library/Receipts"
    history.mkdir(parents=True)
    (history / "InstallHistory.plist").write_bytes(plistlib.dumps([
        {"date": datetime(2023, 3, 21, 14, 2, 11), "displayName": "3CX Desktop App", "displayVersion": "18.12.416",
         "packageIdentifiers": ["com.3cx.desktopapp"], "processName": "Installer"},
        {"date": "not a date", "displayName": "hostile", "displayVersion": "1"}]))
    docs = software_docs(root)
    by_source = {d["package"]["type"]: d for d in docs}
    assert set(by_source) == {"info.plist", "install-history"}
    for d in docs:
        assert d["tracehound"]["verdict"] == "exposed"
        assert d["package"]["installed"] == "2023-03-21T14:02:11Z"
        assert d["tracehound"]["install_time_source"] == "InstallHistory.plist"


def test_registry_install_date_on_a_real_hive(tmp_path: Path) -> None:
    """InstallDate as Windows writes it (GitHub Desktop, a Squirrel app, in a real NTUSER.DAT)."""
    from regipy.registry import RegistryHive

    hive = tmp_path / "NTUSER.DAT"
    hive.write_bytes(lzma.decompress(need(SAMPLES / "registry" / "NTUSER_with_winscp.DAT.xz").read_bytes()))
    key = RegistryHive(str(hive)).get_key("\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall")
    dates = {s.name: registry_install_date(v.value) for s in key.iter_subkeys() for v in s.iter_values()
             if v.name == "InstallDate"}
    assert dates == {"GitHubDesktop": "2022-04-28T00:00:00Z"}
    assert registry_install_date(1679300100) == "2023-03-20T08:15:00Z"  # DWORD form
    assert registry_install_date("2023-03-20") == registry_install_date(None) == registry_install_date("99999999") == ""
    # The hive reader carries it into what the sweep reports.
    from tracehound.sweep.software import from_registry_hive

    found, err = from_registry_hive(str(hive))
    assert err == ""
    gh = [i for i in found if i.product == "GitHub Desktop"]
    assert gh and gh[0].installed == "2022-04-28T00:00:00Z" and gh[0].installed_source == "registry InstallDate"


def test_registry_date_replaces_a_copied_mtime() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    profile = MtimeProfile()
    for i in range(100):
        profile.add(now.timestamp() - i)
    window = profile.copy_window()
    assert window is not None and window[0] <= now.timestamp() <= window[1]
    stamp = now.isoformat().replace("+00:00", "Z")
    installed = [{"product": "3CX Desktop App", "version": "18.12.416.0", "platform": "windows", "path": "a",
                  "source": "asar", "installed": stamp, "installed_source": "file mtime"},
                 {"product": "3CXDesktopApp", "version": "18.12.416", "platform": "windows", "path": "b",
                  "source": "registry", "installed": "2023-03-20T00:00:00Z", "installed_source": "registry InstallDate"}]
    settle_install_times(installed, window)
    assert installed[0]["installed"] == "2023-03-20T00:00:00Z"
    assert installed[0]["installed_source"] == "registry InstallDate"


def test_profile_of_a_lived_in_tree_is_not_a_copy() -> None:
    profile = MtimeProfile()
    base = datetime(2021, 1, 1, tzinfo=UTC).timestamp()
    for i in range(1000):
        profile.add(base + i * 3600 * 17)  # files written over two years
    for _ in range(50):
        profile.add(base + 10)  # one busy install day: 5% of the files
    assert profile.copy_window() is None


def test_report_says_unknown_for_a_copy(tmp_path: Path, capsys) -> None:
    root = workstation(tmp_path, copied=True)
    out = tmp_path / "ws.jsonl"
    code, _, err = run_cli(["sweep", "--root", str(root), "--host-name", "WS-COPY", "-o", str(out), "--no-nice",
                            "-j", "1"], capsys)
    assert code == 1, err
    case = tmp_path / "case"
    assert run_cli(["case", "init", str(case)], capsys)[0] == 0
    assert run_cli(["case", "add", str(case), str(out)], capsys)[0] in (0, 1)
    html = tmp_path / "r.html"
    code, _, err = run_cli(["report", str(case), "-o", str(html)], capsys)
    text = html.read_text()
    assert "install time unknown (mtimes are the copy&#39;s)" in text or "install time unknown (mtimes are the copy's)" in text
    assert "affected version installed" not in text
    summary = json.loads(out.read_text().splitlines()[-1])
    assert summary["tracehound"]["verdict"] == "exposed"


def test_unreadable_hive_is_said(tmp_path: Path) -> None:
    root = tmp_path / "r"
    (root / "Users/bob").mkdir(parents=True)
    (root / "Users/bob/NTUSER.DAT").write_bytes(b"regf" + b"\x00" * 5000)
    [d] = software_docs(root)
    assert d["tracehound"]["verdict"] == "info" and "unreadable registry hive" in d["message"]
