"""YARA with yara-x: compile rule files and folders, scan candidate files.

Rules from Neo23x0/signature-base use Loki/THOR external variables (filename, filepath,
extension, filetype, owner): they are defined so the rules load, and set per file so rules
like SUSP_APT_3CX_Regtrans_Anomaly_Apr23 (extension == ".regtrans-ms") can fire. A file with
a syntax error is reported by file and line; the other files still compile and run. All files
are compiled once, together; the compiled rules are kept on disk (yara_cache) and sweep workers
load that serialized form instead of compiling again.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tracehound.errors import InputError
from tracehound.sweep import yara_build, yara_cache, yara_groups
from tracehound.sweep.yara_groups import Group

EXTERNALS = {"filename": "", "filepath": "", "extension": "", "filetype": "", "owner": ""}
RULE_EXTENSIONS = (".yar", ".yara", ".rule", ".rules")
ORIGIN = "tracehound:pack"  # meta key (not a YARA identifier) a pack rule's match carries: its document:line


@dataclass
class RuleSet:
    groups: list[Group]  # rules grouped by the files they can match (yara_groups), each compiled on its own
    files: list[str]
    errors: list[str] = field(default_factory=list)  # "file:line: message", one per rule file not loaded
    count: int = 0
    not_loaded: list[dict[str, Any]] = field(default_factory=list)  # the same, as {file, line, reason}
    cache: str = ""  # "loaded from cache", "compiled, cached", "compiled" (+ why not cached)
    origins: dict[str, str] = field(default_factory=dict)  # "namespace:rule" -> "document:line" of a pack rule
    order: dict[str, int] = field(default_factory=dict)  # "namespace:rule" -> place in its file, of a split file

    @property
    def rules(self) -> list[Group] | None:
        """The groups, or None when no rule loaded."""
        return self.groups or None

    @property
    def max_filesize(self) -> int | None:
        """No rule can match a file of this size or more (None: no such bound)."""
        bounds = [g.bound for g in self.groups]
        return None if not bounds or None in bounds else max(b for b in bounds if b is not None)

    def not_checked(self) -> list[dict[str, Any]]:
        """Entries for the sweep summary: every requested rule source that did not load, with its reason."""
        return [{"check": "yara", **p} for p in self.not_loaded]

    def for_worker(self) -> RuleSet:
        """A copy without live rules objects: a worker deserializes each group when it first needs it."""
        return RuleSet([replace(g, rules=None, pieces=[]) for g in self.groups], self.files, self.errors, self.count,
                       self.not_loaded, self.cache, self.origins, self.order)

    def loaded(self) -> RuleSet:
        return self  # groups are deserialized when first needed (Group.loaded)


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


_MEMO: dict[str, RuleSet] = {}  # key -> rules already compiled or loaded in this process


def compile_rules(specs: list[str], cache_dir: str | None = None,
                  extra: list[tuple[str, bytes, dict[str, str]]] | None = None) -> RuleSet:
    """All rule files compiled once, together; each one that does not compile is listed by file and
    line and left out (the others load). With cache_dir, the compiled rules are reused from and kept
    in that folder (yara_cache), keyed by the rule files' content. `extra`: in-memory sources (a
    pack's rules, intel/rule_check.yara_sources) as (origin, text, {rule name: document:line})."""
    try:
        import yara_x
    except ImportError:
        return _failed([{"file": s, "line": None, "reason": "YARA needs the 'yara-x' package"}
                        for s in specs + [o for o, _, _ in extra or []]])
    files = _rule_files(specs)
    problems: list[dict[str, Any]] = []
    for spec in specs:
        if Path(spec).is_dir() and not any(f.startswith(str(Path(spec))) for f in files):
            problems.append({"file": spec, "line": None,
                             "reason": f"no rule files ({', '.join(RULE_EXTENSIONS)}) in this folder"})
    sources: list[tuple[str, bytes]] = []
    for f in files:
        try:
            sources.append((f, Path(f).read_bytes()))
        except OSError as exc:
            problems.append({"file": f, "line": None, "reason": f"cannot read ({exc.strerror})"})
    origins = {f"f{len(sources) + k}:{name}": at for k, (_, _, names) in enumerate(extra or [])
               for name, at in names.items()}
    sources += [(origin, text) for origin, text, _ in extra or []]
    key = yara_cache.cache_key(sources, EXTERNALS, yara_groups.LAYOUT) + ("-p" + str(len(problems)) if problems else "")
    if key in _MEMO:
        return _MEMO[key]
    rs = _from_cache(cache_dir, key, problems) if cache_dir else None
    if rs is not None and not _preload(rs):
        rs = None  # an entry yara-x refuses: rebuilt
    if rs is None:
        rs = _compile(yara_x, sources, problems)
        if rs.rules is not None:
            why = yara_cache.store(cache_dir, key, _blob(rs), _meta(rs)) if cache_dir else "off"
            rs.cache = "compiled, cached" if not why else f"compiled (not cached: {why})" if why != "off" else "compiled"
    rs.origins = origins
    _MEMO[key] = rs
    return rs


def _compile(yara_x: Any, sources: list[tuple[str, bytes]], problems: list[dict[str, Any]]) -> RuleSet:
    # Rules grouped by the files they can match (yara_groups), one compiler per group (yara_build),
    # each file in its own namespace (the same in every group). A file with an error is noted and the
    # compilation redone without it: yara-x may keep the rules of a failed file that did parse, and a
    # file is either loaded whole or reported. A file whose split copy fails while the file alone
    # compiles is kept whole instead (this reader got it wrong). Errors are found while adding, so
    # the (costly) builds run once.
    texts = [raw.decode("utf-8", errors="replace") for _, raw in sources]
    units = {i: yara_groups.read_file(i, t) for i, t in enumerate(texts)}
    origins = [f for f, _ in sources]
    while True:
        groups = yara_groups.plan(list(units.values()))
        failed = yara_build.build_all(groups, origins, EXTERNALS)
        if not failed:
            break
        for idx, message in failed.items():
            f, text = sources[idx][0], texts[idx]
            alone = _error_alone(yara_x, f, text) if not units[idx].whole else _first_error(f, message)
            if alone is None:
                units[idx] = yara_groups.whole_file(idx, text)
            else:
                problems.append(alone)
                del units[idx]
    if not units:
        return _failed(problems)
    for g in groups:
        g.pieces = []
    good = sorted(units)
    count = sum(len(_RULE_RE.findall(texts[i])) for i in good)
    problems.sort(key=lambda p: str(p["file"]))
    order = {f"f{u.index}:{r.name}": k for u in units.values() for k, (r, _, _) in enumerate(u.rules)}
    return RuleSet(groups, [sources[i][0] for i in good], [_text(p) for p in problems], count, problems, order=order)


def _preload(rs: RuleSet) -> bool:
    """Load the groups every file needs now, once, before sweep workers fork (not in each of them);
    the others are loaded where and when first needed. False when yara-x refuses one."""
    try:
        for g in rs.groups:
            if not g.magic and g.bound is None:
                g.loaded()
    except Exception:  # noqa: BLE001 - any failure means: rebuild
        return False
    return True


def _error_alone(yara_x: Any, path: str, text: str) -> dict[str, Any] | None:
    """The first error of a file compiled alone, or None when it compiles."""
    c = yara_build.compiler(yara_x, EXTERNALS)
    try:
        c.add_source(text, origin=path)
    except yara_x.CompileError as exc:
        return _first_error(path, str(exc))
    return None


_RULE_RE = re.compile(r"^\s*(?:private\s+|global\s+)*rule\s+\w+", re.M)


def _meta(rs: RuleSet) -> dict[str, Any]:
    return {"files": rs.files, "count": rs.count, "not_loaded": rs.not_loaded, "order": rs.order,
            "groups": [{"magic": [[o, w.hex()] for o, w in g.magic], "bound": g.bound, "count": g.count,
                        "size": len(g.serialized())} for g in rs.groups]}


def _blob(rs: RuleSet) -> bytes:
    return b"".join(g.serialized() for g in rs.groups)


def _from_cache(cache_dir: str, key: str, problems: list[dict[str, Any]]) -> RuleSet | None:
    hit = yara_cache.load(cache_dir, key)
    if hit is None:
        return None
    blob, meta = hit
    try:
        groups, at = [], 0
        for g in meta["groups"]:
            size = int(g["size"])
            groups.append(Group(tuple((int(o), bytes.fromhex(w)) for o, w in g["magic"]),
                                None if g["bound"] is None else int(g["bound"]), int(g["count"]),
                                blob=blob[at:at + size]))
            at += size
        if at != len(blob) or not groups or not all(g.blob.startswith(b"YARA-X") for g in groups):
            return None
        not_loaded = [p for p in problems if p not in meta["not_loaded"]] + list(meta["not_loaded"])
        return RuleSet(groups, list(meta["files"]), [_text(p) for p in not_loaded], int(meta["count"]), not_loaded,
                       "loaded from cache", order={str(k): int(v) for k, v in meta["order"].items()})
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def check_source(src: str, origin: str) -> dict[str, Any] | None:
    """Compile one untrusted source (a rule from an advisory) with the externals, refusing `include`
    and slow patterns: None when it compiles, else its first error as {file, line, reason}."""
    try:
        import yara_x
    except ImportError:
        return {"file": origin, "line": None, "reason": "YARA needs the 'yara-x' package"}
    c = yara_x.Compiler(error_on_slow_pattern=True, includes_enabled=False)
    for k, v in EXTERNALS.items():
        c.define_global(k, v)
    try:
        c.add_source(src, origin=origin)
    except yara_x.CompileError as exc:
        return _first_error(origin, str(exc))
    return None


def _failed(problems: list[dict[str, Any]]) -> RuleSet:
    return RuleSet([], [], [_text(p) for p in problems], 0, problems)


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
    """Scans a file with the groups whose requirement its first bytes and size meet (the others
    cannot match it); a group's rules are loaded, and its scanner made, when first needed."""

    def __init__(self, ruleset: RuleSet, timeout: int = 30) -> None:
        import yara_x

        self.origins = ruleset.origins
        self.order = ruleset.order
        self.groups = ruleset.groups
        self.timeout = timeout
        self._scanners: dict[int, Any] = {}
        self._yara_x = yara_x
        self._timeout_error = yara_x.TimeoutError
        self._scan_error = yara_x.ScanError

    def _scanner(self, k: int) -> Any:
        sc = self._scanners.get(k)
        if sc is None:
            sc = self._scanners[k] = self._yara_x.Scanner(self.groups[k].loaded())
            sc.set_timeout(self.timeout)
        return sc

    def scan(self, data: bytes, path: str) -> tuple[list[tuple[str, list[str], dict[str, Any]]], str]:
        """(matching rules as (name, tags, meta), error); a pack rule's meta has ORIGIN: its document:line."""
        name = os.path.basename(path)
        ext = os.path.splitext(name)[1].lower()
        values = (("filename", name), ("filepath", path), ("extension", ext), ("filetype", _filetype(data[:4])))
        found: list[Any] = []
        for k, g in enumerate(self.groups):
            if not g.admits(data, len(data)):
                continue
            try:
                sc = self._scanner(k)
            except Exception as exc:  # noqa: BLE001 - a cache entry yara-x refuses: said, not a traceback
                return [], f"YARA rules not loaded ({type(exc).__name__}: {exc})"
            for key, v in values:
                sc.set_global(key, v)
            try:
                found += sc.scan(data).matching_rules
            except self._timeout_error:
                return [], "YARA timeout"
            except self._scan_error as exc:
                return [], f"YARA scan error: {exc}"
        if len(found) > 1:  # in the rule files' order, as one scan with all rules gives them
            found.sort(key=lambda r: (int(r.namespace[1:]) if r.namespace[1:].isdigit() else -1,
                                      self.order.get(f"{r.namespace}:{r.identifier}", 0)))
        out = []
        for r in found:
            meta = {k: v for k, v in r.metadata}
            at = self.origins.get(f"{r.namespace}:{r.identifier}") if self.origins else None
            if at:
                meta[ORIGIN] = at
            out.append((r.identifier, list(r.tags), meta))
        return out, ""


def _filetype(head: bytes) -> str:
    if head[:2] == b"MZ":
        return "EXE"
    if head in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe"):
        return "MACHO"
    if head[:4] == b"\x7fELF":
        return "ELF"
    return ""
