"""Read-only file-system walk.

Never follows symlinks (to files or folders), never leaves the root, never opens FIFOs,
sockets or devices, skips pseudo file systems (/proc, /sys, /dev... by type, wherever
mounted), survives entries that vanish or cannot be read, and reports every skip.

The walk holds a descriptor of each folder on the current branch and opens the next one
relative to it (openat, O_NOFOLLOW|O_DIRECTORY, O_NOATIME) and lists it through that
descriptor, then checks device and inode against the listing: a folder swapped for a symlink
(to /etc, or out of the tree) while the sweep runs is refused and counted, never entered.
Each Entry keeps the device and inode listed, so the reader refuses a file swapped later.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field

from tracehound.fsutil import AT_SUPPORTED, Replaced, open_at, open_root

PSEUDO_FS = {"proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "debugfs", "tracefs", "securityfs",
             "pstore", "bpf", "configfs", "fusectl", "mqueue", "hugetlbfs", "autofs", "binfmt_misc", "efivarfs",
             "rpc_pipefs", "nsfs", "selinuxfs"}


MAX_DEPTH = 256  # one open descriptor per level of the current branch


@dataclass
class WalkStats:
    files: int = 0
    dirs: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # first few, for the report

    def skip(self, reason: str, path: str = "") -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if path and len(self.errors) < 50:
            self.errors.append(f"{reason}: {path}")


@dataclass(frozen=True)
class Entry:
    path: str  # as found on disk (bytes-safe via surrogateescape)
    rel: str  # relative to the root, '/'-separated
    size: int
    mtime: float
    dev: int
    ino: int
    root: str = ""  # the sweep root: the reader opens root/rel one component at a time

    def base(self) -> str:
        if self.root:
            return self.root
        cut = len(self.path) - len(self.rel)
        return self.path[:cut].rstrip(os.sep) or os.sep if cut > 0 and self.path.endswith(self.rel) \
            else os.path.dirname(self.path)


def pseudo_mounts() -> set[str]:
    out: set[str] = set()
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 3 and parts[2] in PSEUDO_FS:
                    out.add(parts[1].replace("\\040", " "))
    except OSError:
        pass
    return out


def walk(root: str, stats: WalkStats, excludes: tuple[str, ...] = (), one_file_system: bool = False) -> Iterator[Entry]:
    root = os.path.abspath(root)
    try:
        root_st = os.lstat(root)
    except OSError as exc:
        stats.skip(f"root unreadable ({exc.strerror})", root)
        return
    if stat.S_ISLNK(root_st.st_mode):
        stats.skip("root is a symlink (not followed)", root)
        return
    if stat.S_ISREG(root_st.st_mode):
        # The folder holding a root file is the analyst's choice (it may be reached through a symlink).
        yield Entry(root, os.path.basename(root), root_st.st_size, root_st.st_mtime, root_st.st_dev, root_st.st_ino,
                    os.path.realpath(os.path.dirname(root)))
        stats.files += 1
        return
    if not AT_SUPPORTED:  # pragma: no cover - Windows: no openat
        yield from _walk_paths(root, root_st, stats, excludes, one_file_system)
        return
    try:
        root_fd = open_root(root)
    except OSError as exc:
        stats.skip(f"root unreadable ({exc.strerror or exc})", root)
        return
    skip_mounts = pseudo_mounts()
    # Each frame: descriptor of an open folder, its path relative to the root, sub-folders still to enter.
    stack: list[tuple[int, str, Iterator[tuple[str, int, int]]]] = []
    try:
        subdirs = yield from _list(root_fd, root, "", stats, excludes, one_file_system, root_st.st_dev)
        stack.append((root_fd, "", iter(subdirs)))
        root_fd = -1
        while stack:
            fd, rel, pending = stack[-1]
            nxt = next(pending, None)
            if nxt is None:
                os.close(fd)
                stack.pop()
                continue
            name, dev, ino = nxt
            sub = f"{rel}/{name}" if rel else name
            path = os.path.join(root, sub)
            if path in skip_mounts or root == "/" and sub in ("proc", "sys", "dev"):
                stats.skip("pseudo file system", path)
                continue
            if len(stack) >= MAX_DEPTH:
                stats.skip(f"deeper than {MAX_DEPTH} levels (not walked)", path)
                continue
            try:
                sfd = open_at(name, fd, directory=True, expect=(dev, ino))
            except Replaced:
                stats.skip("folder replaced during the walk (symlink, special file or other folder): not entered", path)
                continue
            except PermissionError:
                stats.skip("directory not readable (permission)", path)
                continue
            except FileNotFoundError:
                stats.skip("vanished during the walk", path)
                continue
            except OSError as exc:
                stats.skip(f"directory not readable ({exc.strerror})", path)
                continue
            try:
                subdirs = yield from _list(sfd, root, sub, stats, excludes, one_file_system, root_st.st_dev)
            except BaseException:
                os.close(sfd)
                raise
            stack.append((sfd, sub, iter(subdirs)))
    finally:
        if root_fd >= 0:
            os.close(root_fd)
        for fd, _rel, _p in stack:
            os.close(fd)


def _list(fd: int, root: str, rel: str, stats: WalkStats, excludes: tuple[str, ...], one_file_system: bool,
          root_dev: int) -> Generator[Entry, None, list[tuple[str, int, int]]]:
    """Yield the regular files of one open folder; return its sub-folders (name, dev, ino), sorted."""
    stats.dirs += 1
    d = os.path.join(root, rel) if rel else root
    subdirs: list[tuple[str, int, int]] = []
    try:
        it = os.scandir(fd)
    except OSError as exc:
        stats.skip(f"directory not readable ({exc.strerror})", d)
        return subdirs
    with it:
        while True:
            try:
                de = next(it)
            except StopIteration:
                break
            except OSError as exc:
                stats.skip(f"directory listing failed ({exc.strerror})", d)
                break
            name = de.name
            erel = f"{rel}/{name}" if rel else name
            path = os.path.join(d, name)
            if excludes and any(fnmatch.fnmatch(erel, pat) or fnmatch.fnmatch(name, pat) for pat in excludes):
                stats.skip("excluded by --exclude")
                continue
            try:
                st = de.stat(follow_symlinks=False)
            except FileNotFoundError:
                stats.skip("vanished during the walk", path)
                continue
            except OSError as exc:
                stats.skip(f"cannot stat ({exc.strerror})", path)
                continue
            mode = st.st_mode
            if stat.S_ISLNK(mode):
                stats.skip("symlink (not followed)")
            elif stat.S_ISDIR(mode):
                if one_file_system and st.st_dev != root_dev:
                    stats.skip("other file system", path)
                else:
                    subdirs.append((name, st.st_dev, st.st_ino))
            elif stat.S_ISREG(mode):
                stats.files += 1
                yield Entry(path, erel, st.st_size, st.st_mtime, st.st_dev, st.st_ino, root)
            else:
                stats.skip("special file (FIFO, socket or device)")
    subdirs.sort()
    return subdirs


def _walk_paths(root: str, root_st: os.stat_result, stats: WalkStats, excludes: tuple[str, ...],
                one_file_system: bool) -> Iterator[Entry]:  # pragma: no cover - Windows only
    """Platforms without openat: path-based walk (symlinks and junctions still not followed)."""
    stack = [root]
    while stack:
        d = stack.pop()
        stats.dirs += 1
        try:
            it = os.scandir(d)
        except OSError as exc:
            stats.skip(f"directory not readable ({exc.strerror})", d)
            continue
        subdirs: list[str] = []
        with it:
            for de in it:
                rel = os.path.relpath(de.path, root).replace(os.sep, "/")
                if excludes and any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(de.name, pat) for pat in excludes):
                    stats.skip("excluded by --exclude")
                    continue
                try:
                    st = de.stat(follow_symlinks=False)
                except OSError as exc:
                    stats.skip(f"cannot stat ({exc.strerror})", de.path)
                    continue
                if stat.S_ISLNK(st.st_mode) or getattr(de, "is_junction", lambda: False)():
                    stats.skip("symlink (not followed)")
                elif stat.S_ISDIR(st.st_mode):
                    if not (one_file_system and st.st_dev != root_st.st_dev):
                        subdirs.append(de.path)
                elif stat.S_ISREG(st.st_mode):
                    stats.files += 1
                    yield Entry(de.path, rel, st.st_size, st.st_mtime, st.st_dev, st.st_ino, root)
                else:
                    stats.skip("special file (FIFO, socket or device)")
        stack.extend(sorted(subdirs, reverse=True))
