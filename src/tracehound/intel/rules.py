"""Detection rules pasted in an advisory: YARA and Sigma, found in the text and kept exactly as written.

Read from the document's source text (Document.source: Markdown before emphasis stripping, the HTML's
<pre>/<code> blocks, PDF text with its page breaks), fenced or not, anywhere in a line:

- YARA: `[private|global] rule NAME [: tags] {` up to its closing brace, the scan aware of strings,
  regexes, comments and hex strings (a `}` in `"a}b"`, `/x}/` or `// }` does not close the rule).
  Several rules in one block each become a Rule. In a PDF, running headers and footers that fall
  inside a rule at a page break are taken out of its text.
- Sigma: a run of YAML lines that starts with a Sigma top-level key (title, id, logsource, ...);
  each `---` document of it with a title and a logsource + detection (or a correlation) is a Rule.

The lines a rule covers are not read again as prose: `$s1 = "cmd.exe"` is not a file name, a Sigma
field value is not an indicator. Hashes in a YARA rule's meta are indicators (context `source:
yara-meta`). Every rule is then validated (rule_check.py); a rule that fails is kept with its error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracehound.intel.model import HASH_LENGTHS, Rule
from tracehound.intel.rule_blocks import Block, _running_lines, _without_running_lines, blocks_of

if TYPE_CHECKING:
    from tracehound.intel.extract import DocumentExtractor

MAX_RULE_CHARS = 256 * 1024
MAX_RULES = 2000  # per document: each is compiled to be validated (~2 ms); more is listed as left out, not taken
# `rule NAME [: tags] {`, tags possibly on their own line; `private`/`global` are read backwards from the
# match (a leading `(?:private\s+)*` group made "private private ..." quadratic). Linear on any text.
_HEAD = re.compile(r"(?<![\w$.])rule\s+([A-Za-z_]\w{0,127})\s*(?::(?:\s*\b\w+\b)*\s*)?\{")
_MODIFIER = re.compile(r"(?:private|global)\s+$")
_CONDITION = re.compile(r"\bcondition\s*:")
_WORD = re.compile(r"[A-Za-z_]\w*")
SIGMA_KEYS = ("title", "id", "name", "related", "status", "description", "references", "author", "date",
              "modified", "tags", "logsource", "detection", "fields", "falsepositives", "level", "license",
              "taxonomy", "correlation", "scope", "generate")
_SIGMA_KEY = re.compile(r"^([ \t]*)(" + "|".join(SIGMA_KEYS) + r")[ \t]*:(?:[ \t]|$)")
_DOC_SEP = re.compile(r"^[ \t]*(?:---|\.\.\.)[ \t]*$")
_META_HASH = re.compile(r'^[ \t]*(\w+)[ \t]*=[ \t]*"([0-9A-Fa-f]{32}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})"', re.M)


@dataclass
class Found:
    rule: Rule
    lines: range  # 0-based document lines covered (text, Markdown, PDF)
    flat: str  # whitespace-collapsed text (to find the flattened HTML lines it covers)


# --- YARA ---------------------------------------------------------------------------------
def _skip_quoted(text: str, i: int, quote: str) -> int:
    """Index after the closing quote (or regex slash) opened at i; -1 when the line ends first."""
    j = i + 1
    n = len(text)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == quote:
            return j + 1
        if c == "\n":
            return -1
        j += 1
    return -1


_SPECIAL = re.compile(r'["/{}=]|(?<![\w$])matches(?!\w)')


def rule_end(text: str, pos: int, limit: int) -> int:
    """Index after the `}` closing the rule body opened just before pos; -1 if none before limit.
    Jumps from one character that matters to the next (quotes, slashes, braces, `=`, `matches`)."""
    depth, i, prev = 1, pos, "{"
    limit = min(limit, len(text))
    while (m := _SPECIAL.search(text, i, limit)) is not None:
        j, tok = m.start(), m.group(0)
        if text[i:j].strip():
            prev = "x"  # a word or operator: what follows is not a string's value
        i = j
        if tok == "matches":
            prev, i = tok, m.end()
        elif tok == '"':
            i, prev = _skip_quoted(text, j, '"'), '"'
        elif text.startswith("//", j):
            i = text.find("\n", j)
        elif text.startswith("/*", j):
            k = text.find("*/", j + 2)
            i = k + 2 if k >= 0 else -1
        elif tok == "/" and prev in ("=", "matches"):
            i, prev = _skip_quoted(text, j, "/"), "/"
        elif tok == "{" and prev == "=":  # hex string: its comments may hold a brace (`// pop edi {x}`)
            i, prev = _hex_end(text, j + 1, limit), "}"
        else:
            if tok == "{":
                depth += 1
            elif tok == "}":
                depth -= 1
                if depth == 0:
                    return j + 1
            prev, i = tok, j + 1
        if i < 0 or i > limit:
            return -1
    return -1


CUT = "a YARA rule head whose closing brace was not found (rule cut short, or over 256 KiB): not taken"
STOPPED = "YARA rules not searched past this rule head: the text has too many unclosed `rule x {` heads"


_HEX_STOP = re.compile(r"}|//|/\*")


def _hex_end(text: str, pos: int, limit: int) -> int:
    while (m := _HEX_STOP.search(text, pos, limit)) is not None:
        if m.group(0) == "}":
            return m.end()
        close = text.find("\n" if m.group(0) == "//" else "*/", m.end(), limit)
        if close < 0:
            return -1
        pos = close + 1
    return -1


def _commented(text: str, start: int, pos: int) -> int:
    """Where the comment holding `start` ends (a rule commented out), else -1. Searched from pos (the
    end of the last rule), so linear: a `/*` counts only when its `*/` comes after start; a `//` only
    at the start of the head's line."""
    line_start = text.rfind("\n", 0, start) + 1
    if text[line_start:start].lstrip().startswith("//"):
        end = text.find("\n", start)
        return end if end >= 0 else len(text)
    opened = text.rfind("/*", pos, start)
    if opened >= 0 and text.find("*/", opened + 2, start) < 0:
        close = text.find("*/", start, start + 4 * MAX_RULE_CHARS)  # bounded: many unclosed `/*` stay linear
        if close >= 0:
            return close + 2
    return -1


def yara_in(block: Block, cut: list[tuple[str, int, str]] | None = None) -> list[tuple[str, str, int, int]]:
    """(name, text, first line in the block (0-based), start offset) of every YARA rule of a block.
    `cut` gets (name, line, reason) of each head that looks like a rule but was not taken."""
    text = block.text
    out = []
    pos = line = counted = 0
    budget = 4 * len(text) + MAX_RULE_CHARS  # a text of unclosed `rule x {` heads stays linear
    while (m := _HEAD.search(text, pos)) is not None:
        line += text.count("\n", counted, m.start())
        counted = m.start()
        skip = _commented(text, m.start(), pos)
        if skip >= 0:
            pos = skip
            continue
        if budget <= 0:
            if cut is not None:
                cut.append((m.group(1), line, STOPPED))  # the rest of the text is not searched: said, not dropped
            break
        end = rule_end(text, m.end(), m.end() + MAX_RULE_CHARS)
        budget -= (end if end > 0 else min(len(text), m.end() + MAX_RULE_CHARS)) - m.end()
        if end < 0 or not _CONDITION.search(text, m.end(), end):
            if end < 0 and cut is not None and (len(text) > m.end() + MAX_RULE_CHARS
                                                or _CONDITION.search(text, m.end(), m.end() + MAX_RULE_CHARS)):
                cut.append((m.group(1), line, CUT))
            pos = m.end()
            continue
        begin = m.start()
        while (mod := _MODIFIER.search(text, max(0, begin - 40), begin)) is not None and mod.end() == begin and \
                (mod.start() == 0 or not (text[mod.start() - 1].isalnum() or text[mod.start() - 1] in "_$.")):
            begin = mod.start()
        out.append((m.group(1), text[begin:end], line - text.count("\n", begin, m.start()), begin))
        pos = end
    return out


_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")


def _fences(lines: list[str], whole: bool) -> list[int]:
    """For each line, the number of the fenced block (``` or ~~~) whose content it is, else -1."""
    if whole:
        return [0] * len(lines)
    out, current, marker = [], -1, ""
    count = 0
    for ln in lines:
        m = _FENCE.match(ln)
        if current < 0 and m:
            count += 1
            current, marker = count, m.group(1)
            out.append(-1)
        elif current >= 0 and m and m.group(1).startswith(marker) and not ln.strip().strip(marker[0]):
            current = -1
            out.append(-1)
        else:
            out.append(current)
    return out


def sigma_in(block: Block, whole: bool = False) -> list[tuple[str, str, int, int]]:
    """(title, text, first line, end line) of every Sigma document of a block; lines 0-based in the block.
    Outside a fence a document's top-level keys must be Sigma's; inside one (or when `whole`: an HTML
    <pre>), every line up to the fence's end is the rule's (custom keys such as SigmaHQ's
    `regression_tests_path` included)."""
    lines = block.text.split("\n")
    fence = _fences(lines, whole)
    out = []
    i = 0
    while i < len(lines):
        m = _SIGMA_KEY.match(lines[i])
        if not m:
            i += 1
            continue
        indent = len(m.group(1).expandtabs())
        j = i + 1
        last = i
        while j < len(lines):
            ln = lines[j]
            if fence[i] >= 0 and fence[j] == fence[i]:
                last = j if ln.strip() else last
                j += 1
                continue
            if not ln.strip() or ln.lstrip().startswith("#"):
                j += 1
                continue
            width = len(ln) - len(ln.lstrip())
            if _DOC_SEP.match(ln) or width > indent or (width == indent and (_SIGMA_KEY.match(ln) or
                                                                             ln.lstrip().startswith("- "))):
                last = j
                j += 1
                continue
            break
        out += _documents(lines, i, last + 1)
        i = last + 1
    return out


def _documents(lines: list[str], start: int, end: int) -> list[tuple[str, str, int, int]]:
    out = []
    doc_start = start
    for k in range(start, end + 1):
        if k == end or _DOC_SEP.match(lines[k]):
            body = lines[doc_start:k]
            while body and not body[-1].strip():
                body.pop()
            keys = {m.group(2): ln for ln in body if (m := _SIGMA_KEY.match(ln))}
            if "title" in keys and ("correlation" in keys or ("logsource" in keys and "detection" in keys)):
                title = keys["title"].split(":", 1)[1].strip().strip("'\"")
                out.append((title, "\n".join(body), doc_start, doc_start + len(body)))
            doc_start = k + 1
    return out


# --- blocks of a document -----------------------------------------------------------------
def find_rules(kind: str, source: str, document: str, cut: list[tuple[str, int, str]] | None = None) -> list[Found]:
    """The rules of a document's source; `cut` gets (name, line) of YARA heads not closed (see yara_in)."""
    found: list[Found] = []
    running = _running_lines(source) if kind == "pdf" and "\f" in source else set()
    for block in blocks_of(kind, source):
        cut_here: list[tuple[str, int, str]] = []
        for name, text, at, _start in yara_in(block, cut_here):
            first = block.line + at
            last = first + text.count("\n")
            if "\f" in text:
                text = _without_running_lines(text, running)
            found.append(Found(Rule("yara", name, text, document, first), range(first - 1, last), _flat(text)))
        if cut is not None:
            cut += [(n, block.line + k, why) for n, k, why in cut_here]
        for title, text, a, b in sigma_in(block, whole=kind == "html"):
            line = block.line + a
            found.append(Found(Rule("sigma", title, text, document, line), range(line - 1, block.line - 1 + b),
                               _flat(text)))
    return found


def _flat(text: str) -> str:
    return " ".join(text.split())


# --- the extractor's hook -----------------------------------------------------------------
def read_rules(ex: DocumentExtractor) -> set[int]:
    """Rules of the extractor's document into its pack (validated), hashes of YARA meta as indicators;
    returns the 0-based lines of ex.lines the rules cover (not to be read as tables or prose)."""
    source = ex.doc.source
    if "rule" not in source and "title" not in source:
        return set()
    cut: list[tuple[str, int, str]] = []
    found = find_rules(ex.doc.kind, source, ex.name, cut)
    for name, line, why in cut:
        ex.exclude(name, "yara-rule", why, line)
    if not found:
        return set()
    for f in found[MAX_RULES:]:
        ex.exclude(f.rule.name, f"{f.rule.kind}-rule", f"more than {MAX_RULES} detection rules in one document: "
                   "not taken (not validated, not run)", f.rule.line)
    del found[MAX_RULES:]
    from tracehound.intel.rule_check import validate

    known = {(r.kind, r.text) for r in ex.pack.rules}
    new: list[Rule] = []
    for f in found:  # a rule published twice (or by two documents of the pack) is kept once
        if (f.rule.kind, f.rule.text) not in known:
            known.add((f.rule.kind, f.rule.text))
            new.append(f.rule)
    validate(new, ex.pack.rules)
    ex.pack.rules += new
    covered: set[int] = set()
    ex.raw = list(ex.raw)  # lines whose rule is only part of them are blanked there, not in the document
    for f in found:
        if ex.doc.kind == "html":  # a <pre> block is one flattened line (or a few) of ex.lines
            for i, raw in enumerate(ex.raw):
                s = _flat(raw)
                if len(s) >= 8 and s in f.flat:
                    covered.add(i)
                elif len(f.flat) >= 8 and f.flat in raw:
                    _blank(ex, i, f.flat)
            continue
        lines = [i for i in f.lines if i < len(ex.raw)]
        parts = f.rule.text.split("\n")
        for i in lines:
            piece = parts[0] if i == lines[0] else parts[-1] if i == lines[-1] else ""
            if ex.doc.kind != "pdf" and piece and piece in ex.raw[i] and ex.raw[i].replace(piece, "", 1).strip():
                _blank(ex, i, piece)  # a rule in a sentence: the rest of the sentence is still read
            else:
                covered.add(i)
    for f in found:
        if f.rule.kind == "yara":
            _meta_hashes(ex, f.rule)
    return covered


def _blank(ex: DocumentExtractor, i: int, piece: str) -> None:
    from tracehound.defang import is_defanged, refang

    ex.raw[i] = ex.raw[i].replace(piece, " " * len(piece), 1)
    ex.lines[i] = refang(ex.raw[i])
    ex.line_defanged[i] = is_defanged(ex.raw[i])


def _meta_hashes(ex: DocumentExtractor, rule: Rule) -> None:
    body = rule.text
    meta_at = re.search(r"\bmeta\s*:", body)
    if not meta_at:
        return
    stop = re.search(r"\b(?:strings|condition)\s*:", body[meta_at.end():])
    meta = body[meta_at.end(): meta_at.end() + stop.start() if stop else len(body)]
    base = rule.line + body.count("\n", 0, meta_at.end())
    for m in _META_HASH.finditer(meta):
        key = m.group(1).lower()
        if not ("hash" in key or key.startswith(("sha", "md5", "sample"))) or "imphash" in key:
            continue  # an id, a certificate serial, an import hash: not a file's hash
        line = base + meta.count("\n", 0, m.start(2))
        ex.emit(HASH_LENGTHS[len(m.group(2))], m.group(2).lower(), line,
                {"source": "yara-meta", "yara_rule": rule.name}, 80)
