"""First sightings of hit hosts collected in the hunt's own pass (no second read of that part).

Each worker follows the hosts it finds hits for: from the block where a host's first hit is found
to the end of its range (or from the block where it learns that another worker found the host:
the workers of a hunt share the identities they find through a small file), every record holding one of the host's identities (its source IP and
name, as the findings give them) is parsed and its time kept if it is the earliest. The identities
are searched in the same Hyperscan scan as the indicator literals (one database of both, rebuilt
when new hosts are found; with a large pack, whose database is slow to rebuild, in a second scan
of the block in hand instead). The block where a host is first found is searched for it at once.

What stays to read for first_seen.py is, per range, the part before the block where tracking of a
host began (all of it for a host never hit in that range): `parts` of the report give, per range,
(start, end, tracked-from offset per identity, earliest time per identity). Logs need not be in
time order: every record of a followed host is looked at, not only the first.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from tracehound.matching.hs_cache import CACHE_MIN
from tracehound.matching.prefilter import Prefilter
from tracehound.sources.logs.observation import RecordError
from tracehound.sources.logs.readers import Reader

PARSE_ERRORS = (RecordError, ValueError, KeyError, IndexError, TypeError)
Part = tuple[int, "int | None", dict[str, int], dict[str, datetime]]  # start, end, tracked from, earliest


def doc_identities(doc: dict[str, Any]) -> list[str]:
    """A finding's host identities, as the hunt summary takes them (HostTimeline: source.ip, host.name)."""
    vals = [(doc.get("source") or {}).get("ip"), (doc.get("host") or {}).get("name")]
    return [str(v).lower() for v in vals if v]


class SightTracker:
    def __init__(self, reader: Reader, prefilter: Prefilter, max_line: int, shared: str = "") -> None:
        """shared: a file the workers of one hunt append the identities they find to (one a line), so
        that a worker follows a host from the moment any worker found it, not only itself."""
        self.reader = reader
        self.shared = shared
        self._shared_at = 0
        self.base = prefilter  # the indicator literals
        self.max_line = max_line
        self.ids: set[str] = set()
        self.new: set[str] = set()
        self.tracked: dict[str, int] = {}
        self.seen: dict[str, datetime] = {}
        self._combined: Prefilter | None = None  # indicators + identities, one scan
        self._own: Prefilter | None = None  # identities alone (large packs)
        self._indicator_ids: set[int] = set()
        self._id_ends: list[int] = []
        self.broken = False

    def note(self, doc: dict[str, Any]) -> None:
        for ident in doc_identities(doc):
            if ident not in self.ids:
                self.new.add(ident)

    def scan(self, data: bytes) -> list[int]:
        """The indicator literals' end offsets in a block (what Prefilter.candidate_ends gives); the
        identities' ones are kept for block()."""
        self._id_ends = []
        if self._combined is None:
            return self.base.candidate_ends(data)
        ends: list[int] = []
        for lit, end in self._combined.ends_by_literal(data):
            if lit in self._indicator_ids:
                ends.append(end)
            else:
                self._id_ends.append(end)
        return ends

    def block(self, data: bytes, offset: int, next_offset: int, headers: bool) -> None:
        """After the block's candidates: sightings in it; then start following the hosts found in it.
        A failure here must not cost the hunt its findings: following stops, the second pass reads all."""
        if self.broken:
            return
        try:
            self._block(data, offset, next_offset, headers)
        except Exception:  # noqa: BLE001 - see above
            self.broken = True
            self._combined = self._own = None

    def _block(self, data: bytes, offset: int, next_offset: int, headers: bool) -> None:
        if headers and self.ids:
            # The reader took header lines of this block: records before the last one are not read
            # with their own header here. This block and what came before are left to the second pass.
            self.tracked = {i: next_offset for i in self.tracked}
        elif self._own is not None:
            self._sightings(data, self._own.candidate_ends(data))
        elif self._id_ends:
            self._sightings(data, self._id_ends)
        self._exchange()
        if not self.new:
            return
        fresh, self.new = self.new, set()
        if not headers:
            self._sightings(data, Prefilter(fresh).candidate_ends(data), fresh)
        start = next_offset if headers else offset
        for ident in fresh:
            self.tracked[ident] = start
        self.ids |= fresh
        if len(self.base.literals) >= CACHE_MIN:
            self._own = Prefilter(self.ids)
        else:
            self._combined = Prefilter(set(self.base.literals) | self.ids)
            base = set(self.base.literals)
            self._indicator_ids = {i for i, lit in enumerate(self._combined.literals) if lit in base}

    def _exchange(self) -> None:
        """Publish the identities this worker found in the block; take those the others found."""
        if not self.shared:
            return
        try:
            if self.new:
                with open(self.shared, "a", encoding="utf-8", errors="surrogateescape") as fh:
                    fh.write("".join(f"{i}\n" for i in sorted(self.new) if "\n" not in i))
            if os.path.getsize(self.shared) <= self._shared_at:
                return
            with open(self.shared, "rb") as fh:
                fh.seek(self._shared_at)
                got = fh.read()
        except OSError:
            return
        got = got[:got.rfind(b"\n") + 1]  # a line still being written: next time
        self._shared_at += len(got)
        for line in got.decode("utf-8", "surrogateescape").splitlines():
            if line and line not in self.ids:
                self.new.add(line)

    def _sightings(self, data: bytes, ends: list[int], only: set[str] | None = None) -> None:
        ids = only if only is not None else self.ids
        size = len(data)
        for start in sorted({data.rfind(b"\n", 0, end) + 1 for end in ends}):
            stop = data.find(b"\n", start)
            stop = size if stop == -1 else stop
            if stop - start > self.max_line:
                continue
            text = data[start:stop].decode("utf-8", errors="replace").rstrip("\r")
            if self.reader.has_headers and text.startswith("#"):
                continue
            try:
                observations = self.reader.parse(text)
            except PARSE_ERRORS:
                continue
            for obs in observations:
                if obs.ts is None:
                    continue
                for ident in (obs.src_ip.lower(), obs.src_host.lower()):
                    if ident in ids:
                        self._keep(ident, obs.ts)

    def _keep(self, ident: str, ts: datetime) -> None:
        old = self.seen.get(ident)
        try:
            if old is None or ts < old:
                self.seen[ident] = ts
        except TypeError:  # a naive time beside an aware one: the first kept (as first_seen.py does)
            pass

    def part(self, start: int, end: int | None) -> Part:
        if self.broken:
            return start, end, {}, {}
        return start, end, dict(self.tracked), dict(self.seen)
