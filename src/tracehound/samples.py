"""Generate the bundled sample investigation: host trees, logs and an inventory with a known
truth (used by `tracehound demo` and by the tests). Deterministic for a given seed.

Truth for the built-in 3CX pack:
  WS-ALICE  compromised  3CX 18.12.416 (Electron asar), Chrome history visit to a C2 URL,
                         proxy + DNS contacts with C2 exactly 7 days after first sighting
  MAC-BOB   exposed      3CX 18.12.407 (.app Info.plist), affected installer name in Downloads
  WS-CAROL  clean        3CX 18.12.422 (fixed); a look-alike domain in the proxy log (near miss)
  WS-DAVE   exposed      inventory only (18.12.407.0), never swept
  SRV-ERIN  not checked  inventory only, unrelated software
  10.20.0.99 compromised unknown host in the proxy log contacting a C2 domain
"""

from __future__ import annotations

import json
import os
import plistlib
import random
import sqlite3
import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2023, 3, 15, 8, 0, tzinfo=UTC)
HOSTS = {
    "WS-ALICE": ("10.20.0.11", "windows", "alice"),
    "MAC-BOB": ("10.20.0.12", "macos", "bob"),
    "WS-CAROL": ("10.20.0.13", "windows", "carol"),
    "WS-DAVE": ("10.20.0.14", "windows", "dave"),
    "SRV-ERIN": ("10.20.0.15", "windows", "erin"),
}
UNKNOWN_IP = "10.20.0.99"
BENIGN = ["www.example.com", "intranet.corp.example", "login.microsoftonline.com", "github.com", "www.wikipedia.org",
          "update.googleapis.com", "cdn.jsdelivr.net", "teams.microsoft.com", "www.3cx.com", "fonts.gstatic.com"]
XSS = "<script>alert(1)</script>"


def make_asar(package: dict[str, str]) -> bytes:
    """A minimal Electron asar archive holding package.json (same layout as the asar tool)."""
    content = json.dumps(package).encode()
    header = json.dumps({"files": {"package.json": {"size": len(content), "offset": "0"}}}).encode()
    json_len = len(header)
    padded = json_len + (-json_len % 4)
    pickle = struct.pack("<4I", 4, padded + 8, padded + 4, json_len) + header + b"\x00" * (padded - json_len)
    return pickle + content


def make_chrome_history(path: Path, urls: list[tuple[str, datetime]]) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE urls (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR, visit_count INTEGER, "
                "typed_count INTEGER, last_visit_time INTEGER, hidden INTEGER)")
    for i, (url, when) in enumerate(urls, 1):
        micro = int((when - datetime(1601, 1, 1, tzinfo=UTC)).total_seconds() * 1_000_000)
        con.execute("INSERT INTO urls VALUES (?,?,?,?,?,?,0)", (i, url, "", 1 + i % 3, 0, micro))
    con.commit()
    con.close()


def make_firefox_places(path: Path, urls: list[tuple[str, datetime]]) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR, "
                "visit_count INTEGER, last_visit_date INTEGER)")
    for i, (url, when) in enumerate(urls, 1):
        con.execute("INSERT INTO moz_places VALUES (?,?,?,?,?)", (i, url, "", 1, int(when.timestamp() * 1_000_000)))
    con.commit()
    con.close()


INSTALLED = {"WS-ALICE": START + timedelta(minutes=30), "MAC-BOB": START - timedelta(days=5),
             "WS-CAROL": START + timedelta(days=20)}


def _electron_app(root: Path, user: str, version: str, installed: datetime) -> None:
    app = root / "Users" / user / "AppData" / "Local" / "Programs" / "3CXDesktopApp"
    (app / "resources").mkdir(parents=True, exist_ok=True)
    asar = app / "resources" / "app.asar"
    asar.write_bytes(make_asar({"name": "3cx-desktop-app", "productName": "3CX Desktop App", "version": version}))
    os.utime(asar, (installed.timestamp(), installed.timestamp()))  # the installation time the sweep reads
    (app / "LICENSE.electron.txt").write_text("Copyright (c) Electron contributors\n")


def build_hosts(base: Path) -> dict[str, Path]:
    roots = {}
    # WS-ALICE: affected Electron app, Chrome visit to a Stage 1 URL.
    alice = base / "WS-ALICE"
    _electron_app(alice, "alice", "18.12.416", INSTALLED["WS-ALICE"])
    chrome = alice / "Users" / "alice" / "AppData" / "Local" / "Google" / "Chrome" / "User Data" / "Default"
    chrome.mkdir(parents=True, exist_ok=True)
    make_chrome_history(chrome / "History", [("https://www.example.com/", START),
                                              ("https://akamaitechcloudservices.com/v2/storage", START + timedelta(days=7, hours=2))])
    etc = alice / "Windows" / "System32" / "drivers" / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "hosts").write_text("127.0.0.1 localhost\n")
    (alice / "Users" / "alice" / "Documents").mkdir(parents=True, exist_ok=True)
    (alice / "Users" / "alice" / "Documents" / "notes.txt").write_text("quarterly numbers\n")
    roots["WS-ALICE"] = alice
    # MAC-BOB: affected macOS app bundle and an affected installer in Downloads.
    bob = base / "MAC-BOB"
    contents = bob / "Applications" / "3CX Desktop App.app" / "Contents"
    contents.mkdir(parents=True, exist_ok=True)
    (contents / "Info.plist").write_bytes(plistlib.dumps({"CFBundleName": "3CX Desktop App", "CFBundleShortVersionString":
                                                         "18.12.407", "CFBundleIdentifier": "com.electron.3cx-desktop-app"}))
    os.utime(contents / "Info.plist", (INSTALLED["MAC-BOB"].timestamp(),) * 2)
    dl = bob / "Users" / "bob" / "Downloads"
    dl.mkdir(parents=True, exist_ok=True)
    (dl / "3CXDesktopApp-18.11.1213.dmg").write_bytes(b"sample installer placeholder (not the real file)\n")
    prefs = bob / "Library" / "Preferences" / "SystemConfiguration"
    prefs.mkdir(parents=True, exist_ok=True)
    (prefs / "preferences.plist").write_bytes(plistlib.dumps({"System": {"System": {"ComputerName": "MAC-BOB"}}}))
    roots["MAC-BOB"] = bob
    # WS-CAROL: fixed version.
    carol = base / "WS-CAROL"
    _electron_app(carol, "carol", "18.12.422", INSTALLED["WS-CAROL"])
    roots["WS-CAROL"] = carol
    return roots


def _squid(ts: datetime, ip: str, user: str, method: str, url: str, peer: str) -> str:
    return f"{ts.timestamp():.3f}    120 {ip} TCP_MISS/200 {random.randint(300, 90000)} {method} {url} {user} DIRECT/{peer} text/html"


def build_logs(base: Path, days: int = 14, per_day: int = 400, seed: int = 7) -> dict[str, Path]:
    rng = random.Random(seed)
    random.seed(seed)
    base.mkdir(parents=True, exist_ok=True)
    proxy, dns = [], []
    alice_ip = HOSTS["WS-ALICE"][0]
    for day in range(days):
        for _ in range(per_day):
            name = rng.choice(list(HOSTS))
            ip, _os, user = HOSTS[name]
            if name == "WS-ALICE" and day == 0:
                continue  # Alice's first appearance is set below, at a known time
            ts = START + timedelta(days=day, seconds=rng.randint(0, 86399))
            host = rng.choice(BENIGN)
            proxy.append((ts, _squid(ts, ip, user, "GET", f"http://{host}/{rng.randint(1, 999)}", f"93.184.216.{rng.randint(1, 200)}")))
            dns.append((ts, _bind(ts, ip, host)))
    first = START + timedelta(hours=1)
    proxy.append((first, _squid(first, alice_ip, "alice", "GET", "http://intranet.corp.example/start", "10.1.1.1")))
    contact = first + timedelta(days=7)
    proxy.append((contact, _squid(contact, alice_ip, "alice", "GET", "https://akamaicontainer.com/cdn/logo.png",
                                  "162.0.229.159")))
    ico = contact + timedelta(minutes=5)
    proxy.append((ico, _squid(ico, alice_ip, "alice", "GET", "https://github.com/IconStorages/images/raw/main/icon12.ico",
                              "140.82.121.4")))
    xss = contact + timedelta(hours=3)
    proxy.append((xss, _squid(xss, alice_ip, "alice", "GET", f"http://akamaicontainer.com/q?{XSS}", "162.0.229.159")))
    dns.append((contact - timedelta(seconds=1), _bind(contact - timedelta(seconds=1), alice_ip, "akamaicontainer.com")))
    near = contact + timedelta(days=1)
    proxy.append((near, _squid(near, HOSTS["WS-CAROL"][0], "carol", "GET", "http://notakamaicontainer.com/", "198.51.100.7")))
    proxy.append((near, _squid(near, HOSTS["WS-CAROL"][0], "carol", "CONNECT", "github.com:443", "140.82.121.4")))
    unk = contact + timedelta(days=2)
    proxy.append((unk, _squid(unk, UNKNOWN_IP, "-", "GET", "http://azureonlinestorage.com/azure/storage/data", "91.235.116.231")))
    proxy.sort(key=lambda x: x[0])
    dns.sort(key=lambda x: x[0])
    out = {"proxy": base / "proxy" / "access.log", "dns": base / "dns" / "queries.log"}
    for key, rows in (("proxy", proxy), ("dns", dns)):
        out[key].parent.mkdir(parents=True, exist_ok=True)
        out[key].write_text("\n".join(r for _, r in rows) + "\n", encoding="utf-8")
    return out


def _bind(ts: datetime, ip: str, name: str) -> str:
    return (f"{ts.strftime('%d-%b-%Y %H:%M:%S')}.000 queries: info: client @0x7f3a2c {ip}#{40000 + zlib.crc32(name.encode()) % 20000} "
            f"({name}): query: {name} IN A + (10.20.0.1)")


def build_inventory(path: Path) -> Path:
    rows = ["hostname,ip,platform,product,version",
            "WS-ALICE,10.20.0.11,Windows 10,3CX Desktop App,18.12.416",
            "MAC-BOB,10.20.0.12,macOS 13,3CX Desktop App (MacOS),18.12.407",
            "WS-CAROL,10.20.0.13,Windows 11,3CX Desktop App,18.12.422",
            "WS-DAVE,10.20.0.14,Windows 10,3CXDesktopApp,18.12.407.0",
            "SRV-ERIN,10.20.0.15,Windows Server 2019,Microsoft Edge,111.0.1661.54"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


EXPECTED_VERDICTS = {"WS-ALICE": "compromised", "MAC-BOB": "exposed", "WS-CAROL": "clean", "WS-DAVE": "exposed",
                     "SRV-ERIN": "not checked", UNKNOWN_IP: "compromised"}


def build_all(base: Path) -> dict[str, object]:
    return {"hosts": build_hosts(base / "hosts"), "logs": build_logs(base / "logs"),
            "inventory": build_inventory(base / "inventory" / "assets.csv")}
