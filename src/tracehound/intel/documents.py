"""Turn an advisory file (plain text, Markdown, HTML, PDF) into lines of text.

Advisories are untrusted: size is bounded, binary input is refused with a clear message,
undecodable bytes are replaced (and counted) rather than crashing. HTML is flattened with
one table cell per line, which is the same shape as a table copied from a web page, so the
table reader handles both.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from tracehound.errors import InputError

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


@dataclass
class Document:
    path: str
    lines: list[str]
    kind: str
    warnings: list[str] = field(default_factory=list)
    # What the document's own header says: "title", "published", "date" (HTML meta and
    # <title>, Markdown front matter and # H1, AsciiDoc = Title / :revdate:).
    meta: dict[str, str] = field(default_factory=dict)
    # The text as read, before flattening (Markdown emphasis kept, HTML markup kept, PDF pages separated by a
    # "\f" line at each page break): detection rules pasted in the advisory are read from it (intel/rules.py).
    source: str = ""


_META_KEYS = {
    "og:title": "title", "twitter:title": "title", "dc.title": "title",
    "article:published_time": "published", "og:published_time": "published", "datepublished": "published",
    "dc.date": "date", "dc.date.issued": "published", "date": "date", "pubdate": "published",
    "publish-date": "published", "publication_date": "published", "sailthru.date": "date",
}


_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "section", "article", "pre", "blockquote", "dt", "dd", "hr", "header", "footer",
}
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "head"}


_PARAGRAPH_TAGS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "section", "article",
                   "pre", "blockquote", "header", "footer", "hr"}


class _TextExtractor(HTMLParser):
    """Block elements end a line; paragraphs end with a blank line, except inside tables,
    where every cell is its own line with no blank between (the flattened-table shape)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._buf: list[str] = []
        self._skip = 0
        self._table = 0
        self.meta: dict[str, str] = {}
        self._in_title = False
        self._in_h1 = False
        self._title: list[str] = []
        self._h1: list[str] = []

    def _flush(self, paragraph: bool = False) -> None:
        text = re.sub(r"[ \t\u00a0\r\n]+", " ", "".join(self._buf)).strip()
        self._buf = []
        if text:
            self.lines.append(text)
        if paragraph and not self._table and self.lines and self.lines[-1]:
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            a = {k.lower(): (v or "") for k, v in attrs}
            key = _META_KEYS.get((a.get("property") or a.get("name") or a.get("itemprop") or "").lower())
            if key and a.get("content") and key not in self.meta:
                self.meta[key] = a["content"][:300]
            return
        if tag == "time" and "published" not in self.meta:
            dt = dict(attrs).get("datetime")
            if dt:
                self.meta["published"] = dt[:64]
        self._in_title = self._in_title or tag == "title"
        self._in_h1 = self._in_h1 or (tag == "h1" and not self._h1)
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self._flush(paragraph=tag in _PARAGRAPH_TAGS)
            if tag == "table":
                self._table += 1
            if tag == "li":
                self._buf.append("• ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag == "h1":
            self._in_h1 = False
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            if tag == "table":
                self._table = max(0, self._table - 1)
            self._flush(paragraph=tag in _PARAGRAPH_TAGS)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)
        if self._in_h1:
            self._h1.append(data)
        if not self._skip:
            self._buf.append(data)


def html_to_lines(html: str, meta: dict[str, str] | None = None) -> list[str]:
    parser = _TextExtractor()
    # A '<!' that opens neither a comment, a CDATA section nor a declaration makes html.parser
    # swallow the rest of the document as a marked section (found by fuzzing): make it text.
    html = re.sub(r"<!(?!--|\[CDATA\[|[A-Za-z])", "&lt;!", html)
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError, IndexError):
        # CPython's html.parser asserts on some malformed markup ('<!<![' found by fuzzing):
        # fall back to stripping tags, so no text after the bad markup is lost.
        return _strip_tags(html)
    parser._flush(paragraph=True)
    if meta is not None:
        meta.update(parser.meta)
        title = re.sub(r"\s+", " ", "".join(parser._h1 or parser._title)).strip()
        if title and "title" not in meta:
            meta["title"] = title[:300]
    return parser.lines


_BLOCK_OPEN = re.compile(r"<(script|style|template|noscript)\b", re.I)


def _drop_blocks(html: str) -> str:
    r"""<script>...</script> (and style, template, noscript) replaced by a space, in linear time: the
    former `<(script|...)\b.*?</\1\s*>` rescanned to the end for every unclosed opening tag."""
    out: list[str] = []
    last = pos = 0
    unclosed: set[str] = set()  # no closing tag after some position: none after any later one either
    while (m := _BLOCK_OPEN.search(html, pos)) is not None:
        name = m.group(1).lower()
        close = None if name in unclosed else re.compile(rf"</{name}\s*>", re.I).search(html, m.end())
        if close is None:
            unclosed.add(name)
            pos = m.end()
            continue
        out += [html[last:m.start()], " "]
        last = pos = close.end()
    out.append(html[last:])
    return "".join(out)


def _tags_to_newlines(text: str) -> str:
    """re.sub(r"<[^>]*>", "\\n", text) in linear time (the regex rescans to the end from every '<'
    when no '>' follows: quadratic on '<<<<...')."""
    out: list[str] = []
    pos = 0
    while (a := text.find("<", pos)) >= 0 and (b := text.find(">", a + 1)) >= 0:
        out += [text[pos:a], "\n"]
        pos = b + 1
    out.append(text[pos:])
    return "".join(out)


def _strip_tags(html: str) -> list[str]:
    import html as html_mod

    text = _drop_blocks(html)
    text = _tags_to_newlines(text)
    return [ln for ln in (re.sub(r"[ \t\u00a0]+", " ", html_mod.unescape(x)).strip() for x in text.split("\n"))]


def _decode(data: bytes, warnings: list[str]) -> str:
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(enc, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = sum(1 for b in data if b >= 0x80)
        warnings.append(f"not valid UTF-8 (first bad byte at offset {exc.start}); {bad} high bytes read as cp1252")
        return data.decode("cp1252", errors="replace")


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    return len(head) > 0 and control / len(head) > 0.1


def load_document(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    p = Path(path)
    name = str(path)
    try:
        if not p.is_file():
            raise InputError("not a regular file" if p.exists() else "no such file", path=name)
        size = p.stat().st_size
        if size > max_bytes:
            raise InputError(
                f"advisory too large ({size / 1048576:.0f} MiB > limit {max_bytes / 1048576:.0f} MiB; raise it with --max-size)",
                path=name,
            )
        with p.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=name) from exc
    if not data.strip():
        raise InputError("empty document: no text to extract indicators from", path=name)
    warnings: list[str] = []
    if data.startswith(b"%PDF-"):
        breaks: set[int] = set()
        lines = _pdf_lines(data, name, warnings, breaks)
        return Document(name, lines, "pdf", warnings, source="\n".join("\f" if i in breaks else ln for i, ln in enumerate(lines)))
    if _looks_binary(data[:8192]) and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("binary file, not an advisory (expected text, Markdown, HTML or PDF)", path=name)
    text = _decode(data, warnings)
    head = text[:2048].lower()
    if p.suffix.lower() in (".html", ".htm", ".xhtml") or "<html" in head or "<!doctype html" in head:
        meta: dict[str, str] = {}
        return Document(name, html_to_lines(text, meta), "html", warnings, meta, text)
    return text_document(name, text, p.suffix.lower(), warnings)


def text_document(name: str, text: str, suffix: str = "", warnings: list[str] | None = None) -> Document:
    """Plain text, Markdown or AsciiDoc (by suffix or by shape) into lines plus header metadata."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kind = "markdown" if suffix in (".md", ".markdown") else "asciidoc" if suffix in (".adoc", ".asciidoc") else "text"
    meta = header_meta(lines)
    source = "\n".join(lines)
    if kind == "markdown":
        lines = [_markdown_line(ln) for ln in lines]
    return Document(name, lines, kind, warnings or [], meta, source)


_FRONT_KEY = re.compile(r"^(title|date|published|publishdate|pubdate)\s*:\s*[\"']?(.+?)[\"']?\s*$", re.I)


def header_meta(lines: list[str]) -> dict[str, str]:
    """Title and date a Markdown or AsciiDoc header declares (front matter, # H1, = Title, :revdate:)."""
    meta: dict[str, str] = {}
    head = lines[:60]
    if head and head[0].strip() == "---":
        for ln in head[1:]:
            if ln.strip() in ("---", "..."):
                break
            m = _FRONT_KEY.match(ln.strip())
            if m:
                key = m.group(1).lower()
                key = "title" if key == "title" else "published" if key != "date" else "date"
                meta.setdefault(key, m.group(2)[:300])
    for i, ln in enumerate(head):
        m = re.match(r"^(#|=)\s+(\S.*?)\s*#*\s*$", ln)
        if m and "title" not in meta:
            meta["title"] = m.group(2)[:300]
            if m.group(1) == "=":  # AsciiDoc: author line, then revision line "v1.0, 2024-03-02"
                for nxt in head[i + 1 : i + 3]:
                    if re.search(r"\d{4}", nxt) and "," in nxt and "date" not in meta:
                        meta["date"] = nxt.split(",", 1)[1].split(":", 1)[0][:64]
        m = re.match(r"^:(revdate|date|published):\s*(.+)$", ln.strip(), re.I)
        if m:
            meta.setdefault("published", m.group(2)[:64])
    return meta


_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# Emphasis markers, not the `__` of `C:\__MACOSX\x` or the `**` of a `C:\Users\**\x` wildcard: one that
# touches a path separator, or has word characters on both sides, is part of the value.
_EMPHASIS = re.compile(r"(?<![\w\\/])(?:\*\*|__)(?=[^\s\\/])|(?<=[^\s\\/])(?:\*\*|__)(?![\w\\/])")


def _markdown_line(line: str) -> str:
    # Markdown tables become one cell per line only in HTML; here keep pipes as separators the
    # table reader understands, and strip emphasis and code ticks that would glue to values. The text
    # of a code span is kept as written (`C:\__x\y` keeps its underscores); a tick between two
    # characters of a word becomes a space so the span's value is not glued to its neighbour.
    if "`" in line or "**" in line or "__" in line:
        out, pos = [], 0
        for m in _CODE_SPAN.finditer(line) if "`" in line else ():
            out.append(_EMPHASIS.sub("", line[pos : m.start()]))
            before = line[m.start() - 1] if m.start() else " "
            after = line[m.end()] if m.end() < len(line) else " "
            out.append((" " if before.isalnum() else "") + m.group(2) + (" " if after.isalnum() else ""))
            pos = m.end()
        out.append(_EMPHASIS.sub("", line[pos:]))
        line = "".join(out).replace("`", "")
    return re.sub(r"^#{1,6}\s*", "", line)


def _pdf_lines(data: bytes, name: str, warnings: list[str], breaks: set[int]) -> list[str]:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:  # pragma: no cover - pypdf is a declared dependency
        raise InputError("PDF support needs pypdf", path=name) from exc
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        lines: list[str] = []
        for number, page in enumerate(reader.pages, 1):
            try:
                lines.extend((page.extract_text() or "").split("\n"))
            except Exception as exc:  # noqa: BLE001 - pypdf raises many types on hostile pages
                warnings.append(f"page {number}: text not extractable ({type(exc).__name__})")
            breaks.add(len(lines))
            lines.append("")
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise InputError(f"unreadable PDF: {exc}", path=name) from exc
    if not any(ln.strip() for ln in lines):
        raise InputError("PDF has no extractable text (scanned image?)", path=name)
    return lines
