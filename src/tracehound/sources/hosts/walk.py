"""Read-only file-system walk.

Never follows symlinks (to files or folders), never leaves the root, never opens FIFOs,
sockets or devices, skips pseudo file systems (/proc, /sys, /dev... by type, wherever
mounted), survives entries that vanish or cannot be read, and reports every skip.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field

PSEUDO_FS = {"proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "debugfs", "tracefs", "securityfs",
             "pstore", "bpf", "configfs", "fusectl", "mqueue", "hugetlbfs", "autofs", "binfmt_misc", "efivarfs",
             "rpc_pipefs", "nsfs", "selinuxfs"}


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
    skip_mounts = pseudo_mounts()
    try:
        root_st = os.lstat(root)
    except OSError as exc:
        stats.skip(f"root unreadable ({exc.strerror})", root)
        return
    if stat.S_ISLNK(root_st.st_mode):
        stats.skip("root is a symlink (not followed)", root)
        return
    if stat.S_ISREG(root_st.st_mode):
        yield Entry(root, os.path.basename(root), root_st.st_size, root_st.st_mtime, root_st.st_dev, root_st.st_ino)
        stats.files += 1
        return
    stack = [root]
    while stack:
        d = stack.pop()
        if d != root and (d in skip_mounts or d in ("/proc", "/sys", "/dev") and root == "/"):
            stats.skip("pseudo file system", d)
            continue
        stats.dirs += 1
        try:
            it = os.scandir(d)
        except PermissionError:
            stats.skip("directory not readable (permission)", d)
            continue
        except FileNotFoundError:
            stats.skip("vanished during the walk", d)
            continue
        except OSError as exc:
            stats.skip(f"directory not readable ({exc.strerror})", d)
            continue
        subdirs: list[str] = []
        with it:
            while True:
                try:
                    de = next(it)
                except StopIteration:
                    break
                except OSError as exc:
                    stats.skip(f"directory listing failed ({exc.strerror})", d)
                    break
                path = de.path
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                if excludes and any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(de.name, pat) for pat in excludes):
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
                    if one_file_system and st.st_dev != root_st.st_dev:
                        stats.skip("other file system", path)
                    else:
                        subdirs.append(path)
                elif stat.S_ISREG(mode):
                    stats.files += 1
                    yield Entry(path, rel, st.st_size, st.st_mtime, st.st_dev, st.st_ino)
                else:
                    stats.skip("special file (FIFO, socket or device)")
        stack.extend(sorted(subdirs, reverse=True))
