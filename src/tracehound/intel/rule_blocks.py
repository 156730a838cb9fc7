"""Where an advisory's detection rules are read from (intel/rules.py): the blocks of its source text
(the whole text, or each HTML <pre>/<code> element with its line), and the running headers and
footers of a PDF that fall inside a rule at a page break."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

_PAGE_NUMBER = re.compile(r"^\s*(?:page\s*)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?\s*$", re.I)


@dataclass
class Block:
    text: str
    line: int  # 1-based line in the document of the block's first line


def _without_running_lines(text: str, running: set[str]) -> str:
    """A rule's text from a PDF: the page-break marks and the header/footer lines around them removed."""
    lines = text.split("\n")
    drop: set[int] = set()
    for k, ln in enumerate(lines):
        if ln != "\f":
            continue
        drop.add(k)
        for j in list(range(k - 1, max(-1, k - 4), -1)) + list(range(k + 1, min(len(lines), k + 4))):
            if _PAGE_NUMBER.match(lines[j]) or _norm(lines[j]) in running or not lines[j].strip():
                drop.add(j)
    return "\n".join(ln for k, ln in enumerate(lines) if k not in drop)


def _norm(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split())).lower()


def _running_lines(source: str) -> set[str]:
    """Lines (digits as #) repeated next to at least two page breaks of a PDF: its headers and footers."""
    lines = source.split("\n")
    seen: dict[str, int] = {}
    for k, ln in enumerate(lines):
        if ln == "\f":
            near = {_norm(lines[j]) for j in range(max(0, k - 3), min(len(lines), k + 4)) if j != k}
            for n in near:
                if n and not n.startswith(("$", "condition", "strings", "meta", "}", "{")):
                    seen[n] = seen.get(n, 0) + 1
    return {n for n, c in seen.items() if c >= 2}


# --- Sigma --------------------------------------------------------------------------------


class _Pre(HTMLParser):
    """The text of each outermost <pre> or <code> element, with its line in the HTML source."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self._depth = 0
        self._buf: list[str] = []
        self._line = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("pre", "code"):
            if self._depth == 0:
                self._buf, self._line = [], self.getpos()[0]
            self._depth += 1
        elif tag == "br" and self._depth:
            self._buf.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and self._depth:
            self._buf.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._depth and tag in ("div", "p", "li", "tr") and self._buf and not self._buf[-1].endswith("\n"):
            self._buf.append("\n")  # highlighters that put each line of code in its own <div>
        if tag in ("pre", "code") and self._depth:
            self._depth -= 1
            if self._depth == 0:
                text = "".join(self._buf).replace("\r\n", "\n").replace("\r", "\n")  # lines as the parser counts them
                self.blocks.append(Block(text, self._line))

    def handle_data(self, data: str) -> None:
        if self._depth:
            self._buf.append(data)


def blocks_of(kind: str, source: str) -> list[Block]:
    if kind != "html":
        return [Block(source, 1)]
    parser = _Pre()
    try:
        parser.feed(source)
        parser.close()
    except (AssertionError, ValueError, IndexError):
        pass  # html.parser's asserts on hostile markup: the blocks read so far are kept
    return parser.blocks
