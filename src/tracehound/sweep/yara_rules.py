"""YARA with yara-x: compile rule files and folders, scan candidate files.

Rules from Neo23x0/signature-base use Loki/THOR external variables (filename, filepath,
extension, filetype, owner): they are defined so the rules load, and set per file so rules
like SUSP_APT_3CX_Regtrans_Anomaly_Apr23 (extension == ".regtrans-ms") can fire. A file with
a syntax error is reported by file and line; the other files still compile and run.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracehound.errors import InputError

EXTERNALS = {"filename": "", "filepath": "", "extension": "", "filetype": "", "owner": ""}
RULE_EXTENSIONS = (".yar", ".yara", ".rule", ".rules")


@dataclass
class RuleSet:
    rules: Any  # yara_x.Rules
    files: list[str]
    errors: list[str] = field(default_factory=list)  # "file:line: message", one per rule file not loaded
    count: int = 0
    not_loaded: list[dict[str, Any]] = field(default_factory=list)  # the same, as {file, line, reason}

    def not_checked(self) -> list[dict[str, Any]]:
        """Entries for the sweep summary: every requested rule source that did not load, with its reason."""
        return [{"check": "yara", **p} for p in self.not_loaded]


def _rule_files(specs: list[str]) -> list[str]:
    files: list[str] = []
    for spec in specs:
        p = Path(spec)
        if p.is_dir():
            files += sorted(str(f) for f in p.rglob("*") if f.suffix.lower() in RULE_EXTENSIONS and f.is_file())
        elif p.is_file():
            files.append(str(p))
        else:
            raise InputError("no such YARA rule file or folder", path=spec)
    return files


def compile_rules(specs: list[str]) -> RuleSet:
    """Every rule file that compiles on its own; each one that does not is listed by file and line."""
    try:
        import yara_x
    except ImportError:
        return _failed([{"file": s, "line": None, "reason": "YARA needs the 'yara-x' package"} for s in specs])
    files = _rule_files(specs)
    good: list[tuple[str, str]] = []
    problems: list[dict[str, Any]] = []
    for spec in specs:
        if Path(spec).is_dir() and not any(f.startswith(str(Path(spec))) for f in files):
            problems.append({"file": spec, "line": None,
                             "reason": f"no rule files ({', '.join(RULE_EXTENSIONS)}) in this folder"})
    for f in files:
        try:
            src = Path(f).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            problems.append({"file": f, "line": None, "reason": f"cannot read ({exc.strerror})"})
            continue
        c = yara_x.Compiler()
        for k, v in EXTERNALS.items():
            c.define_global(k, v)
        try:
            c.add_source(src, origin=f)
            c.build()
        except yara_x.CompileError as exc:
            problems.append(_first_error(f, str(exc)))
            continue
        good.append((f, src))
    if not good:
        return _failed(problems)
    c = yara_x.Compiler()
    for k, v in EXTERNALS.items():
        c.define_global(k, v)
    for idx, (f, src) in enumerate(good):
        c.new_namespace(f"f{idx}")
        c.add_source(src, origin=f)
    rules = c.build()
    count = sum(len(re.findall(r"^\s*(?:private\s+|global\s+)*rule\s+\w+", src, re.M)) for _, src in good)
    return RuleSet(rules, [f for f, _ in good], [_text(p) for p in problems], count, problems)


def _failed(problems: list[dict[str, Any]]) -> RuleSet:
    return RuleSet(None, [], [_text(p) for p in problems], 0, problems)


def _text(problem: dict[str, Any]) -> str:
    where = f"{problem['file']}:{problem['line']}" if problem.get("line") else str(problem["file"])
    return f"{where}: {problem['reason']}"


def _first_error(path: str, message: str) -> dict[str, Any]:
    m = re.search(r"--> [^\n]*?:(\d+):(\d+)", message)
    first = message.strip().splitlines()[0] if message.strip() else "compile error"
    label = re.search(r"^\s*\|\s*\^+\s*(\S.*)$", message, re.M)  # yara-x's caret line names what is wrong
    reason = f"{first}: {label.group(1).strip()}" if label else first
    return {"file": path, "line": int(m.group(1)) if m else None, "reason": reason}


class YaraScanner:
    def __init__(self, ruleset: RuleSet, timeout: int = 30) -> None:
        import yara_x

        self.scanner = yara_x.Scanner(ruleset.rules)
        self.scanner.set_timeout(timeout)
        self._timeout_error = yara_x.TimeoutError
        self._scan_error = yara_x.ScanError

    def scan(self, data: bytes, path: str) -> tuple[list[tuple[str, list[str], dict[str, Any]]], str]:
        """(matching rules as (name, tags, meta), error)."""
        name = os.path.basename(path)
        ext = os.path.splitext(name)[1].lower()
        for k, v in (("filename", name), ("filepath", path), ("extension", ext),
                     ("filetype", _filetype(data[:4]))):
            self.scanner.set_global(k, v)
        try:
            results = self.scanner.scan(data)
        except self._timeout_error:
            return [], "YARA timeout"
        except self._scan_error as exc:
            return [], f"YARA scan error: {exc}"
        out = []
        for r in results.matching_rules:
            out.append((r.identifier, list(r.tags), {k: v for k, v in r.metadata}))
        return out, ""


def _filetype(head: bytes) -> str:
    if head[:2] == b"MZ":
        return "EXE"
    if head in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe"):
        return "MACHO"
    if head[:4] == b"\x7fELF":
        return "ELF"
    return ""
