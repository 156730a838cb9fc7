"""Advisory -> indicator pack.

Steps, each in its own module: refang every line (defang.py); find tables and read them by
column meaning (tables.py, table_rows.py); read the prose around them for network forms
(network.py) and hashes with split-value repair (hashes.py), deciding for each live link
whether it is a citation or something the text presents as malicious (links.py); then the
affected versions and remediation (affected.py) and the title and date (metadata.py).
Every value left out is recorded with why.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from tracehound.defang import is_defanged, refang
from tracehound.intel import artefacts, links
from tracehound.intel.affected import product_from, read_remediation, read_versions
from tracehound.intel.documents import DEFAULT_MAX_BYTES, Document, load_document, text_document
from tracehound.intel.encoded import decoded_texts
from tracehound.intel.hashes import find_hex_values
from tracehound.intel.metadata import legacy_date, published_date, title_of
from tracehound.intel.model import (
    CERT_LENGTHS,
    HASH_LENGTHS,
    HOST_ARTEFACT_TYPES,
    REJECTED,
    Exclusion,
    Indicator,
    IType,
    Pack,
    SourceRef,
    canonical_value,
    url_host,
)
from tracehound.intel.network import (
    DOMAIN,
    EMAIL,
    FILE_EXTENSION_TLDS,
    IPV4,
    IPV6,
    URL_BARE,
    URL_BARE_IP,
    URL_SCHEME,
    is_detection_name,
    registered_suffix,
    valid_ip,
    version_word_before,
)
from tracehound.intel.rules import read_rules
from tracehound.intel.table_rows import FILE_NAME, read_table
from tracehound.intel.tables import find_tables
from tracehound.intel.values import RejectedValue, visible
from tracehound.intel.warninglists import excluded_by, flags_for

__all__ = ["ExtractOptions", "ExtractResult", "extract_files", "extract_text", "registered_suffix"]

_STAGE = re.compile(r"\b(?:stage|[ée]tape|phase)\s*(\d+)\b", re.I)
_CERT_WORDS = re.compile(r"thumbprint|certificat|certificate|empreinte du cert|signing cert|code.?sign", re.I)
_FRENCH = re.compile(r"\b(les|des|est|pour|vous|une|sont|dans|avec|nous)\b", re.I)
_ENGLISH = re.compile(r"\b(the|and|is|for|you|are|with|this|that|we)\b", re.I)


@dataclass
class ExtractOptions:
    name: str = ""
    product: str = ""
    campaign: str = ""
    max_bytes: int = DEFAULT_MAX_BYTES


@dataclass
class ExtractResult:
    pack: Pack
    warnings: list[str] = field(default_factory=list)


def extract_files(paths: list[str], options: ExtractOptions) -> ExtractResult:
    docs = [load_document(p, options.max_bytes) for p in paths]
    name = options.name or (Path(paths[0]).stem if paths else "pack")
    pack = Pack(name=name)
    warnings: list[str] = []
    for doc in docs:
        warnings += [f"{doc.path}: {w}" for w in doc.warnings]
        DocumentExtractor(doc, pack, options).run()
    pack.sorted()
    return ExtractResult(pack, warnings)


def extract_text(text: str, name: str = "text", suffix: str = "", options: ExtractOptions | None = None) -> Pack:
    """Extract from text already in memory (tests, other tools); same rules as a file."""
    pack = Pack(name=name)
    DocumentExtractor(text_document(name, text, suffix), pack, options or ExtractOptions(name=name)).run()
    pack.sorted()
    return pack


class _Spans:
    """Character spans of a line already taken by an indicator: one byte per character, so a
    check costs the match's length (a list of spans made a line of 4,000 addresses take 6 s)."""

    def __init__(self, n: int) -> None:
        self.mask = bytearray(n)

    def free(self, start: int, end: int) -> bool:
        return self.mask.find(1, start, end) < 0

    def append(self, span: tuple[int, int]) -> None:
        a, b = span
        self.mask[a:b] = b"\x01" * max(0, b - a)


class DocumentExtractor:
    def __init__(self, doc: Document, pack: Pack, options: ExtractOptions) -> None:
        self.doc = doc
        self.pack = pack
        self.options = options
        self.name = Path(doc.path).name
        self.raw = doc.lines
        self.lines = [refang(ln) for ln in doc.lines]
        self.line_defanged = [is_defanged(ln) for ln in doc.lines]
        self.defanged_doc = any(self.line_defanged)
        self._citation: dict[int, bool] = {}
        self._grown: dict[int, int] = {}  # `__` per long raw line (was_defanged)
        self._stage: dict[int, str] = {}
        text = "\n".join(self.lines[:400])
        self.language = "fr" if len(_FRENCH.findall(text)) > len(_ENGLISH.findall(text)) else "en"
        self.headings = self._headings()
        self.sections = links.section_kinds(self.lines)
        self.excluded_keys: set[tuple[str, str]] = set()

    def run(self) -> None:
        in_table: set[int] = read_rules(self)  # YARA/Sigma pasted in the text: into pack.rules, not read as prose
        for t in find_tables([("" if i in in_table else ln) for i, ln in enumerate(self.lines)] if in_table else self.lines):
            in_table.update(range(t.header_line - 1, t.end_line - 1))
            read_table(self, t)
        self._read_prose(in_table)
        self._read_metadata(in_table)

    # --- helpers ------------------------------------------------------------------------
    def _headings(self) -> list[str]:
        """For each line, the last heading-like line above it (short, no final period)."""
        out: list[str] = []
        current = ""
        for ln in self.lines:
            out.append(current)
            s = ln.strip()
            if s and len(s) <= 80 and not s.endswith((".", ":", ";", ",")) and not s.startswith(("•", "*", "-")):
                current = s
        return out

    def stage_at(self, line_index: int) -> str:
        if line_index not in self._stage:
            m = _STAGE.search(self.headings[line_index]) or _STAGE.search(self.lines[line_index])
            self._stage[line_index] = f"Stage {m.group(1)}" if m else ""
        return self._stage[line_index]

    def src(self, *lines: int) -> list[SourceRef]:
        return [SourceRef(self.name, sorted(set(lines)))]

    def date(self, text: str) -> str:
        return legacy_date(text, self.language == "fr")

    def exclude(self, value: str, itype: str, reason: str, line: int) -> None:
        if (itype, value) in self.excluded_keys:
            return
        self.excluded_keys.add((itype, value))
        self.pack.excluded.append(Exclusion(value, itype, reason, self.name, line))

    def emit(self, itype: IType, value: str, line: int, context: dict[str, str | list[str]] | None = None,
             confidence: int = 80, extra_lines: tuple[int, ...] = ()) -> Indicator | None:
        try:
            v = canonical_value(itype, value)
        except RejectedValue as exc:  # hostile shape (control character, scope id, wildcard): shown, not dropped
            self.exclude(visible(value), itype.value, f"{REJECTED}{exc}", line)
            return None
        except ValueError:
            return None
        if itype in (IType.DOMAIN, IType.URL):
            host = url_host(v) if itype is IType.URL else v
            reason = excluded_by(host) if itype is IType.DOMAIN else None
            if reason:
                self.exclude(v, itype.value, reason, line)
                return None
        ctx = {k: val for k, val in (context or {}).items() if val}
        flags = [] if itype in HOST_ARTEFACT_TYPES else flags_for(v)  # the warninglists hold hosts and addresses
        ind = Indicator(itype, v, ctx, confidence, self.src(line, *extra_lines), flags)
        return self.pack.add(ind)

    def was_defanged(self, line_index: int, token: str, pos: int = -1) -> bool:
        """Not written so in the raw line. On a long line, only where it can be: refanging moved the value at pos of
        the refanged line by at most the characters it removed, or back by one per `__` it made `://`."""
        raw, line = self.raw[line_index], self.lines[line_index]
        if pos < 0 or len(raw) < 4096 or len(raw) < len(line) or not line.startswith(token, pos):  # (a table cell)
            return self.line_defanged[line_index] and token not in raw
        if line_index not in self._grown:
            self._grown[line_index] = raw.count("__")
        grown = self._grown[line_index]
        lo, hi = max(0, pos - grown), pos + len(token) + len(raw) - len(line) + grown
        return self.line_defanged[line_index] and raw.find(token, lo, hi) < 0

    def reference_reason(self, i: int, line: str, token: str, host: str, typed: bool, start: int = -1) -> str:
        """Why a live value is a citation rather than an indicator ('' when it is an indicator); start: where in line."""
        if typed or self.was_defanged(i, token, start):
            return ""
        if i not in self._citation:
            self._citation[i] = links.REFERENCE_LINE.match(self.raw[i]) is not None
        if self._citation[i]:
            return "reference link of the advisory (citation line)"
        if self.sections[i] == "references":
            return "reference link of the advisory (under its references heading)"
        start = line.find(token) if start < 0 else start
        if self.sections[i] == "ioc" or links.presented_as_malicious(line, start, start + len(token)):
            return ""
        if self.defanged_doc:
            return "reference link of the advisory (not defanged in a defanged document)"
        if "://" not in token or not links.is_prose(line, token):
            return ""
        publisher = links.publisher_site(host) if host else ""
        if publisher:
            return f"link in prose to a {publisher}"
        if links.ARTICLE_PATH.match(token):
            return "link in prose to an article page (blog/news path), nothing presents it as malicious"
        registered = registered_suffix(host)[0] if host else ""
        if registered and links.names_its_publisher(line, token, registered):
            return "link in prose to the source the sentence names (a citation)"
        return ""

    # --- prose --------------------------------------------------------------------------
    def _read_prose(self, in_table: set[int]) -> None:
        block: list[int] = []
        for i in range(len(self.lines) + 1):
            if i < len(self.lines) and i not in in_table and self.lines[i].strip():
                block.append(i)
                continue
            if block:
                self._prose_block(block)
                block = []

    def _prose_block(self, block: list[int]) -> None:
        for i in block:
            self.prose_line(i, self.lines[i])
            artefacts.read_line(self, i)  # paths, registry keys, mutexes, PDB paths
        # Hashes across the block so a value broken over two lines is rejoined.
        text = "\n".join(self.lines[i] for i in block)
        hint = self.headings[block[0]] + " " + text
        starts = []
        pos = 0
        for i in block:
            starts.append(pos)
            pos += len(self.lines[i]) + 1
        for hv in find_hex_values(text, hint):
            idx = max(k for k, s in enumerate(starts) if s <= hv.start)
            line_index = block[idx]
            if hv.label:
                what = "a serial number: neither a certificate hash nor a file hash" if hv.label == "serial" \
                    else f"labelled {hv.label}: not a file hash"
                self.exclude(hv.value, hv.label, what, line_index + 1)
                continue
            ctx_text = self.lines[line_index] + " " + self.headings[line_index]
            if idx > 0:
                ctx_text += " " + self.lines[block[idx - 1]]
            is_cert = bool(_CERT_WORDS.search(ctx_text)) and len(hv.value) in CERT_LENGTHS
            itype = CERT_LENGTHS[len(hv.value)] if is_cert else HASH_LENGTHS[len(hv.value)]
            names = [t for t in re.findall(r"[\w.-]+\.[A-Za-z0-9]{2,5}\b", self.lines[line_index]) if FILE_NAME.match(t)
                     and not registered_suffix(t)[0]]
            self.emit(itype, hv.value, line_index + 1, {
                "stage": self.stage_at(line_index), "file_name": names[0] if names else "",
            }, 80)

    def prose_line(self, i: int, line: str, stage_override: str = "", typed: bool = False) -> None:
        """Network values of one line; typed=True when the line is a typed table cell."""
        taken = _Spans(len(line))
        stage = stage_override or self.stage_at(i)

        def free(start: int, end: int) -> bool:
            return taken.free(start, end)

        for encoding, text in decoded_texts(line):
            for m in URL_SCHEME.finditer(text):
                self._url(i, text, m.group(0).rstrip(".,;:!?"), stage, True, {"encoding": encoding})
        if "." not in line and ":" not in line:
            return  # no host, address or URL can be written without a dot or a colon
        urls = (list(URL_SCHEME.finditer(line)) if "://" in line else []) \
            + (list(URL_BARE_IP.finditer(line)) + list(URL_BARE.finditer(line)) if "/" in line else [])
        for m in sorted(urls, key=lambda m: m.start()):
            url = m.group(0).rstrip(".,;:!?")
            if not free(m.start(), m.start() + len(url)):
                continue
            taken.append((m.start(), m.start() + len(url)))
            self._url(i, line, url, stage, typed)
        for m in EMAIL.finditer(line) if "@" in line else ():
            if free(*m.span()):
                taken.append(m.span())
                host = m.group(0).rsplit("@", 1)[1].strip("[]")
                if not valid_ip(host) and not registered_suffix(host)[0] and not self.was_defanged(i, m.group(0), m.start()):
                    continue  # `foo@gmail.comahhh`: no public suffix and not written as an indicator
                reason = self.reference_reason(i, line, m.group(0), "", typed, m.start())
                if not reason and not typed and not self.was_defanged(i, m.group(0), m.start()) \
                        and links.CONTACT.search(line) and not links.presented_as_malicious(line, *m.span()):
                    reason = "contact address of the publisher (not defanged, in a contact sentence)"
                if reason:
                    self.exclude(m.group(0), "email", reason, i + 1)
                    continue
                # Mail systems match the local part case-insensitively: Bad@x and bad@x are one sender.
                ind = self.emit(IType.EMAIL, m.group(0).lower(), i + 1, {"stage": stage}, 60)
                if ind is not None and valid_ip(host):
                    self.emit(IType.IPV6 if ":" in host else IType.IPV4, host, i + 1,
                              {"stage": stage, "from_email": ind.value}, 60)
        for m in IPV4.finditer(line):
            if not free(*m.span()):
                continue
            taken.append(m.span())
            if version_word_before(line, m.start()):
                continue
            reason = self.reference_reason(i, line, m.group(0), "", typed, m.start())
            if reason:
                self.exclude(m.group(0), "ipv4", "not defanged in a defanged document (example or version?)"
                             if self.defanged_doc else reason, i + 1)
                continue
            self.emit(IType.CIDR if "/" in m.group(0) else IType.IPV4, m.group(0), i + 1, {"stage": stage}, 70)
        for m in IPV6.finditer(line) if "::" in line or line.count(":") >= 2 else ():
            if free(*m.span()) and valid_ip(m.group(0).split("/")[0]):
                taken.append(m.span())
                reason = self.reference_reason(i, line, m.group(0), "", typed, m.start())
                if reason:
                    self.exclude(m.group(0), "ipv6", reason, i + 1)
                else:
                    self.emit(IType.CIDR if "/" in m.group(0) else IType.IPV6, m.group(0), i + 1, {"stage": stage}, 70)
        for m in DOMAIN.finditer(line):
            if free(*m.span()):
                taken.append(m.span())
                self._domain(i, line, m, stage, typed)

    def _url(self, i: int, line: str, url: str, stage: str, typed: bool,
             extra: dict[str, str | list[str]] | None = None) -> None:
        host = url_host(url)
        reason = self.reference_reason(i, line, url, host, typed)
        if reason:
            self.exclude(url, "url", reason, i + 1)
            return
        if not valid_ip(host) and not registered_suffix(host)[0]:
            self.exclude(url, "url", "host has no public suffix (not a routable domain)", i + 1)
            return
        ind = self.emit(IType.URL, url, i + 1, {"stage": stage, **(extra or {})}, 80)
        if ind is None:
            return
        if valid_ip(host):
            self.emit(IType.IPV6 if ":" in host else IType.IPV4, host, i + 1, {"stage": stage, "from_url": ind.value}, 60)
            return
        hosting = excluded_by(host)
        if hosting:
            self.exclude(host.lower(), "domain", f"{hosting}; kept only as the URL {ind.value}", i + 1)
        else:
            self.emit(IType.DOMAIN, host, i + 1, {"stage": stage, "from_url": ind.value}, 70)

    def _domain(self, i: int, line: str, m: re.Match[str], stage: str, typed: bool) -> None:
        token = m.group(0)
        registered, suffix = registered_suffix(token)
        if not registered:
            return
        defanged = self.was_defanged(i, token, m.start())
        if suffix.split(".")[-1].lower() in FILE_EXTENSION_TLDS and not defanged and not typed:
            self.exclude(token, "domain", "looks like a file name (its TLD is a common file extension)", i + 1)
            return
        if not defanged and not typed and is_detection_name(token, line[: m.start()]):
            self.exclude(token, "domain", "a detection or family name (Family.TLD-shaped), not a host", i + 1)
            return
        reason = self.reference_reason(i, line, token, token, typed, m.start())
        if reason:
            self.exclude(token.lower(), "domain", "not defanged in a defanged document (reference or mention)"
                         if self.defanged_doc else reason, i + 1)
            return
        self.emit(IType.DOMAIN, token, i + 1, {"stage": stage}, 70)

    # --- metadata, affected software, remediation ---------------------------------------
    def _read_metadata(self, in_table: set[int]) -> None:
        title = title_of(self.lines, self.doc.meta)
        campaign = self.options.campaign or (re.split(r"\s[–—-]\s|:\s", title, maxsplit=1)[-1].strip() if title else "")
        product = self.options.product or product_from(campaign)
        published = published_date(self.lines, self.doc.meta, self.language == "fr")
        if not self.pack.title:
            self.pack.title, self.pack.campaign, self.pack.published = title, campaign, published
        raw = Path(self.doc.path).read_bytes() if Path(self.doc.path).is_file() else b""
        self.pack.documents.append({
            "name": self.name, "sha256": hashlib.sha256(raw).hexdigest(), "title": title,
            "language": self.language, "published": published, "kind": self.doc.kind,
        })
        read_versions(self, in_table, product)
        read_remediation(self, in_table)
