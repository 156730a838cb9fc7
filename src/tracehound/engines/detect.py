"""Format detection from a sample of a file's records, and the reader for each file.

Detection reads the first records through the same bounded block reader as the hunt: lines
longer than --max-line are skipped (and counted), and blank and binary-looking lines are left out
of the sample, so a garbage, empty or 100 MB first line does not hide the format of the rest.
A binary file (no text records in the sample) is skipped; a text file of no known format is
hunted on its raw text (format 'raw').
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from tracehound.engines.hunt_types import RAW_FORMAT
from tracehound.errors import InputError
from tracehound.sources.logs.evtx_source import EVTX_MAGIC
from tracehound.sources.logs.observation import Observation
from tracehound.sources.logs.readers import BY_NAME, READERS, Reader
from tracehound.sources.logs.readers.base import looks_binary
from tracehound.sources.logs.stream import (
    DEFAULT_MAX_LINE,
    DEFAULT_MAX_RATIO,
    ReadStats,
    iter_blocks,
    read_head,
)

SAMPLE_LINES = 80  # text lines (header lines included) given to the readers' sniff()
SAMPLE_BYTES = 16 * 1024 * 1024  # decompressed bytes read for the sample at most (skipped long lines aside)


class RawReader(Reader):
    """No field layout: every record is one observation with no field; the hunt matches its raw text."""

    name = RAW_FORMAT
    description = "unknown text format, hunted on the raw text"

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return False

    def parse(self, line: str) -> list[Observation]:
        return [Observation()]


def sample_lines(path: str, max_line: int = DEFAULT_MAX_LINE, max_ratio: int = DEFAULT_MAX_RATIO,
                 want: int = SAMPLE_LINES) -> tuple[list[str], int]:
    """The first text lines of a file (blank, binary-looking and overlong lines left out) and
    the number of binary-looking lines met on the way."""
    lines: list[str] = []
    binary = 0
    read = 0
    stats = ReadStats()
    for block in iter_blocks(path, stats, max_line, max_ratio):
        for raw in _lines(block.data):
            if not raw.strip() or len(raw) > max_line:
                continue
            if looks_binary(raw):
                binary += 1
                continue
            lines.append(raw.decode("utf-8", errors="replace").rstrip("\r"))
            if len(lines) >= want:
                return lines, binary
        read += len(block.data)
        if read >= SAMPLE_BYTES:
            break
    return lines, binary


def _lines(data: bytes) -> Iterator[bytes]:
    """data.split(b"\\n"), one line at a time: the sample needs the first 80 lines of a 4 MiB block, and
    splitting it whole cost 12 ms at every start of a range (detection, reader priming, first sightings)."""
    pos = 0
    while True:
        nl = data.find(b"\n", pos)
        if nl == -1:
            yield data[pos:]
            return
        yield data[pos:nl]
        pos = nl + 1


def detect_format(path: str, forced: str | None = None, max_line: int = DEFAULT_MAX_LINE,
                  max_ratio: int = DEFAULT_MAX_RATIO) -> str:
    head = read_head(path, 16)
    if head.startswith(EVTX_MAGIC):
        return "evtx"
    if forced:
        return forced
    if not head:
        raise InputError("empty or unreadable file", path=path)
    lines, binary = sample_lines(path, max_line, max_ratio)
    if not lines:
        if binary:
            raise InputError("binary file of unknown format (not a text log, not EVTX): skipped", path=path)
        raise InputError("no text record (empty lines or lines over --max-line only)", path=path)
    if binary > len(lines):
        raise InputError("binary file of unknown format (not a text log, not EVTX): skipped", path=path)
    for reader in READERS:
        if reader.sniff(lines):
            return reader.name
    return RAW_FORMAT


def make_reader(name: str, mapping: dict[str, str], ref_time: datetime) -> Reader:
    if name == RAW_FORMAT:
        return RawReader(mapping)
    cls = BY_NAME[name]
    try:
        return cls(mapping, ref_time=ref_time)  # type: ignore[call-arg]
    except TypeError:
        return cls(mapping)
