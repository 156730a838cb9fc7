"""TAXII 2.1 collection (taxii2-client): objects paged with `next`, incremental with `added_after`.

The first poll reads the whole collection; later polls ask only for objects added after the last
X-TAXII-Date-Added-Last the server sent. Each STIX indicator object is read by the STIX pack reader
(so its pattern and value pass the pack canonicalisation); a newer version replaces the older one, a
version with `revoked: true` or a past `valid_until` withdraws the object's indicators. A server that
sends no date header is read in full every poll, and then an object deleted from the collection is
withdrawn too."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from tracehound.errors import PackError
from tracehound.intel.formats import stix
from tracehound.intel.sources import Options, Poll, SourceError, indicator_map, merge_maps, public_label

KIND = "taxii"
_DATE_LAST = "X-TAXII-Date-Added-Last"


def _when(value: Any) -> datetime | None:
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class TaxiiCollection:
    kind = KIND

    def __init__(self, uri: str, options: Options) -> None:
        parts = urlsplit(uri.split("+", 1)[1])
        self.user = unquote(parts.username or "") or os.environ.get("TRACEHOUND_TAXII_USER", "")
        self.password = unquote(parts.password or "") or os.environ.get("TRACEHOUND_TAXII_PASSWORD", "")
        netloc = parts.netloc.rsplit("@", 1)[-1]
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        self.url = urlunsplit(parts._replace(netloc=netloc, path=path))
        self.label = public_label(uri)
        self.options = options

    def _collection(self, seen: dict[str, Any]) -> Any:
        from taxii2client.v21 import Collection

        col = Collection(self.url, user=self.user or None, password=self.password or None)
        session = col._conn.session
        session.request = partial(session.request, timeout=self.options.timeout)
        limit = self.options.max_bytes

        def on_response(resp: Any, *args: Any, **kwargs: Any) -> None:
            seen["requests"] += 1
            length = resp.headers.get("Content-Length", "")
            if (length.isdigit() and int(length) > limit) or len(resp.content) > limit:
                raise SourceError(f"GET {public_label(resp.url)}: response over the limit of {limit} bytes")
            last = resp.headers.get(_DATE_LAST)
            if last and (not seen["last"] or (_when(last) or datetime.min.replace(tzinfo=UTC))
                         > (_when(seen["last"]) or datetime.min.replace(tzinfo=UTC))):
                seen["last"] = last

        session.hooks["response"].append(on_response)
        return col

    def poll(self, token: dict[str, Any]) -> Poll:
        import requests
        from taxii2client.exceptions import TAXIIServiceException

        seen: dict[str, Any] = {"requests": 0, "last": token.get("added_after", "")}
        after = str(token.get("added_after", ""))
        objects: dict[str, Any] = dict(token.get("objects") or {}) if after else {}
        poll = Poll({}, {})
        now = datetime.now(UTC)
        try:
            col = self._collection(seen)
            for envelope in self._pages(col, after):
                poll.fetched += 1
                for obj in envelope.get("objects") or []:
                    self._object(obj, objects, poll, now)
                seen["objects"] = seen.get("objects", 0) + len(envelope.get("objects") or [])
        except SourceError:
            raise
        except requests.exceptions.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            raise SourceError(f"HTTP {status} {getattr(exc.response, 'reason', '')}".rstrip()) from None
        except requests.exceptions.Timeout:
            raise SourceError(f"timed out after {self.options.timeout:g} s") from None
        except requests.exceptions.RequestException as exc:
            raise SourceError(f"{type(exc).__name__}: {str(exc)[:300]}") from None
        except (TAXIIServiceException, ValueError, KeyError, TypeError, AttributeError) as exc:  # media type, JSON
            raise SourceError(f"not a TAXII 2.1 answer: {' '.join(str(exc).split())[:300]}") from None
        for oid in [o for o, e in objects.items() if (_when(e.get("valid_until")) or now) < now]:
            objects.pop(oid)  # expired since the poll that fetched it
        poll.indicators = merge_maps([e["indicators"] for e in objects.values()])
        poll.token = {"added_after": seen["last"] if seen["last"] else "", "objects": objects}
        poll.not_modified = bool(after) and not seen.get("objects")
        poll.requests = seen["requests"]
        return poll

    def _pages(self, col: Any, after: str) -> Iterator[dict[str, Any]]:
        """Get Objects, page after page with `next` (opaque: medallion sends the same one for every page).
        A server that says `more` without a `next`, or pages that bring no object not already seen in
        this poll, is an error, not an endless loop."""
        kwargs: dict[str, Any] = {"limit": self.options.page_size}
        if after:
            kwargs["added_after"] = after
        seen: set[tuple[str, str]] = set()
        for _ in range(self.options.max_documents):
            envelope = col.get_objects(**kwargs)
            objects = envelope.get("objects", []) if isinstance(envelope, dict) else None
            if not isinstance(objects, list):
                raise SourceError("the server's answer is not a TAXII envelope (objects, more, next)")
            yield envelope
            if not envelope.get("more"):
                return
            versions = {(str(o.get("id")), str(o.get("modified", ""))) for o in objects if isinstance(o, dict)}
            nxt = str(envelope.get("next") or "")
            if not nxt or not versions - seen:
                raise SourceError("the server says there is more but sends no 'next' or no new object (paging stopped)")
            seen |= versions
            kwargs["next"] = nxt
        raise SourceError(f"more than {self.options.max_documents} pages in one poll")

    def _object(self, obj: Any, objects: dict[str, Any], poll: Poll, now: datetime) -> None:
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            poll.skipped["objects that are not STIX objects"] = poll.skipped.get("objects that are not STIX objects", 0) + 1
            return
        if obj.get("type") != "indicator":
            return  # malware, identity, relationship...: context, not indicators
        oid, modified = obj["id"][:200], str(obj.get("modified", ""))
        old = objects.get(oid)
        if old and (_when(old.get("modified")) or now) > (_when(modified) or now):
            return  # an older version than the one already read
        if obj.get("revoked") is True or (_when(obj.get("valid_until")) or now) < now:
            objects.pop(oid, None)
            return
        bundle = json.dumps({"type": "bundle", "id": "bundle--watch", "objects": [obj]})
        try:
            pack = stix.loads(bundle, oid)
        except PackError as exc:
            poll.skipped[f"unreadable objects ({exc.message})"] = poll.skipped.get(f"unreadable objects ({exc.message})", 0) + 1
            return
        poll.rejected += pack.rejections()
        if pack.rules:  # a yara/sigma indicator: the store holds observations, not files or events
            why = "detection rules (pattern_type yara/sigma): not run against the store (export them with intel convert)"
            poll.skipped[why] = poll.skipped.get(why, 0) + len(pack.rules)
        for e in pack.excluded:
            if not e.reason.startswith("rejected: "):
                poll.skipped[e.reason] = poll.skipped.get(e.reason, 0) + 1
        objects[oid] = {"modified": modified, "valid_until": str(obj.get("valid_until", "")),
                        "indicators": indicator_map(pack)}


def open_source(uri: str, options: Options) -> TaxiiCollection:
    rest = uri.split("+", 1)[1]
    if urlsplit(rest).scheme not in ("http", "https") or "/collections/" not in urlsplit(rest).path:
        raise SourceError(f"{public_label(uri)}: a TAXII source is taxii+https://HOST/API-ROOT/collections/ID/")
    return TaxiiCollection(uri, options)
