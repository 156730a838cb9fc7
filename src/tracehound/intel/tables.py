"""Recognise tables flattened to one cell per line (what copying a web table gives).

A run of at least two consecutive lines that are all known column headers starts a table;
then lines are consumed in rows of that many cells. The table ends at a blank line, or at a
row whose key cell does not hold what its column promises (so prose after a table without a
blank line is not swallowed). Markdown pipe tables are read too.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field

# Column kinds and the header words that name them (accents stripped, lowercase).
COLUMN_WORDS: dict[str, tuple[str, ...]] = {
    "domain": ("domain", "domains", "domaine", "domaines", "domain name", "nom de domaine", "hostname", "fqdn", "c2 domain", "c2"),
    "registrar": ("registrar", "bureau d'enregistrement"),
    "created": ("creation date", "created", "date de creation", "registration date", "registered", "first seen"),
    "ip": ("ip", "ips", "ip address", "ip addresses", "adresse ip", "adresses ip", "resolving ip", "resolved ip", "ipv4", "ipv6"),
    "asn": ("ip as", "asn", "as", "as number", "ip asn", "autonomous system"),
    "hash": ("hash", "hashes", "sha-256", "sha256", "sha-1", "sha1", "md5", "sha-512", "sha512", "file hash", "empreinte",
             "condensat", "hash value"),
    "imphash": ("imphash", "import hash", "imphashes", "pehash", "rich header hash"),
    "authentihash": ("authentihash", "authenticode hash"),
    "serial": ("serial", "serial number", "serial no", "certificate serial", "numero de serie", "n° de serie"),
    "fuzzy": ("ssdeep", "tlsh", "vhash", "telfhash"),
    "filename": ("filename", "file name", "file", "nom de fichier", "fichier", "nom du fichier"),
    "signer": ("signer", "signers", "signataire", "signataires", "signed by", "signature"),
    "thumbprint": ("thumbprint", "certificate thumbprint", "cert thumbprint", "certificate", "certificat",
                   "empreinte du certificat", "certificate sha1", "certificate sha-1"),
    "url": ("url", "urls", "uri"),
    "country": ("country", "pays"),
    "port": ("port", "ports", "dst port", "port de destination"),
    "description": ("description", "comment", "comments", "notes", "commentaire", "type", "stage", "context",
                    "contexte", "role", "rôle", "usage", "purpose", "status", "statut", "verdict", "category",
                    "categorie", "tags", "last seen", "date"),
    # Singular only: "Indicators" / "IOCs" alone on a line is a section heading, not a column.
    "value": ("indicator", "ioc", "value", "observable", "indicateur", "valeur", "artifact", "artefact"),
}

def _artefact_columns() -> dict[str, tuple[str, ...]]:
    """Path / Registry key / Mutex (and value name / data) headers, from packs/host-artefacts.json."""
    from tracehound.intel.artefact_forms import knowledge

    k = knowledge()
    return {kind: tuple(k[f"{kind}_columns"]) for kind in ("path", "regkey", "mutex", "value_name", "value_data")}


COLUMN_WORDS.update(_artefact_columns())
_WORD_TO_KIND = {w: k for k, words in COLUMN_WORDS.items() for w in words}


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower().strip()


@dataclass
class Column:
    kind: str
    header: str
    hint: str  # e.g. "sha-256 ou sha-1" from "Hash (sha-256 ou sha-1)"


@dataclass
class Table:
    columns: list[Column]
    header_line: int  # 1-based line of the first header cell
    rows: list[list[tuple[str, int]]] = field(default_factory=list)  # cells as (text, 1-based line)
    end_line: int = 0  # 1-based line after the last consumed line

    def kinds(self) -> list[str]:
        return [c.kind for c in self.columns]


def header_kind(cell: str) -> Column | None:
    raw = cell.strip()
    if not raw or len(raw) > 48:
        return None
    f = fold(raw)
    hint = ""
    m = re.match(r"^(.*?)\s*\((.*)\)\s*$", f)
    if m:
        f, hint = m.group(1), m.group(2)
    f = f.strip(" :")
    kind = _WORD_TO_KIND.get(f)
    if kind is None:
        return None
    return Column(kind=kind, header=raw, hint=hint or f)


CellCheck = dict[str, "re.Pattern[str]"]
_KEY_CHECKS: dict[str, re.Pattern[str]] = {
    "domain": re.compile(r"[A-Za-z0-9-]+(\[\.\]|\(\.\)|\.)[A-Za-z]"),
    "ip": re.compile(r"\d{1,3}(\[\.\]|\.)\d{1,3}|[0-9a-f]*:[0-9a-f]*:"),
    "hash": re.compile(r"[0-9A-Fa-f]{8}"),
    "thumbprint": re.compile(r"[0-9A-Fa-f]{8}"),
    "url": re.compile(r"[A-Za-z0-9-]+(\[\.\]|\.)[A-Za-z]"),
    "value": re.compile(r"\S"),
    "path": re.compile(r"[\\/]"),
    "regkey": re.compile(r"hk", re.I),
    "mutex": re.compile(r"^\S{3,200}$"),
}
ARTEFACT_KINDS = frozenset({"path", "regkey", "mutex"})


def find_tables(lines: list[str]) -> list[Table]:
    """Flattened tables (one cell per line) and Markdown pipe tables in the document."""
    tables: list[Table] = []
    i = 0
    n = len(lines)
    while i < n:
        pipe = _pipe_table(lines, i) or _csv_table(lines, i)
        if pipe is not None:
            tables.append(pipe)
            i = pipe.end_line - 1
            continue
        cols: list[Column] = []
        j = i
        while j < n and (col := header_kind(lines[j])) is not None:
            cols.append(col)
            j += 1
        if len(cols) >= 2 and len({c.kind for c in cols}) >= 2 and _has_key(cols):
            table = Table(columns=cols, header_line=i + 1)
            k = j
            width = len(cols)
            key_index, key_check = _key_column(cols)
            while k + width <= n:
                cells = lines[k : k + width]
                if any(not c.strip() for c in cells):
                    break
                if key_check is not None and not key_check.search(cells[key_index]):
                    break
                if any(header_kind(c) is not None for c in cells[:1]):
                    break
                table.rows.append([(c.strip(), k + idx + 1) for idx, c in enumerate(cells)])
                k += width
            if table.rows:
                table.end_line = k + 1
                tables.append(table)
                i = k
                continue
        i += 1
    return tables


def _has_key(cols: list[Column]) -> bool:
    return any(c.kind in _KEY_CHECKS for c in cols)


def _key_column(cols: list[Column]) -> tuple[int, re.Pattern[str] | None]:
    for idx, c in enumerate(cols):
        if c.kind in _KEY_CHECKS:
            return idx, _KEY_CHECKS[c.kind]
    return 0, None


def _split_pipe(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|"):
        s = s[:-1]
    return [c.strip() for c in s.split("|")]


def _pipe_table(lines: list[str], i: int) -> Table | None:
    if i + 1 >= len(lines) or "|" not in lines[i] or not re.match(r"^\s*\|?\s*:?-{2,}", lines[i + 1]):
        return None
    headers = _split_pipe(lines[i])
    cols = [header_kind(h) or Column("description", h, fold(h)) for h in headers]
    if not _has_key(cols):
        return None
    table = Table(columns=cols, header_line=i + 1)
    k = i + 2
    while k < len(lines) and "|" in lines[k]:
        cells = _split_pipe(lines[k])
        cells += [""] * (len(cols) - len(cells))
        table.rows.append([(c, k + 1) for c in cells[: len(cols)]])
        k += 1
    table.end_line = k + 1
    return table if table.rows else None


def _csv_cells(line: str, sep: str) -> list[str]:
    try:
        return [c.strip() for c in next(csv.reader([line], delimiter=sep))]
    except (csv.Error, StopIteration):
        return []


def _csv_table(lines: list[str], i: int) -> Table | None:
    """A CSV/TSV block: a header row whose cells name columns, then rows with as many cells."""
    line = lines[i]
    for sep in (",", ";", "\t"):
        if sep not in line:
            continue
        headers = _csv_cells(line, sep)
        if len(headers) < 2:
            continue
        known = [header_kind(h) for h in headers]
        if sum(c is not None for c in known) < max(2, len(headers) // 2) or not _has_key([c for c in known if c]):
            continue
        cols = [c or Column("description", h, fold(h)) for c, h in zip(known, headers, strict=True)]
        table = Table(columns=cols, header_line=i + 1)
        k = i + 1
        while k < len(lines) and lines[k].strip():
            cells = _csv_cells(lines[k], sep)
            if len(cells) < 2:
                break
            cells = (cells + [""] * len(cols))[: len(cols)]
            table.rows.append([(c, k + 1) for c in cells])
            k += 1
        table.end_line = k + 1
        return table if table.rows and _artefact_rows_hold(table) else None
    return None


def _artefact_rows_hold(table: Table) -> bool:
    """A CSV block keyed only by artefact columns (`regkey, mutex, yara, text`: a prose line of words) is a
    table only when every row's artefact cells hold what the column promises."""
    keys = [(n, c.kind) for n, c in enumerate(table.columns) if c.kind in _KEY_CHECKS]
    if any(kind not in ARTEFACT_KINDS for _, kind in keys):
        return True
    return all(_KEY_CHECKS[kind].search(row[n][0]) for row in table.rows for n, kind in keys)
