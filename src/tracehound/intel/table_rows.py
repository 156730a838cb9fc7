"""Read the rows of an indicator table by column meaning.

- A value in a typed column (Domain, IP, URL, Hash, Thumbprint) is an indicator even when
  the rest of the document is defanged and the cell is not: the column says what it is.
- A row that the table itself marks benign (`legitimate`, `benign`, `false positive`,
  `attacker testing`, `sinkhole`, `légitime`...) is context: its values are left out, with why.
- A Thumbprint/Certificate column gives certificate hashes; a Serial number column is
  neither a certificate hash nor an MD5; an imphash/authentihash/ssdeep column is not a
  file hash (all three are kept out of the file-hash types, and said so).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tracehound.intel import artefacts
from tracehound.intel.affected import platform_of
from tracehound.intel.hashes import find_hex_values
from tracehound.intel.links import MALICIOUS_CUE
from tracehound.intel.model import CERT_LENGTHS, HASH_LENGTHS, IType
from tracehound.intel.network import DOMAIN, IPV4, IPV6, VERSION, valid_ip
from tracehound.intel.tables import Table, fold

if TYPE_CHECKING:
    from tracehound.intel.extract import DocumentExtractor

FILE_NAME = re.compile(r"^[^\\/:*?\"<>|]+\.[A-Za-z0-9]{1,5}$")
_UNSIGNED = {"n/a", "na", "-", "", "none", "non signe", "non signé", "unsigned", "not signed", "aucun", "aucune"}
BENIGN_ROW = re.compile(
    r"\b(?:benign|legitimate|l[ée]gitimes?|legit|false[- ]positives?|faux[- ]positifs?|attacker[- ]testing|"
    r"test(?:ing)? (?:by|from) the (?:attacker|actor)|not malicious|non malveillant|sinkhole[d]?|allow-?listed|"
    r"whitelisted)\b", re.I)
# "masquerading as a legitimate installer", "legitimate service abused for C2": not a benign row.
NOT_BENIGN = re.compile(
    r"\b(?:as|mimic\w*|masquerad\w*|impersonat\w*|spoof\w*|fake|pretend\w*|disguis\w*|looking|like|"
    r"se faisant passer pour|imit\w*)\s+(?:an?\s+|the\s+|une?\s+)?(?:legitimate|legit|benign|l[ée]gitime)|abus\w*", re.I)
_NOT_FILE_HASH = ("imphash", "authentihash", "serial", "fuzzy")
_TYPE_OF = {"path": "file-path", "regkey": "registry-key"}  # column kind -> the type its values would have had


def read_table(x: DocumentExtractor, table: Table) -> None:
    kinds = table.kinds()
    stage = x.stage_at(table.header_line - 1)
    for row in table.rows:
        cells = dict(zip(kinds, row, strict=True))
        key_kinds = {"domain", "ip", "url", "hash", "thumbprint", "value", "path", "regkey", "mutex"} & set(kinds)
        context = " ".join(text for col, (text, _) in zip(table.columns, row, strict=True) if col.kind not in key_kinds)
        if BENIGN_ROW.search(context) and not NOT_BENIGN.search(context) and not MALICIOUS_CUE.search(context):
            for kind in key_kinds:
                text, line = cells[kind]
                if text.strip():
                    x.exclude(text.strip(), _TYPE_OF.get(kind, kind), f"the table marks this row as context, not an indicator "
                              f"({BENIGN_ROW.search(context).group(0)!r})", line)  # type: ignore[union-attr]
            continue
        for kind in _NOT_FILE_HASH:
            if kind in cells and cells[kind][0].strip():
                x.exclude(cells[kind][0].strip(), kind, f"{kind} column: not a file hash", cells[kind][1])
        if "domain" in kinds:
            _domain_row(x, cells, stage)
        elif "hash" in kinds or "thumbprint" in kinds:
            _hash_row(x, table, row, stage)
        elif "ip" in kinds:
            _ip_only_row(x, cells, stage)
        elif "value" in kinds:
            _value_row(x, cells, context, stage)
        if "url" in kinds:
            text, line = cells["url"]
            x.prose_line(line - 1, text, stage_override=stage, typed=True)
        artefacts.read_row(x, table, row, stage)


_CONTEXT_NOT_FILE_HASH = re.compile(r"\b(imphash|import hash|authentihash|ssdeep|tlsh|serial|pehash)\b", re.I)
_CONTEXT_CERT = re.compile(r"thumbprint|certificat|x509|cert[-_ ]?(?:sha|hash)", re.I)


def _value_row(x: DocumentExtractor, cells: dict[str, tuple[str, int]], context: str, stage: str) -> None:
    """A generic Indicator/Value column: the value's own form, and the row's type cell, say what it is."""
    text, line = cells["value"]
    hexes = find_hex_values(text)
    not_hash = _CONTEXT_NOT_FILE_HASH.search(context)
    for hv in hexes:
        if hv.label or not_hash:
            label = hv.label or not_hash.group(1).lower()  # type: ignore[union-attr]
            x.exclude(hv.value, label, f"labelled {label}: not a file hash", line)
        elif _CONTEXT_CERT.search(context) and len(hv.value) in CERT_LENGTHS:
            x.emit(CERT_LENGTHS[len(hv.value)], hv.value, line, {"stage": stage}, 90)
        else:
            x.emit(HASH_LENGTHS[len(hv.value)], hv.value, line, {"stage": stage, "label": context.strip()[:120]}, 90)
    if not hexes:
        x.prose_line(line - 1, text, stage_override=stage, typed=True)


def _asn(cells: dict[str, tuple[str, int]]) -> str:
    if "asn" not in cells:
        return ""
    m = re.search(r"(?:AS)?\s*(\d{1,10})", cells["asn"][0], re.I)
    return f"AS{int(m.group(1))}" if m else ""


def _domain_row(x: DocumentExtractor, cells: dict[str, tuple[str, int]], stage: str) -> None:
    dtext, dline = cells["domain"]
    ips: list[str] = []
    if "ip" in cells:
        ips = [m.group(0) for m in IPV4.finditer(cells["ip"][0])]
        ips += [m.group(0) for m in IPV6.finditer(cells["ip"][0]) if valid_ip(m.group(0))]
    asn = _asn(cells)
    registrar = cells["registrar"][0] if "registrar" in cells else ""
    created = x.date(cells["created"][0]) if "created" in cells else ""
    row_lines = tuple(line for _, line in cells.values())
    if "ip" in cells and not DOMAIN.search(dtext):
        _ip_only_row(x, cells, stage)  # `N/A` or empty domain cell: the row's IPs still count
        return
    for m in DOMAIN.finditer(dtext):
        domain = m.group(0)
        x.emit(IType.DOMAIN, domain, dline, {
            "stage": stage, "registrar": registrar, "created": created,
            "resolves_to": sorted(set(ips)) if len(ips) > 1 else (ips[0] if ips else ""), "asn": asn,
        }, 80, row_lines)
        for ip in ips:
            itype = IType.IPV6 if ":" in ip else IType.IPV4
            x.emit(itype, ip, cells["ip"][1], {"stage": stage, "resolution_of": domain.lower(), "asn": asn}, 60)
        if asn:
            x.emit(IType.ASN, asn, cells["asn"][1], {"hosts": domain.lower(), "ip": ips[0] if ips else ""}, 10)


def _ip_only_row(x: DocumentExtractor, cells: dict[str, tuple[str, int]], stage: str) -> None:
    text, line = cells["ip"]
    asn = _asn(cells)
    for m in IPV4.finditer(text):
        x.emit(IType.CIDR if "/" in m.group(0) else IType.IPV4, m.group(0), line, {"stage": stage, "asn": asn}, 70)
    for m in IPV6.finditer(text):
        value = m.group(0)
        if valid_ip(value.split("/")[0]):
            x.emit(IType.CIDR if "/" in value else IType.IPV6, value, line, {"stage": stage, "asn": asn}, 70)


def _hash_row(x: DocumentExtractor, table: Table, row: list[tuple[str, int]], stage: str) -> None:
    file_hashes: list[tuple[IType, str, int]] = []
    thumbs: list[tuple[IType, str, int]] = []
    file_name, label, signer = "", "", ""
    for col, (text, line) in zip(table.columns, row, strict=True):
        if col.kind == "hash":
            for hv in find_hex_values(text, col.hint):
                if hv.label:
                    x.exclude(hv.value, hv.label, f"labelled {hv.label}: not a file hash", line)
                    continue
                file_hashes.append((HASH_LENGTHS[len(hv.value)], hv.value, line))
        elif col.kind == "thumbprint":
            for hv in find_hex_values(text, col.hint):
                if len(hv.value) in CERT_LENGTHS:
                    thumbs.append((CERT_LENGTHS[len(hv.value)], hv.value, line))
        elif col.kind == "filename":
            if FILE_NAME.match(text.strip()):
                file_name = text.strip()
            elif fold(text) not in _UNSIGNED:
                label = text.strip()
        elif col.kind == "signer":
            signer = "" if fold(text) in _UNSIGNED else text.strip()
    platform = platform_of(file_name or label)
    unsigned = not signer and not thumbs
    for itype, value, line in file_hashes:
        x.emit(itype, value, line, {
            "stage": stage, "file_name": file_name, "label": label, "signer": signer,
            "signature": "unsigned" if unsigned else "",
            "cert_thumbprint": sorted({t[1] for t in thumbs}) if len(thumbs) > 1 else (thumbs[0][1] if thumbs else ""),
            "platform": platform,
        }, 90, tuple(line for _, line in row))
    for itype, value, line in thumbs:
        x.emit(itype, value, line, {
            "signer": signer, "signs": sorted({h[1] for h in file_hashes}),
            "signs_file": file_name,
        }, 90)
    if file_name:
        specific = bool(VERSION.search(file_name))
        x.emit(IType.FILENAME, file_name, row[0][1], {
            "sha256": sorted({h[1] for h in file_hashes}),
            "standalone": "yes" if specific else "no",
            "platform": platform,
        }, 60 if specific else 20)
