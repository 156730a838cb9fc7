"""Files of a target that is not a folder (an archive member, a file inside a disk image), and
how a check opens one again: from memory (memfd), never from a copy on disk."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from tracehound.sources.hosts.walk import Entry


@dataclass(frozen=True)
class MemberEntry(Entry):
    member: str = ""  # the member's name inside the archive


_ACTIVE: list[Any] = []  # the target being swept in this process (one at a time)


def activate(target: Any) -> None:
    _ACTIVE[:] = [target]


def deactivate(target: Any) -> None:
    if _ACTIVE and _ACTIVE[0] is target:
        _ACTIVE.clear()


def open_member(e: Entry) -> int:
    """A read-only descriptor of an archive member's content, in memory (memfd: nothing on disk)."""
    if not _ACTIVE:
        raise FileNotFoundError(e.path)
    data = _ACTIVE[0].member_bytes(getattr(e, "member", ""))  # the target serves its members' bytes
    fd = os.memfd_create("tracehound-member", os.MFD_CLOEXEC)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd


def cached_bytes(e: Entry) -> bytes | None:
    """The bytes of an archive member for a check that needs them whole (None for folder files)."""
    if not getattr(e, "member", "") or not _ACTIVE:
        return None
    try:
        return _ACTIVE[0].member_bytes(getattr(e, "member", ""))
    except OSError:
        return None
