"""One entry point per parser, taking raw bytes: shared by the hypothesis property tests and the
atheris fuzz targets (fuzz/). The invariant each enforces: only tracehound's own error types
(which carry the file and position) may escape; anything else is a bug."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from tracehound.errors import TracehoundError
from tracehound.sources.logs.observation import RecordError

EXPECTED = (TracehoundError, RecordError)


def _tmpfile(data: bytes, suffix: str = "") -> str:
    fd, path = tempfile.mkstemp(suffix=suffix, prefix="th-fuzz-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


def advisory(data: bytes) -> None:
    from tracehound.intel.extract import ExtractOptions, extract_files

    path = _tmpfile(data, ".txt")
    try:
        extract_files([path], ExtractOptions(max_bytes=1 << 20))
    finally:
        os.unlink(path)


def advisory_html(data: bytes) -> None:
    from tracehound.intel.documents import html_to_lines
    from tracehound.intel.rules import find_rules

    text = data.decode("utf-8", errors="replace")
    html_to_lines(text)
    for f in find_rules("html", text, "fuzz.html"):  # rules in <pre>/<code>: exact slices of their block
        assert f.rule.text and f.rule.line >= 1


def split_hashes(data: bytes) -> None:
    from tracehound.intel.hashes import find_hex_values

    text = data.decode("latin-1")
    for hv in find_hex_values(text, text[:40]):
        assert len(hv.value) in (32, 40, 64) and all(c in "0123456789abcdef" for c in hv.value)


def reader(name: str) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        from tracehound.sources.logs.readers import BY_NAME

        r = BY_NAME[name]({})
        for line in data.decode("utf-8", errors="replace").splitlines()[:200]:
            if r.has_headers and line.startswith("#"):
                r.header(line)
                continue
            try:
                r.parse(line)
            except RecordError:
                pass
    return run


def evtx_record(data: bytes) -> None:
    from tracehound.sources.logs.evtx_source import record_observations

    try:
        event = json.loads(data.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return
    if isinstance(event, dict):
        record_observations(event)


def evtx_file(data: bytes) -> None:
    from tracehound.sources.logs.evtx_source import EVTX_MAGIC, iter_evtx
    from tracehound.sources.logs.stream import ReadStats

    path = _tmpfile(EVTX_MAGIC + data, ".evtx")
    try:
        for _ in iter_evtx(path, ReadStats()):
            pass
    finally:
        os.unlink(path)


def log_stream(data: bytes) -> None:
    """Whole-file path: compression detection, blocks, candidate lines (any reader)."""
    from tracehound.engines.local_hunt import (
        HuntOptions,
        _init_state,
        _make_reader,
        detect_format,
        iter_candidate_lines,
    )
    from tracehound.intel.builtin import load_intel
    from tracehound.sources.logs.stream import ReadStats

    path = _tmpfile(data)
    try:
        try:
            fmt = detect_format(path)
        except TracehoundError:
            return
        if fmt == "evtx":
            return
        from datetime import UTC, datetime

        from tracehound.engines.local_hunt import _STATE

        if "prefilter" not in _STATE:  # build the matcher and prefilter once, not per input
            _init_state(load_intel(None), HuntOptions())

        r = _make_reader(fmt, {}, datetime.now(UTC))
        for cand in iter_candidate_lines(path, r, _STATE["prefilter"], ReadStats(), 4096, 20):
            try:
                r.parse(cand.text)
            except (RecordError, ValueError, KeyError, IndexError, TypeError):
                pass
    finally:
        os.unlink(path)


def pack_format(fmt: str) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        from tracehound.intel.formats import read_pack

        suffix = {"csv": ".csv", "loki": ".txt"}.get(fmt, ".json")
        path = _tmpfile(data, suffix)
        try:
            read_pack(path, fmt)
        finally:
            os.unlink(path)
    return run


def plist(data: bytes) -> None:
    from tracehound.sweep.software import from_info_plist

    from_info_plist(data, "Info.plist")


def asar(data: bytes) -> None:
    from tracehound.sweep.software import from_asar

    from_asar(lambda off, n: data[off : off + n], len(data), "app.asar", "windows")


def package_json(data: bytes) -> None:
    from tracehound.sweep.software import from_package_json

    from_package_json(data, "package.json", "windows")


def pe_signature(data: bytes) -> None:
    from tracehound.sweep.signing import certificate_table, inspect_pe, table_anomalies

    loc = certificate_table(b"MZ" + data)
    if loc:
        table_anomalies(b"MZ" + data, *loc)
    inspect_pe(b"MZ" + data, verify=True)


def macho_signature(data: bytes) -> None:
    from tracehound.sweep.signing_macho import is_macho, macho_certificates

    if is_macho(data[:8]):
        macho_certificates(data)


def browser_history(data: bytes) -> None:
    import sqlite3

    from tracehound.sweep.browsers import history_urls

    path = _tmpfile(data, "History")
    try:
        for _ in history_urls(path, "chrome"):
            pass
    except (sqlite3.Error, OSError):
        pass  # an unreadable database is reported by the sweep as information
    finally:
        os.unlink(path)


def yara_rules(data: bytes) -> None:
    from tracehound.sweep.yara_rules import compile_rules

    d = tempfile.mkdtemp(prefix="th-fuzz-")
    try:
        Path(d, "r.yar").write_bytes(data)
        compile_rules([d])
    finally:
        Path(d, "r.yar").unlink()
        os.rmdir(d)


def inventory(data: bytes) -> None:
    from tracehound.sources.inventory import read_inventory

    path = _tmpfile(data, ".csv")
    try:
        for _ in read_inventory(path, {}):
            pass
    finally:
        os.unlink(path)


def _reader_names() -> tuple[str, ...]:
    from tracehound.sources.logs.readers import BY_NAME

    return tuple(sorted(BY_NAME))  # every registered reader, the new ones included


READER_NAMES = _reader_names()
PACK_FORMATS = ("json", "stix", "misp", "csv", "loki")
XML_FEEDS = ("openioc", "stix1")  # a target of their own: PACK_FORMATS indexes the existing seed corpora


def readers(data: bytes) -> None:
    """Every log reader: the first byte picks the reader, the rest is the file."""
    if data:
        reader(READER_NAMES[data[0] % len(READER_NAMES)])(data[1:])


def packs(data: bytes) -> None:
    """Every pack format: the first byte picks the format."""
    if data:
        pack_format(PACK_FORMATS[data[0] % len(PACK_FORMATS)])(data[1:])


def xml_feeds(data: bytes) -> None:
    """OpenIOC and STIX 1.x XML (defusedxml): the first byte picks the format."""
    if data:
        pack_format(XML_FEEDS[data[0] % len(XML_FEEDS)])(data[1:])


TARGETS: dict[str, Callable[[bytes], None]] = {
    "advisory": advisory, "advisory_html": advisory_html, "split_hashes": split_hashes, "readers": readers,
    "log_stream": log_stream, "evtx_record": evtx_record, "evtx_file": evtx_file, "packs": packs, "plist": plist,
    "asar": asar, "package_json": package_json, "pe_signature": pe_signature, "macho_signature": macho_signature, "browser_history": browser_history,
    "yara_rules": yara_rules, "inventory": inventory, "xml_feeds": xml_feeds,
}


def check(target: str, data: bytes) -> None:
    """Run one target; expected (project) errors are fine, anything else propagates."""
    try:
        TARGETS[target](data)
    except EXPECTED:
        pass
