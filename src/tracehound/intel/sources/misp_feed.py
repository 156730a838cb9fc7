"""MISP feed (the format MISP publishes and reads: `manifest.json`, one `UUID.json` per event, `hashes.csv`).

Each poll GETs manifest.json with If-None-Match / If-Modified-Since; a 304 means no event changed.
Otherwise only events whose manifest `timestamp` changed, or that are new, are fetched; events gone
from the manifest are gone from the set. hashes.csv (MD5 of each attribute value, event UUID), when
the feed has it, is a second change signal: an event whose value hashes changed is fetched again
even when its manifest timestamp did not. Events are read by the MISP pack reader, so every value
passes the pack canonicalisation (refusals counted)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import urlsplit

from tracehound import safejson
from tracehound.errors import PackError
from tracehound.intel.formats import misp
from tracehound.intel.sources import Options, Poll, SourceError, indicator_map, merge_maps, public_label
from tracehound.intel.sources.http import get

KIND = "misp"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class MispFeed:
    kind = KIND

    def __init__(self, uri: str, options: Options) -> None:
        url = uri.split("+", 1)[1]
        self.base = url if url.endswith("/") else url + "/"
        if url.endswith("manifest.json"):
            self.base = url[: -len("manifest.json")]
        self.label = public_label(uri)
        self.options = options
        self.requests = 0

    def _get(self, name: str, etag: str = "", last_modified: str = "", missing_ok: bool = False) -> Any:
        self.requests += 1
        return get(self.base + name, timeout=self.options.timeout, max_bytes=self.options.max_bytes, etag=etag,
                   last_modified=last_modified, missing_ok=missing_ok)

    def poll(self, token: dict[str, Any]) -> Poll:
        self.requests = 0
        events: dict[str, Any] = dict(token.get("events") or {})
        man = self._get("manifest.json", token.get("etag", ""), token.get("last_modified", ""))
        hashes_tok = dict(token.get("hashes") or {})
        hashes, hashes_tok = self._hashes(hashes_tok)
        if man.status == 304 and hashes is None:
            return Poll(merge_maps([e["indicators"] for e in events.values()]), token, not_modified=True,
                        requests=self.requests)
        poll = Poll({}, {}, requests=0)
        if man.status == 304:
            manifest = {u: {"timestamp": e["timestamp"]} for u, e in events.items()}
        else:
            manifest = self._manifest(man.body, poll)
        fresh: dict[str, Any] = {}
        for uuid, entry in manifest.items():
            stamp = str(entry.get("timestamp", "")) if isinstance(entry, dict) else ""
            digest = hashes.get(uuid, "") if hashes is not None else events.get(uuid, {}).get("hashes", "")
            old = events.get(uuid)
            if old and old.get("timestamp") == stamp and old.get("hashes", "") == digest:
                fresh[uuid] = old
                continue
            if poll.fetched >= self.options.max_documents:
                poll.skipped["events over the per-poll limit (fetched at the next poll)"] = \
                    poll.skipped.get("events over the per-poll limit (fetched at the next poll)", 0) + 1
                if old:
                    fresh[uuid] = old
                continue
            fresh[uuid] = {"timestamp": stamp, "hashes": digest, "indicators": self._event(uuid, poll)}
            poll.fetched += 1
        poll.indicators = merge_maps([e["indicators"] for e in fresh.values()])
        poll.token = {"etag": man.etag, "last_modified": man.last_modified, "events": fresh, "hashes": hashes_tok}
        poll.requests = self.requests
        return poll

    def _manifest(self, body: bytes, poll: Poll) -> dict[str, Any]:
        try:
            data = safejson.loads(body.decode("utf-8", errors="replace"))
        except json.JSONDecodeError as exc:
            raise SourceError(f"{self.base}manifest.json:{exc.lineno}: invalid JSON: {exc.msg}") from None
        if not isinstance(data, dict):
            raise SourceError(f"{self.base}manifest.json: not a MISP feed manifest (expected an object of event UUIDs)")
        out: dict[str, Any] = {}
        for uuid, entry in data.items():
            if not _UUID.fullmatch(str(uuid)) or not isinstance(entry, dict):
                poll.skipped["manifest entries that are not an event UUID with its metadata"] = \
                    poll.skipped.get("manifest entries that are not an event UUID with its metadata", 0) + 1
                continue
            out[str(uuid).lower()] = entry
        return out

    def _event(self, uuid: str, poll: Poll) -> dict[str, Any]:
        resp = self._get(f"{uuid}.json")
        where = f"{self.base}{uuid}.json"
        try:
            pack = misp.loads(resp.body.decode("utf-8", errors="replace"), where)
        except PackError as exc:
            raise SourceError(str(exc)) from None
        poll.rejected += pack.rejections()
        for e in pack.excluded:
            if not e.reason.startswith("rejected: "):
                poll.skipped[f"{e.value}: {e.reason}"] = poll.skipped.get(f"{e.value}: {e.reason}", 0) + 1
        return indicator_map(pack)

    def _hashes(self, tok: dict[str, Any]) -> tuple[dict[str, str] | None, dict[str, Any]]:
        """Per event UUID, a digest of its value hashes from hashes.csv; None when unchanged or absent."""
        resp = self._get("hashes.csv", tok.get("etag", ""), tok.get("last_modified", ""), missing_ok=True)
        if resp.status == 304:
            return None, tok
        if resp.status == 404:
            return None, {}
        per: dict[str, list[str]] = {}
        for line in resp.body.decode("utf-8", errors="replace").splitlines():
            value_md5, _, uuid = line.strip().partition(",")
            if _UUID.fullmatch(uuid.strip()) and re.fullmatch(r"[0-9a-fA-F]{32}", value_md5):
                per.setdefault(uuid.strip().lower(), []).append(value_md5.lower())
        digests = {u: hashlib.sha256(",".join(sorted(v)).encode()).hexdigest()[:16] for u, v in per.items()}
        return digests, {"etag": resp.etag, "last_modified": resp.last_modified}


def open_source(uri: str, options: Options) -> MispFeed:
    if urlsplit(uri.split("+", 1)[1]).scheme not in ("http", "https"):
        raise SourceError(f"{public_label(uri)}: a MISP feed is misp+http://... or misp+https://...")
    return MispFeed(uri, options)
