"""STIX 2.1 bundles: one Indicator per tracehound indicator, a Malware object for the campaign
and 'indicates' relationships. IDs are UUIDv5 of the indicator key, so re-exporting the
same pack gives the same bundle (diffable, and importers update instead of duplicating)."""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from typing import Any

from tracehound import safejson
from tracehound.errors import PackError
from tracehound.intel.formats import stix_patterns
from tracehound.intel.formats.feed_rules import KINDS, add_rules
from tracehound.intel.model import Exclusion, Indicator, IType, Pack
from tracehound.intel.values import path_platform

NAMESPACE = uuid.UUID("5e3d2f49-8d0c-4b58-9d59-7a1c4f6a2b31")
EXTENSION_ID = "extension-definition--3f1c2b7e-9a0d-4c55-8e21-7b6d4a9c0e13"

_HASH_NAMES = {IType.MD5: "MD5", IType.SHA1: "'SHA-1'", IType.SHA256: "'SHA-256'", IType.SHA512: "'SHA-512'"}
_HIVES = {"HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER", "HKU": "HKEY_USERS", "HKCR": "HKEY_CLASSES_ROOT",
          "HKCC": "HKEY_CURRENT_CONFIG"}
_CERT_NAMES = {IType.CERT_SHA1: "'SHA-1'", IType.CERT_SHA256: "'SHA-256'"}


def _q(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern_for(ind: Indicator) -> str:
    t, v = ind.type, ind.value
    if t is IType.DOMAIN:
        return f"[domain-name:value = {_q(v)}]"
    if t in (IType.IPV4, IType.IPV6):
        return f"[{t.value}-addr:value = {_q(v)}]"
    if t is IType.CIDR:
        return f"[{'ipv6' if ':' in v else 'ipv4'}-addr:value = {_q(v)}]"
    if t is IType.URL:
        return f"[url:value = {_q(v)}]"
    if t is IType.EMAIL:
        return f"[email-addr:value = {_q(v)}]"
    if t in _HASH_NAMES:
        return f"[file:hashes.{_HASH_NAMES[t]} = {_q(v)}]"
    if t in _CERT_NAMES:
        return f"[x509-certificate:hashes.{_CERT_NAMES[t]} = {_q(v)}]"
    if t is IType.FILENAME:
        return f"[file:name = {_q(v)}]"
    if t is IType.FILE_PATH:
        folder, _, name = v.rpartition("\\" if "\\" in v else "/")
        return f"[file:name = {_q(name)} AND file:parent_directory_ref.path = {_q(folder or v[:1])}]"
    if t is IType.REGISTRY_KEY:
        root, sep, rest = v.partition("\\")  # STIX names the hive in full (HKEY_LOCAL_MACHINE\\...)
        parts = [f"windows-registry-key:key = {_q(_HIVES.get(root, root) + sep + rest)}"]
        parts += [f"windows-registry-key:values[*].name = {_q(n)}" for n in ind.ctx("value_name")[:1]]
        parts += [f"windows-registry-key:values[*].data = {_q(d)}" for d in ind.ctx("value_data")[:1]
                  if ind.ctx("value_name")]
        return "[" + " AND ".join(parts) + "]"
    if t is IType.MUTEX:
        return f"[mutex:name = {_q(v)}]"
    if t is IType.PDB_PATH:  # STIX 2.1 has no PDB property: a custom one (x_), read back by tracehound
        return f"[file:x_pdb_path = {_q(v)}]"
    if t is IType.FILENAME_REGEX:
        return f"[file:name MATCHES {_q(v)}]"
    if t is IType.ASN:
        return f"[autonomous-system:number = {int(v[2:])}]"
    if t is IType.SOFTWARE:
        versions = ind.ctx("versions")
        if versions:
            return f"[software:name = {_q(v)} AND software:version IN ({', '.join(_q(x) for x in versions)})]"
        return f"[software:name = {_q(v)}]"
    raise ValueError(f"no STIX pattern for {t}")


def _stamp(pack: Pack) -> str:
    if re.match(r"^\d{4}-\d{2}-\d{2}$", pack.published or ""):
        return f"{pack.published}T00:00:00.000Z"
    return "1970-01-01T00:00:00.000Z"


def _oid(kind: str, *parts: str) -> str:
    # STIX 2.1 asks for UUIDv4 on SDOs/SROs; a v4-format UUID made from a hash keeps re-exports stable.
    return f"{kind}--{uuid.UUID(bytes=uuid.uuid5(NAMESPACE, '|'.join(parts)).bytes, version=4)}"


def to_bundle(pack: Pack) -> dict[str, Any]:
    import stix2

    ts = _stamp(pack)
    identity = stix2.Identity(id=_oid("identity", "tracehound"), name="tracehound", identity_class="system",
                              created=ts, modified=ts)
    extension = stix2.ExtensionDefinition(
        id=EXTENSION_ID, created_by_ref=identity.id, created=ts, modified=ts, name="tracehound indicator context",
        schema=("Plain text: property-extension on indicators; 'context' maps names (stage, file_name, signer, "
                "registrar, created, resolves_to, asn, platform, versions, ...) to a string or a list of strings, "
                "as read from the advisory. See tracehound docs/formats.md."),
        description="Context tracehound keeps with each indicator (where it came from in the advisory).",
        version="1.0.0", extension_types=["property-extension"])
    objects: list[Any] = [identity, extension]
    malware = None
    if pack.campaign or pack.title:
        malware = stix2.Malware(
            id=_oid("malware", pack.name, pack.campaign or pack.title), name=pack.campaign or pack.title,
            is_family=False, created=ts, modified=ts, created_by_ref=identity.id,
            description=pack.title or pack.campaign,
        )
        objects.append(malware)
    for ind in pack.indicators:
        desc_bits = [f"{k}: {', '.join(ind.ctx(k))}" for k in sorted(ind.context)]
        sind = stix2.Indicator(
            id=_oid("indicator", pack.name, *ind.key),
            name=f"{ind.type.value} {ind.display()}",
            description="; ".join(desc_bits) or f"{ind.type.value} indicator of {pack.campaign or pack.title or pack.name}",
            pattern=pattern_for(ind), pattern_type="stix", valid_from=ts, created=ts, modified=ts,
            created_by_ref=identity.id, confidence=ind.confidence,
            indicator_types=["malicious-activity"] if ind.confidence >= 50 else ["anomalous-activity"],
            labels=[f"tracehound:{ind.type.value}"],
            extensions={EXTENSION_ID: {"extension_type": "property-extension",
                                       "context": {k: ind.context[k] for k in sorted(ind.context)}}},
            allow_custom=True,
        )
        objects.append(sind)
        if malware is not None:
            objects.append(stix2.Relationship(
                id=_oid("relationship", sind.id, malware.id), relationship_type="indicates",
                source_ref=sind.id, target_ref=malware.id, created=ts, modified=ts, created_by_ref=identity.id,
            ))
    bundle = stix2.Bundle(objects=objects, id=_oid("bundle", pack.name, ts), allow_custom=True)
    return json.loads(bundle.serialize())


def dumps(pack: Pack) -> str:
    return json.dumps(to_bundle(pack), indent=1, ensure_ascii=False, sort_keys=True) + "\n"


# Linear in the pattern's length: the object and property are matched at a fixed place with disjoint
# character classes, the value is the rest (str.strip, no backtracking). The former single regex
# `\[\s*...\s*(=|MATCHES)\s*(.+?)\s*\]$` was cubic: 10,000 spaces took 300 s.
_HEAD = re.compile(r"([a-z0-9-]+):([A-Za-z0-9_.'-]+)")
_SOFTWARE = re.compile(r"software:name\s*=\s*'((?:[^'\\]|\\.)*)'(?:\s+AND\s+software:version\s+IN\s*\((.*)\))?")
_STR = re.compile(r"'((?:[^'\\]|\\.)*)'")
_BARE = re.compile(r"[\w.:/-]+")  # an unquoted constant: a number (autonomous-system:number = 5)


def _unq(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def _split_simple(pattern: str) -> tuple[str, str, str, str, str] | None:
    """'[obj:prop OP value]' -> (obj, prop, op, value, inside of the brackets), or None. Linear time."""
    p = pattern.strip()
    if len(p) < 2 or p[0] != "[" or p[-1] != "]":
        return None
    inner = p[1:-1].strip()
    m = _HEAD.match(inner)
    if not m:
        return None
    rest = inner[m.end():].lstrip()
    op = "=" if rest.startswith("=") else "MATCHES" if rest.startswith("MATCHES") else ""
    raw = rest[len(op):].strip() if op else ""
    if not raw:  # a raw line end inside the value reaches the canonical gate and is refused there, with its reason
        return None
    return m.group(1), m.group(2), op, raw, inner


def parse_pattern(pattern: str) -> tuple[IType, str, dict[str, str | list[str]]] | None:
    """Map the simple pattern shapes tracehound and most feeds use; None for anything else."""
    simple = _split_simple(pattern)
    if simple is None:
        return None
    obj, prop, op, raw, inner = simple
    m = _SOFTWARE.fullmatch(inner)
    if m:
        versions = [_unq(x) for x in _STR.findall(m.group(2) or "")]
        return IType.SOFTWARE, _unq(m.group(1)), {"versions": versions} if versions else {}
    sm = _STR.fullmatch(raw)
    if sm is None and not _BARE.fullmatch(raw):  # 'x' AND ..., 'x' OR ...: not one comparison (stix_patterns reads it)
        return None
    value = _unq(sm.group(1)) if sm else raw
    prop = prop.replace("'", "")
    table: dict[tuple[str, str], IType] = {
        ("domain-name", "value"): IType.DOMAIN, ("url", "value"): IType.URL, ("email-addr", "value"): IType.EMAIL,
        ("file", "hashes.MD5"): IType.MD5, ("file", "hashes.SHA-1"): IType.SHA1, ("file", "hashes.SHA-256"): IType.SHA256,
        ("file", "hashes.SHA-512"): IType.SHA512,
        ("x509-certificate", "hashes.SHA-1"): IType.CERT_SHA1, ("x509-certificate", "hashes.SHA-256"): IType.CERT_SHA256,
        ("file", "name"): IType.FILENAME_REGEX if op == "MATCHES" else IType.FILE_PATH if path_platform(value)
        else IType.FILENAME,
        ("file", "x_pdb_path"): IType.PDB_PATH,
        ("autonomous-system", "number"): IType.ASN,
        ("mutex", "name"): IType.MUTEX, ("windows-registry-key", "key"): IType.REGISTRY_KEY,
    }
    if obj in ("ipv4-addr", "ipv6-addr") and prop == "value":
        itype = IType.CIDR if "/" in value else (IType.IPV4 if obj == "ipv4-addr" else IType.IPV6)
        return itype, value, {}
    found = table.get((obj, prop))
    return (found, value, {}) if found else None


def loads(text: str, path: str = "<stix>") -> Pack:
    """A pack from a STIX 2.1 bundle: `stix` patterns to indicators (one comparison read here in linear
    time, anything else by stix_patterns with the stix2 grammar), `yara` and `sigma` patterns to rules.
    Every indicator not read is counted with its reason."""
    try:
        data = safejson.loads(text)
    except json.JSONDecodeError as exc:
        raise PackError(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno) from exc
    if not isinstance(data, dict) or data.get("type") != "bundle":
        raise PackError("not a STIX bundle", path=path)
    pack = Pack(name=str(data.get("id", "stix")))
    skipped: Counter[str] = Counter()
    for obj in data.get("objects") or []:
        if not isinstance(obj, dict):
            skipped["a bundle entry that is not an object"] += 1
            continue
        if obj.get("type") == "malware" and not pack.campaign:
            pack.campaign = str(obj.get("name", ""))
        if obj.get("type") != "indicator":
            continue
        ptype = str(obj.get("pattern_type", "stix"))
        where = f"STIX {str(obj.get('id', ''))[:80]}"
        if ptype in KINDS:
            add_rules(pack, ptype, str(obj.get("pattern", "")), f"{path} ({where})", str(obj.get("name", "")))
            continue
        if ptype != "stix":
            skipped[f"pattern_type {ptype[:40]!r} is not read (stix, yara and sigma are)"] += 1
            continue
        _indicator(pack, obj, path, where, skipped)
    for reason, n in sorted(skipped.items()):
        pack.excluded.append(Exclusion(f"{n} indicator(s)", "stix", reason, path, 0))
    return pack


def _indicator(pack: Pack, obj: dict[str, Any], path: str, where: str, skipped: Counter[str]) -> None:
    pattern = str(obj.get("pattern", ""))
    simple = parse_pattern(pattern)
    if simple is not None:
        values, refused = [simple], []
    else:
        result = stix_patterns.read(pattern)
        values, refused = result.values, result.refused
    for reason in refused:
        skipped[reason] += 1
    extra = ((obj.get("extensions") or {}).get(EXTENSION_ID) or {}).get("context") or obj.get("x_tracehound_context")
    try:
        confidence = int(obj.get("confidence", 70))
    except (TypeError, ValueError):
        confidence = 70
    for itype, value, ctx in values:
        if isinstance(extra, dict):
            ctx = {**ctx, **{str(k): [str(x) for x in v] if isinstance(v, list) else str(v) for k, v in extra.items()}}
        pack.add_value(itype, value, ctx, confidence, document=path, where=where)
