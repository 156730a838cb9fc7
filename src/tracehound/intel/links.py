"""Is a value a citation of the advisory or something the text presents as malicious?

Without any network, from the document itself and bundled lists:
- **presented as malicious** (always an indicator, even as a live link, e.g. a GitHub staging
  repository): the value is in an IOC section (heading "Indicators of compromise", "IOCs",
  "C2", "Infrastructure", "Indicateurs de compromission"...) or its sentence says what it does
  ("C2", "downloads from", "hosted on", "beacons to", "exfiltrates to", "télécharge depuis"...);
- **reference**: the line is a citation (`Source:`, `Reference:`, `See`, `Read more`, `[1] …`),
  the value sits under a references heading ("References", "Sources", "Further reading",
  "Pour aller plus loin"...), or it is a live link, in a sentence, to a publisher or reference
  site (MITRE ATT&CK, CERTs, news sites, vendor blogs, social media: packs/reference-sites.json
  plus MISP's tranco10k, cisco_top10k and security-provider-blogpost warninglists);
- a defanged value is never a reference: defanging is the author saying "indicator".
"""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from importlib import resources

from tracehound.intel.warninglists import in_list

REFERENCE_LINE = re.compile(
    r"^\s*(?:[•*-]\s*)?(?:\[\d{1,3}\]\s+\S|\^\d{1,3}\s|(?:source|sources|reference|references|"
    r"r[ée]f[ée]rences?|lien|liens|link|links|see|voir|read more|en savoir plus|pour plus d|for more|via|"
    r"credit|cr[ée]dit|cited|cit[ée])\b)", re.I)
_REFERENCE_HEADING = re.compile(
    r"^\s*(?:\d+(?:\.\d+)*\.?\s*)?(?:references?|r[ée]f[ée]rences?|sources?|further reading|read more|"
    r"pour aller plus loin|bibliograph\w*|liens?(?: utiles)?|links|useful links|related (?:articles|posts|reading)|"
    r"see also|voir aussi|acknowledg\w+|remerciements|credits?)\s*:?\s*$", re.I)
_IOC_HEADING = re.compile(
    r"\b(?:iocs?|indicators?(?: of compromise)?|indicateurs?(?: de compromission)?|c2|c&c|command[- ]and[- ]control|"
    r"infrastructure|network indicators|observables?|malicious|malveillant\w*|hashes|empreintes|"
    r"marqueurs(?: techniques)?)\b", re.I)
MALICIOUS_CUE = re.compile(
    r"\b(?:c2|c&c|cnc|command[- ]and[- ]control|beacon\w*|callback|downloads? (?:\w+ )?from|downloaded from|fetch\w* from|"
    r"retrieves?|hosted (?:on|at)|staging|exfiltrat\w*|payloads?|dropper|drops?|malicious|malveillant\w*|"
    r"contacts|connects? to|communicates? with|resolv\w* to|t[ée]l[ée]charg\w* (?:depuis|[àa] partir)|"
    r"h[ée]berg[ée]\w*|serveur de commande|phishing (?:page|site|kit|domain|url)s?)\b", re.I)
# A link to an article page (blog post, news item, dated path) rather than to a resource.
ARTICLE_PATH = re.compile(
    r"^[a-z][a-z0-9+.-]*://[^/]+/(?:[^?#]*/)?(?:blog|blogs|news|actualites?|articles?|research|insights?|posts?|"
    r"publications?|advisories|alerts?|avis|securelist|threat-intelligence|\d{4}/\d{2})/", re.I)
_PUBLISHER_LISTS = ("tranco10k", "cisco_top10k", "security-provider-blogpost")


@cache
def _reference_hosts() -> frozenset[str]:
    data = json.loads(resources.files("tracehound.packs").joinpath("reference-sites.json").read_text(encoding="utf-8"))
    return frozenset(str(h).lower() for h in data.get("hosts", []))


@lru_cache(maxsize=65536)
def publisher_site(host: str) -> str:
    """Name of the list that says host is a publisher or reference site, or ''."""
    h = host.lower().rstrip(".")
    labels = h.split(".")
    if ".".join(labels[-2:]) in _RESERVED:
        return ""  # documentation domains (RFC 2606) are examples, never a publisher
    if any(".".join(labels[i:]) in _reference_hosts() for i in range(len(labels) - 1)):
        return "reference site (packs/reference-sites.json)"
    for name in _PUBLISHER_LISTS:
        if in_list(name, h):
            return f"publisher/reference site (MISP warninglist {name})"
    return ""


def presented_as_malicious(line: str, start: int, end: int) -> bool:
    """A cue word shortly before the value, or right after it ("… is the C2"), says what it is."""
    before = line[max(0, start - 100) : start]
    before = re.split(r"[.!?;]\s|\|", before)[-1]  # the value's own sentence (or table cell) only
    after = re.split(r"[.!?;]\s|\|", line[end : end + 40])[0]
    return bool(MALICIOUS_CUE.search(before) or MALICIOUS_CUE.search(after))


_VALUE_LIKE = re.compile(r"://|@|\w\.\w|[0-9a-f]{16}|\|", re.I)


def _section_heading(line: str) -> bool:
    """A line that can open a section: short, words only (no URL, host, address, hash or table row)."""
    s = line.strip()
    return (0 < len(s) <= 80 and not s.endswith((".", ",", ";")) and not s.startswith(("•", "*", "-"))
            and not _VALUE_LIKE.search(s) and re.search(r"[^\W\d_]{3,}", s) is not None)


def section_kinds(lines: list[str]) -> list[str]:
    """Per line: 'ioc', 'references' or '' from the section heading the line sits under.
    A line of values (a reference URL, an IOC) never opens a section, so a list keeps its heading."""
    out: list[str] = []
    current = ""
    for ln in lines:
        out.append(current)
        if _section_heading(ln):
            current = "references" if _REFERENCE_HEADING.match(ln) else "ioc" if _IOC_HEADING.search(ln) else ""
    return out


_MARKUP = re.compile(r"<[^>]*>?|\b[\w-]+=(?:\"[^\"]*\"|'[^']*'|\S+)|\S*(?:://|\.\w{2,}/)\S*|\S+\.\S+")
_RESERVED = frozenset({"example.com", "example.net", "example.org", "example.edu"})


def is_prose(line: str, token: str) -> bool:
    """The token sits in a sentence (a run of words around it), not alone, in a list or in markup."""
    rest = _MARKUP.sub(" ", line.replace(token, " "))
    return re.search(r"(?:[^\W\d_]{2,}[,;:]?\s+){3}[^\W\d_]{2,}", rest) is not None


CONTACT = re.compile(
    r"\b(?:contact(?:ez|er)?(?: us)?|inquir\w*|enquir\w*|questions?|feedback|write to|reach us|[ée]crivez|"
    r"joindre|press|media|report (?:it|abuse) to|signaler [àa])\b", re.I)


def names_its_publisher(line: str, token: str, registered: str) -> bool:
    """`Selon LeMagIT (https://www.lemagit.fr/…)`: the sentence names the site the link goes to
    (the registrable label, four letters or more, as a word of the text around the link)."""
    label = registered.split(".", 1)[0].lower()
    if len(label) < 4 or registered.lower() in _RESERVED:
        return False
    start = line.find(token)
    around = line[max(0, start - 120) : start] + " " + line[start + len(token) : start + len(token) + 60]
    words = [w.lower() for w in re.findall(r"[^\W_]+", _MARKUP.sub(" ", around))]  # words, not hosts or URLs
    # "Vade Secure" names vadesecure.com; a hyphenated label (microsoft-update-center) never matches.
    names = {"".join(words[i : i + n]) for n in (1, 2, 3) for i in range(len(words) - n + 1)}
    return label in names
