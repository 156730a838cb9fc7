"""STIX 2.1 patterns beyond one comparison, parsed by the stix2 library (its ANTLR grammar), never by regex.

What becomes an indicator:
- `[a = 'x' OR b = 'y']`, `[a = 'x'] OR [b = 'y']`, `a IN ('x', 'y')`: one indicator per value.
- `[file:hashes.'SHA-256' = 'h' AND file:name = 'n' AND file:parent_directory_ref.path = 'd']`: the hash
  identifies the file on its own, so each hash is an indicator and the name and folder are its context
  (file_name, file_path). Without a hash, `file:name` AND `file:parent_directory_ref.path` is one
  file-path indicator (folder + name).
- `[windows-registry-key:key = 'k' AND windows-registry-key:values[*].name = 'v' (AND ...values[*].data = 'd')]`:
  one registry-key indicator with context value_name (value_data).
- `mutex:name`, `windows-registry-key:key`, `file:name`, `file:hashes.*` alone: as their type.

What is refused, counted with its reason (never taken in part of an AND, which would match more than the
pattern says): observations joined by AND or FOLLOWEDBY, qualifiers (WITHIN, REPEATS, START/STOP),
negations (NOT), operators other than =, IN and MATCHES on file:name, an AND whose parts do not
identify one file or one registry value, and object types tracehound does not match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tracehound.intel.model import ContextValue, IType
from tracehound.intel.values import path_platform

MAX_PATTERN_CHARS = 64 * 1024  # the ANTLR parser is recursive: a longer pattern is refused, not parsed

Value = tuple[IType, str, dict[str, ContextValue]]

_HASHES = {"MD5": IType.MD5, "SHA-1": IType.SHA1, "SHA1": IType.SHA1, "SHA-256": IType.SHA256,
           "SHA256": IType.SHA256, "SHA-512": IType.SHA512, "SHA512": IType.SHA512}
_SINGLE: dict[tuple[str, str], IType] = {
    ("domain-name", "value"): IType.DOMAIN, ("url", "value"): IType.URL, ("email-addr", "value"): IType.EMAIL,
    ("mutex", "name"): IType.MUTEX, ("windows-registry-key", "key"): IType.REGISTRY_KEY,
    ("autonomous-system", "number"): IType.ASN, ("file", "name"): IType.FILENAME, ("file", "x_pdb_path"): IType.PDB_PATH,
    ("x509-certificate", "hashes.SHA-1"): IType.CERT_SHA1, ("x509-certificate", "hashes.SHA-256"): IType.CERT_SHA256,
}


@dataclass
class Result:
    values: list[Value] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # reasons, one per part not read


class _Refused(Exception):
    pass


def _unq(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def _prop(lhs: Any) -> tuple[str, str]:
    parts = []
    for c in lhs.property_path:
        name = str(c.property_name).strip("'")
        index = getattr(c, "index", None)
        parts.append(f"{name}[{index}]" if index is not None else name)
    return str(lhs.object_type_name), ".".join(parts)


def _const(rhs: Any) -> list[str]:
    kind = type(rhs).__name__
    if kind == "ListConstant":
        return [v for c in rhs.value for v in _const(c)]
    if kind in ("StringConstant", "HashConstant"):
        return [_unq(str(rhs.value))]
    if kind == "IntegerConstant":
        return [str(rhs.value)]
    raise _Refused(f"a {kind.replace('Constant', '').lower()} constant is not a value tracehound matches")


def _ip(obj: str, v: str) -> IType:
    return IType.CIDR if "/" in v else IType.IPV4 if obj == "ipv4-addr" else IType.IPV6


def _comparison(c: Any) -> list[tuple[str, str, str, list[str]]]:
    """(object, property, operator, values) of one comparison; refuses what cannot be an indicator."""
    kind = type(c).__name__
    if getattr(c, "negated", False):
        raise _Refused("a negated comparison (NOT) is not an indicator")
    if kind not in ("EqualityComparisonExpression", "InComparisonExpression", "MatchesComparisonExpression"):
        raise _Refused(f"operator {getattr(c, 'operator', kind)!s} is not matched (only =, IN, MATCHES on file:name)")
    obj, prop = _prop(c.lhs)
    op = {"EqualityComparisonExpression": "=", "InComparisonExpression": "IN"}.get(kind, "MATCHES")
    if op == "MATCHES" and (obj, prop) != ("file", "name"):
        raise _Refused(f"MATCHES on {obj}:{prop} is not matched (only on file:name)")
    return [(obj, prop, op, _const(c.rhs))]


def _single(obj: str, prop: str, op: str, values: list[str]) -> list[Value]:
    if op == "MATCHES":
        return [(IType.FILENAME_REGEX, v, {}) for v in values]
    if obj in ("ipv4-addr", "ipv6-addr") and prop == "value":
        return [(_ip(obj, v), v, {}) for v in values]
    if obj in ("file", "artifact") and prop.startswith("hashes.") and prop[7:].upper() in _HASHES:
        return [(_HASHES[prop[7:].upper()], v, {}) for v in values]
    itype = _SINGLE.get((obj, prop))
    if itype is None:
        raise _Refused(f"{obj}:{prop} is not a property tracehound matches")
    if itype is IType.FILENAME:
        return [(IType.FILE_PATH if path_platform(v) else IType.FILENAME, v, {}) for v in values]
    return [(itype, v, {}) for v in values]


def _joined(folder: str, name: str) -> str:
    return folder.rstrip("\\/") + ("\\" if path_platform(folder) == "windows" else "/") + name


def _and(parts: list[tuple[str, str, str, list[str]]]) -> list[Value]:
    """An AND of comparisons on one object: one file (hash + name + folder) or one registry value."""
    objs = {p[0] for p in parts}
    one = {}
    for obj, prop, op, values in parts:
        if op != "=" or len(values) != 1 or prop in one:
            raise _Refused(f"an AND with {op} or a repeated property on {obj} is not matched")
        one[prop] = values[0]
    if objs == {"file"}:
        hashes = {p: v for p, v in one.items() if p.startswith("hashes.") and p[7:].upper() in _HASHES}
        name, folder = one.get("name", ""), one.get("parent_directory_ref.path", "")
        rest = sorted(set(one) - set(hashes) - {"name", "parent_directory_ref.path"})
        if hashes:
            ctx: dict[str, ContextValue] = {f"file_{p}": one[p] for p in rest}
            if name:
                ctx["file_name"] = name
            if folder:
                ctx["file_path"] = _joined(folder, name) if name else folder
            return [(_HASHES[p[7:].upper()], v, dict(ctx)) for p, v in sorted(hashes.items())]
        if name and folder and not rest:
            return [(IType.FILE_PATH, _joined(folder, name), {})]
        raise _Refused("an AND of file properties without a hash, other than name AND parent_directory_ref.path, "
                       "would match more files than the pattern")
    if objs == {"windows-registry-key"} and "key" in one:
        extra = set(one) - {"key", "values[*].name", "values[*].data"}
        if extra or ("values[*].data" in one and "values[*].name" not in one):
            raise _Refused("an AND of registry properties other than key, values[*].name and values[*].data")
        ctx = {"value_name": one["values[*].name"]} if "values[*].name" in one else {}
        if "values[*].data" in one:
            ctx["value_data"] = one["values[*].data"]
        return [(IType.REGISTRY_KEY, one["key"], ctx)]
    raise _Refused(f"an AND of comparisons on {', '.join(sorted(objs))} is not one value tracehound matches")


def _boolean(node: Any, out: Result) -> None:
    kind = type(node).__name__
    try:
        if kind == "OrBooleanExpression":
            for op in node.operands:
                _boolean(op, out)
        elif kind == "ParentheticalExpression":
            _boolean(node.expression, out)
        elif kind == "AndBooleanExpression":
            flat: list[tuple[str, str, str, list[str]]] = []
            for op in node.operands:
                if type(op).__name__ in ("OrBooleanExpression", "AndBooleanExpression", "ParentheticalExpression"):
                    raise _Refused("an AND holding a nested AND/OR is not matched")
                flat += _comparison(op)
            out.values += _and(flat)
        else:
            for obj, prop, op, values in _comparison(node):
                out.values += _single(obj, prop, op, values)
    except _Refused as exc:
        out.refused.append(str(exc))


def _observation(node: Any, out: Result) -> None:
    kind = type(node).__name__
    if kind == "ObservationExpression":
        _boolean(node.operand, out)
    elif kind == "OrObservationExpression":
        for op in node.operands:
            _observation(op, out)
    elif kind == "ParentheticalExpression":
        _observation(node.expression, out)
    elif kind in ("AndObservationExpression", "FollowedByObservationExpression"):
        out.refused.append(f"observations joined by {node.operator} must be seen together: tracehound matches "
                           "one observation at a time")
    elif kind == "QualifiedObservationExpression":
        out.refused.append("a qualified observation (WITHIN, REPEATS, START/STOP) is not matched")
    else:
        out.refused.append(f"{kind} is not matched")


def read(pattern: str) -> Result:
    """The indicators a STIX 2.1 pattern holds, and the reason for each part it holds that is not one."""
    from stix2.pattern_visitor import create_pattern_object

    out = Result()
    if len(pattern) > MAX_PATTERN_CHARS:
        out.refused.append(f"pattern over {MAX_PATTERN_CHARS // 1024} KiB: not parsed")
        return out
    try:
        tree = create_pattern_object(pattern, version="2.1")
    except RecursionError:
        out.refused.append("pattern nested too deeply: not parsed")
        return out
    except Exception as exc:  # stix2patterns raises ParseException, the visitor ValueError/TypeError/KeyError
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        out.refused.append(f"not a valid STIX 2.1 pattern: {first[:160]}")
        return out
    _observation(tree, out)
    return out
