"""XML feeds parsed safely (defusedxml): no DTD, no entity declaration, no external reference, so a
billion-laughs file or an XXE probe is a clear error naming the file and line, never an expansion.

Elements keep the line they start on (for errors and `where`), and names are read without their
namespace: OpenIOC 1.0/1.1 and STIX 1.x producers disagree on prefixes, not on local names.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from tracehound.errors import PackError
from tracehound.intel.model import Indicator, SourceRef

MAX_DEPTH = 200  # nesting deeper than this is refused (an Indicator tree of an IOC file is a few levels)


class Tree:
    """A parsed document: its root and the line each element starts on."""

    def __init__(self, root: Element, lines: dict[int, int]) -> None:
        self.root = root
        self._lines = lines

    def line(self, el: Element) -> int:
        return self._lines.get(id(el), 0)


class _Builder(TreeBuilder):
    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[int, int] = {}
        self.where = lambda: 0
        self.depth = 0

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _TooDeep(self.where())
        el = super().start(tag, attrs)
        self.lines[id(el)] = self.where()
        return el

    def end(self, tag: str) -> Element:
        self.depth -= 1
        return super().end(tag)


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def parse(text: str, path: str) -> Tree:
    """Parse untrusted XML; any refusal or syntax error is a PackError naming path and line."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    builder = _Builder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    expat = parser.parser
    builder.where = lambda: int(expat.CurrentLineNumber)
    try:
        parser.feed(text.lstrip("\ufeff"))
        root = parser.close()
    except DefusedXmlException as exc:
        line = int(getattr(exc, "line", 0) or expat.CurrentLineNumber or 0)
        raise PackError(f"unsafe XML refused ({type(exc).__name__}: DTDs, entity declarations and external "
                        "references are not read)", path=path, line=line or None) from exc
    except ParseError as exc:
        line, col = exc.position
        msg = re.sub(r": line \d+, column \d+$", "", str(exc))
        raise PackError(f"invalid XML: {msg} (column {col + 1})", path=path, line=line) from exc
    except _TooDeep as exc:
        raise PackError(f"XML nested deeper than {MAX_DEPTH} levels", path=path, line=exc.line) from exc
    return Tree(root, builder.lines)


def add_source(ind: Indicator | None, document: str, line: int) -> None:
    """Record on an indicator read from an XML feed the file and line it came from."""
    if ind is not None and line:
        ind.merge(Indicator(ind.type, ind.value, sources=[SourceRef(document, [line])]))


def local(tag: str) -> str:
    """'{http://schemas.mandiant.com/2010/ioc}IndicatorItem' -> 'IndicatorItem'."""
    return tag.rsplit("}", 1)[-1]


def children(el: Element, name: str) -> list[Element]:
    return [c for c in el if local(c.tag) == name]


def child(el: Element, name: str) -> Element | None:
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def text_of(el: Element | None) -> str:
    return "".join(el.itertext()).strip() if el is not None else ""


def attr(el: Element, name: str) -> str:
    """An attribute by local name (xsi:type and type both answer 'type' only when asked by full local name)."""
    for k, v in el.attrib.items():
        if local(k) == name:
            return v
    return ""


def root_name(text: str) -> str:
    """Local name of the first element of an XML text ('' when it is not XML), read without parsing it all."""
    s = text.lstrip("\ufeff \t\r\n")
    if not s.startswith("<"):
        return ""
    for m in re.finditer(r"<([A-Za-z_][\w.:-]*)", s[:65536]):
        return m.group(1).rsplit(":", 1)[-1]
    return ""
