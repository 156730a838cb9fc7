"""Every record of one text log, parsed with the hunt's reader (no indicator prefilter).

Same reading rules as the hunt (stream.py bounds, header lines given to the reader, binary-looking
lines before the first record skipped and counted, over-long lines skipped and counted); what the
hunt does for candidate lines, this does for all of them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tracehound.engines.detect import make_reader
from tracehound.engines.text_hunt import BINARY_HEAD, _mtime, _parse
from tracehound.sources.logs.observation import Observation
from tracehound.sources.logs.readers.base import looks_binary
from tracehound.sources.logs.stream import ReadStats, iter_blocks


@dataclass
class Record:
    line: int  # 1-based line number in the file
    offset: int  # decompressed byte offset of the line
    observations: list[Observation]
    error: str | None


def scan_records(path: str, fmt: str, mapping: dict[str, str], stats: ReadStats, max_line: int, max_ratio: int,
                 skip_until: int = 0) -> Iterator[Record]:
    """Records of the file; lines that start before `skip_until` (a part already indexed) are read
    for the reader's state (headers, CSV header row) but not yielded."""
    reader = make_reader(fmt, mapping, _mtime(path))
    line_no = 1
    first_pending = True
    for block in iter_blocks(path, stats, max_line, max_ratio):
        line_no += block.skipped_lines
        stats.lines += block.skipped_lines
        data = block.data
        pos = 0
        size = len(data)
        while pos < size:
            nl = data.find(b"\n", pos)
            end = size if nl == -1 else nl
            raw = data[pos:end]
            offset = block.source_offset(pos)  # the file's offset (a UTF-16 block is transcoded)
            pos = end + 1
            n = line_no
            line_no += 1
            stats.lines += 1
            if len(raw) > max_line:
                stats.long_lines += 1
                stats.skip(f"line longer than {max_line} bytes")
                continue
            if not raw or raw.isspace():  # blank (no copy made, unlike strip())
                continue
            if reader.has_headers and raw.startswith(b"#"):
                reader.header(raw.decode("utf-8", errors="replace").rstrip("\r"))
                continue
            if first_pending and looks_binary(raw):
                stats.skip(BINARY_HEAD)
                continue
            text = raw.decode("utf-8", errors="replace").rstrip("\r")
            if first_pending:
                first_pending = False
                if offset < skip_until:
                    _parse(reader, text)  # a CSV-like reader takes its header row here
                    continue
            if offset < skip_until:
                continue
            observations, err = _parse(reader, text)
            yield Record(n, offset, observations, err)
