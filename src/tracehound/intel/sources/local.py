"""Local sources: a pack file (any --intel format), a Loki IOC folder, or a folder of packs and advisories.

A file is read again only when its size or mtime changed and then only when its SHA-256 did; a
folder's files are each one document (top level, regular files, hidden ones ignored). A file that is
no pack format is read as an advisory by the extractor (`tracehound intel extract`). A file that
cannot be read is counted and keeps its previous indicators, so a half-copied file is not a
withdrawal."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from tracehound.errors import PackError, TracehoundError
from tracehound.intel.formats import read_pack
from tracehound.intel.formats.loki import FILES as LOKI_FILES
from tracehound.intel.model import Pack
from tracehound.intel.sources import Options, Poll, SourceError, indicator_map, merge_maps

KIND = "local"
_ADVISORY = (".txt", ".html", ".htm", ".md", ".pdf")


class LocalSource:
    kind = KIND

    def __init__(self, path: str, options: Options) -> None:
        self.path = Path(path[len("file://"):] if path.startswith("file://") else path)
        self.label = str(self.path)
        self.options = options

    def _documents(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        if not self.path.is_dir():
            raise SourceError(f"{self.label}: no such file or folder")
        if any((self.path / name).is_file() for name in LOKI_FILES):
            return [self.path]  # one Loki IOC folder: its three files read together
        try:
            names = sorted(p for p in self.path.iterdir() if not p.name.startswith(".") and p.is_file()
                           and not p.is_symlink())
        except OSError as exc:
            raise SourceError(f"{self.label}: cannot list: {exc.strerror}") from None
        return names

    def poll(self, token: dict[str, Any]) -> Poll:
        old: dict[str, Any] = dict(token.get("files") or {})
        docs = self._documents()
        poll = Poll({}, {})
        files: dict[str, Any] = {}
        for n, doc in enumerate(docs):
            name = str(doc)
            if n >= self.options.max_documents:
                poll.skipped[f"files over the limit of {self.options.max_documents}"] = len(docs) - n
                break
            try:
                stamp, digest = _stamp(doc, self.options.max_bytes)
            except OSError as exc:
                poll.skipped[f"unreadable files ({exc.strerror or exc}; previous indicators kept)"] = \
                    poll.skipped.get(f"unreadable files ({exc.strerror or exc}; previous indicators kept)", 0) + 1
                if name in old:
                    files[name] = old[name]
                continue
            prev = old.get(name)
            if prev and (prev.get("stamp") == stamp or prev.get("sha256") == digest):
                files[name] = dict(prev, stamp=stamp)
                continue
            try:
                pack = _read(doc)
            except TracehoundError as exc:
                reason = f"files not read ({exc.message}{'; previous indicators kept' if prev else ''})"
                poll.skipped[reason] = poll.skipped.get(reason, 0) + 1
                if prev:
                    files[name] = prev
                continue
            poll.fetched += 1
            poll.rejected += pack.rejections()
            files[name] = {"stamp": stamp, "sha256": digest, "indicators": indicator_map(pack)}
        poll.indicators = merge_maps([f["indicators"] for f in files.values()])
        poll.token = {"files": files}
        poll.not_modified = not poll.fetched and set(files) == set(old)
        return poll


def _stamp(path: Path, max_bytes: int) -> tuple[str, str]:
    """(size:mtime_ns, SHA-256 of the content) for a file, or of the Loki files of a folder."""
    parts = [path / n for n in LOKI_FILES if (path / n).is_file()] if path.is_dir() else [path]
    stamps, digest = [], hashlib.sha256()
    for p in parts:
        st = p.stat()
        if st.st_size > max_bytes:
            raise OSError(f"larger than {max_bytes} bytes")
        stamps.append(f"{st.st_size}:{st.st_mtime_ns}")
        with p.open("rb") as fh:
            digest.update(hashlib.file_digest(fh, "sha256").digest())
    return ",".join(stamps), digest.hexdigest()


def _read(path: Path) -> Pack:
    """A pack in any --intel format; an advisory (.pdf .html .htm .md, or a .txt that is no Loki file)
    through the extractor."""
    suffix = path.suffix.lower()
    if suffix not in _ADVISORY or suffix == ".txt":
        try:
            return read_pack(str(path))
        except PackError as exc:
            if "unknown indicator format" not in exc.message or suffix != ".txt":
                raise
    from tracehound.intel.extract import ExtractOptions, extract_files

    return extract_files([str(path)], ExtractOptions(name=path.stem)).pack


def open_source(uri: str, options: Options) -> LocalSource:
    if not os.path.exists(uri[len("file://"):] if uri.startswith("file://") else uri):
        raise SourceError(f"{uri}: no such file or folder (a source is a path, taxii+https://... or misp+https://...)")
    return LocalSource(uri, options)
