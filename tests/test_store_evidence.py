"""stores.evidence.fetch_line: the raw line a store finding names, read back from plain, gzip'd and UTF-16
files (Windows PowerShell 5 `Out-File`, "Unicode" CSV/IIS exports), built from ../shared/samples."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from conftest import SAMPLES, need
from tracehound.stores.evidence import fetch_line

SQUID = SAMPLES / "logs" / "squid" / "access1.log"


def _lines() -> list[str]:
    lines = need(SQUID).read_text(encoding="utf-8").splitlines()[:40]
    lines[1] = lines[1] + " bädeyek\U0001f600"  # non-ASCII and a character beyond U+FFFF before later lines
    return lines


def _encoded(lines: list[str], codec: str) -> tuple[bytes, list[int]]:
    """The file's bytes as Windows writes them (BOM for UTF-16, CRLF) and the byte offset of every line."""
    bom = {"utf-8": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[codec]
    out, offsets = bytearray(bom), []
    for ln in lines:
        offsets.append(len(out))
        out += (ln + "\r\n").encode(codec)
    return bytes(out), offsets


@pytest.mark.parametrize("codec,gz", [("utf-8", False), ("utf-8", True), ("utf-16-le", False),
                                      ("utf-16-be", False), ("utf-16-le", True)])
def test_fetch_line_reads_the_line_at_its_byte_offset(tmp_path: Path, codec: str, gz: bool) -> None:
    lines = _lines()
    raw, offsets = _encoded(lines, codec)
    f = tmp_path / ("x.log.gz" if gz else "x.log")
    f.write_bytes(gzip.compress(raw) if gz else raw)
    entry = {"indexed_bytes": f.stat().st_size}
    got = [fetch_line(str(f), off, entry) for off in offsets]
    assert got == [(ln, "found") for ln in lines]


@pytest.mark.parametrize("gz", [False, True])
def test_fetch_line_mid_line_or_past_end_is_file_changed(tmp_path: Path, gz: bool) -> None:
    lines = _lines()
    raw, offsets = _encoded(lines, "utf-16-le")
    f = tmp_path / ("x.log.gz" if gz else "x.log")
    f.write_bytes(gzip.compress(raw) if gz else raw)
    entry = {"indexed_bytes": f.stat().st_size}
    line, why = fetch_line(str(f), offsets[3] + 2, entry)  # one character into a line: not where a line starts
    assert line is None and why.startswith("file changed")
    line, why = fetch_line(str(f), len(raw) + 10, entry)
    assert line is None and why.startswith("file changed")


def test_fetch_line_missing_and_shrunk(tmp_path: Path) -> None:
    raw, offsets = _encoded(_lines(), "utf-16-le")
    f = tmp_path / "x.log"
    f.write_bytes(raw)
    assert fetch_line(str(tmp_path / "gone.log"), 0, {}) == (None, "file gone")
    line, why = fetch_line(str(f), offsets[1], {"indexed_bytes": len(raw) + 1})
    assert line is None and why == "file changed (smaller than when indexed)"
    fifo = tmp_path / "pipe.log"
    import os

    os.mkfifo(fifo)
    assert fetch_line(str(fifo), 0, {}) == (None, "file gone")  # not a regular file: never opened


WIN_PACK = "type,value,confidence\ndomain,goonernews.com,80\nipv4,10.0.140.2,80\n"


def test_store_evidence_of_a_utf16_log(tmp_path: Path) -> None:
    """index + hunt --store --evidence on a UTF-16LE export: every finding's evidence is its own line."""
    from storeutil import index
    from tracehound.intel.builtin import load_intel
    from tracehound.stores.layout import Store
    from tracehound.stores.query import hit_doc, hunt_store

    lines = need(SQUID).read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0] + " bädeyek\U0001f600"
    raw, _ = _encoded(lines, "utf-16-le")
    f = tmp_path / "export.log"
    f.write_bytes(raw)
    p = tmp_path / "p.csv"
    p.write_text(WIN_PACK)
    pack = load_intel([str(p)])
    index(tmp_path / "store", [str(f)])
    store = Store(str(tmp_path / "store"))
    docs = [hit_doc(store, h, "p", evidence=True) for h in hunt_store(store, pack).hits]
    assert docs
    for d in docs:
        assert d["tracehound"]["evidence"] == "found"
        assert d["event"]["original"] == lines[d["tracehound"]["line"] - 1]
