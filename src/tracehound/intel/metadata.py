"""Title and publication date of an advisory, from the document's own header.

Order of trust, first found wins:
1. what the loader read from the document's head (`Document.meta`: HTML `<title>`,
   `og:title`, `article:published_time`, `date`/`DC.date` meta; Markdown/YAML front matter
   `title:`/`date:`; the Markdown `# H1`; AsciiDoc `= Title`, `:revdate:` and its revision line);
2. a date line: `Published: …`, `Publié le …`, `Date de publication …`, `Posted on …`,
   `Date: …`, `Last updated …` (any of the date forms below);
3. for the date only, a line in the first 20 that holds nothing but a date (the web-page
   shape: `30/03/2023` alone under the site banner).
Never from rule metadata (a YARA `date = "…"`/`created` meta, a Sigma `date:` inside a rule)
nor from a section heading.

Date forms: ISO (`2023-03-30`, with time), `30/03/2023` (day first in French text or when
the first number is > 12), `March 30, 2023`, `30 March 2023`, `30 mars 2023`, `1er avril 2023`.
"""

from __future__ import annotations

import re

_MONTHS = {
    "jan": 1, "january": 1, "janvier": 1, "feb": 2, "february": 2, "fevrier": 2, "février": 2, "mar": 3, "march": 3,
    "mars": 3, "apr": 4, "april": 4, "avril": 4, "may": 5, "mai": 5, "jun": 6, "june": 6, "juin": 6, "jul": 7,
    "july": 7, "juillet": 7, "aug": 8, "august": 8, "aout": 8, "août": 8, "sep": 9, "sept": 9, "september": 9,
    "septembre": 9, "oct": 10, "october": 10, "octobre": 10, "nov": 11, "november": 11, "novembre": 11,
    "dec": 12, "december": 12, "decembre": 12, "décembre": 12,
}
_MONTH_RX = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DMY = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2}))?")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?")
_WORDY_MDY = re.compile(rf"\b({_MONTH_RX})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
_WORDY_DMY = re.compile(rf"\b(\d{{1,2}})(?:er|st|nd|rd|th)?\s+({_MONTH_RX})\.?,?\s+(\d{{4}})\b", re.I)
_DATE_LINE = re.compile(
    r"^\s*(?:[•*-]\s*)?(?:published|publication date|date published|posted(?: on)?|released?|date|last updated|"
    r"updated|publi[ée]e? le|publi[ée]e?|date de publication|mis en ligne le|mise? [àa] jour(?: le)?)\b\s*:?", re.I)
_RULE_META = re.compile(r"^\s*[\w-]+\s*[=:]\s*[\"']|^\s*(?:date|created|modified)\s*[:=]\s*\d", re.I)
_RULE_START = re.compile(r"^\s*(?:(?:private|global)\s+)*rule\s+\w+|^\s*title:\s|^\s*logsource:\s*$")
_TITLE_WORDS = re.compile(r"alert|advisory|bulletin|avis|security|s[ée]curit", re.I)


def parse_date(text: str, day_first: bool = False) -> str:
    """ISO date (with THH:MM when given) of the first date in text, or ''."""
    found: list[tuple[int, str]] = []
    m = _DMY.search(text)
    if m:
        a, b, y = int(m.group(1)), int(m.group(2)), m.group(3)
        day, month = (a, b) if (day_first or a > 12) else (b, a)
        if 1 <= month <= 12 and 1 <= day <= 31:
            iso = f"{y}-{month:02d}-{day:02d}"
            found.append((m.start(), f"{iso}T{int(m.group(4)):02d}:{m.group(5)}" if m.group(4) else iso))
    m = _ISO.search(text)
    if m and 1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31:
        found.append((m.start(), m.group(0).replace(" ", "T")))
    m = _WORDY_MDY.search(text)
    if m:
        found.append((m.start(), f"{m.group(3)}-{_MONTHS[m.group(1).lower()]:02d}-{int(m.group(2)):02d}"))
    m = _WORDY_DMY.search(text)
    if m:
        found.append((m.start(), f"{m.group(3)}-{_MONTHS[m.group(2).lower()]:02d}-{int(m.group(1)):02d}"))
    return min(found)[1] if found else ""


def legacy_date(text: str, day_first: bool) -> str:
    """A table cell's date: ISO when it parses, else the cell as written."""
    return parse_date(text, day_first) or text.strip()


def _rule_lines(lines: list[str]) -> set[int]:
    """Lines inside pasted YARA/Sigma rules, whose dates are the rule's, not the advisory's."""
    out: set[int] = set()
    depth, in_rule = 0, False
    for i, ln in enumerate(lines):
        if _RULE_START.match(ln):
            in_rule = True
        if in_rule:
            out.add(i)
            depth += ln.count("{") - ln.count("}")
            if depth <= 0 and "}" in ln:
                in_rule = False
            elif not ln.strip() and depth <= 0:
                in_rule = False
    return out


def published_date(lines: list[str], meta: dict[str, str], day_first: bool) -> str:
    for key in ("published", "date"):
        if meta.get(key):
            d = parse_date(meta[key], day_first)
            if d:
                return d[:10]
    skip = _rule_lines(lines[:400])
    for i, ln in enumerate(lines[:200]):
        if i in skip or _RULE_META.match(ln) and not _DATE_LINE.match(ln):
            continue
        if _DATE_LINE.match(ln):
            d = parse_date(ln, day_first) or (parse_date(lines[i + 1], day_first) if i + 1 < len(lines) else "")
            if d:
                return d[:10]
    for i, ln in enumerate(lines[:20]):
        s = ln.strip()
        if i in skip or not s or len(s) > 40 or _RULE_META.match(ln):
            continue
        d = parse_date(s, day_first)
        if d:
            return d[:10]
    return ""


def title_of(lines: list[str], meta: dict[str, str]) -> str:
    if meta.get("title"):
        return meta["title"].strip()
    for ln in lines[:20]:
        if _TITLE_WORDS.search(ln) and re.search(r"[–—:]| - ", ln) and len(ln.strip()) <= 160:
            return ln.strip()
    return ""
