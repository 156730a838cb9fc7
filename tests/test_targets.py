"""Targets: a collection archive gives exactly the findings of the same tree swept as a folder,
read in place (nothing extracted, the archive byte-for-byte unchanged)."""

from __future__ import annotations

import hashlib
import lzma
import os
from pathlib import Path

import pytest

from conftest import SAMPLES
from hosttree import snapshot
from targettree import WHEN, kape_zip, linux_tree, payload_sha256, uac_tar, velociraptor_zip, windows_tree
from tracehound.intel.builtin import load_intel
from tracehound.sweep.engine import SweepOptions, run_sweep

CAPINFOS_SHA1 = "ad2871144b3f8d583afd801c152dbee48cfc6091"  # recorded in the real Amcache.hve


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    extra = tmp_path_factory.mktemp("pack") / "extra.csv"
    extra.write_text(f"type,value,confidence,context\nsha256,{payload_sha256()},90,\nsha1,{CAPINFOS_SHA1},90,\n")
    return load_intel(["3cx", str(extra)])


def sweep(pack, **kw) -> tuple[list[dict], dict]:
    docs: list[dict] = []
    run_sweep(pack, SweepOptions(jobs=1, host_name="H", **kw), docs.append)
    return docs[:-1], docs[-1]


def key(d: dict) -> tuple:
    f, th = d.get("file", {}), d["tracehound"]
    return (th.get("check"), th["verdict"], d["message"], f.get("name"), f.get("hash", {}).get("sha256"),
            d.get("url", {}).get("full"), d.get("package", {}).get("version"), d.get("dns", {}).get("question", {}).get("name"))


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def same_as_folder(pack, tree: Path, archive: Path) -> tuple[list[dict], dict]:
    folder_docs, _ = sweep(pack, root=str(tree))
    before, listing = sha(archive), snapshot(archive.parent)
    docs, summary = sweep(pack, target=str(archive))
    assert sha(archive) == before and snapshot(archive.parent) == listing  # unchanged, nothing extracted beside it
    assert sorted(map(key, docs)) == sorted(map(key, folder_docs))
    return docs, summary


def expect_core(docs: list[dict]) -> None:
    checks = {(d["tracehound"]["check"], d["tracehound"]["verdict"]) for d in docs}
    assert ("files", "compromised") in checks  # the planted payload
    assert ("browser", "compromised") in checks  # the C2 visit only in places.sqlite-wal
    assert ("resolution", "compromised") in checks or ("resolution", "suspicious") in checks


def add_real_hives(tree: Path) -> bool:
    """The real Amcache.hve and NTUSER.DAT (regipy's samples) in their places, when present: checks
    that open a member again (regipy on a private copy) are served from memory."""
    reg = SAMPLES / "registry"
    if not (reg / "amcache.hve.xz").exists():
        return False
    (tree / "Windows/appcompat/Programs").mkdir(parents=True)
    (tree / "Windows/appcompat/Programs/Amcache.hve").write_bytes(lzma.decompress((reg / "amcache.hve.xz").read_bytes()))
    (tree / "Users/alice/NTUSER.DAT").write_bytes(lzma.decompress((reg / "NTUSER_with_winscp.DAT.xz").read_bytes()))
    for p in (tree / "Windows/appcompat/Programs/Amcache.hve", tree / "Users/alice/NTUSER.DAT"):
        os.utime(p, (WHEN, WHEN))
    return True


@pytest.mark.parametrize("layout", ["kape", "velociraptor"])
def test_windows_collections(tmp_path: Path, pack, layout: str) -> None:
    tree = windows_tree(tmp_path / "tree")
    hives = add_real_hives(tree)
    out = tmp_path / "out"
    out.mkdir()
    archive = (kape_zip if layout == "kape" else velociraptor_zip)(tree, out / f"Collection-PC042-2023-03-30_{layout}.zip")
    docs, summary = same_as_folder(pack, tree, archive)
    expect_core(docs)
    assert any(d["tracehound"]["check"] == "software" and d["tracehound"]["verdict"] == "exposed" for d in docs)
    assert summary["host"]["os"]["type"] == "windows"
    target = summary["tracehound"]["target"]
    assert target["kind"] == "zip" and target["users"] == [{"name": "alice", "profile": "Users/alice"}]
    assert target["hives"] == (["Users/alice/NTUSER.DAT", "Windows/appcompat/Programs/Amcache.hve"] if hives else [])
    assert summary["tracehound"]["root"] == str(archive)
    paths = [d["file"]["path"] for d in docs if d["tracehound"]["check"] == "files"]
    assert all(p.startswith(f"{archive}!") for p in paths)  # the member, as named in the archive
    tree_files = sum(1 for p in tree.rglob("*") if p.is_file())
    extra = 2 if layout == "velociraptor" else 0  # the collector's own log.json and results/*.json are read too
    assert summary["tracehound"]["counts"]["files_seen"] == tree_files + extra
    assert summary["tracehound"]["skipped"] == {}
    if hives:  # the AmCache SHA-1 of capinfos.exe (in the test pack) found inside the archive
        [am] = [d for d in docs if d["tracehound"]["check"] == "amcache"]
        assert am["file"]["hash"]["sha1"] == CAPINFOS_SHA1


@pytest.mark.parametrize("compression", ["", "gz", "zst"])
def test_uac_tar_collections(tmp_path: Path, pack, compression: str) -> None:
    tree = linux_tree(tmp_path / "tree")
    out = tmp_path / "out"
    out.mkdir()
    archive = uac_tar(tree, out / f"uac-linuxhost-linux-20230330101500.tar{'.' + compression if compression else ''}",
                      compression)
    docs, summary = same_as_folder(pack, tree, archive)
    expect_core(docs)
    assert summary["host"]["os"]["type"] == "linux"
    assert summary["tracehound"]["target"] == {"kind": f"tar{'.' + compression if compression else ''}",
                                              "users": [{"name": "alice", "profile": "home/alice"}], "hives": []}
    assert summary["tracehound"]["counts"]["files_seen"] == 7  # 6 of the tree and UAC's ps.txt


def test_host_name_from_the_collection(tmp_path: Path, pack) -> None:
    tree = linux_tree(tmp_path / "tree")
    archive = uac_tar(tree, tmp_path / "uac-linuxhost-linux-20230330101500.tar.gz")
    docs: list[dict] = []
    run_sweep(pack, SweepOptions(target=str(archive), jobs=1), docs.append)
    assert docs[-1]["host"]["name"] == "uac-linux-host"  # etc/hostname inside [root]
    win = windows_tree(tmp_path / "win")
    z = kape_zip(win, tmp_path / "Collection-PC042-2023-03-30T10_15_00Z.zip")
    docs = []
    run_sweep(pack, SweepOptions(target=str(z), jobs=1), docs.append)
    assert docs[-1]["host"]["name"] == "PC042"  # from the collector's archive name
