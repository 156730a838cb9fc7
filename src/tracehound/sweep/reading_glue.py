"""Copy an evidence file to a private location through the safe reader."""

from __future__ import annotations

import os

from tracehound.sources.hosts.reading import CHUNK, open_evidence
from tracehound.sources.hosts.walk import Entry


def copy_evidence(src: str | Entry, dst: str, max_bytes: int) -> None:
    fd = open_evidence(src)
    total = 0
    try:
        with open(dst, "wb") as out:
            while True:
                chunk = os.read(fd, CHUNK)
                if not chunk:
                    break
                total += len(chunk)
                if total > max_bytes:
                    raise OSError(f"larger than {max_bytes} bytes")
                out.write(chunk)
    finally:
        os.close(fd)
