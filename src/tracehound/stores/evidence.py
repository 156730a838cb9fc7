"""The raw log line of a store finding, read back from its file and offset (read-only)."""

from __future__ import annotations

import os
from typing import Any

from tracehound.engines.finding_doc import MAX_ORIGINAL
from tracehound.sources.logs.stream import ReadStats, compression_of, iter_blocks, read_head


def fetch_line(path: str, offset: int, entry: dict[str, Any]) -> tuple[str | None, str]:
    """(line, status): status 'found', 'file gone', 'file changed' or 'unreadable: ...'."""
    if not path or not os.path.isfile(path):
        return None, "file gone"
    try:
        if not compression_of(read_head(path, 8)):
            if os.path.getsize(path) < int(entry.get("indexed_bytes", 0)):
                return None, "file changed (smaller than when indexed)"
            with open(path, "rb") as fh:
                fh.seek(offset)
                raw = fh.readline(MAX_ORIGINAL + 1)
        else:
            raw = b""
            for block in iter_blocks(path, ReadStats()):
                if block.offset + len(block.data) > offset:
                    start = offset - block.offset
                    end = block.data.find(b"\n", start)
                    raw = block.data[start:] if end == -1 else block.data[start:end]
                    break
            else:
                return None, "file changed (shorter than when indexed)"
    except OSError as exc:
        return None, f"unreadable: {exc.strerror or exc}"
    return raw.decode("utf-8", errors="replace").rstrip("\r\n")[:MAX_ORIGINAL], "found"
