"""The interface of an endpoint check, and what every check is given.

A check is one module of this package holding `CHECK`, an instance of a `Check` subclass. The
engine walks the target once; for each file it asks every enabled check, from metadata only,
whether it wants the file's content (`wants`) and how much of it must stay in memory (`keep`,
decided from the first bytes); the file is then read and hashed once and every check that
wanted it gets the same bytes (`check`). A check may also report from metadata alone
(`names`: file names and paths, no read; `walked`: the same, in the sweep's own process and in
walk order) and once per target (`host`: e.g. the live
processes). What a check finds goes into a `FileResult`: findings, installed versions, and a
note when it could not read what it needed (counted in the summary, never silent).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tracehound.intel.model import Indicator
from tracehound.matching.matcher import Matcher
from tracehound.sources.hosts.walk import Entry
from tracehound.sweep.docs import sweep_doc
from tracehound.sweep.files import FileIndex
from tracehound.sweep.products import ProductDefs
from tracehound.sweep.software import ProductIndex

if TYPE_CHECKING:
    from tracehound.intel.model import Pack
    from tracehound.sweep.summary import SweepResult


@dataclass
class Context:
    """What the checks share for one sweep (built once per process from the pack and the options)."""

    pack: Pack
    options: Any  # engine.SweepOptions
    host: str
    os_type: str
    files: FileIndex
    products: ProductIndex
    matcher: Matcher
    certs: dict[str, Indicator]
    signers: set[str]
    defs: ProductDefs
    scanner: Any = None  # yara_rules.YaraScanner when YARA rules loaded
    ruleset: Any = None
    cache: dict[str, Any] = field(default_factory=dict)  # what a check compiles once per sweep (by check name)

    def doc(self, check: str, verdict: str, message: str, matches: list[tuple[Indicator, str, str]],
            category: str = "file", fields: dict[str, Any] | None = None) -> dict[str, Any]:
        return sweep_doc(self.host, self.os_type, check, verdict, message, matches, self.pack.name, category, fields)


@dataclass
class FileResult:
    """What the checks found in one file."""

    out: list[dict[str, Any]] = field(default_factory=list)
    installed: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why a check could not read what it needed
    late_notes: list[str] = field(default_factory=list)  # said only when no check had a note
    skip: str = ""  # overrides the notes: the file's content was not checked as asked

    def reason(self) -> str:
        if self.skip:
            return self.skip
        notes = self.notes + self.late_notes
        return notes[0] if notes else ""


@dataclass
class FileView:
    """One file as the checks see it, after its single read."""

    e: Entry
    name: str  # base name as on disk
    file_fields: dict[str, Any]  # file.path, file.name, file.size, file.mtime
    fields: dict[str, Any]  # file_fields and the file's hashes
    hashes: dict[str, str]
    head: bytes
    data: bytes | None  # whole content when some check asked to keep it and it fit, else None
    size: int

    @property
    def lname(self) -> str:
        return self.name.lower()


def shown(path: str) -> str:
    """A path as valid UTF-8 text: undecodable bytes of the on-disk name become \\xNN escapes."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def iso_mtime(e: Entry) -> str:
    return datetime.fromtimestamp(e.mtime, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def file_fields(e: Entry) -> dict[str, Any]:
    name = os.path.basename(e.rel)
    return {"file.path": shown(e.path), "file.name": shown(name), "file.size": e.size, "file.mtime": iso_mtime(e)}


def platform_of_path(rel: str, os_type: str) -> str:
    low = "/" + rel.lower()
    if ".app/contents/" in low:
        return "macos"
    if "/appdata/" in low or "/program files" in low or "/windows/" in low:
        return "windows"
    return os_type


def is_binary(head: bytes) -> bool:
    from tracehound.sweep import signing_macho

    return head[:2] == b"MZ" or signing_macho.is_macho(head)


class Check:
    """One endpoint check. Subclasses set `name` (the `tracehound.check` of its findings) and
    `order` (checks run in this order on each file, so findings keep a stable order)."""

    name: str = ""
    order: int = 100
    live_only: bool = False  # runs only on the live system (processes, connections)

    def enabled(self, ctx: Context) -> bool:
        """Does the pack (or the options) give this check anything to look for?"""
        return True

    def names(self, e: Entry, ctx: Context) -> list[dict[str, Any]]:
        """Findings from the file's name and path alone (no read); every file gets this call."""
        return []

    def walked(self, e: Entry, ctx: Context) -> list[dict[str, Any]]:
        """Findings from the walk itself: called in the sweep's own process for every file, in walk
        order, so a check may keep state across files (e.g. the folders seen so far). Metadata only."""
        return []

    def wants(self, e: Entry, ctx: Context) -> bool:
        """From metadata only: does this check need the file's content?"""
        return False

    def keep(self, e: Entry, head: bytes, ctx: Context) -> int:
        """How many bytes of the file this check needs in memory (0: the hashes and head are enough)."""
        return 0

    def check(self, f: FileView, ctx: Context, res: FileResult) -> None:
        """The content check of one file it wanted."""

    def host(self, ctx: Context, take: Callable[[dict[str, Any]], None], result: SweepResult) -> None:
        """Once per target, after the walk (live checks)."""
