"""YARA rules for file hashes (`hash` module) and signing certificates (`pe` module)."""

from __future__ import annotations

import re

from tracehound.intel.model import FILE_HASH_TYPES, IType
from tracehound.outputs.exports import pack_rules
from tracehound.outputs.exports.safety import hex_digest, keep
from tracehound.outputs.exports.select import ExportOptions, Selection, safe_text


def _meta(**kw: str) -> str:
    return "\n".join(f'      {k} = "{safe_text(v, 300)}"' for k, v in kw.items() if v)


def _short(values: list[str]) -> dict[str, str]:
    """Rule-name suffix per value: its first 16 hex digits, or all of them when another value of the
    same kind shares that prefix (a duplicate rule name would make YARA refuse the whole file)."""
    seen: dict[str, int] = {}
    for v in values:
        seen[v[:16]] = seen.get(v[:16], 0) + 1
    return {v: v[:16] if seen[v[:16]] == 1 else v for v in values}


def export(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    prefix = "TRACEHOUND_" + re.sub(r"\W", "_", sel.slug).upper()
    rules: list[str] = []
    hashes = keep(sel, "yara", sel.of(*FILE_HASH_TYPES), lambda i: hex_digest(i.value))
    short = {t: _short([i.value for i, _ in hashes if i.type is t]) for t in FILE_HASH_TYPES}
    for ind, _ in hashes:
        what = ", ".join(ind.ctx("file_name") + ind.ctx("label"))
        rules.append(
            f"rule {prefix}_{ind.type.value.upper()}_{short[ind.type][ind.value]} {{\n   meta:\n"
            + _meta(description=f"{sel.campaign}: {what or 'payload'} by {ind.type.value}", hash=ind.value,
                    author="tracehound", date=opt.now.date().isoformat())
            + f'\n   condition:\n      hash.{ind.type.value}(0, filesize) == "{ind.value}"\n}}\n')
    # the pe module exposes the certificate SHA-1 thumbprint only (cert-sha256: see FORMATS in __init__)
    certs = keep(sel, "yara", sel.of(IType.CERT_SHA1), lambda i: hex_digest(i.value))
    cert_short = _short([i.value for i, _ in certs])
    for ind, _ in certs:
        signer = ", ".join(ind.ctx("signer"))
        rules.append(
            f"rule {prefix}_CERT_{cert_short[ind.value]} {{\n   meta:\n"
            + _meta(description=f"{sel.campaign}: PE signed with the compromised certificate {signer}".strip(),
                    thumbprint=ind.value, author="tracehound", date=opt.now.date().isoformat())
            + "\n   condition:\n      pe.is_pe and for any i in (0 .. pe.number_of_signatures - 1) : (\n"
            f'         pe.signatures[i].thumbprint == "{ind.value}"\n      )\n}}\n')
    # The pack's own valid rules (pasted in its advisories) after the generated ones, names kept unique.
    imports, pack_texts = pack_rules.yara_part(sel.pack, {m.group(1) for r in rules if (m := re.match(r"rule (\w+)", r))})
    extra = "".join(ln for ln in imports.splitlines(keepends=True) if ln not in ('import "hash"\n', 'import "pe"\n'))
    text = 'import "hash"\nimport "pe"\n' + extra + "\n" + "\n".join(rules + pack_texts)
    return {f"{sel.slug}.yar": text}
