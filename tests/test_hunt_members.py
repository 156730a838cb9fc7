"""Compressed logs split across workers where they hold independent members (BGZF, multi-frame zstd):
the same findings, lines and offsets as one worker on the same file and as the plain file."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard

from huntutil import hunt, make_pack
from logfixtures import FORMATS
from tracehound.sources.logs.members import index_members
from tracehound.sources.logs.stream import ReadStats, iter_blocks

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
from corpus import write_bgzf, write_zstd_frames  # noqa: E402


def bgzf(data: bytes) -> bytes:
    """BGZF: htslib's `bgzip` when installed (scripts/install-system-deps.sh installs it), else bench/corpus.py's."""
    exe = shutil.which("bgzip")
    if exe:
        return subprocess.run([exe, "-c"], input=data, capture_output=True, check=True).stdout
    return write_bgzf(data)


def zstd_frames(data: bytes, frame: int = 200_000) -> bytes:
    return write_zstd_frames(data, frame)


def _log(name: str) -> bytes:
    text, _ = FORMATS[name]()
    lines = text.splitlines()
    header = [ln for ln in lines if ln.startswith("#")] if name != "csv" else lines[:1]
    body = [ln for ln in lines if ln not in header]
    return ("\n".join(header + body * 3000) + "\n").encode()


def _key(d: dict) -> tuple:
    return (d["tracehound"]["line"], d["tracehound"].get("log", {}).get("offset"), d["event"].get("original"))


@pytest.mark.parametrize("codec", ["bgzf", "zstd-frames"])
@pytest.mark.parametrize("name", ["squid", "zeek-dns", "csv"])
def test_compressed_ranges_equal_one_worker_and_plain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      name: str, codec: str) -> None:
    from tracehound.engines import local_hunt

    data = _log(name)
    plain = tmp_path / f"{name}.log"
    plain.write_bytes(data)
    packed = tmp_path / f"{name}.log.{'gz' if codec == 'bgzf' else 'zst'}"
    packed.write_bytes(bgzf(data) if codec == "bgzf" else zstd_frames(data))
    pack = make_pack(tmp_path)
    whole, s1 = hunt(pack, [str(plain)], jobs=1)
    one, s2 = hunt(pack, [str(packed)], jobs=1)
    monkeypatch.setattr(local_hunt, "SPLIT_MIN", 64 * 1024)
    units = local_hunt.plan_units(str(packed), 4)
    assert len(units) == 4 and units[0].start == 0 and units[-1].end is None
    assert all(data[u.start - 1:u.start] == b"\n" for u in units[1:])  # each range starts after a newline
    split, s3 = hunt(pack, [str(packed)], jobs=4)
    assert sorted(one, key=_key) == sorted(split, key=_key) and len(one) >= 3000
    for d in whole:
        d["log"]["file"]["path"] = str(packed)  # the only difference with the plain file's findings
    assert sorted(whole, key=_key) == sorted(split, key=_key)
    assert s1.files[0].records == s2.files[0].records == s3.files[0].records


@pytest.mark.parametrize("codec", ["bgzf", "zstd-frames"])
def test_range_reads_give_exactly_the_decompressed_bytes(tmp_path: Path, codec: str) -> None:
    data = b"".join(b"line %d %s\n" % (i, b"x" * (i % 50)) for i in range(60_000))
    f = tmp_path / "l.bin"
    f.write_bytes(bgzf(data) if codec == "bgzf" else zstd_frames(data, 50_000))
    with f.open("rb") as fh:
        members = index_members(fh, "gzip" if codec == "bgzf" else "zstd", f.stat().st_size)
    assert members and len(members) > 10 and members[-1].raw_offset + members[-1].raw_size == len(data)
    cuts = [0, data.index(b"\n", 700_001) + 1, data.index(b"\n", 1_300_003) + 1]
    got = b""
    for a, b in zip(cuts, [*cuts[1:], None], strict=True):
        blocks = list(iter_blocks(str(f), ReadStats(), start_offset=a, end_offset=b, block=100_000))
        assert blocks[0].offset == a
        got += b"".join(bl.data for bl in blocks)
    assert got == data


def test_layouts_not_split(tmp_path: Path) -> None:
    """One gzip member, frames without a content size, a cut or lying BGZF file: read by one worker, as before."""
    import gzip

    data = b"a b c\n" * 50_000
    cases = {
        "single.gz": gzip.compress(data),
        "nofcs.zst": b"".join(zstandard.ZstdCompressor(write_content_size=False).compress(data[i:i + 9000])
                              for i in range(0, len(data), 9000)),
        "cut.gz": bgzf(data)[:-5000],
        "lying.gz": bytearray(bgzf(data)),
    }
    struct.pack_into("<H", cases["lying.gz"], 16, 65535)  # BSIZE pointing past the next members
    for name, raw in cases.items():
        p = tmp_path / name
        p.write_bytes(bytes(raw))
        with p.open("rb") as fh:
            kind = "zstd" if name.endswith(".zst") else "gzip"
            assert index_members(fh, kind, p.stat().st_size) is None, name
