"""AmCache: SHA-1s of executed files and the program inventory of the real Amcache.hve."""

from __future__ import annotations

import json
import lzma
import shutil
from pathlib import Path

from conftest import SAMPLES, need
from hosttree import snapshot
from tracehound.intel.builtin import load_intel
from tracehound.intel.formats.native import to_dict
from tracehound.sweep import amcache
from tracehound.sweep.engine import SweepOptions, run_sweep

HIVE = SAMPLES / "registry" / "amcache.hve.xz"
# Two executables the real hive records, one per layout, and a SHA-1 it does not hold (decoy).
INVENTORY_SHA1 = "ad2871144b3f8d583afd801c152dbee48cfc6091"  # c:\program files\wireshark\capinfos.exe
LEGACY_SHA1 = "e992f0c2aa48b763b5f7109ea16b8f800436c27e"  # ...\vmware-user\000052fe\setup64.exe (Root\File)
ABSENT_SHA1 = "0123456789abcdef0123456789abcdef01234567"


def real_hive(tmp_path: Path) -> Path:
    out = tmp_path / "amcache.hve"
    out.write_bytes(lzma.decompress(need(HIVE).read_bytes()))
    return out


def test_real_hive_both_layouts(tmp_path: Path) -> None:
    am = amcache.parse(str(real_hive(tmp_path)), "Amcache.hve")
    inv = [f for f in am.files if f.key.startswith("Root\\InventoryApplicationFile")]
    legacy = [f for f in am.files if f.key.startswith("Root\\File\\")]
    assert len(inv) == 247 and len(legacy) == 1120  # every record of both layouts has a SHA-1
    assert all(len(f.sha1) == 40 for f in am.files)
    [cap] = [f for f in inv if f.sha1 == INVENTORY_SHA1]
    assert cap.path == "c:\\program files\\wireshark\\capinfos.exe" and cap.time.startswith("20")
    [setup] = [f for f in legacy if f.sha1 == LEGACY_SHA1]
    assert setup.path.endswith("\\vmware-user\\000052fe\\setup64.exe")
    names = {(p.product, p.version) for p in am.programs}
    # 65 distinct programs: 65 of the 74 InventoryApplication keys have a name and version; the 18 of
    # the 26 legacy Root\Programs keys that have one all repeat an InventoryApplication program (kept
    # once); the 9 + 8 keys without a name or version are counted as bad.
    assert len(am.programs) == 65 and am.bad == 17
    assert ("7-Zip 16.04 (x64)", "16.04") in names
    assert ("Microsoft.Messaging", "3.19.1001.0") in names
    msg = [p for p in am.programs if p.product == "Microsoft.Messaging"][0]
    assert msg.installed == "2016-07-16T22:55:48Z" and msg.installed_source == "AmCache InstallDate"


def pack_with(tmp_path: Path, extra: list[dict]) -> object:
    d = to_dict(load_intel(["3cx"]))
    d["indicators"] += extra
    f = tmp_path / "pack.json"
    f.write_text(json.dumps(d))
    return load_intel([str(f)])


def test_sweep_finds_sha1_indicators_in_the_real_hive(tmp_path: Path) -> None:
    root = tmp_path / "host"
    dest = root / "Windows" / "appcompat" / "Programs"
    dest.mkdir(parents=True)
    shutil.copyfile(real_hive(tmp_path), dest / "Amcache.hve")
    before = snapshot(root)
    pack = pack_with(tmp_path, [
        {"type": "sha1", "value": INVENTORY_SHA1, "confidence": 90, "context": {"file_name": "capinfos.exe"}},
        {"type": "sha1", "value": LEGACY_SHA1, "confidence": 90, "context": {}},
        {"type": "sha1", "value": ABSENT_SHA1, "confidence": 90, "context": {}},
        {"type": "software", "value": "7-Zip 16.04 (x64)", "confidence": 90,
         "context": {"platform": "windows", "versions": ["16.04"]}}])
    docs: list[dict] = []
    result = run_sweep(pack, SweepOptions(root=str(root), jobs=1), docs.append)
    assert snapshot(root) == before  # the hive is read on a private copy
    hits = [d for d in docs if d["tracehound"].get("check") == "amcache"]
    assert sorted(d["file"]["hash"]["sha1"] for d in hits) == sorted([INVENTORY_SHA1, LEGACY_SHA1])
    assert all(d["tracehound"]["verdict"] == "compromised" for d in hits)
    cap = [d for d in hits if d["file"]["hash"]["sha1"] == INVENTORY_SHA1][0]
    assert cap["file"]["path"] == "c:\\program files\\wireshark\\capinfos.exe"
    assert cap["tracehound"]["evidence_path"].endswith("Windows/appcompat/Programs/Amcache.hve")
    assert cap["threat"]["enrichments"][0]["matched"]["field"] == "file.hash.sha1"
    keys = cap["tracehound"]["amcache_key"]  # recorded in both layouts (an upgraded hive): one finding
    assert len(keys) == 2 and keys[0].startswith("Root\\InventoryApplicationFile\\") and keys[1].startswith("Root\\File\\")
    sw = [d for d in docs if d["tracehound"].get("check") == "software" and d["tracehound"]["verdict"] == "exposed"]
    assert [d["package"]["name"] for d in sw] == ["7-Zip 16.04 (x64)"] and sw[0]["package"]["type"] == "amcache"
    assert result.verdict == "compromised"


def test_malformed_hive_is_said_not_fatal(tmp_path: Path) -> None:
    root = tmp_path / "host"
    root.mkdir()
    (root / "Amcache.hve").write_bytes(b"regf" + b"\x00" * 5000)
    docs: list[dict] = []
    result = run_sweep(load_intel(["3cx"]), SweepOptions(root=str(root), jobs=1), docs.append)
    [info] = [d for d in docs if d["tracehound"].get("check") == "amcache"]
    assert info["tracehound"]["verdict"] == "info" and "unreadable AmCache hive" in info["message"]
    assert sum(n for k, n in result.skipped.items() if "AmCache" in k) == 1
