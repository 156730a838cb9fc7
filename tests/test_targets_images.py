"""Disk images read in place (dissect): ext4 built with mke2fs -d, FAT with mtools, an MBR disk;
each gives exactly the findings of a sweep of the same tree as a folder, the image unchanged."""

from __future__ import annotations

import hashlib
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from targettree import linux_tree, payload_sha256, windows_tree
from tracehound.intel.builtin import load_intel
from tracehound.sources.targets import TargetError, open_target
from tracehound.sweep.engine import SweepOptions, run_sweep

pytest.importorskip("dissect.target")


def tool(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if not path:
        pytest.skip(f"{name} not installed (scripts/install-system-deps.sh installs it)")
    return path


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    extra = tmp_path_factory.mktemp("pack") / "extra.csv"
    extra.write_text(f"type,value,confidence,context\nsha256,{payload_sha256()},90,\n")
    return load_intel(["3cx", str(extra)])


def sweep(pack, **kw) -> tuple[list[dict], dict]:
    docs: list[dict] = []
    run_sweep(pack, SweepOptions(jobs=1, host_name="H", **kw), docs.append)
    return docs[:-1], docs[-1]["tracehound"]


def key(d: dict) -> tuple:
    f, th = d.get("file", {}), d["tracehound"]
    return (th.get("check"), th["verdict"], d["message"], f.get("name"), f.get("hash", {}).get("sha256"),
            d.get("url", {}).get("full"), d.get("package", {}).get("version"))


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def same_as_folder(pack, tree: Path, image: Path) -> list[dict]:
    folder_docs, _ = sweep(pack, root=str(tree))
    before = sha(image)
    docs, th = sweep(pack, target=str(image))
    assert sha(image) == before  # byte-for-byte unchanged
    assert sorted(map(key, docs)) == sorted(map(key, folder_docs))
    checks = {d["tracehound"]["check"] for d in docs}
    assert {"files", "browser", "resolution"} <= checks  # payload, the WAL-only C2 visit, the hosts pin
    return docs


def ext4(tree: Path, out: Path) -> Path:
    subprocess.run([tool("mke2fs"), "-q", "-t", "ext4", "-d", str(tree), str(out), "16M"], check=True)
    return out


def test_ext4_image(tmp_path: Path, pack) -> None:
    tree = linux_tree(tmp_path / "tree")
    docs = same_as_folder(pack, tree, ext4(tree, tmp_path / "disk.ext4"))
    assert all(d["file"]["path"].startswith(str(tmp_path / "disk.ext4") + "!") for d in docs if "file" in d)


def test_mbr_partitioned_disk(tmp_path: Path, pack) -> None:
    tree = linux_tree(tmp_path / "tree")
    fs = ext4(tree, tmp_path / "part.ext4").read_bytes()
    mbr = bytearray(512)
    struct.pack_into("<B3sB3sII", mbr, 446, 0, b"\0\0\0", 0x83, b"\0\0\0", 2048, len(fs) // 512)
    mbr[510:512] = b"\x55\xaa"
    disk = tmp_path / "disk.raw"
    disk.write_bytes(bytes(mbr) + bytes(2048 * 512 - 512) + fs)
    same_as_folder(pack, tree, disk)


def test_fat_image(tmp_path: Path, pack) -> None:
    mformat, mcopy = tool("mformat"), tool("mcopy")
    tree = windows_tree(tmp_path / "tree")
    img = tmp_path / "disk.fat"
    img.write_bytes(bytes(32 * 1024 * 1024))
    subprocess.run([mformat, "-i", str(img), "-T", "65536", "-h", "64", "-s", "32", "::"], check=True,
                   capture_output=True)  # FAT16, 32 MiB
    for top in sorted(tree.iterdir()):
        subprocess.run([mcopy, "-i", str(img), "-s", "-m", str(top), "::/"], check=True, capture_output=True)
    before = sha(img)
    docs, th = sweep(pack, target=str(img))
    assert sha(img) == before
    folder_docs, _ = sweep(pack, root=str(tree))

    def ci(d: dict) -> tuple:  # FAT names are case-insensitive: mtools stores 'ffmpeg.dll' as the 8.3 name FFMPEG.DLL
        return tuple(x.lower() if isinstance(x, str) else x for x in key(d))

    assert sorted(map(ci, docs)) == sorted(map(ci, folder_docs))
    assert {"files", "browser", "resolution", "software"} <= {d["tracehound"]["check"] for d in docs}


def test_truncated_and_hostile_images(tmp_path: Path, pack) -> None:
    tree = linux_tree(tmp_path / "tree")
    full = ext4(tree, tmp_path / "full.ext4").read_bytes()
    cut = tmp_path / "cut.ext4"
    cut.write_bytes(full[: len(full) // 16])  # the superblock is there, the root folder's blocks are not
    docs, th = sweep(pack, target=str(cut))
    assert docs == [] and th["counts"]["files_seen"] == 0
    assert th["skipped"] == {"directory listing failed (EOFError)": 1}  # counted and shown, never a traceback
    past = bytearray(512)  # a partition table pointing far past the end of the disk
    struct.pack_into("<B3sB3sII", past, 446, 0, b"\0\0\0", 0x83, b"\0\0\0", 2048, 0x7FFFFFFF)
    past[510:512] = b"\x55\xaa"
    bad = tmp_path / "past.raw"
    bad.write_bytes(bytes(past) + bytes(4096))
    with pytest.raises(TargetError, match="past.raw"):
        open_target(str(bad))
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x01" * 8192)
    with pytest.raises(TargetError, match="junk.bin"):
        open_target(str(junk))


def test_directory_loop_walked_once(tmp_path: Path, pack) -> None:
    debugfs = tool("debugfs")
    tree = linux_tree(tmp_path / "tree")
    img = ext4(tree, tmp_path / "loop.ext4")
    # A hard link from a folder to its parent: a loop no healthy ext4 has (debugfs writes it).
    subprocess.run([debugfs, "-w", "-R", "ln /home /home/alice/loop", str(img)], check=True, capture_output=True)
    docs, th = sweep(pack, target=str(img))
    assert th["skipped"] == {"directory loop in the file system (not walked twice)": 1}
    assert th["counts"]["files_seen"] == 6  # each file once


def test_ntfs_image(tmp_path: Path, pack) -> None:
    """NTFS built with mkntfs and filled with ntfscp (ntfs-3g, no mount). ntfscp cannot make folders:
    the files sit in the root, so this covers the file checks (hashes, names), not path-based ones."""
    mkntfs, ntfscp = tool("mkntfs"), tool("ntfscp")
    flat = tmp_path / "flat"
    flat.mkdir()
    from targettree import PAYLOAD, WHEN

    (flat / "ffmpeg.dll").write_bytes(PAYLOAD)
    (flat / "3CXDesktopApp-18.12.407.msi").write_bytes(b"an installer named like the affected one")
    (flat / "decoy.dll").write_bytes(b"MZ decoy\x00" * 20)
    img = tmp_path / "disk.ntfs"
    img.write_bytes(bytes(16 * 1024 * 1024))
    subprocess.run([mkntfs, "-F", "-f", "-q", str(img)], check=True, capture_output=True)
    import os

    for p in sorted(flat.iterdir()):
        os.utime(p, (WHEN, WHEN))
        subprocess.run([ntfscp, "-t", str(img), str(p), p.name], check=True, capture_output=True)
    docs = same_as_folder_files(pack, flat, img)
    assert {(d["tracehound"]["check"], d["file"]["name"]) for d in docs} == {
        ("files", "ffmpeg.dll"), ("files", "3CXDesktopApp-18.12.407.msi")}


def same_as_folder_files(pack, tree: Path, image: Path) -> list[dict]:
    folder_docs, _ = sweep(pack, root=str(tree))
    before = sha(image)
    docs, th = sweep(pack, target=str(image))
    assert sha(image) == before
    assert sorted(map(key, docs)) == sorted(map(key, folder_docs))
    assert th["skipped"] == {"NTFS metadata file (not swept)": 11}
    return docs


@pytest.mark.parametrize("fmt", ["vmdk", "vhdx", "qcow2", "E01"])
def test_image_containers(tmp_path: Path, pack, fmt: str) -> None:
    """A Windows tree (payload, decoys, an affected 3CX install, the WAL-only C2 visit, a pinned hosts
    entry) in ext4, converted with qemu-img (VMDK, VHDX, QCOW2) and acquired with ewfacquire (E01)."""
    tree = windows_tree(tmp_path / "tree")
    raw = ext4(tree, tmp_path / "disk.ext4")
    if fmt == "E01":
        subprocess.run([tool("ewfacquire"), "-u", "-t", str(tmp_path / "disk"), "-f", "encase6", "-c", "deflate:fast",
                        "-q", str(raw)], check=True, capture_output=True)
        image = tmp_path / "disk.E01"
    else:
        image = tmp_path / f"disk.{fmt}"
        subprocess.run([tool("qemu-img"), "convert", "-f", "raw", "-O", fmt, str(raw), str(image)], check=True,
                       capture_output=True)
    magic = {"vmdk": b"KDMV", "vhdx": b"vhdx", "qcow2": b"QFI\xfb", "E01": b"EVF\x09"}[fmt]
    assert image.read_bytes()[:4] == magic  # the container format, not the raw file system
    docs = same_as_folder(pack, tree, image)
    [sw] = [d for d in docs if d["tracehound"]["check"] == "software"]
    assert sw["tracehound"]["verdict"] == "exposed" and sw["package"]["version"] == "18.12.416"


def test_fat_cluster_chain_loop_does_not_hang(tmp_path: Path, pack) -> None:
    """A folder whose FAT chain points back at itself (dissect.fat alone follows it for ever)."""
    mformat, mcopy = tool("mformat"), tool("mcopy")
    src = tmp_path / "src" / "a"
    src.mkdir(parents=True)
    (src / "f.txt").write_text("x\n")
    img = tmp_path / "loop.fat"
    img.write_bytes(bytes(32 * 1024 * 1024))
    subprocess.run([mformat, "-i", str(img), "-T", "65536", "-h", "64", "-s", "32", "::"], check=True,
                   capture_output=True)
    subprocess.run([mcopy, "-i", str(img), "-s", str(src), "::/"], check=True, capture_output=True)
    b = bytearray(img.read_bytes())
    bps = struct.unpack_from("<H", b, 11)[0]
    reserved, nfats, root_entries = struct.unpack_from("<HBH", b, 14)
    per_fat = struct.unpack_from("<H", b, 22)[0]
    root = (reserved + nfats * per_fat) * bps
    [cluster] = [struct.unpack_from("<H", b, root + 32 * i + 26)[0] for i in range(root_entries)
                 if b[root + 32 * i] and b[root + 32 * i + 11] == 0x10]
    for f in range(nfats):  # FAT16: the folder's cluster points at itself
        struct.pack_into("<H", b, (reserved + f * per_fat) * bps + 2 * cluster, cluster)
    img.write_bytes(bytes(b))
    docs, th = sweep(pack, target=str(img))
    assert th["skipped"] == {"cannot stat: cluster chain loop in the file system (not read)": 1}
    assert th["counts"]["files_seen"] == 0
