"""A folder (a mounted image, an unpacked collection) or the live system's `/`, read through the
safe opener only (tracehound.fsutil.open_beneath: nothing followed, O_NOATIME, dir descriptors)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from tracehound import fsutil
from tracehound.sources.hosts import reading
from tracehound.sources.hosts.reading import FileData
from tracehound.sources.hosts.walk import Entry, WalkStats, walk
from tracehound.sources.targets.base import Target, base_name


class FolderTarget(Target):
    def __init__(self, root: str, live: bool = False) -> None:
        self.root = os.path.abspath(root)
        self.live = live
        self.kind = "live" if live else "folder"
        self.display = self.root

    def walk(self, stats: WalkStats, excludes: tuple[str, ...] = (), one_file_system: bool = False) -> Iterator[Entry]:
        return walk(self.root, stats, excludes, one_file_system)

    def read_and_hash(self, e: Entry, algos: tuple[str, ...], keep_max: int | Callable[[bytes], int]) -> FileData:
        return reading.read_and_hash(e, algos, keep_max)

    def exists_ci(self, parts: tuple[str, ...]) -> bool:  # listed through the safe opener: atimes kept
        return fsutil.ci_exists(self.root, parts)

    def read_small(self, rel: str, max_bytes: int) -> bytes | None:
        # An `etc -> /etc` symlink in the tree is not followed (it would name the analyst's machine).
        return fsutil.read_beneath(self.root, rel, max_bytes)

    def default_host_name(self) -> str:
        return base_name(self.root) or "host"

    def close(self) -> None:
        reading.release_folder()
