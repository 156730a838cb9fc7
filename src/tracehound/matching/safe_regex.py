r"""Regexes from feeds run on a linear-time engine (Hyperscan), never on Python's backtracking `re`.

A feed is attacker-controlled: Loki's `filename-iocs.txt` or a MISP `pattern-filename` can hold
`(.+)+X`, which Python `re` takes exponential time to reject on an ordinary path. Hyperscan
compiles a regex to automata and scans in time linear in the input, whatever the pattern.

Semantics: ASCII patterns are compiled in byte mode (a fast compile: 0.6 s for Loki's 3,700
regexes, against 7 s in UTF-8 mode) and scanned with each non-ASCII character as one byte 0x80,
so `.` and `[^\\]{1,20}` count characters as `re` does; the only differences from `re` are `\w`,
`\b` and `\s` next to a non-ASCII character (ASCII-only here). Patterns with non-ASCII characters
are compiled in UTF-8/Unicode mode and scanned with the UTF-8 text. A pattern
Hyperscan refuses (back-references, look-around, embedded end anchors, too large) is not run:
it is listed in `refused` with Hyperscan's reason, and callers report it. Nothing is run on
Python `re`, so no feed regex can stall a sweep.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

NO_ENGINE = "no linear-time regex engine: the hyperscan package is not installed"


def _hyperscan() -> Any:
    try:
        import hyperscan
    except ImportError:
        return None
    return hyperscan


@dataclass
class RegexSet:
    """Compile once, then `matches(texts)` gives the ids of the patterns found in any of the texts."""

    refused: dict[int, str] = field(default_factory=dict)
    _dbs: list[tuple[Any, str]] = field(default_factory=list)  # (database, "bytes" | "utf8")

    @classmethod
    def compile(cls, patterns: Iterable[tuple[int, str]]) -> RegexSet:
        out = cls()
        items = list(patterns)
        hs = _hyperscan()
        if hs is None:
            out.refused = {i: NO_ENGINE for i, _ in items}
            return out
        base = hs.HS_FLAG_SINGLEMATCH | hs.HS_FLAG_ALLOWEMPTY
        groups: dict[str, list[tuple[int, bytes, int]]] = {"bytes": [], "utf8": []}
        for i, pat in items:
            try:
                pb = pat.encode("utf-8")
            except UnicodeEncodeError:
                out.refused[i] = "not valid Unicode text"
                continue
            if pat.isascii():
                groups["bytes"].append((i, pb, base))
            else:
                groups["utf8"].append((i, pb, base | hs.HS_FLAG_UTF8 | hs.HS_FLAG_UCP))
        retry: list[tuple[int, bytes, int]] = []
        for mode in ("bytes", "utf8"):
            group = []
            for item in groups[mode]:  # likely refusals tried alone first: a set compile then rarely fails
                reason = _check_one(hs, item) if _SUSPECT.search(item[1]) else None
                if reason is None:
                    group.append(item)
                elif mode == "utf8" and item[2] & hs.HS_FLAG_UCP:
                    retry.append((item[0], item[1], base | hs.HS_FLAG_UTF8))
                else:
                    out.refused[item[0]] = reason
            db, refused = _compile_set(hs, group)
            for item, reason in refused:
                if mode == "utf8" and item[2] & hs.HS_FLAG_UCP:  # e.g. \b is unsupported with UCP: plain UTF-8
                    retry.append((item[0], item[1], base | hs.HS_FLAG_UTF8))
                else:
                    out.refused[item[0]] = reason
            if db is not None:
                out._dbs.append((db, mode))
        if retry:
            db, refused = _compile_set(hs, retry)
            out.refused.update({item[0]: reason for item, reason in refused})
            if db is not None:
                out._dbs.append((db, "utf8"))
        return out

    def matches(self, texts: Iterable[str]) -> set[int]:
        found: set[int] = set()

        def on_match(pid: int, _start: int, _end: int, _flags: int, _ctx: Any) -> None:
            found.add(pid)

        for text in texts:
            for db, mode in self._dbs:
                db.scan(_as_bytes(text) if mode == "bytes" else text.encode("utf-8", "replace"),
                        match_event_handler=on_match)
        return found


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _as_bytes(text: str) -> bytes:
    r"""Text for the byte-mode database: one byte per character, so that `.`, `[^\\]{1,20}` and `\S`
    count characters as `re` does; any non-ASCII character (or undecodable byte of a file name)
    becomes 0x80, which no ASCII literal matches."""
    return text.encode("ascii") if text.isascii() else _NON_ASCII.sub("\x80", text).encode("latin-1")


Item = tuple[int, bytes, int]
# What Hyperscan does not support: anchors inside the pattern, look-around, back-references, \b in UCP mode.
_SUSPECT = re.compile(rb"\$.|\(\?[=!<]|\\[1-9bB]|\(\?P[=>]")


def _check_one(hs: Any, item: Item) -> str | None:
    try:
        _db(hs, [item])
        return None
    except hs.error as exc:
        return str(exc) or type(exc).__name__


def _compile_set(hs: Any, items: list[Item]) -> tuple[Any, list[tuple[Item, str]]]:
    """One database for the items Hyperscan accepts, and each refused item with its reason.
    A set compile names no culprit, so a failing set is split in halves (a few extra compiles
    per refused pattern, instead of one trial compile per pattern)."""
    if not items:
        return None, []
    try:
        return _db(hs, items), []
    except hs.error as exc:
        if len(items) == 1:
            return None, [(items[0], str(exc) or type(exc).__name__)]
    mid = len(items) // 2
    _, bad_a = _compile_set_refused(hs, items[:mid])
    _, bad_b = _compile_set_refused(hs, items[mid:])
    bad = bad_a + bad_b
    gone = {b[0][0] for b in bad}
    good = [it for it in items if it[0] not in gone]
    return (_db(hs, good) if good else None), bad


def _compile_set_refused(hs: Any, items: list[Item]) -> tuple[None, list[tuple[Item, str]]]:
    if not items:
        return None, []
    try:
        _db(hs, items)
        return None, []
    except hs.error as exc:
        if len(items) == 1:
            return None, [(items[0], str(exc) or type(exc).__name__)]
    mid = len(items) // 2
    return None, _compile_set_refused(hs, items[:mid])[1] + _compile_set_refused(hs, items[mid:])[1]


def _db(hs: Any, items: list[Item]) -> Any:
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    db.compile(expressions=[it[1] for it in items], ids=[it[0] for it in items], flags=[it[2] for it in items])
    return db
