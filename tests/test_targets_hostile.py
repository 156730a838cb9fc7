"""Hostile collection archives: traversal names, links, zip bombs, a zstd bomb, truncation. Each ends
with counted skips and a clear reason; nothing is written; the sweep never hangs."""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import run_cli
from hosttree import snapshot
from targettree import PAYLOAD, linux_tree, payload_sha256, uac_tar
from tracehound.intel.builtin import load_intel
from tracehound.sources.targets import TargetError, open_target
from tracehound.sweep.engine import SweepOptions, run_sweep


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    extra = tmp_path_factory.mktemp("pack") / "extra.csv"
    extra.write_text(f"type,value,confidence,context\nsha256,{payload_sha256()},90,\n")
    return load_intel(["3cx", str(extra)])


def sweep(pack, archive: Path) -> tuple[list[dict], dict]:
    docs: list[dict] = []
    before = snapshot(archive.parent.parent)
    run_sweep(pack, SweepOptions(target=str(archive), jobs=1, host_name="H"), docs.append)
    # nothing of a bomb is read: the file bytes hashed and scanned stay those of the small real members
    # (no wall clock: the project measures speed in bench/)
    assert docs[-1]["tracehound"]["counts"]["bytes_read"] < 1 << 20, docs[-1]["tracehound"]["counts"]
    assert snapshot(archive.parent.parent) == before  # nothing written or extracted anywhere near it
    return docs[:-1], docs[-1]["tracehound"]


def test_traversal_links_and_duplicates_in_a_zip(tmp_path: Path, pack) -> None:
    out = tmp_path / "case" / "in"
    out.mkdir(parents=True)
    z = out / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("C/Users/a/ok.bin", PAYLOAD)
        zf.writestr("../../escaped.bin", PAYLOAD)
        zf.writestr("C/Users/../../../escaped2.bin", PAYLOAD)
        zf.writestr("/etc/absolute.bin", PAYLOAD)
        zf.writestr("uploads/auto/C%3A/..%2F..%2Fescaped3.bin", PAYLOAD)
        link = zipfile.ZipInfo("C/Users/a/link")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/shadow")
        zf.writestr("C/Users/a/ok.bin ", b"x")  # a different name: kept
        with pytest.warns(UserWarning):
            zf.writestr("C/Users/a/ok.bin", b"second copy")
    docs, th = sweep(pack, z)
    assert [d["file"]["name"] for d in docs if d["tracehound"]["check"] == "files"] == ["ok.bin"]
    assert th["skipped"] == {"member name with '..' (path traversal, not read)": 3, "absolute member name (not read)": 1,
                             "symlink in the archive (not followed)": 1,
                             "duplicate member name (the first one read)": 1}
    assert th["counts"]["files_seen"] == 2
    assert not list(tmp_path.rglob("escaped*"))


def test_zip_bombs(tmp_path: Path, pack) -> None:
    out = tmp_path / "case" / "in"
    out.mkdir(parents=True)
    z = out / "bomb.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("C/Users/a/ok.bin", PAYLOAD, zipfile.ZIP_DEFLATED)
        zf.writestr("C/Users/a/zeros.bin", b"\0" * (20 << 20), zipfile.ZIP_BZIP2)  # > 2000:1
    raw = bytearray(z.read_bytes())
    # The "better zip bomb": a second central-directory record pointing at the first member's data.
    cd = raw.index(b"PK\x01\x02")
    eocd = raw.rindex(b"PK\x05\x06")
    first_len = 46 + struct.unpack_from("<HHH", raw, cd + 28)[0] + sum(struct.unpack_from("<HH", raw, cd + 30))
    dup = bytearray(raw[cd : cd + first_len])
    dup[46:46 + len("C/Users/a/ok.bin")] = b"C/Users/a/ov.bin"
    n, size = struct.unpack_from("<H", raw, eocd + 10)[0], struct.unpack_from("<I", raw, eocd + 12)[0]
    tail = bytearray(raw[eocd:])
    struct.pack_into("<HHI", tail, 8, n + 1, n + 1, size + len(dup))
    z.write_bytes(bytes(raw[:eocd]) + bytes(dup) + bytes(tail))
    docs, th = sweep(pack, z)
    assert th["skipped"] == {"member expanding more than 2000x (zip bomb): not read": 1,
                             "member overlapping another's data (zip bomb): not read": 1}
    assert [d["file"]["name"] for d in docs if d["tracehound"]["check"] == "files"] == ["ok.bin"]


class Zeros(io.RawIOBase):
    def __init__(self, n: int) -> None:
        self.left = n

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        k = min(len(b), self.left)
        b[:k] = bytes(k)
        self.left -= k
        return k


def test_zstd_bomb_stops_with_what_was_read(tmp_path: Path, pack) -> None:
    import zstandard

    out = tmp_path / "case" / "in"
    out.mkdir(parents=True)
    t = out / "bomb.tar.zst"
    with open(t, "wb") as fh, zstandard.ZstdCompressor(level=1).stream_writer(fh) as zw, \
            tarfile.open(fileobj=zw, mode="w|") as tf:
        first = tarfile.TarInfo("[root]/opt/update.bin")
        first.size = len(PAYLOAD)
        tf.addfile(first, io.BytesIO(PAYLOAD))
        big = tarfile.TarInfo("[root]/opt/zeros.img")
        big.size = 1 << 30  # 1 GiB of zeros: a few KB compressed
        tf.addfile(big, io.BufferedReader(Zeros(big.size)))
    assert t.stat().st_size < 200_000
    docs, th = sweep(pack, t)
    # The listing stops inside the bomb; the member it was in is not listed (both counted).
    assert th["skipped"] == {"archive truncated, corrupt or too large: the rest not read": 1,
                             "member cut off by the end of the archive (not read)": 1}
    assert [d["file"]["name"] for d in docs if d["tracehound"]["check"] == "files"] == ["update.bin"]


def test_truncated_tar_gz(tmp_path: Path, pack) -> None:
    tree = linux_tree(tmp_path / "tree")
    out = tmp_path / "case" / "in"
    out.mkdir(parents=True)
    full = uac_tar(tree, out / "full.tar.gz")
    cut = out / "cut.tar.gz"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size * 2 // 3])
    docs, th = sweep(pack, cut)
    assert th["skipped"] == {"archive truncated, corrupt or too large: the rest not read": 1,
                             "member cut off by the end of the archive (not read)": 1}
    assert 0 < th["counts"]["files_seen"] < 7 and th["counts"]["files_read"] == th["counts"]["files_seen"]


def test_not_an_archive_is_a_clear_error(tmp_path: Path, capsys) -> None:
    junk = tmp_path / "disk.img"
    junk.write_bytes(b"\0" * 4096)
    with pytest.raises(TargetError, match="disk.img: not a folder, zip or tar collection, nor a disk image"):
        open_target(str(junk))
    code, _out, err = run_cli(["sweep", "--target", str(junk), "-q"], capsys)
    assert code == 2 and "not a folder, zip or tar collection" in err and "Traceback" not in err
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\xff" * 100)
    code, _out, err = run_cli(["sweep", "--target", str(broken), "-q"], capsys)
    assert code == 2 and "broken.zip: unreadable zip" in err and "Traceback" not in err


def test_cli_target_archive(tmp_path: Path, capsys) -> None:
    tree = linux_tree(tmp_path / "tree")
    archive = uac_tar(tree, tmp_path / "uac-linuxhost-linux-20230330101500.tar.zst", "zst")
    out = tmp_path / "f.jsonl"
    code, _o, err = run_cli(["sweep", "--target", str(archive), "-o", str(out)], capsys)
    assert code == 1  # C2 visit and hosts pin (3cx pack)
    assert "uac-linux-host" in err
