"""What `hunt` reads: the user's arguments expanded once into a list of files.

- An argument that names an existing path is taken literally, even when it holds glob
  characters (`access[1].log`); only an argument that names nothing is a glob pattern.
- Names found on disk are never patterns: a file called `**` or `a[1].log` inside a folder is
  that file, and the engines never expand the list a second time as globs.
- Folders are walked without following symlinks: a symlink inside a folder (to a file or to a
  folder, e.g. `etc -> /etc` in a log bundle) is not read and is counted in `symlinks`. A glob
  match reached through a symlinked folder is dropped and counted the same way. A symlink given
  explicitly as an argument is followed (the user named it).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from tracehound.errors import UsageError

_MAGIC = ("*", "?", "[")


@dataclass
class Expansion:
    files: list[str] = field(default_factory=list)
    symlinks: list[str] = field(default_factory=list)  # found while expanding, not followed


def expand_inputs(specs: list[str], globs: bool = True) -> Expansion:
    """Files, folders (recursively, sorted) and, when `globs`, glob patterns."""
    out = Expansion()
    seen: set[str] = set()

    def add(p: str) -> None:
        if p not in seen:
            seen.add(p)
            out.files.append(p)

    for spec in specs:
        if os.path.lexists(spec) or not globs or not any(c in spec for c in _MAGIC):
            matches = [spec]
        else:
            matches = sorted(glob.glob(spec, recursive=True))
            if not matches:
                raise UsageError(f"no file matches {spec!r}")
            kept = [m for m in matches if not _through_symlink(m, _fixed_prefix(spec))]
            out.symlinks += [m for m in matches if m not in kept]
            matches = kept
        for m in matches:
            if os.path.isdir(m) and not (os.path.islink(m) and m != spec):
                _walk(m, add, out.symlinks)
            elif os.path.lexists(m):
                if os.path.islink(m) and m != spec:
                    out.symlinks.append(m)  # a glob match that is itself a symlink
                else:
                    add(m)
            else:
                raise UsageError(f"no such file or folder: {m}")
    return out


def expand_paths(specs: list[str], globs: bool = True) -> list[str]:
    return expand_inputs(specs, globs).files


def _walk(top: str, add: Callable[[str], None], symlinks: list[str]) -> None:
    for root, dirs, files in os.walk(top, followlinks=False):
        dirs.sort()
        for d in list(dirs):
            if os.path.islink(os.path.join(root, d)):
                symlinks.append(os.path.join(root, d))
                dirs.remove(d)
        for name in sorted(files):
            p = os.path.join(root, name)
            if os.path.islink(p):
                symlinks.append(p)
            else:
                add(p)


def _fixed_prefix(spec: str) -> str:
    """The leading part of a glob without magic characters: the folder the user named."""
    parts = spec.split(os.sep)
    fixed = []
    for part in parts:
        if any(c in part for c in _MAGIC):
            break
        fixed.append(part)
    return os.sep.join(fixed)


def _through_symlink(match: str, prefix: str) -> bool:
    """Does `match` pass through a symlinked folder below the part of the path the user typed?"""
    head = os.path.dirname(match)
    stop = os.path.normpath(prefix) if prefix else ""
    while head and os.path.normpath(head) not in (stop, ".", os.sep):
        if os.path.islink(head):
            return True
        nxt = os.path.dirname(head)
        if nxt == head:
            break
        head = nxt
    return False
