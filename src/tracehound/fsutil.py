"""Small file-system helpers shared by every writer."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tracehound.errors import UsageError


def is_special(path: str | Path) -> bool:
    """An existing output that is not a regular file or a folder: /dev/null, a FIFO, a terminal.
    Such outputs are written in place: no temporary file and rename (which would replace a device
    node with a file), no fsync (EINVAL on /dev/null), no parent folder created."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file, fsync and rename: a crash never leaves a half-written file.
    A device or FIFO (is_special) is written in place."""
    if is_special(path):
        with path.open("w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        return
    if path.is_dir():
        raise UsageError("is a folder, not a file", path=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
