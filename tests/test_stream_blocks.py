"""Blocks of a plain file (stream._mapped_blocks, read with pread): the same cuts, data, skipped-line
counts and statistics as the memory-mapped reader they replaced, whatever the line lengths."""

from __future__ import annotations

import mmap
import random
from pathlib import Path

import pytest

from tracehound.sources.logs.stream import ReadStats, iter_blocks


def _reference(path: Path, max_line: int, block: int, start: int, end: int | None) -> tuple[list[tuple[int, bytes, int]], ReadStats]:
    """The earlier memory-mapped algorithm, verbatim in what it yields and counts."""
    stats = ReadStats()
    out: list[tuple[int, bytes, int]] = []
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        size = len(mm)
        end = size if end is None else min(end, size)
        pos, skipped = start, 0
        while pos < end:
            stop = min(pos + block, end)
            if stop < end:
                nl = mm.rfind(b"\n", pos, stop)
                if nl == -1:
                    nxt = mm.find(b"\n", stop, min(end, pos + max_line + 1)) if max_line > block else -1
                    if nxt == -1:
                        nxt = mm.find(b"\n", pos, end)
                        stats.long_lines += 1
                        stats.skip(f"line longer than {max_line} bytes")
                        stats.bytes_read += (end if nxt == -1 else nxt + 1) - pos
                        skipped += 1
                        pos = end if nxt == -1 else nxt + 1
                        continue
                    stop = nxt + 1
                else:
                    stop = nl + 1
            data = mm[pos:stop]
            stats.bytes_read += len(data)
            out.append((pos, data, skipped))
            skipped = 0
            pos = stop
    return out, stats


def _log(rng: random.Random, trailing_newline: bool) -> bytes:
    lengths = [rng.choice([0, 1, 40, 150, 999, 1001, 5000, 70_000, 200_000]) for _ in range(120)]
    body = b"\n".join(bytes([97 + i % 26]) * n for i, n in enumerate(lengths))
    return body + (b"\n" if trailing_newline else b"")


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("block", "max_line"), [(1000, 100_000), (1000, 500), (4096, 1 << 20), (100_000, 150_000)])
def test_blocks_as_the_mapped_reader(tmp_path: Path, seed: int, block: int, max_line: int) -> None:
    rng = random.Random(seed)
    data = _log(rng, trailing_newline=seed % 2 == 0)
    f = tmp_path / "a.log"
    f.write_bytes(data)
    cut = data.index(b"\n", len(data) // 3) + 1
    for start, end in [(0, None), (0, cut), (cut, None)]:
        stats = ReadStats()
        got = [(b.offset, b.data, b.skipped_lines) for b in
               iter_blocks(str(f), stats, max_line, block=block, start_offset=start, end_offset=end)]
        want, ref = _reference(f, max_line, block, start, end)
        assert got == want
        assert (stats.bytes_read, stats.long_lines, dict(stats.skipped)) == (ref.bytes_read, ref.long_lines, dict(ref.skipped))
        assert all(d.endswith(b"\n") for _o, d, _s in got[:-1])


def test_whole_file_read_once_in_blocks(tmp_path: Path) -> None:
    data = b"".join(b"line %d " % i + b"x" * (i % 300) + b"\n" for i in range(20_000))
    f = tmp_path / "b.log"
    f.write_bytes(data)
    blocks = list(iter_blocks(str(f), ReadStats(), block=65_536))
    assert b"".join(b.data for b in blocks) == data
    assert [b.offset for b in blocks] == [sum(len(x.data) for x in blocks[:i]) for i in range(len(blocks))]
    assert max(len(b.data) for b in blocks) <= 65_536
