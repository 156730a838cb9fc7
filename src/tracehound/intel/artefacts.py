"""Host artefacts of an advisory into its pack: file paths, registry keys (with value name and data),
mutexes and PDB paths, from prose lines and table cells (forms in artefact_forms.py).

What is not taken, and is shown in the pack's exclusions with why: a location every host has, named
alone (`%APPDATA%`, `C:\\Windows\\System32\\cmd.exe`, the Run key without a value name: they say where
the malware writes, not what); a path the text calls legitimate; a path with an unknown leading
%VARIABLE%, an elided (`…\\x`) or network-share path; a cell of a Path column that is not an absolute
path. Lines of a pasted YARA/Sigma rule never get here (the rule keeps its own strings), nor do URL
paths, `and/or`, fractions, dates or command-line switches (no form starts there); a bare file name
stays what it was (a file-name context of a hash).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from tracehound.intel import table_rows  # a module (it imports this one): its patterns are read when used
from tracehound.intel.artefact_forms import Found, find_mutexes, find_paths_and_keys, is_location
from tracehound.intel.hashes import find_hex_values
from tracehound.intel.model import IType, canonical_value
from tracehound.intel.tables import ARTEFACT_KINDS
from tracehound.intel.values import one_line, visible

if TYPE_CHECKING:
    from tracehound.intel.extract import DocumentExtractor
    from tracehound.intel.tables import Table

_STARTS = re.compile(r":\\|%|\\\\|/|hk|mut|\\systemroot", re.I)  # a line without one of these holds no artefact
_CUE_AT_END = re.compile(r"\bmut(?:ex|ant)(?:es|s)?(?:\s+(?:named|called|object))?\s*[:=]?\s*$", re.I)
_MUTEX_HEADING = re.compile(r"^\W*(?:mut(?:ex|ant)(?:e?s)?)(?:\s+names?)?\W*$", re.I)  # a 'Mutexes' heading
_UNSET = {"", "-", "n/a", "na", "none", "aucun", "aucune", "unknown", "inconnu"}
_NOT_HEADING = re.compile(r"[\\/;|]|\.\w|\s(?:is|the|a|to|with|and|of)$", re.I)  # a prose line taken for a heading
LINE_CONTEXT = 240  # characters of the line kept as the indicator's 'line' context


def read_line(x: DocumentExtractor, i: int) -> None:
    """Artefacts of prose line i (0-based) of the extractor's document."""
    line = x.lines[i]
    under_mutexes = _MUTEX_HEADING.search(x.headings[i]) is not None
    if not under_mutexes and not _STARTS.search(line):
        return
    low = line.lower()
    found = find_paths_and_keys(line, low)
    if under_mutexes or "mut" in low:
        found += _mutexes(x, i, line, under_mutexes)
    conf = 80 if x.sections[i] == "ioc" else 70
    previous = x.lines[i - 1][-60:] + " " if i > 0 else ""
    for f in found:
        before = (previous + line[: f.start])[-60:] if f.start < 60 else line[f.start - 60 : f.start]
        benign = table_rows.BENIGN_ROW.search(before)
        if benign and not table_rows.NOT_BENIGN.search(before) and not f.problem:
            f.problem = f"the text calls it {benign.group(0)!r}: context, not an indicator"
        _emit(x, f, i, conf, {})


def _mutexes(x: DocumentExtractor, i: int, line: str, under_heading: bool) -> list[Found]:
    """Mutexes of line i; a cue ending the line ('... creates the mutex') takes its value from the next line."""
    found = find_mutexes(line, under_heading)
    if not found and i + 1 < len(x.lines) and _CUE_AT_END.search(line[-80:]):
        found = [f for f in find_mutexes(line + " " + x.lines[i + 1][:200], False) if f.start >= len(line)]
    return found


def read_row(x: DocumentExtractor, table: Table, row: list[tuple[str, int]], stage: str) -> None:
    """Artefacts of one table row: Path / Registry key / Mutex columns by meaning, paths written in other
    text cells (a File column holding a full path, a description saying where a file is dropped)."""
    cells = {c.kind: cell for c, cell in zip(table.columns, row, strict=True)}
    extra: dict[str, str | list[str]] = {}
    if "hash" in cells:
        sha = sorted({h.value for h in find_hex_values(cells["hash"][0]) if len(h.value) == 64 and not h.label})
        extra["sha256"] = sha[0] if len(sha) == 1 else sha
    # A table keyed only by artefact columns was prose before they were known: its other cells still are.
    prose = not ({c.kind for c in table.columns} & {"domain", "ip", "url", "hash", "thumbprint", "value"})
    for col, (text, line) in zip(table.columns, row, strict=True):
        if prose and col.kind not in ARTEFACT_KINDS and text.strip():
            x.prose_line(line - 1, text, stage_override=stage)
        if col.kind not in ("path", "regkey", "mutex", "filename", "value", "description") or not text.strip():
            continue
        i = line - 1
        if col.kind == "mutex":
            if text.strip().lower() not in _UNSET:
                _emit(x, Found(IType.MUTEX, text.strip(), 0, len(text)), i, 90, {"stage": stage} if stage else {})
            continue
        found = find_paths_and_keys(text, text.lower()) if _STARTS.search(text) else []
        for f in found:
            if f.itype is IType.REGISTRY_KEY and not f.context.get("value_name"):
                f.context.update(_named_values(cells))
            _emit(x, f, i, 90 if col.kind in ("path", "regkey") else 80, {"stage": stage, **extra} if stage else extra)
        if not found and col.kind in ("path", "regkey") and text.strip().lower() not in _UNSET:
            what = "file-path" if col.kind == "path" else "registry-key"
            x.exclude(visible(text.strip()), what, f"{col.header} column: not an absolute path or key (a drive, "
                      "%VARIABLE%, POSIX root or hive root): it names no one place on a host", line)


def _named_values(cells: dict[str, tuple[str, int]]) -> dict[str, str]:
    """Value name / Value data columns of the row of a Registry key cell."""
    return {kind: cells[kind][0].strip().strip("`\"'") for kind in ("value_name", "value_data")
            if kind in cells and cells[kind][0].strip().lower() not in _UNSET}


_SECTIONS: WeakKeyDictionary[DocumentExtractor, list[str]] = WeakKeyDictionary()
_MD_HEADING = re.compile(r"^\s{0,3}(?:#{1,6}|={1,6})\s+(\S.{0,118})$")
_STAGE = re.compile(r"\b(?:stage|[ée]tape|phase)\s*(\d+)\b", re.I)


def _sections(x: DocumentExtractor) -> list[str]:
    """For each line, the heading it is under: a Markdown `#` / AsciiDoc `=` heading of the source when the
    document has them, else the extractor's heading-like line unless it reads as prose (computed once)."""
    if x in _SECTIONS:
        return _SECTIONS[x]
    source = x.doc.source.split("\n") if x.doc.kind == "markdown" else []
    out: list[str] = []
    if len(source) == len(x.lines) and any(_MD_HEADING.match(ln) for ln in source[:2000]):
        current = ""
        for ln in source:
            out.append(current)
            m = _MD_HEADING.match(ln)
            if m:
                current = m.group(1).strip(" #=")
    else:
        out = [h if len(h) <= 60 and not _NOT_HEADING.search(h) else "" for h in x.headings]
    _SECTIONS[x] = out
    return out


def _line_context(raw: str, start: int) -> str:
    """The line as written (defanged where it was), or on a long line the LINE_CONTEXT characters around
    start (the value's place in the refanged line: refanging only shortens, so the value is at or after it)."""
    if len(raw) > LINE_CONTEXT:
        at = max(0, start - LINE_CONTEXT // 3)
        raw = ("…" if at else "") + raw[at : at + LINE_CONTEXT].strip() + "…"
    else:
        raw = raw.strip()
    return raw if raw.isprintable() else one_line(raw)  # printable: no control, format or separator character


def _emit(x: DocumentExtractor, f: Found, i: int, confidence: int, ctx: dict[str, str | list[str]]) -> None:
    line = i + 1
    if f.problem:
        x.exclude(visible(f.value), f.itype.value, f.problem, line)
        return
    try:
        canonical = canonical_value(f.itype, f.value)
    except ValueError as exc:
        x.exclude(visible(f.value), f.itype.value, f"not a {f.itype.value}: {exc}", line)
        return
    named = f.itype is IType.REGISTRY_KEY and f.context.get("value_name")
    if f.itype in (IType.FILE_PATH, IType.REGISTRY_KEY) and not named and is_location(f.itype, canonical):
        x.exclude(canonical, f.itype.value, "a location every host has, named alone: it says where, not what "
                  "(packs/host-artefacts.json)", line)
        return
    section = _sections(x)[i]
    stage = _STAGE.search(section)
    context: dict[str, str | list[str]] = {"stage": f"Stage {stage.group(1)}" if stage else x.stage_at(i),
                                           "section": section,
                                           "line": _line_context(x.raw[i], f.start)}
    context.update(f.context)
    context.update(ctx)
    x.emit(f.itype, f.value, line, context, confidence)
