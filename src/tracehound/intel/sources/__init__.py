"""Intel sources `tracehound watch` follows: one module per kind, one registry.

A source is polled with the state token it returned last time (an opaque JSON object: ETag and
Last-Modified, TAXII `added_after`, MISP manifest timestamps, file digests, plus the indicators of
what did not change) and answers with the *whole* current indicator set and the new token. The
watch engine diffs sets; a source only has to avoid fetching what did not change.

URIs:
    taxii+http(s)://[user:pass@]host/api-root/collections/ID/   TAXII 2.1 collection (taxii.py)
    misp+http(s)://host/path/                                   MISP feed: manifest.json, events, hashes.csv
    PATH                                                        a pack file, a Loki folder, a folder of packs
                                                                or advisories (local.py)

A new kind is one module with `KIND`, `open_source(uri, options) -> Source` and its test, listed in
`_MODULES`."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from tracehound.errors import TracehoundError, UsageError
from tracehound.intel.model import Exclusion, Indicator, Pack

_MODULES = {"taxii": "tracehound.intel.sources.taxii", "misp": "tracehound.intel.sources.misp_feed"}
LOCAL = "tracehound.intel.sources.local"


class SourceError(TracehoundError):
    """A source that could not be polled this time (network, server, bad content): retried with back-off."""

    exit_code = 4


@dataclass
class Options:
    timeout: float = 30.0
    max_bytes: int = 64 * 1024 * 1024  # one response or file
    max_documents: int = 10_000  # events of a feed, files of a folder, pages of a collection
    page_size: int = 500


@dataclass
class Poll:
    """What one poll saw. `indicators` maps indicator key -> Indicator.to_dict() (the whole current set)."""

    indicators: dict[str, dict[str, Any]]
    token: dict[str, Any]
    fetched: int = 0  # documents (events, pages, files) actually transferred or read
    not_modified: bool = False  # the server or the disk said nothing changed
    rejected: list[Exclusion] = field(default_factory=list)  # values refused by the pack canonicalisation
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count (never silent)
    requests: int = 0


class Source(Protocol):
    kind: str
    label: str  # the URI shown to people (no credentials)

    def poll(self, token: dict[str, Any]) -> Poll: ...


def key_str(ind: Indicator) -> str:
    return "|".join(ind.key)


def indicator_map(pack: Pack) -> dict[str, dict[str, Any]]:
    return {key_str(i): i.to_dict() for i in pack.indicators}


def merge_maps(maps: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Union of indicator sets; the same indicator from two documents is merged (context, sources). Values
    were canonicalised when read: only indicators present in several maps are parsed again, to merge."""
    out: dict[str, dict[str, Any]] = {}
    merged: dict[str, Indicator] = {}
    for m in maps:
        for k, d in m.items():
            if k not in out:
                out[k] = d
                continue
            if k not in merged:
                merged[k] = Indicator.from_dict(out[k])
            merged[k].merge(Indicator.from_dict(d))
    for k, ind in merged.items():
        out[k] = ind.to_dict()
    return out


def public_label(uri: str) -> str:
    """The URI without user:password (it is printed and written to state)."""
    parts = urlsplit(uri)
    if parts.scheme and parts.netloc and "@" in parts.netloc:
        return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    return uri


def open_source(uri: str, options: Options | None = None) -> Source:
    options = options or Options()
    scheme = urlsplit(uri).scheme.lower() if "://" in uri else ""
    kind = scheme.split("+", 1)[0] if "+" in scheme else ""
    if kind in _MODULES:
        return importlib.import_module(_MODULES[kind]).open_source(uri, options)
    if scheme in ("http", "https"):
        raise UsageError(f"--source {public_label(uri)}: say which protocol: taxii+{scheme}://... (TAXII 2.1 "
                         f"collection) or misp+{scheme}://... (MISP feed)")
    if scheme and scheme != "file":
        raise UsageError(f"--source {public_label(uri)}: unknown source kind {scheme!r} (known: "
                         f"{', '.join(f'{k}+http(s)' for k in sorted(_MODULES))}, or a local path)")
    return importlib.import_module(LOCAL).open_source(uri, options)


__all__ = ["Options", "Poll", "Source", "SourceError", "indicator_map", "key_str", "merge_maps", "open_source",
           "public_label"]
