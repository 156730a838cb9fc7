"""The interface every sweep target gives the engine and the checks: a read-only file-system view
(walk, read once with hashes, small reads, name lookups) and the OS facts guessed from it."""

from __future__ import annotations

import os
import platform
import socket
from collections.abc import Callable, Iterator
from typing import IO, Any

from tracehound.sources.hosts.reading import FileData
from tracehound.sources.hosts.walk import Entry, WalkStats


class TargetError(Exception):
    """A target that cannot be opened at all (said to the user with its path, never a traceback)."""


def open_container(path: str) -> tuple[str, IO[bytes]]:
    """An archive or image file, opened read-only through the safe opener: (absolute path, file)."""
    from tracehound import fsutil

    path = os.path.abspath(path)
    try:
        fd = fsutil.open_beneath(os.path.dirname(path), os.path.basename(path), follow_root=True)
    except OSError as exc:
        raise TargetError(f"{path}: cannot open ({exc.strerror or exc})") from None
    return path, os.fdopen(fd, "rb")


class Target:
    kind: str = ""  # live, folder, zip, tar, tar.gz, tar.zst
    display: str = ""  # the path said in the summary
    live: bool = False
    sequential: bool = False  # entries are checked as they are yielded, in this process (archives)

    def walk(self, stats: WalkStats, excludes: tuple[str, ...] = (), one_file_system: bool = False) -> Iterator[Entry]:
        raise NotImplementedError

    def read_and_hash(self, e: Entry, algos: tuple[str, ...], keep_max: int | Callable[[bytes], int]) -> FileData:
        raise NotImplementedError

    def exists_ci(self, parts: tuple[str, ...]) -> bool:
        """Does this relative path exist (a folder or file; names compared case-insensitively)?"""
        raise NotImplementedError

    def read_small(self, rel: str, max_bytes: int) -> bytes | None:
        """A small file's content (None if absent, not regular, or larger than max_bytes)."""
        raise NotImplementedError

    def default_host_name(self) -> str:
        return "host"

    def close(self) -> None:
        """Release what the target holds open."""

    # ---- OS facts ------------------------------------------------------------------------
    def os_type(self) -> str:
        if self.live:
            return {"Windows": "windows", "Darwin": "macos"}.get(platform.system(), "linux")
        has = self.exists_ci
        if has(("Windows", "System32")) or has(("Users",)) and not has(("Applications",)):
            return "windows"
        if has(("Applications",)) or has(("System", "Library")) or has(("Library", "Preferences")):
            return "macos"
        return "linux"

    def host_name(self) -> str:
        """The tree's own name for itself (etc/hostname, the macOS ComputerName), else the target's name."""
        if self.live:
            return socket.gethostname()
        raw = self.read_small("etc/hostname", 255)
        name = raw.decode("utf-8", errors="replace").strip() if raw else ""
        if name:
            return name
        prefs = self.read_small("Library/Preferences/SystemConfiguration/preferences.plist", (1 << 20) - 1)
        if prefs:
            try:
                import plistlib

                data: Any = plistlib.loads(prefs)
                for key in ("System", "System", "ComputerName"):  # each level may be anything in a hostile file
                    data = data.get(key) if isinstance(data, dict) else None
                if isinstance(data, str) and data:
                    return data
            except Exception:  # noqa: BLE001 - best effort: plistlib raises many types; fall back to the name
                pass
        return self.default_host_name()


def base_name(path: str) -> str:
    return os.path.basename(os.path.abspath(path).rstrip("/"))
