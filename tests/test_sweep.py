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
    assert summary["tracehound"]["complete"] is True
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
    # As root every directory is readable, so the permission path is exercised by making scandir refuse.
    from tracehound.sources.hosts import walk as walk_mod

    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "a.txt").write_text("a")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "secret.txt").write_text("s")
    (tmp_path / "gone").mkdir()
    real = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        if str(path).endswith("gone"):
            raise FileNotFoundError(2, "No such file or directory")
        return real(path)

    monkeypatch.setattr(walk_mod.os, "scandir", scandir)
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
