"""A triage collection read in place: zip, tar, tar.gz, tar.zst (also tar.xz, tar.bz2).

Nothing is extracted to disk. The archive is opened once through the safe opener and read
forward; member names are mapped to the evidence tree by layouts.evidence_rel (KAPE, CyLR,
Velociraptor, UAC) and only ever compared as text. A hostile archive ends with counted skips,
never a hang or a write:

- names with `..`, absolute names, links, devices and duplicate names are refused and counted;
- zip: the central directory is sized before it is parsed (at most MAX_MEMBERS entries); a member
  declaring more than MAX_RATIO times its compressed size, an encrypted member, and members whose
  compressed data overlap (the "better zip bomb": many members over one deflate stream) are not
  read; a member never yields more than its declared size;
- tar: the decompressed stream may grow to MAX_RATIO times the archive (plus 1 MiB), then the
  read stops (a gzip/zstd bomb); a truncated or corrupt stream stops with the members read so far
  and says where.

Tar archives are read twice (a listing pass gives the OS facts and keeps small files other
checks read again: a SQLite database's -wal/-journal siblings), zip archives once plus random
access. Entries are checked as they are yielded (`sequential`), in the sweep's own process; a
member some check opens again (a browser history, a hive) is served from memory (memfd), up to
MEMBER_MEMORY bytes.
"""

from __future__ import annotations

import fnmatch
import lzma
import os
import stat
import tarfile
import zipfile
import zlib
from calendar import timegm
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from tracehound import fsutil
from tracehound.sources.hosts.reading import CHUNK, FileData, hash_chunks
from tracehound.sources.hosts.walk import Entry, WalkStats
from tracehound.sources.targets.base import Target, TargetError, open_container
from tracehound.sources.targets.layouts import evidence_rel, host_from_archive_name
from tracehound.sources.targets.members import MemberEntry, activate, deactivate
from tracehound.sources.targets.streams import MAX_RATIO, ArchiveBomb, kind_of, open_tar_stream

SLACK = 1 << 20
MAX_MEMBERS = 2_000_000
MEMBER_MEMORY = 256 * 1024 * 1024  # a member kept for a second read (History, hives)
KEEP_TOTAL = 256 * 1024 * 1024  # tar: small files kept from the listing pass
KEEP_ONE = 64 * 1024 * 1024
FACT_FILES = ("etc/hostname", "Library/Preferences/SystemConfiguration/preferences.plist")
SIBLINGS = ("-wal", "-journal")
ERRORS = (tarfile.TarError, zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError,
          NotImplementedError, RuntimeError)


@dataclass
class Member:
    name: str
    rel: str
    size: int
    mtime: float
    info: zipfile.ZipInfo | None = None


def is_archive(path: str) -> bool:
    path = os.path.abspath(path)
    try:
        fd = fsutil.open_beneath(os.path.dirname(path), os.path.basename(path), follow_root=True)
    except OSError:
        return False
    try:
        return bool(kind_of(os.pread(fd, 512, 0)))
    finally:
        os.close(fd)


class ArchiveTarget(Target):
    sequential = True

    def __init__(self, path: str) -> None:
        self.path, self.fh = open_container(path)
        self.display = self.path
        self.size = os.fstat(self.fh.fileno()).st_size
        self.kind = kind_of(self.fh.read(512))
        if not self.kind:
            self.fh.close()
            raise TargetError(f"{self.path}: not a zip or tar archive (nor gzip/zstd/xz/bzip2-compressed tar)")
        self.members: list[Member] = []
        self.by_rel: dict[str, Member] = {}
        self.by_name: dict[str, Member] = {}
        self.refused: Counter[str] = Counter()
        self.errors: list[str] = []
        self.kept: dict[str, bytes] = {}
        self._prefixes: set[str] = set()
        self._current: tuple[str, bytes | None] = ("", None)
        self._tar_file: tuple[str, IO[bytes] | None] = ("", None)
        self.zf: zipfile.ZipFile | None = None
        self._list()
        activate(self)

    # ---- listing -------------------------------------------------------------------------
    def _add(self, name: str, size: int, mtime: float, info: zipfile.ZipInfo | None = None) -> Member | None:
        rel, why = evidence_rel(name)
        if rel is None:
            self.refused[why] += 1
            return None
        if rel in self.by_rel:
            self.refused["duplicate member name (the first one read)"] += 1
            return None
        m = Member(name, rel, size, mtime, info)
        self.members.append(m)
        self.by_rel[rel] = m
        self.by_name[name] = m
        parts = rel.lower().split("/")
        for i in range(1, len(parts) + 1):
            self._prefixes.add("/".join(parts[:i]))
        return m

    def _drop(self, m: Member) -> None:
        self.members.remove(m)
        del self.by_rel[m.rel], self.by_name[m.name]

    def _list(self) -> None:
        if self.kind == "zip":
            self._list_zip()
        else:
            self._list_tar()

    def _list_zip(self) -> None:
        from tracehound.sweep.zipread import ZipProblem, _entry_count

        try:
            entries, _cd = _entry_count(self.fh, self.size)
            if entries > MAX_MEMBERS:
                raise TargetError(f"{self.path}: {entries} entries (more than {MAX_MEMBERS}): not read")
            self.fh.seek(0)
            self.zf = zipfile.ZipFile(self.fh)
        except (ZipProblem, *ERRORS) as exc:
            raise TargetError(f"{self.path}: unreadable zip ({type(exc).__name__}: {exc})") from None
        infos = self.zf.infolist()
        spans = sorted((i.header_offset, i.header_offset + 30 + len(i.filename.encode()) + i.compress_size, i.filename)
                       for i in infos if not i.is_dir())
        overlapping = {b[2] for a, b in zip(spans, spans[1:], strict=False) if b[0] < a[1]}
        for info in infos:
            mode = info.external_attr >> 16  # Unix mode when the writer set one (the type bits may be 0)
            if info.is_dir():
                continue
            if stat.S_ISLNK(mode):
                self.refused["symlink in the archive (not followed)"] += 1
            elif stat.S_IFMT(mode) and not stat.S_ISREG(mode):
                self.refused["special file in the archive (not read)"] += 1
            elif info.flag_bits & 0x1:
                self.refused["encrypted member (not read)"] += 1
            elif info.filename in overlapping:
                self.refused["member overlapping another's data (zip bomb): not read"] += 1
            elif info.file_size > info.compress_size * MAX_RATIO + SLACK:
                self.refused[f"member expanding more than {MAX_RATIO}x (zip bomb): not read"] += 1
            else:
                try:
                    mtime = float(timegm((*info.date_time, 0, 0, 0)))
                except (ValueError, OverflowError):
                    mtime = 0.0
                self._add(info.filename, info.file_size, mtime, info)

    def _tar_stream(self) -> tarfile.TarFile:
        return open_tar_stream(self.fh, self.kind, self.size * MAX_RATIO + SLACK)

    def _tar_members(self, tf: tarfile.TarFile, listing: bool) -> Iterator[tarfile.TarInfo]:
        n = 0
        try:
            for ti in tf:
                n += 1
                if n > MAX_MEMBERS:
                    if listing:
                        self.refused[f"members past {MAX_MEMBERS} (not read)"] += 1
                    return
                yield ti
        except ERRORS as exc:
            if listing:  # said once, from the listing pass; the reading pass stops at the same place
                why = str(exc) if isinstance(exc, ArchiveBomb) else f"{type(exc).__name__}: {exc}"
                self.refused["archive truncated, corrupt or too large: the rest not read"] += 1
                self.errors.append(f"{self.path}: after {n - 1} members: {why}")

    def _list_tar(self) -> None:
        try:
            tf = self._tar_stream()
        except ERRORS as exc:
            raise TargetError(f"{self.path}: unreadable {self.kind} ({type(exc).__name__}: {exc})") from None
        names: set[str] = set()
        kept = 0
        for ti in self._tar_members(tf, listing=True):
            if ti.isdir():
                continue
            if ti.issym() or ti.islnk():
                self.refused["link in the archive (not followed)"] += 1
                continue
            if not ti.isreg():
                self.refused["special file in the archive (not read)"] += 1
                continue
            m = self._add(ti.name, ti.size, float(ti.mtime))
            if m is None:
                continue
            names.add(m.rel)
            small = m.rel in FACT_FILES or (m.rel.endswith(SIBLINGS) and m.size <= KEEP_ONE)
            keep = small and kept + m.size <= KEEP_TOTAL
            try:  # read through the member's data here: a member cut off by the end of the stream is not listed
                f = tf.extractfile(ti)
                body = [] if f is None else [f.read(m.size)] if keep else []
                while f is not None and not keep and f.read(CHUNK):
                    pass
            except ERRORS as exc:
                self._drop(m)
                why = str(exc) if isinstance(exc, ArchiveBomb) else f"{type(exc).__name__}: {exc}"
                self.refused["archive truncated, corrupt or too large: the rest not read"] += 1
                self.refused["member cut off by the end of the archive (not read)"] += 1
                self.errors.append(f"{self.path}: in member {ti.name!r}: {why}")
                break
            if keep and body and len(body[0]) == m.size:
                self.kept[m.name] = body[0]
                kept += m.size
        for name in [n for n in self.kept if self.by_name[n].rel.endswith(SIBLINGS)]:
            base = self.by_name[name].rel
            if base[: base.rfind("-")] not in names:  # only a database's siblings are kept
                kept -= len(self.kept.pop(name))

    # ---- the view ------------------------------------------------------------------------
    def walk(self, stats: WalkStats, excludes: tuple[str, ...] = (), one_file_system: bool = False) -> Iterator[Entry]:
        for reason, n in self.refused.items():
            stats.skipped[reason] = stats.skipped.get(reason, 0) + n
        stats.errors.extend(self.errors[:50])
        if self.kind == "zip":
            for m in self.members:
                e = self._entry(m, stats, excludes)
                if e is not None:
                    yield e
            return
        tf = self._tar_stream()
        seen: set[str] = set()
        for ti in self._tar_members(tf, listing=False):
            tm = self.by_name.get(ti.name)
            if tm is None or not ti.isreg() or ti.name in seen:
                continue
            m = tm
            seen.add(ti.name)
            e = self._entry(m, stats, excludes)
            if e is None:
                continue
            self._tar_file = (m.name, tf.extractfile(ti))
            yield e  # checked before the stream moves on (sequential)
            self._tar_file = ("", None)

    def _entry(self, m: Member, stats: WalkStats, excludes: tuple[str, ...]) -> MemberEntry | None:
        name = m.rel.rsplit("/", 1)[-1]
        if excludes and any(fnmatch.fnmatch(m.rel, p) or fnmatch.fnmatch(name, p) for p in excludes):
            stats.skip("excluded by --exclude")
            return None
        stats.files += 1
        return MemberEntry(f"{self.path}!{m.name}", m.rel, m.size, m.mtime, 0, 0, self.path, m.name)

    def _open_member(self, m: Member) -> IO[bytes]:
        if m.info is not None and self.zf is not None:
            return self.zf.open(m.info)
        name, f = self._tar_file
        if name == m.name and f is not None:
            return f
        raise OSError(f"archive member {m.name} is not available (the {self.kind} stream has moved on)")

    def read_and_hash(self, e: Entry, algos: tuple[str, ...], keep_max: int | Callable[[bytes], int]) -> FileData:
        m = self.by_name.get(getattr(e, "member", ""))
        if m is None:
            raise FileNotFoundError(e.path)
        try:
            f = self._open_member(m)
            fd, whole = hash_chunks(iter(lambda: f.read(CHUNK), b""), algos, keep_max,
                                    remember=MEMBER_MEMORY if m.size <= MEMBER_MEMORY else -1)
        except ERRORS as exc:
            raise OSError(f"archive member unreadable: {type(exc).__name__}: {exc}") from None
        self._current = (m.name, whole)
        return fd

    def member_bytes(self, member: str) -> bytes:
        """A member's content for a second read (by a check that reopens its file)."""
        if self._current[0] == member and self._current[1] is not None:
            return self._current[1]
        if member in self.kept:
            return self.kept[member]
        m = self.by_name.get(member)
        if m is None:
            raise FileNotFoundError(member)
        if m.info is not None and self.zf is not None and m.size <= MEMBER_MEMORY:
            try:
                with self.zf.open(m.info) as f:
                    return f.read(MEMBER_MEMORY + 1)[:MEMBER_MEMORY]
            except ERRORS as exc:
                raise OSError(f"archive member unreadable: {type(exc).__name__}: {exc}") from None
        raise OSError(f"archive member {member} not kept for a second read (larger than {MEMBER_MEMORY} bytes, "
                      "or not the current member of the stream)")

    def exists_ci(self, parts: tuple[str, ...]) -> bool:
        return "/".join(parts).lower() in self._prefixes

    def read_small(self, rel: str, max_bytes: int) -> bytes | None:
        m = self.by_rel.get(rel)
        if m is None or m.size > max_bytes:
            return None
        try:
            return self.member_bytes(m.name)
        except OSError:
            return None

    def default_host_name(self) -> str:
        base = os.path.basename(self.path)
        return host_from_archive_name(base) or base.split(".", 1)[0] or "host"

    def close(self) -> None:
        if self.zf is not None:
            self.zf.close()
        self.fh.close()
        deactivate(self)
