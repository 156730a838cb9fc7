"""Sweep targets: one read-only view over the live system, a folder, or a collection archive.

`open_target(path, live)` picks the kind: no path is the live system's `/`; a folder is read
through the safe opener (tracehound.fsutil); a zip or tar file (gz, zst, xz, bz2) is read in
place as a triage collection (KAPE, Velociraptor, UAC, CyLR layouts). Disk images are not read
yet: an image file is refused with a clear message.
"""

from __future__ import annotations

import os

from tracehound.sources.targets.base import Target, TargetError
from tracehound.sources.targets.folder import FolderTarget


def open_target(path: str | None, live: bool = False) -> Target:
    if not path:
        return FolderTarget("/", live=True)
    if os.path.isdir(path):
        return FolderTarget(path, live=live)
    if not os.path.exists(path):
        raise TargetError(f"{path}: no such file or folder")
    from tracehound.sources.targets.archive import ArchiveTarget, is_archive

    if is_archive(path):
        return ArchiveTarget(path)
    raise TargetError(f"{path}: not a folder, zip or tar collection (disk images are not supported yet)")


__all__ = ["FolderTarget", "Target", "TargetError", "open_target"]
