"""Test trees with planted payloads, decoys and an affected install, and the collection archives
collectors make of them (KAPE, Velociraptor, UAC layouts), built at test time."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import sqlite3
import tarfile
import time
import zipfile
from pathlib import Path
from urllib.parse import quote

from tracehound.samples import make_asar

WHEN = 1680000000  # every file's mtime (even: zip stores 2-second times)
PAYLOAD = b"MZ tracehound target test payload: not malware\x00" * 40
C2 = "https://akamaicontainer.com/wal-only"


def _places(profile: Path) -> None:
    """A Firefox places.sqlite whose C2 visit is committed only in its -wal (copied mid-session)."""
    scratch = profile.parent / ".scratch"
    scratch.mkdir(parents=True)
    db = scratch / "places.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR, "
                "visit_count INTEGER, last_visit_date INTEGER)")
    con.execute("INSERT INTO moz_places VALUES (1, 'https://www.debian.org/', '', 2, 1680000000000000)")
    con.commit()
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("INSERT INTO moz_places VALUES (2, ?, '', 1, 1680000000000000)", (C2,))
    con.commit()
    profile.mkdir(parents=True)
    for suffix in ("", "-wal"):
        shutil.copyfile(str(db) + suffix, profile / ("places.sqlite" + suffix))
    con.close()
    shutil.rmtree(scratch)


def windows_tree(root: Path) -> Path:
    app = root / "Users/alice/AppData/Local/Programs/3CXDesktopApp"
    (app / "resources").mkdir(parents=True)
    (app / "resources/app.asar").write_bytes(make_asar({"name": "3cx-desktop-app", "productName": "3CX Desktop App",
                                                        "version": "18.12.416"}))
    (app / "ffmpeg.dll").write_bytes(PAYLOAD)  # the planted payload (its SHA-256 is in the test pack)
    (app / "d3dcompiler_47.dll").write_bytes(b"MZ a decoy, not in the pack\x00" * 10)
    (root / "Users/alice/Documents").mkdir(parents=True)
    (root / "Users/alice/Documents/notes.txt").write_text("akamaicontainer.com is only text here\n")
    etc = root / "Windows/System32/drivers/etc"
    etc.mkdir(parents=True)
    (etc / "hosts").write_text("127.0.0.1 localhost\n203.0.113.7 akamaicontainer.com\n")
    _places(root / "Users/alice/AppData/Roaming/Mozilla/Firefox/Profiles/abcd.default-release")
    _stamp(root)
    return root


def linux_tree(root: Path) -> Path:
    (root / "etc").mkdir(parents=True)
    (root / "etc/hostname").write_text("uac-linux-host\n")
    (root / "etc/hosts").write_text("127.0.0.1 localhost\n203.0.113.7 akamaicontainer.com\n")
    (root / "opt/tool").mkdir(parents=True)
    (root / "opt/tool/update.bin").write_bytes(PAYLOAD)
    (root / "opt/tool/readme.txt").write_text("decoy\n")
    _places(root / "home/alice/.mozilla/firefox/p.default")
    _stamp(root)
    return root


def _stamp(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            os.utime(os.path.join(dirpath, f), (WHEN, WHEN))


def payload_sha256() -> str:
    return hashlib.sha256(PAYLOAD).hexdigest()


def _files(root: Path) -> list[tuple[str, Path]]:
    out = []
    for dirpath, _dirs, files in os.walk(root):
        for f in sorted(files):
            p = Path(dirpath) / f
            out.append((p.relative_to(root).as_posix(), p))
    return sorted(out)


def kape_zip(root: Path, dest: Path) -> Path:
    """KAPE/CyLR: the drive letter as a folder under the collection's own folder."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, p in _files(root):
            zf.write(p, f"2023-03-30T101500_TargetsOut/C/{rel}")
    return dest


def velociraptor_zip(root: Path, dest: Path) -> Path:
    """Velociraptor's offline collector: uploads/auto/C%3A/... with URL-escaped names, and its own files."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        stamp = time.gmtime(WHEN)[:6]  # written at collection time, as the copies
        zf.writestr(zipfile.ZipInfo("log.json", stamp), '{"level":"INFO","msg":"collection started"}\n')
        zf.writestr(zipfile.ZipInfo("results/Windows.KapeFiles.Targets%2FAll File Metadata.json", stamp), "{}\n")
        for rel, p in _files(root):
            zf.write(p, "uploads/auto/" + quote("C:", safe="") + "/" + "/".join(quote(x, safe=" ()") for x in rel.split("/")))
    return dest


def uac_tar(root: Path, dest: Path, compression: str = "gz") -> Path:
    """UAC: uac-<host>-<os>-<time>/[root]/..., plus its live_response output."""
    top = "uac-linuxhost-linux-20230330101500"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        info = tarfile.TarInfo(f"{top}/live_response/process/ps.txt")
        body = b"PID CMD\n1 init\n"
        info.size, info.mtime = len(body), WHEN
        tf.addfile(info, io.BytesIO(body))
        for rel, p in _files(root):
            tf.add(p, f"{top}/[root]/{rel}", recursive=False)
    data = raw.getvalue()
    if compression == "gz":
        import gzip

        data = gzip.compress(data, mtime=0)
    elif compression == "zst":
        import zstandard

        data = zstandard.ZstdCompressor().compress(data)
    dest.write_bytes(data)
    return dest
