"""Cross-check helper: evaluate rules with pySigma's SQLite backend over the same records.

The records (tracehound's SigmaRecord dicts) go into one in-memory table `logs`, one column per
field, TEXT COLLATE NOCASE (as Zircolite builds it, which the backend's LIKE/= output expects),
rowid = record index. The backend has no logsource pipeline, so its matches are intersected with
the records tracehound's logsource table selects for the rule: what is compared is the evaluation
of the detection, over identical records.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any


def _regexp(pattern: str, value: Any) -> bool:
    if value is None:
        return False
    return re.search(pattern, str(value)) is not None


def _text(v: Any) -> Any:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    return v if isinstance(v, int | float) or v is None else str(v)


class SqliteEvents:
    def __init__(self, records: list[dict[str, Any]]) -> None:
        from sigma.backends.sqlite import sqliteBackend

        self.backend = sqliteBackend()
        self.db = sqlite3.connect(":memory:")
        self.db.create_function("regexp", 2, _regexp, deterministic=True)
        cols: dict[str, None] = {}
        for r in records:
            for k in r:
                cols.setdefault(k, None)
        self.cols = {c.lower() for c in cols}
        names = list(cols)
        q = ", ".join(f'"{c}" TEXT COLLATE NOCASE' for c in names)
        self.db.execute(f"CREATE TABLE logs ({q})")
        # Duplicate names differing only in case cannot be two SQLite columns: keep the first.
        for i, r in enumerate(records, 1):
            keys = [k for k in names if k in r]
            self.db.execute(f"INSERT INTO logs (rowid, {', '.join(chr(34) + k + chr(34) for k in keys)}) "
                            f"VALUES (?, {', '.join('?' for _ in keys)})", [i] + [_text(r[k]) for k in keys])

    def matches(self, rule: Any) -> set[int] | str:
        """Row numbers (1-based record indexes) matching the rule, or why the backend cannot run it."""
        try:
            queries = self.backend.convert_rule(rule)
        except Exception as exc:  # noqa: BLE001 - the backend refuses unsupported features this way
            return f"backend: {type(exc).__name__}: {str(exc)[:100]}"
        out: set[int] = set()
        for sql in queries:
            sql = sql.replace("SELECT *", "SELECT rowid", 1)
            for _ in range(50):
                try:
                    out |= {row[0] for row in self.db.execute(sql)}
                    break
                except sqlite3.OperationalError as exc:
                    m = re.match(r"no such column: (.+)", str(exc))
                    if not m:
                        return f"sqlite: {exc}"
                    self.db.execute(f'ALTER TABLE logs ADD COLUMN "{m.group(1).strip(chr(34) + chr(96))}" TEXT COLLATE NOCASE')
        return out
