"""Sweep targets: one read-only view over the live system, a folder, or a collection archive.

`open_target(path, live)` picks the kind: no path is the live system's `/`; a folder is read
through the safe opener (tracehound.fsutil); a zip or tar file (gz, zst, xz, bz2) is read in
place as a triage collection (KAPE, Velociraptor, UAC, CyLR layouts); any other file is opened as
a disk image (dissect: raw with MBR/GPT or none; ext4, FAT, NTFS), or refused with a clear message.
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
    from tracehound.sources.targets.image import ImageTarget

    return ImageTarget(path)  # a disk image, or a clear error naming the file


__all__ = ["FolderTarget", "Target", "TargetError", "open_target"]
