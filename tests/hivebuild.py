"""Registry hives for sweep tests: keys and values written with Debian's python3-hivex (system
Python) into a COPY of a real hive from the shared samples (registry/NTUSER.DAT.xz), or, when the
samples are absent, into a minimal empty hive made here (hivex cannot create one; it fills it)."""

from __future__ import annotations

import json
import lzma
import os
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import SAMPLES

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


def write_hive(dest: Path, plan: list[dict[str, Any]], real: bool | None = None) -> Path:
    """A hive at dest with the plan's keys and values added:
    [{"key": ["Software", "X"], "values": {"Name": "text" | 12 | ["a", "b"] | {"hex": "00ff"}}}].
    The base is a copy of the real sample hive (real=None: when present), else minimal_hive()."""
    hivex_ready()
    dest.parent.mkdir(parents=True, exist_ok=True)
    use_real = REAL_HIVE.exists() if real is None else real
    if use_real and not REAL_HIVE.exists():
        pytest.skip(f"{REAL_HIVE} not present (third-party samples live in ../shared)")
    dest.write_bytes(lzma.decompress(REAL_HIVE.read_bytes()) if use_real else minimal_hive())
    if plan:
        subprocess.run([SYSTEM_PYTHON, "-c", _WRITE, str(dest), json.dumps(plan)], check=True, capture_output=True)
    return dest


def minimal_hive() -> bytes:
    """An empty hive (root key only): regf header, one 4 KiB hbin holding the root nk, its sk and free space."""
    sd = struct.pack("<BBHIIII", 1, 0, 0x8000, 0, 0, 0, 0)  # self-relative security descriptor, empty
    root_off, name = 0x20, b"ROOT"
    nk = struct.pack("<2sHQIIIIIIIIIIIIIIIHH", b"nk", 0x2C, 0, 0, 0, 0, 0, 0xFFFFFFFF, 0xFFFFFFFF, 0,
                     0xFFFFFFFF, 0, 0xFFFFFFFF, 0, 0, 0, 0, 0, len(name), 0) + name
    sk_off = root_off + len(_cell(nk))
    nk_cell = _cell(nk[:44] + struct.pack("<I", sk_off) + nk[48:])  # the root's security key
    sk_cell = _cell(struct.pack("<2sHIIII", b"sk", 0, sk_off, sk_off, 1, len(sd)) + sd)
    used = 0x20 + len(nk_cell) + len(sk_cell)
    free = struct.pack("<i", 0x1000 - used) + bytes(0x1000 - used - 4)
    hbin = struct.pack("<4sIIQQI", b"hbin", 0, 0x1000, 0, 0, 0) + nk_cell + sk_cell + free
    head = bytearray(struct.pack("<4sIIQIIIIII", b"regf", 1, 1, 0, 1, 3, 0, 1, root_off, 0x1000) + bytes(508 - 44))
    head[44:48] = struct.pack("<I", 1)  # clustering factor
    checksum = 0
    for i in range(0, 508, 4):
        checksum ^= struct.unpack_from("<I", head, i)[0]
    return bytes(head) + struct.pack("<I", checksum) + bytes(0x1000 - 512) + hbin


def _cell(body: bytes) -> bytes:
    size = (len(body) + 4 + 7) // 8 * 8
    return struct.pack("<i", -size) + body + bytes(size - 4 - len(body))
