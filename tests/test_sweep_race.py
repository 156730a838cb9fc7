"""Issue 18, the sweep TOCTOU: while sweeps run, a thread keeps swapping folders for symlinks (to
/etc and to a folder outside the tree holding a planted payload), files for FIFOs, the registry
hive for a symlink and etc/ for a symlink. Every sweep must finish (never block on a FIFO), and
report or hash nothing outside the tree: no finding path outside it, no hash of a file outside it,
no host name read from outside it."""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from pathlib import Path
from typing import Any

from hosttree import PAYLOAD, bounded, real_hive
from tracehound.intel.builtin import load_intel
from tracehound.sweep.engine import SweepOptions, run_sweep

OUTSIDE_PAYLOAD = b"MZ planted outside the tree: reachable only through a swapped-in symlink\x00" * 8
BUDGET = 10.0  # seconds of racing in all (the "many times", bounded for the suite)


def _etc_hashes() -> set[str]:
    """SHA-256 of the small readable files of this machine's /etc: if one shows up, /etc was followed."""
    out = set()
    for de in sorted(os.scandir("/etc"), key=lambda d: d.name)[:300]:
        try:
            if de.is_file(follow_symlinks=False) and de.stat(follow_symlinks=False).st_size < 1 << 20:
                with open(de.path, "rb") as fh:
                    out.add(hashlib.sha256(fh.read()).hexdigest())
        except OSError:
            continue
    return out


def _build(base: Path) -> tuple[Path, Path, list[Path], list[Path], Path]:
    outside = base / "outside"
    (outside / "etc").mkdir(parents=True)
    (outside / "etc" / "hostname").write_text("ANALYSTBOX\n")
    for name in ("update.bin", "f0.bin", "f1.bin", "NTUSER.DAT", "passwd"):
        (outside / name).write_bytes(OUTSIDE_PAYLOAD)  # the names the tree has: a followed symlink finds them
    root = base / "host"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("RACEHOST\n")
    downloads = root / "Users" / "alice" / "Downloads"
    downloads.mkdir(parents=True)
    (downloads / "update.bin").write_bytes(PAYLOAD)
    hive = root / "Users" / "alice" / "NTUSER.DAT"
    if real_hive(hive) is None:
        hive.write_bytes(b"regf" + b"\0" * 4092)
    from datetime import UTC, datetime

    from tracehound.samples import make_chrome_history

    hist = root / "Users" / "alice" / "AppData" / "Local" / "Google" / "Chrome" / "User Data" / "Default" / "History"
    hist.parent.mkdir(parents=True)
    make_chrome_history(hist, [("https://akamaicontainer.com/x", datetime(2023, 3, 29, tzinfo=UTC))])
    dirs, files = [downloads, root / "Users" / "alice"], [hist]
    for i in range(8):
        d = root / "data" / f"d{i}"
        (d / "sub").mkdir(parents=True)
        for n in range(2):
            (d / f"f{n}.bin").write_bytes(PAYLOAD if n == 0 else b"harmless %d" % i)
            (d / "sub" / f"f{n}.bin").write_bytes(b"deeper %d" % n)
            files.append(d / f"f{n}.bin")
        dirs += [d, d / "sub"]
    return root, outside, dirs, files, hive


class Swapper(threading.Thread):
    def __init__(self, root: Path, outside: Path, dirs: list[Path], files: list[Path], hive: Path) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.swaps = 0
        self.rng = random.Random(18)
        self.victims: list[tuple[Path, Any]] = (
            [(d, lambda: self.rng.choice(["/etc", str(outside)])) for d in dirs]
            + [(root / "etc", lambda: self.rng.choice(["/etc", str(outside / "etc")]))]
            + [(hive, lambda: self.rng.choice([str(outside / "NTUSER.DAT"), "/etc/passwd"]))]
            + [(f, None) for f in files])  # None: a FIFO

    def run(self) -> None:
        while not self.stop.is_set():
            victim, target = self.rng.choice(self.victims)
            aside = victim.with_name(victim.name + ".swap")
            try:
                os.rename(victim, aside)
            except OSError:
                continue
            try:
                if target is None:
                    os.mkfifo(victim)
                else:
                    os.symlink(target(), victim)
                self.swaps += 1
                time.sleep(self.rng.random() / 500)  # swapped for up to 2 ms
            finally:
                os.unlink(victim)
                os.rename(aside, victim)


def test_raced_sweep_reports_nothing_outside_the_tree_and_never_blocks(tmp_path: Path) -> None:
    root, outside, dirs, files, hive = _build(tmp_path)
    forbidden = _etc_hashes() | {hashlib.sha256(OUTSIDE_PAYLOAD).hexdigest()}
    pack_csv = tmp_path / "p.csv"
    pack_csv.write_text("type,value\n" + "".join(f"sha256,{h}\n" for h in sorted(forbidden | {hashlib.sha256(PAYLOAD).hexdigest()})))
    pack = load_intel(["3cx", str(pack_csv)])
    prefix = str(root) + os.sep
    swapper = Swapper(root, outside, dirs, files, hive)
    swapper.start()
    runs, refused, inside_hits = 0, 0, 0
    start = time.monotonic()
    try:
        while time.monotonic() - start < BUDGET or runs < 3:
            jobs = 2 if runs % 10 == 1 else 1  # now and then through the worker processes too
            docs: list[dict[str, Any]] = []
            opts = SweepOptions(root=str(root), jobs=jobs)
            result = bounded(lambda o=opts, out=docs: run_sweep(pack, o, out.append), 30)  # type: ignore[misc]
            runs += 1
            assert result.host in ("RACEHOST", "host"), result.host  # never ANALYSTBOX, never this machine's name
            for d in docs[:-1]:
                f = d.get("file", {})
                assert str(f.get("path", prefix)).startswith(prefix), d["message"]
                assert f.get("hash", {}).get("sha256") not in forbidden, d["message"]
                pkg = d.get("package", {}).get("path")
                assert pkg is None or str(pkg).startswith(prefix), d["message"]
                inside_hits += f.get("hash", {}).get("sha256") == hashlib.sha256(PAYLOAD).hexdigest()
            refused += sum(n for k, n in result.skipped.items()
                           if "symlink" in k or "replaced" in k or "special file" in k or "vanished" in k)
            assert docs[-1]["tracehound"]["record"] == "host-summary" and docs[-1]["tracehound"]["complete"] is True
    finally:
        swapper.stop.set()
        swapper.join(5)
    assert not swapper.is_alive()
    print(f"{runs} raced sweeps, {swapper.swaps} swaps, {refused} swapped entries refused and counted")
    assert runs >= 3 and swapper.swaps > 100  # the race really ran, many times
    assert refused > 0  # and the sweeps met swapped entries, and said so
    assert inside_hits > 0  # the payloads inside the tree are still found between swaps
