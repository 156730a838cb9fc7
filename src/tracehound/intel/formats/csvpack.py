"""CSV packs: one indicator a row (type,value,confidence,context JSON,...).

Written cells are neutralised against spreadsheet formula injection (a leading = + - @
or tab gets a quote); the reader undoes exactly that.
"""

from __future__ import annotations

import csv
import io
import json

from tracehound import safejson
from tracehound.errors import PackError
from tracehound.intel.model import REJECTED, Exclusion, IType, Pack
from tracehound.intel.values import visible

HEADER = ["type", "value", "confidence", "platform", "stage", "context", "warnings", "sources"]
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
_TYPES = {t.value: t for t in IType}


def neutralise(cell: str) -> str:
    return "'" + cell if cell.startswith(_DANGEROUS) else cell


def _unneutralise(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:2] in _DANGEROUS and cell[1:2] != "" else cell


def dumps(pack: Pack) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for ind in pack.indicators:
        w.writerow([neutralise(c) for c in (
            ind.type.value, ind.value, str(ind.confidence), ",".join(ind.ctx("platform")), ",".join(ind.ctx("stage")),
            json.dumps({k: ind.context[k] for k in sorted(ind.context)}, ensure_ascii=False),
            ";".join(ind.warnings), ";".join(f"{s.document}:{','.join(map(str, s.lines))}" for s in ind.sources),
        )])
    return buf.getvalue()


def loads(text: str, path: str = "<csv>") -> Pack:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration as exc:
        raise PackError("empty CSV", path=path) from exc
    except csv.Error as exc:
        raise PackError(f"bad CSV: {exc}", path=path, line=1) from exc
    if "type" not in header or "value" not in header:
        raise PackError("CSV header must name at least the columns 'type' and 'value'", path=path, line=1)
    col = {h: i for i, h in enumerate(header)}
    # Column positions looked up once (a 100,000-row pack: the per-row work is most of its load time)
    at = {name: col.get(name) for name in ("type", "context", "platform", "stage", "confidence", "warnings")}
    value_at, type_at, pad = col["value"], col["type"], [""] * len(header)
    pack = Pack(name="csv")
    line = end = 1
    try:
        for row in reader:
            line, end = end + 1, reader.line_num  # a quoted cell may span lines: name where the record starts
            if not row or not any(c.strip() for c in row):
                continue
            if any("\x00" in c for c in row):
                kind = row[type_at].strip() if type_at < len(row) else ""
                pack.excluded.append(Exclusion(visible(",".join(row))[:200], visible(kind)[:40] or "?",
                                               f"{REJECTED}NUL byte (U+0000) in the row (corrupt line)", path, line))
                continue
            cells = [_unneutralise(c) if c[:1] == "'" else c for c in row] + pad
            got = {name: cells[i].strip() if i is not None else "" for name, i in at.items()}
            itype = _TYPES.get(got["type"].lower())
            if itype is None:
                raise PackError(f"unknown indicator type {got['type']!r} (known: {', '.join(t.value for t in IType)})",
                                path=path, line=line)
            ctx: dict[str, str | list[str]] = {}
            if got["context"]:
                try:
                    raw = safejson.loads(got["context"])
                except json.JSONDecodeError as exc:
                    raise PackError(f"context is not JSON: {exc.msg}", path=path, line=line) from exc
                if isinstance(raw, dict):
                    ctx = {str(k): [str(x) for x in v] if isinstance(v, list) else str(v) for k, v in raw.items()}
            for name in ("platform", "stage"):
                if got[name] and name not in ctx:
                    ctx[name] = got[name]
            conf = got["confidence"]
            pack.add_value(itype, cells[value_at], ctx, int(conf) if conf.isdigit() else 70, document=path,
                           line=line, warnings=[w for w in got["warnings"].split(";") if w])
    except csv.Error as exc:
        raise PackError(f"bad CSV: {exc}", path=path, line=line) from exc
    return pack
