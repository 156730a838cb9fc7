"""Advisory -> indicator pack.

Steps, each its own helper: refang every line; find flattened tables and read them by
column meaning (so the right registrar/IP/ASN attaches to the right domain and a
Thumbprint column yields certificate thumbprints); read the prose around them (URLs,
domains, IPs, hashes with split-value repair, affected versions, remediation); then apply
the exclusion rules, recording every value left out and why.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tracehound.defang import is_defanged, refang
from tracehound.intel.documents import DEFAULT_MAX_BYTES, Document, load_document
from tracehound.intel.hashes import find_hex_values
from tracehound.intel.model import (
    CERT_LENGTHS,
    HASH_LENGTHS,
    Exclusion,
    Indicator,
    IType,
    Pack,
    Remediation,
    SourceRef,
    canonical_value,
    normalize_platform,
    url_host,
)
from tracehound.intel.tables import Table, find_tables, fold
from tracehound.intel.warninglists import excluded_by, flags_for

# TLDs that are also common file extensions: such a "domain" is only believed when defanged
# or written in a domain column (3CXDesktopApp.app, setup.zip, README.md).
FILE_EXTENSION_TLDS = frozenset(
    {"zip", "mov", "app", "py", "sh", "pl", "rs", "md", "ps", "so", "cc", "ai", "sc", "exe", "dll", "pm", "js", "cs", "rb"}
)
_FILE_NAME = re.compile(r"^[^\\/:*?\"<>|]+\.[A-Za-z0-9]{1,5}$")
_UNSIGNED = {"n/a", "na", "-", "", "none", "non signe", "non signé", "unsigned", "not signed", "aucun", "aucune"}

_URL_SCHEME = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'`\])}]+", re.I)
_URL_BARE = re.compile(r"(?<![\w@./:-])((?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62})(/[^\s<>\"'`\])}]*)", re.I)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@(?:[a-z0-9-]+\.)+[a-z]{2,63}\b", re.I)
_DOMAIN = re.compile(r"(?<![\w@.-])(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}(?![\w-]|\.[a-z0-9])", re.I)
_IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:/\d{1,2})?(?!\d|\.\d)")
_IPV6 = re.compile(r"(?<![:\w.])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?:/\d{1,3})?(?![:\w])", re.I)
_VERSION = re.compile(r"(?<![\d.])\d+\.\d+(?:\.\d+){1,3}(?!\d|\.\d)")
_VERSION_WORD = re.compile(r"(?:versions?|v|build|release|rev)$", re.I)


def _version_word_before(line: str, pos: int) -> bool:
    r"""Does 'version', 'v', 'build', 'release' or 'rev' (then optional ':' and spaces) end just before pos?
    Linear: the former `\b(?:...)\s*:?\s*$` searched the whole prefix for every address (quadratic)."""
    lo = max(0, pos - 64)  # the word, a colon and up to ~50 spaces
    p = line[lo:pos].rstrip()
    if p.endswith(":"):
        p = p[:-1].rstrip()
    tail = p[-9:]
    m = _VERSION_WORD.search(tail)
    if not m:
        return False
    start = lo + len(p) - len(tail) + m.start()
    return start == 0 or not (line[start - 1].isalnum() or line[start - 1] == "_")


_line_defanged = lru_cache(maxsize=256)(is_defanged)


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
_REFERENCE_LINE = re.compile(
    r"^\s*(?:[•*-]\s*)?(?:source|sources|reference|references|r[ée]f[ée]rences?|lien|link|see|voir|read more|"
    r"en savoir plus|pour plus d|for more)\b", re.I)
_STAGE = re.compile(r"\b(?:stage|[ée]tape|phase)\s*(\d+)\b", re.I)
_PLATFORM = re.compile(r"\b(windows|win32|win64|mac\s*os|macos|mac|os\s*x|osx|linux|ios|android)\b", re.I)
_AFFECTED_WORDS = re.compile(
    r"affect|concern|vuln[ée]rable|impact|compromi|trojan|malicious|malveillant|backdoor|produits? affect", re.I)
_FIXED_WORDS = re.compile(r"\b(fixed|corrig|patched|clean|not affected|non affect|safe)\b", re.I)
_CERT_WORDS = re.compile(r"thumbprint|certificat|certificate|empreinte du cert|signing cert|code.?sign", re.I)
_FRENCH = re.compile(r"\b(les|des|est|pour|vous|une|sont|dans|avec|nous)\b", re.I)
_ENGLISH = re.compile(r"\b(the|and|is|for|you|are|with|this|that|we)\b", re.I)

REMEDIATION_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("uninstall-affected-software", re.compile(r"d[ée]sinstaller|uninstall|remove the (?:desktop )?app", re.I)),
    ("use-web-app", re.compile(r"application web|web ?app\b|web client|progressive web", re.I)),
    ("block-signing-certificate", re.compile(
        r"(?:blacklist|bloquer|block|r[ée]voquer|revoke|untrust|deny).{0,80}certific|certific.{0,80}(?:blacklist|bloqu|block|revok)",
        re.I)),
    ("block-c2-domains", re.compile(r"(?:bloquer|block).{0,80}(?:domain|domaine|c2|communication)", re.I)),
    ("deploy-network-detection", re.compile(r"r[èe]gles de d[ée]tection|detection rules|d[ée]tection.{0,40}flux", re.I)),
    ("identify-affected-versions", re.compile(r"num[ée]ros? de version|version numbers?|identifier le p[ée]rim[èe]tre|check (?:the )?versions?|identify (?:the )?(?:affected|impacted)", re.I)),
    ("check-payload", re.compile(r"charge utile|payload|info-?stealer", re.I)),
    ("hunt-proxy-logs", re.compile(r"proxy", re.I)),
    ("reset-browser-credentials", re.compile(
        r"(?:info-?stealer|stealer|vol).{0,120}(?:navigateur|browser)|(?:navigateur|browser).{0,80}(?:mot de passe|password|credential|login)",
        re.I)),
    ("c2-delay", re.compile(r"(?:d[ée]lai|delay|wait|dormant|sleep).{0,80}\d+\s*(?:jours|days?)", re.I)),
]


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


@lru_cache(maxsize=1)
def _tld_extractor():
    import tldextract

    # Bundled public suffix list snapshot only: an incident machine may have no network.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)


def registered_suffix(host: str) -> tuple[str, str]:
    """(registrable domain, public suffix) of host; empty strings when it has no known suffix."""
    ext = _tld_extractor()(host)
    if not ext.suffix or not ext.domain:
        return "", ""
    return f"{ext.domain}.{ext.suffix}", ext.suffix


def extract_files(paths: list[str], options: ExtractOptions) -> ExtractResult:
    docs = [load_document(p, options.max_bytes) for p in paths]
    name = options.name or (Path(paths[0]).stem if paths else "pack")
    pack = Pack(name=name)
    warnings: list[str] = []
    for doc in docs:
        warnings += [f"{doc.path}: {w}" for w in doc.warnings]
        _DocumentExtractor(doc, pack, options).run()
    pack.sorted()
    return ExtractResult(pack, warnings)


class _DocumentExtractor:
    def __init__(self, doc: Document, pack: Pack, options: ExtractOptions) -> None:
        self.doc = doc
        self.pack = pack
        self.options = options
        self.name = Path(doc.path).name
        self.raw = doc.lines
        self.lines = [refang(ln) for ln in doc.lines]
        self.defanged_doc = any(is_defanged(ln) for ln in doc.lines)
        text = "\n".join(self.lines[:400])
        self.language = "fr" if len(_FRENCH.findall(text)) > len(_ENGLISH.findall(text)) else "en"
        self.headings = self._headings()
        self.excluded_keys: set[tuple[str, str]] = set()

    # --- driver -------------------------------------------------------------------------
    def run(self) -> None:
        tables = find_tables(self.lines)
        in_table: set[int] = set()
        for t in tables:
            in_table.update(range(t.header_line - 1, t.end_line - 1))
            self._read_table(t)
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
        m = _STAGE.search(self.headings[line_index]) or _STAGE.search(self.lines[line_index])
        return f"Stage {m.group(1)}" if m else ""

    def src(self, *lines: int) -> list[SourceRef]:
        return [SourceRef(self.name, sorted(set(lines)))]

    def exclude(self, value: str, itype: str, reason: str, line: int) -> None:
        if (itype, value) in self.excluded_keys:
            return
        self.excluded_keys.add((itype, value))
        self.pack.excluded.append(Exclusion(value, itype, reason, self.name, line))

    def emit(self, itype: IType, value: str, line: int, context: dict[str, str | list[str]] | None = None,
             confidence: int = 80, extra_lines: tuple[int, ...] = ()) -> Indicator | None:
        try:
            v = canonical_value(itype, value)
        except ValueError:
            return None
        if itype in (IType.DOMAIN, IType.URL):
            host = url_host(v) if itype is IType.URL else v
            reason = excluded_by(host) if itype is IType.DOMAIN else None
            if reason:
                self.exclude(v, itype.value, reason, line)
                return None
        ctx = {k: val for k, val in (context or {}).items() if val}
        ind = Indicator(itype, v, ctx, confidence, self.src(line, *extra_lines), flags_for(v))
        return self.pack.add(ind)

    def _was_defanged(self, line_index: int, token: str) -> bool:
        raw = self.raw[line_index]
        return _line_defanged(raw) and token not in raw  # cached per line: one scan, not one per token

    def _date(self, text: str) -> str:
        m = re.search(r"\b(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2}))?", text)
        if m:
            a, b, y = int(m.group(1)), int(m.group(2)), m.group(3)
            day, month = (a, b) if (self.language == "fr" or a > 12) else (b, a)
            if not (1 <= month <= 12 and 1 <= day <= 31):
                return text.strip()
            iso = f"{y}-{month:02d}-{day:02d}"
            return f"{iso}T{int(m.group(4)):02d}:{m.group(5)}" if m.group(4) else iso
        m = re.search(r"\b(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?", text)
        if m:
            return m.group(0).replace(" ", "T")
        return text.strip()

    # --- tables -------------------------------------------------------------------------
    def _read_table(self, table: Table) -> None:
        kinds = table.kinds()
        stage = self.stage_at(table.header_line - 1)
        for row in table.rows:
            cells = dict(zip(kinds, row, strict=True))
            if "domain" in kinds:
                self._domain_row(cells, stage)
            elif "hash" in kinds or "thumbprint" in kinds:
                self._hash_row(table, row, stage)
            elif "ip" in kinds:
                self._ip_only_row(cells, stage)
            elif "url" in kinds:
                text, line = cells["url"]
                self._prose_line(line - 1, text, stage_override=stage)

    def _domain_row(self, cells: dict[str, tuple[str, int]], stage: str) -> None:
        dtext, dline = cells["domain"]
        ips: list[str] = []
        if "ip" in cells:
            ips = [m.group(0) for m in _IPV4.finditer(cells["ip"][0])]
            ips += [m.group(0) for m in _IPV6.finditer(cells["ip"][0]) if _valid_ip(m.group(0))]
        asn = ""
        if "asn" in cells:
            m = re.search(r"(?:AS)?\s*(\d{1,10})", cells["asn"][0], re.I)
            asn = f"AS{int(m.group(1))}" if m else ""
        registrar = cells["registrar"][0] if "registrar" in cells else ""
        created = self._date(cells["created"][0]) if "created" in cells else ""
        row_lines = tuple(line for _, line in cells.values())
        for m in _DOMAIN.finditer(dtext):
            domain = m.group(0)
            self.emit(IType.DOMAIN, domain, dline, {
                "stage": stage, "registrar": registrar, "created": created,
                "resolves_to": sorted(set(ips)) if len(ips) > 1 else (ips[0] if ips else ""), "asn": asn,
            }, 80, row_lines)
            for ip in ips:
                itype = IType.IPV6 if ":" in ip else IType.IPV4
                self.emit(itype, ip, cells["ip"][1], {"stage": stage, "resolution_of": domain.lower(), "asn": asn}, 60)
            if asn:
                self.emit(IType.ASN, asn, cells["asn"][1], {"hosts": domain.lower(), "ip": ips[0] if ips else ""}, 10)

    def _ip_only_row(self, cells: dict[str, tuple[str, int]], stage: str) -> None:
        text, line = cells["ip"]
        asn = ""
        if "asn" in cells:
            m = re.search(r"(?:AS)?\s*(\d{1,10})", cells["asn"][0], re.I)
            asn = f"AS{int(m.group(1))}" if m else ""
        for m in _IPV4.finditer(text):
            self.emit(IType.CIDR if "/" in m.group(0) else IType.IPV4, m.group(0), line, {"stage": stage, "asn": asn}, 70)

    def _hash_row(self, table: Table, row: list[tuple[str, int]], stage: str) -> None:
        file_hashes: list[tuple[IType, str, int]] = []
        thumbs: list[tuple[IType, str, int]] = []
        file_name, label, signer = "", "", ""
        for col, (text, line) in zip(table.columns, row, strict=True):
            if col.kind == "hash":
                for hv in find_hex_values(text, col.hint):
                    file_hashes.append((HASH_LENGTHS[len(hv.value)], hv.value, line))
            elif col.kind == "thumbprint":
                for hv in find_hex_values(text, col.hint):
                    if len(hv.value) in CERT_LENGTHS:
                        thumbs.append((CERT_LENGTHS[len(hv.value)], hv.value, line))
            elif col.kind == "filename":
                if _FILE_NAME.match(text.strip()):
                    file_name = text.strip()
                elif fold(text) not in _UNSIGNED:
                    label = text.strip()
            elif col.kind == "signer":
                signer = "" if fold(text) in _UNSIGNED else text.strip()
        platform = _platform_of(file_name or label)
        unsigned = not signer and not thumbs
        for itype, value, line in file_hashes:
            self.emit(itype, value, line, {
                "stage": stage, "file_name": file_name, "label": label, "signer": signer,
                "signature": "unsigned" if unsigned else "",
                "cert_thumbprint": sorted({t[1] for t in thumbs}) if len(thumbs) > 1 else (thumbs[0][1] if thumbs else ""),
                "platform": platform,
            }, 90, tuple(line for _, line in row))
        for itype, value, line in thumbs:
            self.emit(itype, value, line, {
                "signer": signer, "signs": sorted({h[1] for h in file_hashes}),
                "signs_file": file_name,
            }, 90)
        if file_name:
            specific = bool(_VERSION.search(file_name))
            self.emit(IType.FILENAME, file_name, row[0][1], {
                "sha256": sorted({h[1] for h in file_hashes}),
                "standalone": "yes" if specific else "no",
                "platform": platform,
            }, 60 if specific else 20)

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
            self._prose_line(i, self.lines[i])
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
            ctx_text = self.lines[line_index] + " " + self.headings[line_index]
            if idx > 0:
                ctx_text += " " + self.lines[block[idx - 1]]
            is_cert = bool(_CERT_WORDS.search(ctx_text)) and len(hv.value) in CERT_LENGTHS
            itype = CERT_LENGTHS[len(hv.value)] if is_cert else HASH_LENGTHS[len(hv.value)]
            names = [t for t in re.findall(r"[\w.-]+\.[A-Za-z0-9]{2,5}\b", self.lines[line_index]) if _FILE_NAME.match(t)
                     and not registered_suffix(t)[0]]
            self.emit(itype, hv.value, line_index + 1, {
                "stage": self.stage_at(line_index), "file_name": names[0] if names else "",
            }, 80)

    def _prose_line(self, i: int, line: str, stage_override: str = "") -> None:
        taken = _Spans(len(line))
        stage = stage_override or self.stage_at(i)
        reference_line = bool(_REFERENCE_LINE.match(self.raw[i]))

        def free(m: re.Match[str]) -> bool:
            return taken.free(m.start(), m.end())

        def is_reference(token: str) -> bool:
            if self._was_defanged(i, token):
                return False
            return reference_line or self.defanged_doc

        for m in list(_URL_SCHEME.finditer(line)) + list(_URL_BARE.finditer(line)):
            if not free(m):
                continue
            url = m.group(0).rstrip(".,;:!?")
            taken.append((m.start(), m.start() + len(url)))
            host = url_host(url)
            if is_reference(url):
                self.exclude(url, "url", "reference link of the advisory (not defanged in a defanged document)"
                             if self.defanged_doc else "reference link of the advisory", i + 1)
                continue
            if not _valid_ip(host) and not registered_suffix(host)[0]:
                continue
            ind = self.emit(IType.URL, url, i + 1, {"stage": stage}, 80)
            if ind is None:
                continue
            if _valid_ip(host):
                self.emit(IType.IPV6 if ":" in host else IType.IPV4, host, i + 1, {"stage": stage, "from_url": ind.value}, 60)
                continue
            reason = excluded_by(host)
            if reason:
                self.exclude(host.lower(), "domain", f"{reason}; kept only as the URL {ind.value}", i + 1)
            else:
                self.emit(IType.DOMAIN, host, i + 1, {"stage": stage, "from_url": ind.value}, 70)
        for m in _EMAIL.finditer(line):
            if free(m):
                taken.append(m.span())
                if not is_reference(m.group(0)):
                    self.emit(IType.EMAIL, m.group(0), i + 1, {"stage": stage}, 60)
        for m in _IPV4.finditer(line):
            if not free(m):
                continue
            taken.append(m.span())
            if _version_word_before(line, m.start()):
                continue
            if is_reference(m.group(0)) and not self.defanged_doc:
                continue
            if self.defanged_doc and not self._was_defanged(i, m.group(0)):
                self.exclude(m.group(0), "ipv4", "not defanged in a defanged document (example or version?)", i + 1)
                continue
            itype = IType.CIDR if "/" in m.group(0) else IType.IPV4
            self.emit(itype, m.group(0), i + 1, {"stage": stage}, 70)
        for m in _IPV6.finditer(line):
            if free(m) and _valid_ip(m.group(0).split("/")[0]):
                taken.append(m.span())
                if not (self.defanged_doc and not self._was_defanged(i, m.group(0))):
                    self.emit(IType.CIDR if "/" in m.group(0) else IType.IPV6, m.group(0), i + 1, {"stage": stage}, 70)
        for m in _DOMAIN.finditer(line):
            if not free(m):
                continue
            token = m.group(0)
            taken.append(m.span())
            registered, suffix = registered_suffix(token)
            if not registered:
                continue
            defanged = self._was_defanged(i, token)
            if suffix.split(".")[-1].lower() in FILE_EXTENSION_TLDS and not defanged:
                self.exclude(token, "domain", "looks like a file name (its TLD is a common file extension)", i + 1)
                continue
            if is_reference(token):
                self.exclude(token.lower(), "domain", "not defanged in a defanged document (reference or mention)"
                             if self.defanged_doc else "reference of the advisory", i + 1)
                continue
            self.emit(IType.DOMAIN, token, i + 1, {"stage": stage}, 70)

    # --- affected software, remediation, metadata --------------------------------------
    def _read_metadata(self, in_table: set[int]) -> None:
        title = ""
        for ln in self.lines[:20]:
            if re.search(r"alert|advisory|bulletin|avis|security|s[ée]curit", ln, re.I) and re.search(r"[–—:]| - ", ln):
                title = ln.strip()
                break
        campaign = self.options.campaign or (re.split(r"\s[–—-]\s|:\s", title, maxsplit=1)[-1].strip() if title else "")
        product = self.options.product or _product_from(campaign)
        published = ""
        for ln in self.lines[:20]:
            d = self._date(ln)
            if re.match(r"^\d{4}-\d{2}-\d{2}", d):
                published = d[:10]
                break
        if not self.pack.title:
            self.pack.title, self.pack.campaign, self.pack.published = title, campaign, published
        raw = Path(self.doc.path).read_bytes() if Path(self.doc.path).is_file() else b""
        self.pack.documents.append({
            "name": self.name, "sha256": hashlib.sha256(raw).hexdigest(), "title": title,
            "language": self.language, "published": published, "kind": self.doc.kind,
        })
        self._read_versions(in_table, product)
        self._read_remediation(in_table)

    def _read_versions(self, in_table: set[int], product: str) -> None:
        if not product:
            return
        per_platform: dict[str, tuple[list[str], list[int], str]] = {}
        for i, ln in enumerate(self.lines):
            if i in in_table or not _VERSION.search(ln):
                continue
            scope = self.headings[i] + " " + " ".join(self.lines[max(0, i - 3): i + 1])
            if not _AFFECTED_WORDS.search(scope):
                continue
            carried = ""  # a sentence without a platform inherits the previous sentence's
            for sentence in re.split(r"(?<=[.;!?])\s+", ln):
                platforms = _PLATFORM.findall(sentence)
                if platforms:
                    carried = normalize_platform(re.sub(r"\s+", " ", platforms[0]))
                versions = [v for v in _VERSION.findall(sentence) if not _valid_ip(v)]
                if not versions or not carried:
                    continue
                status = "fixed" if _FIXED_WORDS.search(sentence) else "affected"
                vs, lines, _ = per_platform.setdefault(f"{carried}:{status}", ([], [], status))
                vs += [v for v in versions if v not in vs]
                lines.append(i + 1)
        for key, (vs, lines, status) in sorted(per_platform.items()):
            platform = key.split(":")[0]
            if status != "affected":
                continue
            fixed = per_platform.get(f"{platform}:fixed", ([], [], ""))[0]
            self.emit(IType.SOFTWARE, product, lines[0], {
                "platform": platform, "versions": sorted(vs, key=_vkey), "fixed_versions": sorted(fixed, key=_vkey),
            }, 90, tuple(lines))

    def _read_remediation(self, in_table: set[int]) -> None:
        known = {(r.action, r.text) for r in self.pack.remediation}
        for i, ln in enumerate(self.lines):
            if i in in_table or not ln.strip():
                continue
            for sentence in re.split(r"(?<=[.!?])\s+", ln.strip()):
                if len(sentence) < 20:
                    continue
                for action, pattern in REMEDIATION_RULES:
                    if pattern.search(sentence) and (action, sentence) not in known:
                        known.add((action, sentence))
                        self.pack.remediation.append(Remediation(action, sentence, self.name, i + 1))
                        if action == "c2-delay":
                            m = re.search(r"(\d+)\s*(?:jours|days?)", sentence, re.I)
                            if m:
                                self.pack.c2_delay_days = max(self.pack.c2_delay_days or 0, int(m.group(1)))


def _valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _vkey(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v))


def _platform_of(name: str) -> str:
    n = name.lower()
    if re.search(r"\.(dmg|pkg|app|dylib)$|mac", n):
        return "macos"
    if re.search(r"\.(exe|msi|dll|sys|msix)$", n):
        return "windows"
    return ""


def _product_from(campaign: str) -> str:
    words = re.sub(r"(?i)\b(supply[- ]chain|attack|attaque|compromise|compromission|campaign|campagne|vulnerability|"
                   r"vuln[ée]rabilit[ée]|backdoor|incident|alert|alerte)\b", "", campaign)
    return re.sub(r"\s+", " ", words).strip(" -–—:")
