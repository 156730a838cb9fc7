"""The case: every finding of one investigation in SQLite (WAL), with per-host verdicts.

- Each ingested file is one transaction: a killed `case add` leaves the case as it was before
  that file (SQLite's atomic commit), never half a file.
- Idempotent: a file is identified by the SHA-256 of its content; adding it again is a no-op.
- Schema migrations are numbered steps applied in order, recorded in `meta.schema_version`.
- Host identities: findings name hosts by name, IP or user; inventory records tie IPs and
  aliases to a host name, so a proxy log's 10.0.0.5 and a sweep of WS-ALICE become one host.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracehound.errors import InputError, UsageError
from tracehound.findings.ecs import VERDICT_ORDER
from tracehound.outputs import case_packs
from tracehound.outputs.case_inputs import is_lease_file, read_docs, read_leases, utc_iso
from tracehound.outputs.case_withdrawn import mark_withdrawn, withdrawals

DB_NAME = "case.sqlite"

MIGRATIONS: list[str] = [
    # 1: initial schema
    """
    CREATE TABLE ingests (id INTEGER PRIMARY KEY, sha256 TEXT UNIQUE NOT NULL, path TEXT NOT NULL,
                          added_at TEXT NOT NULL, records INTEGER NOT NULL, skipped INTEGER NOT NULL);
    CREATE TABLE findings (id INTEGER PRIMARY KEY, ingest_id INTEGER NOT NULL REFERENCES ingests(id),
                           line INTEGER NOT NULL, source TEXT, kind TEXT, record TEXT, host TEXT NOT NULL,
                           verdict TEXT, ts TEXT, doc TEXT NOT NULL);
    CREATE INDEX findings_host ON findings(host);
    CREATE TABLE identities (identity TEXT PRIMARY KEY, host TEXT NOT NULL, source TEXT NOT NULL);
    CREATE TABLE hunt_coverage (id INTEGER PRIMARY KEY, ingest_id INTEGER NOT NULL REFERENCES ingests(id),
                                format TEXT, files INTEGER, records INTEGER, first TEXT, last TEXT, warnings TEXT);
    """,
    # 2: first appearance of each identity in the hunted logs (for the delay before the first C2 contact)
    """
    CREATE TABLE sightings (identity TEXT NOT NULL, first_seen TEXT NOT NULL, ingest_id INTEGER NOT NULL REFERENCES ingests(id));
    CREATE INDEX sightings_identity ON sightings(identity);
    """,
    # 3: address leases (DHCP-like records): which host held an IP address when
    """
    CREATE TABLE leases (ip TEXT NOT NULL, host TEXT NOT NULL, start TEXT NOT NULL, end TEXT NOT NULL,
                         ingest_id INTEGER NOT NULL REFERENCES ingests(id));
    CREATE INDEX leases_ip ON leases(ip);
    """,
    # 4: the indicator packs the findings were matched with (title, remediation, C2 delay, affected versions)
    case_packs.MIGRATION,
]
PACKS_SCHEMA = 4  # from this schema on, the case records its packs


@dataclass
class HostView:
    host: str
    identities: set[str] = field(default_factory=set)
    os: str = ""
    verdict: str = "not checked"
    swept: bool = False
    sweep_complete: bool = True
    findings: list[dict[str, Any]] = field(default_factory=list)
    installed: list[dict[str, str]] = field(default_factory=list)
    first_contact: str | None = None
    last_contact: str | None = None
    first_seen: str | None = None
    installed_at: str | None = None  # earliest installation time of an affected version (sweep)
    install_time_note: str | None = None  # why it is unknown, e.g. "install time unknown (mtimes are the copy's)"

    def delay_days(self, since: str | None = None) -> float | None:
        """Days from the host's first appearance in the logs (or `since`) to its first C2 contact."""
        start = since or self.first_seen
        if not (start and self.first_contact):
            return None
        a = datetime.fromisoformat(start.replace("Z", "+00:00"))
        b = datetime.fromisoformat(self.first_contact.replace("Z", "+00:00"))
        return round((b - a).total_seconds() / 86400, 2)

    @property
    def evidence(self) -> list[dict[str, Any]]:
        """Findings that decide the verdict: not clean, and not of an indicator `watch` saw withdrawn."""
        return [f for f in self.findings if (f.get("tracehound") or {}).get("verdict") in VERDICT_ORDER
                and f["tracehound"]["verdict"] != "clean" and not f["tracehound"].get("withdrawn")]

    def contacts(self) -> list[dict[str, Any]]:
        return sorted((f for f in self.findings if (f.get("tracehound") or {}).get("source") == "hunt"
                       and f.get("@timestamp")), key=lambda f: f["@timestamp"])


class Case:
    def __init__(self, directory: str | Path, create: bool = False) -> None:
        self.dir = Path(directory)
        db = self.dir / DB_NAME
        if create:
            self.dir.mkdir(parents=True, exist_ok=True)
        elif not db.is_file():
            raise UsageError(f"{directory} is not a case (run 'tracehound case init {directory}' first)")
        try:
            self.db = sqlite3.connect(db, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise InputError(f"case database unreadable: {exc}", path=str(db)) from exc

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Case:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise UsageError(f"case schema {version} is newer than this tracehound ({len(MIGRATIONS)})")
        for n in range(version, len(MIGRATIONS)):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for stmt in MIGRATIONS[n].split(";"):
                    if stmt.strip():
                        self.db.execute(stmt)
                if n + 1 == PACKS_SCHEMA and version > 0:  # a case made before packs were recorded
                    self._rebuild_derived()
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(n + 1),))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    # ---- ingest ------------------------------------------------------------------------
    def add_file(self, path: str) -> tuple[str, int, int]:
        """Ingest one findings file (JSONL), hunt summary (JSON), indicator pack or lease CSV.
        Returns (status, records, skipped). A file holding none of these is refused (InputError), the
        case unchanged."""
        p = Path(path)
        try:
            digest = hashlib.sha256()
            with p.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", path=path) from exc
        sha = digest.hexdigest()
        if self.db.execute("SELECT 1 FROM ingests WHERE sha256=?", (sha,)).fetchone():
            return "already in the case", 0, 0
        records = skipped = 0
        status = "added"
        self.db.execute("BEGIN IMMEDIATE")
        try:
            cur = self.db.execute("INSERT INTO ingests (sha256, path, added_at, records, skipped) VALUES (?,?,?,0,0)",
                                  (sha, str(p), datetime.now(UTC).isoformat(timespec="seconds")))
            ingest_id = cur.lastrowid
            if is_lease_file(p):
                records, skipped = self._add_leases(ingest_id, p)
                status = "added leases"
            elif case_packs.looks_like_pack(p):
                records, status = self._add_pack(ingest_id, p), "added pack"
            else:
                records, skipped = self._add_records(ingest_id, p)
            if not records:
                what = f"{skipped} unreadable or foreign lines" if skipped else "empty"
                raise InputError(f"holds no findings, hunt summary, indicator pack or address leases ({what}); "
                                 "not added", path=path)
            self.db.execute("UPDATE ingests SET records=?, skipped=? WHERE id=?", (records, skipped, ingest_id))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return status, records, skipped

    def _add_records(self, ingest_id: int | None, p: Path) -> tuple[int, int]:
        records = skipped = 0
        names: set[str] = set()
        for line_no, doc, err in read_docs(p):
            if err:
                skipped += 1
            elif doc.get("coverage") is not None and "hosts" in doc and "files" in doc:
                self._add_hunt_summary(ingest_id, doc)
                records += 1
            elif not isinstance(doc.get("tracehound"), dict):
                skipped += 1  # JSON, but not a tracehound finding
            else:
                self._add_doc(ingest_id, line_no, doc)
                names |= case_packs.names_in(doc)
                records += 1
        case_packs.record_builtins(self.db, names, ingest_id)
        return records, skipped

    def _add_pack(self, ingest_id: int | None, p: Path) -> int:
        from tracehound.intel.formats import read_pack

        pack = read_pack(str(p))
        # A pack file added replaces the built-in pack of the same name recorded from findings.
        self.db.execute("DELETE FROM packs WHERE name=? AND origin LIKE 'builtin:%'", (pack.name,))
        case_packs.record_pack(self.db, pack, str(p), ingest_id)
        return 1

    def remove_input(self, spec: str) -> dict[str, Any]:
        """Take one input out of the case with everything it brought (findings, coverage, sightings, leases,
        packs). `spec` is the path as added, the file itself, or a SHA-256 prefix (8+ hex digits)."""
        rows = self.db.execute("SELECT id, path, sha256, records FROM ingests ORDER BY id").fetchall()
        sha = ""
        if Path(spec).is_file():
            with Path(spec).open("rb") as fh:
                sha = hashlib.file_digest(fh, "sha256").hexdigest()
        hits = [r for r in rows if r[1] == spec or r[2] == sha
                or (len(spec) >= 8 and all(c in "0123456789abcdef" for c in spec.lower()) and r[2].startswith(spec.lower()))]
        if not hits:
            raise UsageError(f"{spec!r} is not an input of this case (see the inputs of 'tracehound report'; "
                             f"{len(rows)} inputs)")
        if len({r[0] for r in hits}) > 1:
            raise UsageError(f"{spec!r} names {len(hits)} inputs: give the SHA-256 of one")
        ingest_id, stored_path, stored_sha, records = hits[0]
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for table in ("findings", "hunt_coverage", "sightings", "leases", "packs", "pack_refs"):
                self.db.execute(f"DELETE FROM {table} WHERE ingest_id=?", (ingest_id,))
            self.db.execute("DELETE FROM ingests WHERE id=?", (ingest_id,))
            self._rebuild_derived()
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return {"path": stored_path, "sha256": stored_sha, "records": records}

    def _rebuild_derived(self) -> None:
        """Identities and built-in pack records come from the findings: rebuilt after a removal."""
        self.db.execute("DELETE FROM identities")
        self.db.execute("DELETE FROM packs WHERE origin LIKE 'builtin:%'")
        self.db.execute("DELETE FROM pack_refs")
        names: dict[int, set[str]] = {}
        for ingest_id, doc_text in self.db.execute("SELECT ingest_id, doc FROM findings ORDER BY id").fetchall():
            doc = json.loads(doc_text)
            names.setdefault(ingest_id, set()).update(case_packs.names_in(doc))
            if (doc.get("tracehound") or {}).get("record") == "inventory-host":
                self._add_identities(doc)
        for ingest_id, ns in names.items():
            case_packs.record_builtins(self.db, ns, ingest_id)

    def _add_leases(self, ingest_id: int | None, path: Path) -> tuple[int, int]:
        records, skipped = 0, 0
        for lease in read_leases(path):
            if lease is None:
                skipped += 1
                continue
            self.db.execute("INSERT INTO leases VALUES (?,?,?,?,?)", (*lease, ingest_id))
            records += 1
        return records, skipped

    def lease_holder(self, ip: str, ts: str | None) -> str | None:
        """The host that held ip at time ts, from the lease records."""
        if not ts:
            return None
        row = self.db.execute("SELECT host FROM leases WHERE ip=? AND start<=? AND end>=? ORDER BY start DESC LIMIT 1",
                              (ip.lower(), utc_iso(ts), utc_iso(ts))).fetchone()
        return row[0] if row else None

    def _add_doc(self, ingest_id: int | None, line_no: int, doc: dict[str, Any]) -> None:
        th = doc.get("tracehound") or {}
        host = str(th.get("host") or (doc.get("host") or {}).get("name") or (doc.get("source") or {}).get("ip")
                   or "unknown")
        self.db.execute(
            "INSERT INTO findings (ingest_id, line, source, kind, record, host, verdict, ts, doc) VALUES (?,?,?,?,?,?,?,?,?)",
            (ingest_id, line_no, th.get("source"), (doc.get("event") or {}).get("kind"), th.get("record"), host,
             th.get("verdict"), doc.get("@timestamp"), json.dumps(doc, ensure_ascii=False)))
        if th.get("record") == "inventory-host":
            self._add_identities(doc)

    def _add_identities(self, doc: dict[str, Any]) -> None:
        th = doc.get("tracehound") or {}
        name = str((doc.get("host") or {}).get("name") or th.get("host") or "unknown")
        for ident in [name] + list((doc.get("host") or {}).get("ip") or []) + list(th.get("aliases") or []):
            self.db.execute("INSERT OR REPLACE INTO identities VALUES (?,?,?)", (str(ident).lower(), name, "inventory"))

    def _add_hunt_summary(self, ingest_id: int | None, doc: dict[str, Any]) -> None:
        for h in doc.get("hosts") or []:
            if isinstance(h, dict) and h.get("first_seen"):
                for ident in {str(h.get("host", ""))} | set(h.get("source_ips") or []) | set(h.get("names") or []):
                    if ident:
                        self.db.execute("INSERT INTO sightings VALUES (?,?,?)", (ident.lower(), h["first_seen"], ingest_id))
        for fmt, c in (doc.get("coverage") or {}).items():
            self.db.execute("INSERT INTO hunt_coverage (ingest_id, format, files, records, first, last, warnings) "
                            "VALUES (?,?,?,?,?,?,?)", (ingest_id, fmt, c.get("files"), c.get("records"), c.get("first"),
                                                     c.get("last"), json.dumps(doc.get("warnings") or [])))

    # ---- views -------------------------------------------------------------------------
    def hosts(self) -> list[HostView]:
        views: dict[str, HostView] = {}
        canonical: dict[str, str] = {}  # identity -> host, loaded once (not one query per finding)
        for ident, host in self.db.execute("SELECT identity, host FROM identities"):
            canonical[ident] = host
            views.setdefault(host, HostView(host)).identities.add(ident)
        has_leases = self.db.execute("SELECT 1 FROM leases LIMIT 1").fetchone() is not None
        gone: dict[str, set[tuple[str, str]]] = {}  # watch finding key -> its indicators withdrawn since
        for raw_host, doc_text in self.db.execute("SELECT host, doc FROM findings ORDER BY id").fetchall():
            doc = json.loads(doc_text)
            holder = self.lease_holder(raw_host, doc.get("@timestamp")) if has_leases else None
            identity = holder or raw_host
            host = canonical.get(identity.lower(), identity)
            v = views.setdefault(host, HostView(host))
            v.identities.add(raw_host.lower())
            th = doc.get("tracehound") or {}
            os_type = ((doc.get("host") or {}).get("os") or {}).get("type")
            if os_type:
                v.os = os_type
            if th.get("record") == "host-summary":
                v.swept = True
                v.sweep_complete = v.sweep_complete and bool(th.get("complete", True))
                continue
            if th.get("record") == "inventory-host":
                continue
            withdrawals(th, gone)
            v.findings.append(doc)
            pkg = doc.get("package") or {}
            if pkg.get("installed") and th.get("verdict") == "exposed":
                v.installed_at = min(filter(None, [v.installed_at, str(pkg["installed"])]))
            elif th.get("install_time") and th.get("verdict") == "exposed":
                v.install_time_note = str(th["install_time"])
            if pkg.get("name"):
                v.installed.append({"name": pkg["name"], "version": str(pkg.get("version", "")),
                                    "status": th.get("verdict", ""), "source": th.get("source", "")})
        seen: dict[str, str] = dict(self.db.execute("SELECT identity, MIN(first_seen) FROM sightings GROUP BY identity"))
        for v in views.values():
            mark_withdrawn(v.findings, gone)
            firsts = [seen[i] for i in v.identities | {v.host.lower()} if i in seen]
            v.first_seen = min(firsts) if firsts else None
            verdicts = [f["tracehound"]["verdict"] for f in v.evidence]
            if verdicts:
                v.verdict = max(verdicts, key=lambda x: VERDICT_ORDER[x])
            elif v.swept:
                v.verdict = "clean"
            contacts = v.contacts()
            if contacts:
                v.first_contact, v.last_contact = contacts[0]["@timestamp"], contacts[-1]["@timestamp"]
        return sorted(views.values(), key=lambda h: (-_rank(h.verdict), h.host))

    def coverage(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT format, SUM(files), SUM(records), MIN(first), MAX(last), "
                               "GROUP_CONCAT(warnings, '\x1f') FROM hunt_coverage GROUP BY format ORDER BY format")
        out = []
        for fmt, files, records, first, last, warnings in rows:
            ws: list[str] = []
            for w in (warnings or "").split("\x1f"):
                try:
                    ws += [x for x in json.loads(w) if x.startswith(f"{fmt}:")]
                except ValueError:
                    continue
            out.append({"format": fmt, "files": files, "records": records, "first": first, "last": last,
                        "warnings": sorted(set(ws))})
        return out

    def ingests(self) -> list[dict[str, Any]]:
        return [{"path": p, "sha256": s, "added_at": a, "records": r, "skipped": k}
                for p, s, a, r, k in self.db.execute("SELECT path, sha256, added_at, records, skipped FROM ingests ORDER BY id")]

    def packs(self) -> list[dict[str, Any]]:
        """The packs of the case with what the report quotes; names used by findings but absent: `missing`."""
        return case_packs.case_packs(self.db)


_RANK = {"compromised": 5, "suspicious": 4, "exposed": 3, "not checked": 2, "clean": 1}


def _rank(verdict: str) -> int:
    return _RANK.get(verdict, 0)
