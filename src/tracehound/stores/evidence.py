"""The raw log line of a store finding, read back from its file and offset (read-only).

The offset is a byte offset in the file's original (decompressed) bytes, as findings report it; a UTF-16
file is decoded and a compressed one decompressed by stream.line_at, which maps the offsets back."""

from __future__ import annotations

import os
from typing import Any

from tracehound.engines.finding_doc import MAX_ORIGINAL
from tracehound.errors import InputError
from tracehound.sources.logs.stream import line_at


def fetch_line(path: str, offset: int, entry: dict[str, Any]) -> tuple[str | None, str]:
    """(line, status): status 'found', 'file gone', 'file changed ...' or 'unreadable: ...'."""
    if not path or not os.path.isfile(path):
        return None, "file gone"
    try:
        if os.path.getsize(path) < int(entry.get("indexed_bytes", 0)):  # the file's own size, compressed or not
            return None, "file changed (smaller than when indexed)"
        line = line_at(path, offset, MAX_ORIGINAL)
    except OSError as exc:
        return None, f"unreadable: {exc.strerror or exc}"
    except InputError as exc:
        return None, f"unreadable: {exc.message}"
    if line is None:
        return None, "file changed (no line starts at the indexed offset)"
    return line, "found"
