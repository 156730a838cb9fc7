"""The indicator packs of a case: what the report quotes (title, date, remediation sentences,
C2 delay, affected versions), recorded in the case whatever the pack's origin.

Findings name their pack (`threat.enrichments[].indicator.provider`, the sweep summary's
`tracehound.pack`); they do not carry the advisory. A built-in pack is recorded from the
installation when a finding names it; any other pack is recorded by `case add CASE pack.json`
(tracehound JSON, STIX 2.1, MISP JSON or CSV, as `--intel` reads them). A pack named by
findings but not in the case is reported as missing, never silently dropped.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from tracehound.intel.model import IType, Pack

MIGRATION = """
CREATE TABLE packs (id INTEGER PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT NOT NULL, origin TEXT NOT NULL,
                    title TEXT NOT NULL, campaign TEXT NOT NULL, published TEXT NOT NULL, c2_delay_days INTEGER,
                    remediation TEXT NOT NULL, affected TEXT NOT NULL, counts TEXT NOT NULL,
                    ingest_id INTEGER NOT NULL REFERENCES ingests(id));
CREATE INDEX packs_name ON packs(name);
CREATE TABLE pack_refs (name TEXT NOT NULL, ingest_id INTEGER NOT NULL REFERENCES ingests(id), PRIMARY KEY (name, ingest_id))
"""


def pack_digest(pack: Pack) -> str:
    from tracehound.intel.formats import native

    return hashlib.sha256(native.dumps(pack).encode("utf-8")).hexdigest()


def looks_like_pack(path: Path) -> bool:
    """A file `--intel` reads as a pack (tracehound JSON, STIX bundle, MISP event, CSV pack), not
    findings, a hunt summary or another tool's JSON Lines. Decided by parsing, not by substrings
    (an EVTX finding quotes `"Event"` in its event.original)."""
    from tracehound import safejson
    from tracehound.intel.formats import MAX_PACK_BYTES

    try:
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            head = fh.read(65536)
        size = path.stat().st_size
    except OSError:
        return False
    if head.lower().startswith("type,value"):
        return True
    if head.lstrip()[:1] not in ("{", "[") or size > MAX_PACK_BYTES:
        return False
    first_line = head.lstrip().split("\n", 1)[0]
    try:
        safejson.loads(first_line)
        if "\n" in head.strip():
            return False  # JSON Lines: one document per line (findings), not a pack
    except ValueError:
        pass
    try:
        data = safejson.loads(path.read_text(encoding="utf-8-sig", errors="replace"))
    except (ValueError, OSError):
        return False
    if isinstance(data, list):
        return bool(data) and isinstance(data[0], dict) and "Event" in data[0]
    return isinstance(data, dict) and "tracehound" not in data and (
        data.get("format") == "tracehound-pack" or data.get("type") == "bundle" or "Event" in data
        or "response" in data or ("info" in data and "Attribute" in data))


def record_pack(db: sqlite3.Connection, pack: Pack, origin: str, ingest_id: int | None) -> None:
    affected = [{"product": i.value, "platform": ",".join(i.ctx("platform")), "versions": i.ctx("versions")}
                for i in pack.of_type(IType.SOFTWARE)]
    db.execute("INSERT INTO packs (name, sha256, origin, title, campaign, published, c2_delay_days, remediation, "
               "affected, counts, ingest_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
               (pack.name, pack_digest(pack), origin, pack.title, pack.campaign, pack.published, pack.c2_delay_days,
                json.dumps([r.to_dict() for r in pack.remediation], ensure_ascii=False), json.dumps(affected),
                json.dumps(pack.counts()), ingest_id))


def names_in(doc: dict[str, Any]) -> set[str]:
    """Pack names one finding (or sweep summary) says it was matched with."""
    from tracehound.findings.ecs import matched_indicators

    names = {str((doc.get("tracehound") or {}).get("pack") or "")} | {m["provider"] for m in matched_indicators(doc)}
    return {n for n in names if n}


def referenced_names(db: sqlite3.Connection) -> set[str]:
    """Pack names the findings of the case use (recorded per input at `case add`)."""
    return {n for (n,) in db.execute("SELECT DISTINCT name FROM pack_refs")}


def _parts(name: str, known: set[str]) -> list[str]:
    """A merged pack is named 'a+b' (several --intel): its parts."""
    return [name] if name in known or "+" not in name else [p for p in name.split("+") if p]


def record_builtins(db: sqlite3.Connection, names: set[str], ingest_id: int | None) -> None:
    """Record each built-in pack of `names` (used by the findings of one ingest) unless the case holds a pack
    of that name."""
    from tracehound.intel.builtin import BUILTIN_SOURCES, load_builtin

    known = {n for (n,) in db.execute("SELECT name FROM packs")}
    if ingest_id is not None:
        db.executemany("INSERT OR IGNORE INTO pack_refs VALUES (?,?)", [(n, ingest_id) for n in sorted(names)])
    for name in sorted(names):
        for part in _parts(name, known):
            if part not in known and part in BUILTIN_SOURCES:
                record_pack(db, load_builtin(part), f"builtin:{part}", ingest_id)
                known.add(part)


def case_packs(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every pack of the case (added files first, then built-ins), then each name the findings use that
    the case does not hold (`missing: true`)."""
    rows = db.execute("SELECT name, sha256, origin, title, campaign, published, c2_delay_days, remediation, affected, "
                      "counts FROM packs ORDER BY origin LIKE 'builtin:%', id").fetchall()
    out: list[dict[str, Any]] = []
    for name, sha, origin, title, campaign, published, delay, remediation, affected, counts in rows:
        out.append({"name": name, "sha256": sha, "origin": origin, "title": title, "campaign": campaign,
                    "published": published, "c2_delay_days": delay, "remediation": json.loads(remediation),
                    "affected": json.loads(affected), "counts": json.loads(counts), "missing": False})
    known = {p["name"] for p in out}
    for name in sorted(referenced_names(db)):
        for part in _parts(name, known):
            if part not in known:
                out.append({"name": part, "sha256": "", "origin": "", "title": "", "campaign": "", "published": "",
                            "c2_delay_days": None, "remediation": [], "affected": [], "counts": {}, "missing": True})
                known.add(part)
    return out
