"""Per-user installs from a real NTUSER.DAT: an Uninstall key for the 3CX desktop app (installed per
user by Squirrel) written into a copy of the real hive with Debian's python3-hivex."""

from __future__ import annotations

import lzma
import os
import subprocess
from pathlib import Path

import pytest

from conftest import SAMPLES, need
from hosttree import snapshot
from tracehound.intel.builtin import load_intel
from tracehound.sweep.engine import SweepOptions, run_sweep

HIVE = SAMPLES / "registry" / "NTUSER.DAT.xz"
SYSTEM_PYTHON = "/usr/bin/python3"  # python3-hivex installs into Debian's own Python, not the venv
ADD_KEY = r'''
import sys, hivex
path, version = sys.argv[1], sys.argv[2]
h = hivex.Hivex(path, write=True)
node = h.root()
for part in ["Software", "Microsoft", "Windows", "CurrentVersion", "Uninstall", "3CXDesktopApp"]:
    node = h.node_get_child(node, part) or h.node_add_child(node, part)
sz = lambda s: (s + "\0").encode("utf-16-le")
h.node_set_values(node, [
    {"key": "DisplayName", "t": 1, "value": sz("3CX Desktop App")},
    {"key": "DisplayVersion", "t": 1, "value": sz(version)},
    {"key": "Publisher", "t": 1, "value": sz("3CX Ltd")},
    {"key": "InstallDate", "t": 1, "value": sz("20230322")},
    {"key": "InstallLocation", "t": 1, "value": sz(r"C:\Users\alice\AppData\Local\3CXDesktopApp")},
])
h.commit(None)
'''


def hivex_ready() -> None:
    if not os.path.exists(SYSTEM_PYTHON) or subprocess.run([SYSTEM_PYTHON, "-c", "import hivex"],
                                                           capture_output=True).returncode != 0:
        pytest.skip("python3-hivex not installed (scripts/install-system-deps.sh installs it)")


def user_tree(tmp_path: Path, version: str | None) -> Path:
    root = tmp_path / f"host-{version}"
    home = root / "Users" / "alice"
    home.mkdir(parents=True)
    hive = home / "NTUSER.DAT"
    hive.write_bytes(lzma.decompress(need(HIVE).read_bytes()))
    if version:
        subprocess.run([SYSTEM_PYTHON, "-c", ADD_KEY, str(hive), version], check=True, capture_output=True)
    return root


def software(root: Path) -> list[dict]:
    docs: list[dict] = []
    before = snapshot(root)
    run_sweep(load_intel(["3cx"]), SweepOptions(root=str(root), jobs=1), docs.append)
    assert snapshot(root) == before  # the hive is read on a private copy
    return [d for d in docs if d["tracehound"].get("check") == "software"]


def test_affected_per_user_install_found(tmp_path: Path) -> None:
    hivex_ready()
    [d] = software(user_tree(tmp_path, "18.12.416"))
    assert d["tracehound"]["verdict"] == "exposed" and "18.12.416" in d["message"]
    assert d["package"]["path"].endswith(r"Users/alice/NTUSER.DAT:\Software\Microsoft\Windows\CurrentVersion\Uninstall"
                                         r"\3CXDesktopApp")
    assert d["package"]["installed"] == "2023-03-22T00:00:00Z"


def test_fixed_version_not_a_finding_of_exposure(tmp_path: Path) -> None:
    hivex_ready()
    [d] = software(user_tree(tmp_path, "18.12.422"))
    assert d["tracehound"]["verdict"] == "info" and "not an affected version" in d["message"]


def test_real_hive_without_the_key_gives_nothing(tmp_path: Path) -> None:
    assert software(user_tree(tmp_path, None)) == []
