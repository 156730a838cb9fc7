"""Registry hives for sweep tests: keys and values written with Debian's python3-hivex (system
Python) into a COPY of a real hive from the shared samples (registry/NTUSER.DAT.xz)."""

from __future__ import annotations

import json
import lzma
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import SAMPLES, need

REAL_HIVE = SAMPLES / "registry" / "NTUSER.DAT.xz"
SYSTEM_PYTHON = "/usr/bin/python3"  # python3-hivex installs into Debian's own Python, not the venv
_WRITE = r'''
import json, struct, sys, hivex
path, plan = sys.argv[1], json.loads(sys.argv[2])
h = hivex.Hivex(path, write=True)
def enc(v):
    if isinstance(v, bool) or isinstance(v, int):
        return 4, struct.pack("<I", v)
    if isinstance(v, list):
        return 7, ("\0".join(v) + "\0\0").encode("utf-16-le")
    if isinstance(v, dict):
        return 3, bytes.fromhex(v["hex"])
    return 1, (v + "\0").encode("utf-16-le")
for item in plan:
    node = h.root()
    for part in item["key"]:
        node = h.node_get_child(node, part) or h.node_add_child(node, part)
    vals = []
    for name, v in item.get("values", {}).items():
        t, raw = enc(v)
        vals.append({"key": name, "t": t, "value": raw})
    if vals:
        h.node_set_values(node, vals)
h.commit(None)
'''


def hivex_ready() -> None:
    if not os.path.exists(SYSTEM_PYTHON) or subprocess.run([SYSTEM_PYTHON, "-c", "import hivex"],
                                                           capture_output=True).returncode != 0:
        pytest.skip("python3-hivex not installed (scripts/install-system-deps.sh installs it)")


def write_hive(dest: Path, plan: list[dict[str, Any]]) -> Path:
    """A copy of the real sample hive at dest with the plan's keys and values added:
    [{"key": ["Software", "X"], "values": {"Name": "text" | 12 | ["a", "b"] | {"hex": "00ff"}}}]."""
    hivex_ready()
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(lzma.decompress(need(REAL_HIVE).read_bytes()))
    if plan:
        subprocess.run([SYSTEM_PYTHON, "-c", _WRITE, str(dest), json.dumps(plan)], check=True, capture_output=True)
    return dest
