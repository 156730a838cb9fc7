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
    errors: list[str] = field(default_factory=list)
    count: int = 0


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
    import yara_x

    files = _rule_files(specs)
    good: list[tuple[str, str]] = []
    errors: list[str] = []
    for f in files:
        try:
            src = Path(f).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            errors.append(f"{f}: cannot read ({exc.strerror})")
            continue
        c = yara_x.Compiler()
        for k, v in EXTERNALS.items():
            c.define_global(k, v)
        try:
            c.add_source(src, origin=f)
            c.build()
        except yara_x.CompileError as exc:
            errors.append(_first_error(f, str(exc)))
            continue
        good.append((f, src))
    if not good:
        return RuleSet(None, [], errors, 0)
    c = yara_x.Compiler()
    for k, v in EXTERNALS.items():
        c.define_global(k, v)
    for idx, (f, src) in enumerate(good):
        c.new_namespace(f"f{idx}")
        c.add_source(src, origin=f)
    rules = c.build()
    count = sum(len(re.findall(r"^\s*(?:private\s+|global\s+)*rule\s+\w+", src, re.M)) for _, src in good)
    return RuleSet(rules, [f for f, _ in good], errors, count)


def _first_error(path: str, message: str) -> str:
    m = re.search(r"--> [^\n]*?:(\d+):(\d+)", message)
    first = message.strip().splitlines()[0] if message.strip() else "compile error"
    return f"{path}:{m.group(1)}: {first}" if m else f"{path}: {first}"


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
