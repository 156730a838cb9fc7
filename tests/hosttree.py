"""Fixture generator for sweep tests: a host tree with planted payloads and hostile entries,
a PE signed at test time with osslsigncode and a throw-away certificate, and a test pack."""

from __future__ import annotations

import hashlib
import lzma
import os
import shutil
import sqlite3
import ssl
import struct
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import setuptools

from tracehound.samples import make_asar, make_chrome_history, make_firefox_places

PAYLOAD = b"MZ tracehound test payload: not malware, only a known hash\x00" * 10
VEILEDSIGNAL_STRINGS = (b"\\\\.\\pipe\\gecko.nativeMessaging\x00Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                        b"(KHTML, like Gecko) Chrome/95.0.4638.54 Safari/537.36 Edg/95.0.1020.40\x00"
                        b"application/json, text/javascript, */*; q=0.01\x00")
# signature-base writes "\\.\\pipe\\..." in a YARA string: that is the text \.\pipe\gecko...
VEILEDSIGNAL_STRINGS = VEILEDSIGNAL_STRINGS.replace(b"\\\\.\\pipe", b"\\.\\pipe")
T = TypeVar("T")


@dataclass
class Tree:
    root: Path
    outside: Path
    payload_sha256: str
    cert_sha1: str
    signed_pe: Path | None
    padded_pe: Path | None


def sign_pe(workdir: Path) -> tuple[Path, str] | None:
    """A real PE (setuptools' launcher) signed with a fresh self-signed certificate; None without osslsigncode."""
    tool = shutil.which("osslsigncode")
    if tool is None:
        return None
    src = Path(setuptools.__file__).parent / "cli-64.exe"
    key, crt = workdir / "key.pem", workdir / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-keyout", str(key), "-out", str(crt), "-days", "2",
                    "-nodes", "-subj", "/CN=Evil Test Signer Ltd"], check=True, capture_output=True)
    out = workdir / "signed.exe"
    subprocess.run([tool, "sign", "-certs", str(crt), "-key", str(key), "-in", str(src), "-out", str(out)],
                   check=True, capture_output=True)
    der = ssl.PEM_cert_to_DER_cert(crt.read_text())
    return out, hashlib.sha1(der).hexdigest()


def pad_certificate_table(src: Path, dst: Path, extra: bytes) -> None:
    """CVE-2013-3900 style: grow the WIN_CERTIFICATE and the security directory to hide bytes inside."""
    data = bytearray(src.read_bytes())
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    opt = pe + 24
    magic = struct.unpack_from("<H", data, opt)[0]
    dd = opt + (96 if magic == 0x10B else 112) + 8 * 4
    off, size = struct.unpack_from("<II", data, dd)
    assert off + size == len(data), "certificate table must be at the end"
    struct.pack_into("<II", data, dd, off, size + len(extra))
    length = struct.unpack_from("<I", data, off)[0]
    struct.pack_into("<I", data, off, length + len(extra))
    dst.write_bytes(bytes(data) + extra)


def build_tree(base: Path, hostile: bool = True) -> Tree:
    root = base / "host"
    outside = base / "outside"
    outside.mkdir(parents=True)
    (outside / "payload-outside.bin").write_bytes(PAYLOAD)  # reachable only through a symlink: must not be read
    w = root / "Users" / "alice" / "AppData" / "Local" / "Programs" / "3CXDesktopApp"
    (w / "resources").mkdir(parents=True)
    (w / "resources" / "app.asar").write_bytes(make_asar({"productName": "3CX Desktop App", "version": "18.12.416"}))
    (w / "ffmpeg.dll").write_bytes(b"MZ harmless library with a common name\x00" * 4)  # name alone: no alert
    (root / "Users" / "alice" / "Downloads").mkdir(parents=True)
    (root / "Users" / "alice" / "Downloads" / "update.bin").write_bytes(PAYLOAD)
    (root / "Users" / "alice" / "Downloads" / "3cxdesktopapp-18.12.407.msi").write_bytes(b"placeholder installer\n")
    fixed = root / "Users" / "bob" / "AppData" / "Local" / "Programs" / "3CXDesktopApp" / "resources" / "app"
    fixed.mkdir(parents=True)
    (fixed / "package.json").write_text('{"name": "3cx-desktop-app", "productName": "3CX Desktop App", "version": "18.12.422"}')
    mac = root / "Applications" / "3CX Desktop App.app" / "Contents"
    mac.mkdir(parents=True)
    import plistlib

    (mac / "Info.plist").write_bytes(plistlib.dumps({"CFBundleName": "3CX Desktop App", "CFBundleShortVersionString": "18.12.402"}))
    old = root / "Applications" / "Old 3CX.app" / "Contents"
    old.mkdir(parents=True)
    (old / "Info.plist").write_bytes(plistlib.dumps({"CFBundleName": "3CX Desktop App", "CFBundleShortVersionString": "18.12.425"}))
    chrome = root / "Users" / "alice" / "AppData" / "Local" / "Google" / "Chrome" / "User Data" / "Default"
    chrome.mkdir(parents=True)
    from datetime import UTC, datetime

    when = datetime(2023, 3, 29, 9, 0, tzinfo=UTC)
    make_chrome_history(chrome / "History", [("https://www.example.com/", when), ("https://github.com/IconStorages/images/raw/main/icon7.ico", when)])
    ff = root / "Users" / "alice" / "AppData" / "Roaming" / "Mozilla" / "Firefox" / "Profiles" / "x.default"
    ff.mkdir(parents=True)
    make_firefox_places(ff / "places.sqlite", [("https://notakamaicontainer.com/", when), ("http://www.msstorageboxes.com/office", when)])
    etc = root / "etc"
    etc.mkdir()
    (etc / "hosts").write_text("127.0.0.1 localhost\n0.0.0.0 akamaicontainer.com\n")
    (etc / "hostname").write_text("TESTHOST\n")
    rt = root / "Windows" / "System32" / "config" / "TxR"
    rt.mkdir(parents=True)
    (rt / "{0d6f}.TMContainer00000000000000000001.regtrans-ms").write_bytes(b"\x00" * 512)  # METARULE: suspicious
    (root / "Users" / "alice" / "AppData" / "Local" / "veiled.dll").write_bytes(b"MZ" + b"\x00" * 62 + VEILEDSIGNAL_STRINGS)
    signed = sign_pe(base)
    signed_pe = padded_pe = None
    cert_sha1 = "0" * 40
    if signed is not None:
        signed_pe = root / "Program Files" / "EvilCorp" / "tool.exe"
        signed_pe.parent.mkdir(parents=True)
        shutil.copy(signed[0], signed_pe)
        cert_sha1 = signed[1]
        padded_pe = root / "Windows" / "System32" / "d3dcompiler_47.dll"
        pad_certificate_table(signed[0], padded_pe, b"\xfe\xed\xfa\xce" * 64)
    if hostile:
        odd = root / "odd"
        odd.mkdir()
        os.mkfifo(odd / "fifo")
        os.symlink("loop-b", odd / "loop-a")
        os.symlink("loop-a", odd / "loop-b")
        os.symlink("/etc", odd / "to-etc")
        os.symlink(str(outside / "payload-outside.bin"), odd / "to-outside-payload")
        with (odd / "sparse-4g.img").open("wb") as fh:
            fh.truncate(4 * 1024 * 1024 * 1024)
        (odd / "empty").write_bytes(b"")
        (odd / "locked").mkdir()
        (odd / "locked" / "secret.txt").write_text("x")
        os.chmod(odd / "locked", 0)
        bad_name = os.fsencode(str(odd)) + b"/bad-\xff\xfe-name.bin"
        with open(bad_name, "wb") as fh:
            fh.write(PAYLOAD)  # undecodable name, payload content: must be found
    return Tree(root, outside, hashlib.sha256(PAYLOAD).hexdigest(), cert_sha1, signed_pe, padded_pe)


def snapshot(root: Path) -> dict[bytes, tuple[int, int, int, str]]:
    """(mode, size, mtime_ns, sha256 of content) of every entry, symlinks not followed."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(os.fsencode(root), followlinks=False):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            digest = ""
            if os.path.isfile(p) and not os.path.islink(p) and st.st_size < 64 * 1024 * 1024:
                with open(p, "rb") as fh:
                    digest = hashlib.sha256(fh.read()).hexdigest()
            out[p] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return out


def signed_macho(workdir: Path, fat: bool = False) -> tuple[bytes, str]:
    """A minimal x86_64 Mach-O whose LC_CODE_SIGNATURE holds a CMS signature made with a fresh
    certificate (the layout codesign writes: SuperBlob -> CMS blob wrapper). Returns (bytes, cert SHA-1)."""
    key, crt, content = workdir / "mkey.pem", workdir / "mcert.pem", workdir / "cd.bin"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-keyout", str(key), "-out", str(crt), "-days", "2",
                    "-nodes", "-subj", "/CN=Developer ID Application: Test Ltd"], check=True, capture_output=True)
    content.write_bytes(b"code directory hash placeholder")
    cms = subprocess.run(["openssl", "cms", "-sign", "-binary", "-in", str(content), "-signer", str(crt), "-inkey", str(key),
                          "-outform", "DER"], check=True, capture_output=True).stdout
    blob = struct.pack(">II", 0xFADE0B01, 8 + len(cms)) + cms
    superblob = struct.pack(">III", 0xFADE0CC0, 20 + len(blob), 1) + struct.pack(">II", 0x10000, 20) + blob
    header = struct.pack("<IiiIIIII", 0xFEEDFACF, 0x01000007, 3, 2, 1, 16, 0, 0)
    thin = header + struct.pack("<IIII", 0x1D, 16, 48, len(superblob)) + superblob
    if fat:
        thin = struct.pack(">IIIIIII", 0xCAFEBABE, 1, 0x01000007, 3, 4096, len(thin), 12) + b"\0" * (4096 - 28) + thin
    return thin, hashlib.sha1(ssl.PEM_cert_to_DER_cert(crt.read_text())).hexdigest()


def recursive_history(path: Path, browser: str = "chrome") -> None:
    """The 4 KB History of issue 18: `urls` (or `moz_places`) is a view over a WITH RECURSIVE
    query that never ends and never yields a row. Querying it hangs for ever."""
    table, last = ("moz_places", "last_visit_date") if browser == "firefox" else ("urls", "last_visit_time")
    con = sqlite3.connect(path)
    con.execute(f"CREATE VIEW {table} AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                f"SELECT 'https://a.example/' || x AS url, 0 AS {last}, 1 AS visit_count FROM c WHERE x < 0")
    con.commit()
    con.close()


def real_hive(dst: Path) -> Path | None:
    """regipy's real NTUSER.DAT with per-user Uninstall keys (GitHubDesktop), decompressed; None when absent."""
    from conftest import SAMPLES

    src = SAMPLES / "registry" / "NTUSER_with_winscp.DAT.xz"
    if not src.is_file():
        return None
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(lzma.decompress(src.read_bytes()))
    return dst


def bounded(fn: Callable[[], T], seconds: float) -> T:
    """Run fn in a daemon thread; fail (instead of hanging the suite) if it has not returned in time."""
    box: list[Any] = []

    def run() -> None:
        try:
            box.append((True, fn()))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            box.append((False, exc))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        raise AssertionError(f"blocked: still running after {seconds} s")
    ok, value = box[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]
