"""Sweep: planted payloads, versions, signatures, YARA, browsers, hostile entries, read-only."""

import json
import os
from pathlib import Path

import pytest

from conftest import SAMPLES, run_cli
from hosttree import build_tree, snapshot
from tracehound.intel.builtin import load_intel
from tracehound.sweep.engine import SweepOptions, run_sweep


def tree_pack(tmp_path: Path, tree) -> object:
    extra = tmp_path / "extra.csv"
    extra.write_text(f"type,value,confidence,context\nsha256,{tree.payload_sha256},90,\n"
                     f"cert-sha1,{tree.cert_sha1},90,\"{{\"\"signer\"\": \"\"Evil Test Signer Ltd\"\"}}\"\n")
    return load_intel(["3cx", str(extra)])


def sweep(pack, root: Path, **kw) -> tuple[list[dict], object]:
    docs: list[dict] = []
    result = run_sweep(pack, SweepOptions(root=str(root), **kw), docs.append)
    return docs, result


def by_check(docs: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for d in docs:
        out.setdefault(d["tracehound"].get("check", d["tracehound"].get("record")), []).append(d)
    return out


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    base = tmp_path_factory.mktemp("sweep")
    tree = build_tree(base)
    pack = tree_pack(base, tree)
    yara = [str(Path(__file__).parent / "data" / "yara")]
    if (SAMPLES / "yara").is_dir():
        yara.append(str(SAMPLES / "yara"))
    before = snapshot(tree.root)
    docs, result = sweep(pack, tree.root, yara=yara, jobs=2, host_name="TESTHOST")
    after = snapshot(tree.root)
    return tree, docs, result, before, after


def test_read_only(swept) -> None:
    _tree, _docs, _result, before, after = swept
    assert before == after  # contents, sizes, modes and mtimes unchanged; nothing created or removed


def test_payload_hashes_found_not_through_symlinks(swept) -> None:
    tree, docs, *_ = swept
    files = [d for d in by_check(docs)["files"] if d["tracehound"]["verdict"] == "compromised"]
    paths = sorted(os.path.basename(d["file"]["path"]) for d in files)
    assert paths == ["bad-\\xff\\xfe-name.bin", "update.bin"]  # undecodable bytes shown escaped, JSON stays UTF-8
    assert all(d["file"]["hash"]["sha256"] == tree.payload_sha256 for d in files)
    assert not any("outside" in d.get("file", {}).get("path", "") for d in docs)


def test_names(swept) -> None:
    _tree, docs, *_ = swept
    names = [d for d in by_check(docs)["files"] if d["tracehound"]["verdict"] == "exposed"]
    assert [d["file"]["name"] for d in names] == ["3cxdesktopapp-18.12.407.msi"]
    assert not any(d.get("file", {}).get("name") == "ffmpeg.dll" for d in docs)


def test_versions(swept) -> None:
    _tree, docs, *_ = swept
    sw = {(d["package"]["version"], d["tracehound"]["platform"], d["tracehound"]["verdict"]) for d in by_check(docs)["software"]}
    assert sw == {("18.12.416", "windows", "exposed"), ("18.12.402", "macos", "exposed"),
                  ("18.12.422", "windows", "info"), ("18.12.425", "macos", "info")}


def test_browsers_and_hosts_file(swept) -> None:
    _tree, docs, *_ = swept
    visits = sorted(d["url"]["full"] for d in by_check(docs)["browser"])
    assert visits == ["http://www.msstorageboxes.com/office", "https://github.com/IconStorages/images/raw/main/icon7.ico"]
    res = by_check(docs)["resolution"]
    assert len(res) == 1 and res[0]["tracehound"]["verdict"] == "info"  # sinkholed by a defender
    host = res[0]["dns"]["question"]["name"]
    assert host not in res[0]["message"] and "[.]" in res[0]["message"]  # shown to people defanged


def test_yara(swept) -> None:
    _tree, docs, result, *_ = swept
    rules = {d["rule"]["name"]: d["tracehound"]["verdict"] for d in by_check(docs).get("yara", [])}
    assert rules["TRACEHOUND_Test_Marker"] == "compromised"
    if (SAMPLES / "yara").is_dir():
        assert rules["APT_MAL_VEILEDSIGNAL_Backdoor_Apr23_2"] == "compromised"
        assert rules["SUSP_APT_3CX_Regtrans_Anomaly_Apr23"] == "suspicious"  # needs the 'extension' external
        assert result.yara_rules >= 35 + 1
    assert any("broken.yar:4" in e for e in result.yara_errors)  # reported by file and line, others still ran


def test_signatures(swept) -> None:
    tree, docs, *_ = swept
    if tree.signed_pe is None:
        pytest.skip("osslsigncode not installed (CI installs it)")
    sig = by_check(docs)["signing"]
    exposed = {os.path.basename(d["file"]["path"]) for d in sig if d["tracehound"]["verdict"] == "exposed"}
    assert exposed == {"tool.exe", "d3dcompiler_47.dll"}
    assert all(d["tracehound"]["file"]["code_signature"]["thumbprint_sha1"] == tree.cert_sha1 for d in sig if d["tracehound"]["verdict"] == "exposed")
    anomalies = [d for d in sig if d["tracehound"]["verdict"] == "suspicious"]
    assert len(anomalies) == 1 and "CVE-2013-3900" in anomalies[0]["message"]
    assert os.path.basename(anomalies[0]["file"]["path"]) == "d3dcompiler_47.dll"


def test_hostile_entries_and_summary(swept) -> None:
    _tree, docs, result, *_ = swept
    summary = docs[-1]
    assert summary["tracehound"]["record"] == "host-summary" and summary["host"]["name"] == "TESTHOST"
    assert summary["tracehound"]["verdict"] == result.verdict == "compromised"
    # tests/data/yara holds broken.yar on purpose: a rule file not loaded makes the sweep incomplete
    assert summary["tracehound"]["complete"] is False and summary["tracehound"]["interrupted"] is False
    assert [Path(i["file"]).name for i in summary["tracehound"]["not_checked"]] == ["broken.yar"]
    skipped = result.skipped
    assert skipped["symlink (not followed)"] == 4
    assert skipped["special file (FIFO, socket or device)"] == 1
    assert any(k.startswith("larger than --max-file-size") for k in skipped)  # the 4 GB sparse file


def test_vanished_file_is_counted(tmp_path: Path, pack3cx) -> None:
    from tracehound.sources.hosts.walk import Entry
    from tracehound.sweep import engine

    engine._init(json.dumps(__import__("tracehound.intel.formats.native", fromlist=["to_dict"]).to_dict(pack3cx)),
                 SweepOptions(root=str(tmp_path)), "h", "linux")
    f = tmp_path / "gone.bin"
    f.write_bytes(b"x")
    e = Entry(str(f), "gone.bin", 1, 0.0, 0, 0)
    f.unlink()
    assert engine.check_file(e)[3] == "vanished during the sweep"


def test_clean_host_and_cli(tmp_path: Path, capsys) -> None:
    root = tmp_path / "clean"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("CLEANBOX\n")
    (root / "data.txt").write_text("nothing here\n")
    out = tmp_path / "o.jsonl"
    code, _, err = run_cli(["sweep", "--root", str(root), "-o", str(out), "--no-nice"], capsys)
    assert code == 0 and "CLEANBOX" in err and "clean" in err
    last = json.loads(out.read_text().splitlines()[-1])
    assert last["tracehound"]["verdict"] == "clean" and last["tracehound"]["mode"] == "offline"


def test_live_sweep_of_this_machine_finishes(tmp_path: Path, capsys) -> None:
    # Live mode on a small root: processes and connections of this machine are checked too.
    root = tmp_path / "r"
    root.mkdir()
    code, _, err = run_cli(["sweep", "--root", str(root), "--live", "-o", str(tmp_path / "l.jsonl"), "-j", "1"], capsys)
    assert code in (0, 1) and "Traceback" not in err
    last = json.loads((tmp_path / "l.jsonl").read_text().splitlines()[-1])
    assert last["tracehound"]["mode"] == "live" and last["tracehound"]["complete"] is True


def test_large_asar_version_read_without_loading_it(tmp_path: Path, pack3cx) -> None:
    from tracehound.samples import make_asar

    app = tmp_path / "r" / "Users" / "u" / "AppData" / "Local" / "Programs" / "3CXDesktopApp" / "resources"
    app.mkdir(parents=True)
    blob = make_asar({"productName": "3CX Desktop App", "version": "18.12.407"}) + b"\0" * (20 * 1024 * 1024)
    (app / "app.asar").write_bytes(blob)  # 20 MB: over the in-memory metadata limit
    docs, _ = sweep(pack3cx, tmp_path / "r", jobs=1)
    sw = [d for d in docs if d["tracehound"].get("check") == "software"]
    assert [(d["package"]["version"], d["tracehound"]["verdict"]) for d in sw] == [("18.12.407", "exposed")]


def test_ctrl_c_leaves_a_valid_partial_output(tmp_path: Path) -> None:
    """Ctrl-C arrives while findings are being written: the output ends with a host summary
    marked incomplete (the CLI then exits 130)."""
    import hashlib

    from hosttree import PAYLOAD

    root = tmp_path / "many"
    for d in range(5):
        (root / f"d{d}").mkdir(parents=True)
        for n in range(20):
            (root / f"d{d}" / f"f{n}.bin").write_bytes(PAYLOAD)
    extra = tmp_path / "p.csv"
    extra.write_text(f"type,value\nsha256,{hashlib.sha256(PAYLOAD).hexdigest()}\n")
    docs: list[dict] = []
    pressed: list[bool] = []

    def emit(doc: dict) -> None:
        if len(docs) == 3 and not pressed:
            pressed.append(True)
            raise KeyboardInterrupt  # the user presses Ctrl-C here, once
        docs.append(doc)

    result = run_sweep(load_intel([str(extra)]), SweepOptions(root=str(root), jobs=2), emit)
    assert result.complete is False
    assert [d["tracehound"].get("record") for d in docs] == [None, None, None, "host-summary"]
    assert docs[-1]["tracehound"]["complete"] is False and docs[-1]["tracehound"]["verdict"] == "compromised"


def test_walk_survives_unreadable_and_vanishing_directories(tmp_path: Path, monkeypatch) -> None:
    # As root every directory is readable, so the permission path is exercised by making the open refuse.
    from tracehound.sources.hosts import walk as walk_mod

    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "a.txt").write_text("a")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "secret.txt").write_text("s")
    (tmp_path / "gone").mkdir()
    real = walk_mod.open_at

    def open_at(name, dir_fd, **kw):  # type: ignore[no-untyped-def]
        if name == "locked":
            raise PermissionError(13, "Permission denied")
        if name == "gone":
            raise FileNotFoundError(2, "No such file or directory")
        return real(name, dir_fd, **kw)

    monkeypatch.setattr(walk_mod, "open_at", open_at)
    stats = walk_mod.WalkStats()
    names = sorted(e.rel for e in walk_mod.walk(str(tmp_path), stats))
    assert names == ["ok/a.txt"]
    assert stats.skipped == {"directory not readable (permission)": 1, "vanished during the walk": 1}


@pytest.mark.parametrize("fat", [False, True])
def test_macho_signed_with_compromised_certificate(tmp_path: Path, fat: bool) -> None:
    from hosttree import signed_macho

    data, thumb = signed_macho(tmp_path, fat=fat)
    app = tmp_path / "root" / "Applications" / "3CX Desktop App.app" / "Contents" / "MacOS"
    app.mkdir(parents=True)
    (app / "3CX Desktop App").write_bytes(data)
    (app / "unsigned-helper").write_bytes(data[: data.find(b"\x1d\x00\x00\x00")] + b"\0" * 64)  # no signature
    (app / "Helper.class").write_bytes(b"\xca\xfe\xba\xbe\x00\x00\x00\x3d" + b"\0" * 64)  # Java class, same magic
    f = tmp_path / "p.csv"
    f.write_text(f"type,value\ncert-sha1,{thumb}\n")
    docs, result = sweep(load_intel([str(f)]), tmp_path / "root", jobs=1)
    sig = [d for d in docs if d["tracehound"].get("check") == "signing"]
    assert [(d["file"]["name"], d["tracehound"]["verdict"]) for d in sig] == [("3CX Desktop App", "exposed")]
    assert sig[0]["tracehound"]["file"]["code_signature"]["thumbprint_sha1"] == thumb
    assert sig[0]["file"]["code_signature"]["subject_name"] == "Developer ID Application: Test Ltd"
    assert not any("check failed" in d.get("message", "") for d in docs)


def test_history_row_with_invalid_utf8_does_not_hide_the_others(tmp_path: Path) -> None:
    import sqlite3

    from tracehound.sweep.browsers import history_urls

    db = tmp_path / "History"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE urls (id INTEGER PRIMARY KEY, url LONGVARCHAR, last_visit_time INTEGER, visit_count INTEGER)")
    con.execute("INSERT INTO urls VALUES (1, CAST(X'687474703a2f2fd12f' AS TEXT), 0, 1)")  # http://\xd1/ : invalid UTF-8
    con.execute("INSERT INTO urls VALUES (2, 'https://akamaicontainer.com/x', 0, 2)")
    con.commit()
    con.close()
    urls = [u for u, _t, _n in history_urls(str(db), "chrome")]
    assert urls[1] == "https://akamaicontainer.com/x" and urls[0].startswith("http://")


def test_host_name_from_hostile_preferences_plist(tmp_path: Path) -> None:
    import plistlib

    from tracehound.sweep.engine import guess_host_name

    prefs = tmp_path / "Library" / "Preferences" / "SystemConfiguration"
    prefs.mkdir(parents=True)
    for payload in (plistlib.dumps({"System": 5}), plistlib.dumps({"System": {"System": []}}), b"bplist00\xff\xff"):
        (prefs / "preferences.plist").write_bytes(payload)
        assert guess_host_name(str(tmp_path), False, "macos") == tmp_path.name
    (prefs / "preferences.plist").write_bytes(plistlib.dumps({"System": {"System": {"ComputerName": "MAC-77"}}}))
    assert guess_host_name(str(tmp_path), False, "macos") == "MAC-77"


# ---- issue 18: nothing may stall or steer a sweep -----------------------------------------------
HISTORY_AT = {"chrome": "Users/u/AppData/Local/Google/Chrome/User Data/Default/History",
              "edge": "Users/u/AppData/Local/Microsoft/Edge/User Data/Default/History",
              "firefox": "Users/u/AppData/Roaming/Mozilla/Firefox/Profiles/x.default/places.sqlite"}


@pytest.mark.parametrize("browser", ["chrome", "edge", "firefox"])
def test_recursive_view_history_is_refused_and_counted(tmp_path: Path, pack3cx, browser: str) -> None:
    from hosttree import bounded, recursive_history

    db = tmp_path / "r" / HISTORY_AT[browser]
    db.parent.mkdir(parents=True)
    recursive_history(db, "firefox" if browser == "firefox" else "chrome")
    assert db.stat().st_size <= 8192  # the 4 KB file of the issue: it hung the sweep for ever
    docs, result = bounded(lambda: sweep(pack3cx, tmp_path / "r", jobs=1), 20)
    info = [d for d in docs if d["tracehound"].get("check") == "browser"]
    assert len(info) == 1 and info[0]["tracehound"]["verdict"] == "info"
    assert "is not a table" in info[0]["message"] and "view" in info[0]["message"]
    table = "moz_places" if browser == "firefox" else "urls"
    assert result.skipped == {f"browser history refused ({table} is not a table)": 1}  # counted in the summary
    assert docs[-1]["tracehound"]["skipped"] == result.skipped


@pytest.mark.parametrize("schema", [
    "CREATE VIRTUAL TABLE urls USING fts5(url, last_visit_time, visit_count)",
    "CREATE TABLE urls (id INTEGER PRIMARY KEY, n INT, url TEXT AS (printf('%.*c', n, 'x')), "
    "last_visit_time INT, visit_count INT)",
])
def test_history_running_its_own_sql_is_refused(tmp_path: Path, schema: str) -> None:
    import sqlite3

    from tracehound.sweep.browsers import HistoryLimit, history_urls

    db = tmp_path / "History"
    con = sqlite3.connect(db)
    con.execute(schema)
    con.commit()
    con.close()
    with pytest.raises(HistoryLimit, match="virtual table|generated columns") as info:
        list(history_urls(str(db), "chrome"))
    assert info.value.kind == "refused (urls is not a table)"


def test_history_row_cap_and_time_limit(tmp_path: Path, monkeypatch) -> None:
    from datetime import UTC, datetime

    from tracehound.samples import make_chrome_history
    from tracehound.sweep import browsers

    db = tmp_path / "History"
    make_chrome_history(db, [(f"https://h{i}.example/", datetime(2023, 3, 29, tzinfo=UTC)) for i in range(3000)])
    monkeypatch.setattr(browsers, "MAX_ROWS", 1000)
    got: list[str] = []
    with pytest.raises(browsers.HistoryLimit, match="more than 1000 rows") as info:
        for url, _t, _n in browsers.history_urls(str(db), "chrome"):
            got.append(url)
    assert info.value.kind == "stopped at the row cap" and len(got) == 1000  # the rows before the cap are kept
    monkeypatch.setattr(browsers, "MAX_ROWS", 10_000)
    monkeypatch.setattr(browsers, "TIME_LIMIT", -1.0)  # already past the deadline: the progress handler stops it
    with pytest.raises(browsers.HistoryLimit, match="time limit") as info:
        list(browsers.history_urls(str(db), "chrome"))
    assert info.value.kind == "stopped at the time limit"


def _outside_etc(tmp_path: Path) -> Path:
    etc = tmp_path / "analyst" / "etc"
    etc.mkdir(parents=True)
    (etc / "hostname").write_text("ANALYSTBOX\n")
    return etc


@pytest.mark.parametrize("target", ["outside", "/etc"])
def test_host_name_not_read_through_a_symlinked_etc(tmp_path: Path, target: str) -> None:
    from tracehound.sweep.engine import guess_host_name, guess_os

    root = tmp_path / "evidence"
    root.mkdir()
    os.symlink(_outside_etc(tmp_path) if target == "outside" else "/etc", root / "etc")
    assert guess_host_name(str(root), False, "linux") == "evidence"  # the folder name, not the analyst's machine
    (root / "Users").mkdir()
    os.symlink("/", root / "Applications")  # a symlinked marker folder is not a macOS hint either
    assert guess_os(str(root), False) == "windows"


def _entry(root: Path, rel: str):  # type: ignore[no-untyped-def]
    from tracehound.sources.hosts.walk import Entry

    st = os.lstat(root / rel)
    return Entry(str(root / rel), rel, st.st_size, st.st_mtime, st.st_dev, st.st_ino, str(root))


def test_reader_refuses_what_was_swapped_after_the_listing(tmp_path: Path) -> None:
    from tracehound.fsutil import Replaced
    from tracehound.sources.hosts.reading import read_and_hash, release_folder

    outside = tmp_path / "outside" / "d"
    outside.mkdir(parents=True)
    (outside / "f.bin").write_bytes(b"secret outside the tree")
    root = tmp_path / "root"
    (root / "d").mkdir(parents=True)
    (root / "d" / "f.bin").write_bytes(b"evidence")
    e = _entry(root, "d/f.bin")

    def read(warm: bool) -> bytes | None:
        """warm: the reader still holds the folder of the previous file (opened before the swap)."""
        if not warm:
            release_folder()
        try:
            return read_and_hash(e, ("sha256",), 1 << 20).data
        except Replaced:
            return None

    assert read(False) == b"evidence"
    # 1. the folder swapped for a symlink to a folder outside holding the same name (O_NOFOLLOW on the
    #    last component alone would follow it): refused; or, through the folder already held, the
    #    very inode the walk listed (the evidence, moved aside), never the file outside
    assert read(False) == b"evidence"  # warms the folder
    os.rename(root / "d", root / "d.real")
    os.symlink(outside, root / "d")
    assert read(True) == b"evidence"
    assert read(False) is None
    os.unlink(root / "d")
    os.rename(root / "d.real", root / "d")
    # 2. the file swapped for a FIFO: refused at once, never waited on
    os.rename(root / "d" / "f.bin", root / "d" / "f.real")
    os.mkfifo(root / "d" / "f.bin")
    assert read(True) is None and read(False) is None
    os.unlink(root / "d" / "f.bin")
    # 3. the file swapped for another regular file (another inode): refused
    (root / "d" / "f.bin").write_bytes(b"evidence")
    with pytest.raises(Replaced, match="replaced by another file"):
        read_and_hash(e, ("sha256",), 1 << 20)
    assert read(False) is None
    release_folder()


def test_walk_refuses_a_folder_swapped_after_the_listing(tmp_path: Path) -> None:
    from tracehound.sources.hosts.walk import WalkStats, walk

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0\n")
    root = tmp_path / "root"
    for d in ("a", "b", "c"):
        (root / d).mkdir(parents=True)
        (root / d / "f.txt").write_text(d)
    stats = WalkStats()
    seen = []
    for e in walk(str(root), stats):
        seen.append(e.rel)
        if e.rel == "a/f.txt":  # root listed (b and c with it), neither entered yet: swap both
            os.rename(root / "b", tmp_path / "b.moved")
            os.symlink(outside, root / "b")
            os.rename(root / "c", tmp_path / "c.moved")
            (root / "c").mkdir()  # same name, another folder
            (root / "c" / "planted.txt").write_text("x")
    assert seen == ["a/f.txt"]
    reason = "folder replaced during the walk (symlink, special file or other folder): not entered"
    assert stats.skipped == {reason: 2}


def test_hive_read_through_the_safe_reader(tmp_path: Path) -> None:
    from hosttree import bounded, real_hive
    from tracehound.sweep.software import from_registry_hive

    root = tmp_path / "root"
    hive = real_hive(root / "Users" / "alice" / "NTUSER.DAT")
    if hive is None:
        pytest.skip("regipy's sample hives not present (../shared/samples/registry)")
    e = _entry(root, "Users/alice/NTUSER.DAT")
    found, err = from_registry_hive(e)
    assert err == "" and "GitHub Desktop" in {i.product for i in found}  # real Uninstall keys, read via the copy
    os.rename(hive, tmp_path / "hive.real")
    os.mkfifo(hive)  # swapped for a FIFO: regipy's open() would block for ever
    found, err = bounded(lambda: from_registry_hive(e), 10)
    assert found == [] and err.startswith("registry hive not read")
    from tracehound.intel.builtin import load_intel

    _docs, result = bounded(lambda: sweep(load_intel(["3cx"]), root, jobs=1), 20)  # the FIFO is listed as such
    assert result.skipped == {"special file (FIFO, socket or device)": 1}
    os.unlink(hive)
    os.symlink(tmp_path / "hive.real", hive)  # swapped for a symlink: not followed
    found, err = bounded(lambda: from_registry_hive(e), 10)
    assert found == [] and err.startswith("registry hive not read")


def test_sweep_keeps_access_times(tmp_path: Path, pack3cx) -> None:
    from hosttree import PAYLOAD, real_hive

    root = tmp_path / "host"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("ATIMEBOX\n")
    (root / "Users" / "alice" / "Downloads").mkdir(parents=True)
    (root / "Users" / "alice" / "Downloads" / "update.bin").write_bytes(PAYLOAD)
    if real_hive(root / "Users" / "alice" / "NTUSER.DAT") is None:
        (root / "Users" / "alice" / "NTUSER.DAT").write_bytes(b"regf" + b"\0" * 4092)
    chrome = root / HISTORY_AT["chrome"]
    chrome.parent.mkdir(parents=True)
    from datetime import UTC, datetime

    from tracehound.samples import make_chrome_history

    make_chrome_history(chrome, [("https://akamaicontainer.com/x", datetime(2023, 3, 29, tzinfo=UTC))])
    old = 1_000_000_000_000_000_000  # 2001: older than mtime, so relatime would update it on any read
    paths = [root] + [Path(d) / n for d, dirs, files in os.walk(root) for n in dirs + files]
    for p in paths:
        os.utime(p, ns=(old, p.stat().st_mtime_ns))
    extra = tmp_path / "p.csv"
    import hashlib

    extra.write_text(f"type,value\nsha256,{hashlib.sha256(PAYLOAD).hexdigest()}\n")
    from tracehound.intel.builtin import load_intel

    docs, result = sweep(load_intel(["3cx", str(extra)]), root, jobs=1)
    assert result.host == "ATIMEBOX"
    assert any(d["tracehound"].get("check") == "browser" for d in docs)  # the history was read
    assert result.files_read == 4
    changed = [str(p) for p in paths if p.stat().st_atime_ns != old]
    assert changed == []  # folders listed, etc/hostname, the hive and the history all keep their atime
    assert docs[-1]["tracehound"]["counts"]["opened_without_noatime"] == 0  # root (or owner): always allowed


def test_opens_without_noatime_are_counted(tmp_path: Path) -> None:
    """Not the owner and not root: the kernel refuses O_NOATIME (EPERM); the sweep opens without it and
    says how many times in the summary. Run as 'nobody' in a child process."""
    import pwd
    import subprocess
    import sys
    import tempfile

    if os.geteuid() != 0:
        pytest.skip("needs root to switch to another user")
    try:
        nobody = pwd.getpwnam("nobody").pw_uid
    except KeyError:
        pytest.skip("no 'nobody' user")
    base = Path(tempfile.mkdtemp(prefix="th-noatime-"))
    try:
        os.chmod(base, 0o755)
        (base / "d").mkdir()
        for n in range(3):
            (base / "d" / f"f{n}.txt").write_text("x")
        (base / "mine.txt").write_text("y")
        os.chown(base / "mine.txt", nobody, -1)  # owned by the sweeping user: O_NOATIME allowed
        # the interpreter lives under /root: everything is imported (a first sweep) before setuid
        code = ("import json, os, sys, tempfile, multiprocessing.popen_fork, multiprocessing.synchronize; "
                "from tracehound.intel.builtin import load_intel; "
                "from tracehound.sweep.engine import SweepOptions, run_sweep; pack = load_intel(['3cx']); "
                "run_sweep(pack, SweepOptions(root=tempfile.mkdtemp(), jobs=2, host_name='x'), lambda d: None); "
                f"os.setuid({nobody}); docs = []; "
                "run_sweep(pack, SweepOptions(root=sys.argv[1], jobs=2, host_name='x'), docs.append); "
                "print(json.dumps(docs[-1]))")
        src = str(Path(__file__).resolve().parents[1] / "src")
        out = subprocess.run([sys.executable, "-c", code, str(base)], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "PYTHONPATH": src})
        assert out.returncode == 0, out.stderr
        counts = json.loads(out.stdout)["tracehound"]["counts"]
        # 2 folders (root, d) listed + 3 files read (in worker processes) not owned by nobody; mine.txt
        # opened with O_NOATIME; counted once each
        assert counts["opened_without_noatime"] == 5 and counts["files_read"] == 4
    finally:
        import shutil

        shutil.rmtree(base)


def test_root_file_through_a_symlinked_folder_and_depth_bound(tmp_path: Path, monkeypatch) -> None:
    from tracehound.sources.hosts import walk as walk_mod
    from tracehound.sources.hosts.reading import read_and_hash

    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "one.bin").write_bytes(b"single file")
    os.symlink(tmp_path / "real", tmp_path / "via")  # the analyst's own path to the evidence: allowed
    stats = walk_mod.WalkStats()
    [e] = list(walk_mod.walk(str(tmp_path / "via" / "one.bin"), stats))
    assert e.path == str(tmp_path / "via" / "one.bin") and read_and_hash(e, (), 100).data == b"single file"
    deep = tmp_path / "deep"
    cur = deep
    for i in range(6):
        cur = cur / f"l{i}"
    cur.mkdir(parents=True)
    (cur / "bottom.txt").write_text("x")
    (deep / "l0" / "top.txt").write_text("x")
    monkeypatch.setattr(walk_mod, "MAX_DEPTH", 3)  # one descriptor per level: bounded, and said
    stats = walk_mod.WalkStats()
    assert [e.rel for e in walk_mod.walk(str(deep), stats)] == ["l0/top.txt"]
    assert stats.skipped == {"deeper than 3 levels (not walked)": 1}


def test_unreadable_hive_is_counted(tmp_path: Path, pack3cx) -> None:
    hive = tmp_path / "r" / "Users" / "u" / "NTUSER.DAT"
    hive.parent.mkdir(parents=True)
    hive.write_bytes(b"regf" + b"\xff" * 4092)  # a hive header and garbage
    _docs, result = sweep(pack3cx, tmp_path / "r", jobs=1)
    assert [k for k in result.skipped if k.startswith("unreadable registry hive: ")] != [], result.skipped
    assert result.files_read == 1


def test_empty_root_or_empty_pack_is_not_clean(tmp_path: Path, capsys) -> None:
    """A root with no file (a wrong mount point) or a pack with nothing to look for (a MISP event all to_ids false)
    checked nothing: incomplete, said, exit 3 — never a plain 'clean'."""
    empty = tmp_path / "mnt"
    empty.mkdir()
    out = tmp_path / "o.jsonl"
    code, _, err = run_cli(["sweep", "--root", str(empty), "-o", str(out), "--no-nice"], capsys)
    last = json.loads(out.read_text().splitlines()[-1])["tracehound"]
    assert code == 3 and "no file under" in err and "wrong folder or mount point" in err, err
    assert last["complete"] is False and [n["check"] for n in last["not_checked"]] == ["target"]

    root = tmp_path / "r"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("BOX\n")
    pack = tmp_path / "context-only.csv"
    pack.write_text("type,value\n")  # a pack that holds nothing to look for
    code, _, err = run_cli(["sweep", "--root", str(root), "--intel", str(pack), "-o", str(out), "--no-nice"], capsys)
    last = json.loads(out.read_text().splitlines()[-1])["tracehound"]
    assert code == 3 and "holds no indicator and no YARA rule" in err, err
    assert [n["check"] for n in last["not_checked"]] == ["intel"]
