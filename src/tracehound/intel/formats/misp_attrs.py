"""MISP attributes and objects to indicators, rules and context.

- An attribute with `to_ids: false` is context, not an indicator: it is listed in the pack's
  `excluded` with the reason "context, not an indicator: MISP to_ids false", unless the reader is
  asked to take context too (`include_context`, `intel convert --include-context`): then it is an
  indicator at confidence 40 with the warning `misp-to_ids-false`. A whole event of context only
  gets a warning entry (type "warning") that says so and names the option.
- `yara` and `sigma` attributes are detection rules (Pack.rules), validated; to_ids does not apply
  to them (they scan files and logs, nothing is blocked on them).
- Composite attributes give one indicator with the other half as context (filename|sha256: the hash,
  context file_name; ip-dst|port: the address, context port; regkey|value: the key, context
  value_data), except domain|ip which gives both, each naming the other.
- Objects: a `file` object's hashes carry its filename/path as context (the name is not an
  indicator of its own), a `domain-ip` object's domain and addresses name each other, a `yara`
  object's rule is named by its `yara-rule-name`.
- Any other type is counted per type and named in `excluded` (never dropped silently).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tracehound.intel.formats.feed_rules import add_rules
from tracehound.intel.model import ContextValue, Exclusion, IType, Pack
from tracehound.intel.values import one_line, path_platform, visible

CONTEXT = "context, not an indicator: MISP to_ids false"
WARNING = "warning"  # Exclusion.type of a note for the reader (load_intel shows it)
TO_IDS_FALSE = "misp-to_ids-false"
SOFTWARE_MARK = "tracehound-software"  # a `text` attribute tracehound wrote for a software indicator
# An event tracehound wrote: there to_ids false means confidence under 50 (or a software/ASN record), not
# context, so its attributes all come back as indicators.
OWN_TAG = "tracehound:pack-export"

SIMPLE: dict[str, IType] = {
    "domain": IType.DOMAIN, "hostname": IType.DOMAIN, "url": IType.URL, "uri": IType.URL,
    "md5": IType.MD5, "sha1": IType.SHA1, "sha256": IType.SHA256, "sha512": IType.SHA512,
    "x509-fingerprint-sha1": IType.CERT_SHA1, "x509-fingerprint-sha256": IType.CERT_SHA256,
    "email-src": IType.EMAIL, "email-dst": IType.EMAIL, "email": IType.EMAIL, "AS": IType.ASN,
    "pattern-filename": IType.FILENAME_REGEX, "regkey": IType.REGISTRY_KEY, "mutex": IType.MUTEX,
    "pdb": IType.PDB_PATH, "filename": IType.FILENAME,
}
HASHES = {"md5": IType.MD5, "sha1": IType.SHA1, "sha256": IType.SHA256, "sha512": IType.SHA512}
IPS = ("ip-dst", "ip-src", "ip")
RULES = ("yara", "sigma")
# what the `link` type is: a reference to a report, not a value seen in an attack
REASONS = {"link": "MISP 'link' is a reference to a report, not an indicator"}


def parse_comment(comment: str) -> dict[str, ContextValue]:
    """Context from a comment tracehound wrote ('stage=2; file_name=a.dll'); {} for prose."""
    ctx: dict[str, ContextValue] = {}
    for part in comment.split("; "):
        k, sep, v = part.partition("=")
        if sep and k and " " not in k:
            ctx[k] = v.split(",") if "," in v else v
    return ctx


def as_list(v: Any) -> list[Any]:
    """A JSON member that should be a list: anything else is one item (counted as not an object when it is not one)."""
    return v if isinstance(v, list) else [] if v is None or v == "" else [v]


def ip_type(v: str) -> IType:
    return IType.CIDR if "/" in v else IType.IPV6 if ":" in v else IType.IPV4


def to_ids(a: dict[str, Any]) -> bool:
    v = a.get("to_ids", True)
    if isinstance(v, str):
        return v.strip().lower() not in ("0", "false", "no", "")
    return bool(v)


@dataclass
class Reader:
    pack: Pack
    path: str
    include_context: bool = False
    unsupported: Counter[str] = field(default_factory=Counter)
    indicators: Counter[str] = field(default_factory=Counter)  # MISP type -> attributes read as indicators
    context: Counter[str] = field(default_factory=Counter)  # MISP type -> attributes kept as context
    rules: Counter[str] = field(default_factory=Counter)
    consumed: Counter[str] = field(default_factory=Counter)  # read as part of another value (a file's name)
    _seen: set[int] = field(default_factory=set)
    _own: bool = False

    # --- one value ------------------------------------------------------------------------------
    def value(self, a: dict[str, Any], itype: IType, v: str, ctx: dict[str, ContextValue]) -> None:
        """One value of attribute a: an indicator, or context when to_ids is false (counted once per attribute)."""
        mtype = str(a.get("type", ""))
        counted = id(a) in self._seen
        self._seen.add(id(a))
        where = f"MISP {mtype} attribute {str(a.get('uuid', ''))[:36]}".rstrip()
        if itype is IType.FILENAME and path_platform(v.strip()):
            itype = IType.FILE_PATH  # MISP 'filename' attributes often hold a full path
        comment = one_line(str(a.get("comment", "") or ""))
        if comment.startswith(SOFTWARE_MARK):
            comment = comment[len(SOFTWARE_MARK):].lstrip("; ")
        parsed = parse_comment(comment)
        if parsed:
            ctx = {**parsed, **ctx}
        elif comment and "comment" not in ctx:
            ctx = {**ctx, "comment": comment[:200]}
        if not to_ids(a) and not self.include_context and not self._own:
            cat = str(a.get("category", "") or "")
            why = f"{CONTEXT}{f' ({cat})' if cat else ''}{f': {comment[:120]}' if comment else ''}"
            self.pack.excluded.append(Exclusion(visible(v), itype.value, why, self.path, 0))
            self.context[mtype] += 0 if counted else 1
            return
        ids = to_ids(a)
        self.pack.add_value(itype, v, ctx, 80 if ids else 40, document=self.path, where=where,
                            warnings=[] if ids or self._own else [TO_IDS_FALSE])
        self.indicators[mtype] += 0 if counted else 1

    # --- one attribute --------------------------------------------------------------------------
    def attribute(self, a: Any, extra: dict[str, ContextValue] | None = None) -> None:
        if not isinstance(a, dict):
            self.unsupported["(not an object)"] += 1
            return
        if a.get("deleted") in (True, "1", 1, "true"):
            self.unsupported["(deleted attribute)"] += 1
            return
        mtype, value = str(a.get("type", "")), str(a.get("value", ""))
        ctx = dict(extra or {})
        if mtype in RULES:
            self.rule(a, mtype, value, "")
        elif mtype == "text" and str(a.get("comment", "") or "").startswith(SOFTWARE_MARK):
            self.value(a, IType.SOFTWARE, value, ctx)
        elif mtype in IPS:
            self.value(a, ip_type(value.strip()), value, ctx)
        elif mtype in SIMPLE and not (mtype == "regkey" and "|" in value):
            self.value(a, SIMPLE[mtype], value, ctx)
        elif "|" in mtype:
            self.composite(a, mtype, value, ctx)
        elif mtype == "regkey":  # 'regkey' holding 'key|data', as some producers write regkey|value
            self.composite(a, "regkey|value", value, ctx)
        else:
            self.unsupported[mtype] += 1

    def composite(self, a: dict[str, Any], mtype: str, value: str, ctx: dict[str, ContextValue]) -> None:
        left_t, _, right_t = mtype.partition("|")
        left, sep, right = value.partition("|")
        left, right = left.strip(), right.strip()
        if not sep:
            self.unsupported[f"{mtype} (value without '|')"] += 1
        elif left_t == "filename" and right_t in HASHES:
            name = {"file_path": left} if path_platform(left) else {"file_name": left}
            self.value(a, HASHES[right_t], right, {**ctx, **name})
        elif left_t in IPS and right_t == "port":
            self.value(a, ip_type(left), left, {**ctx, "port": right})
        elif left_t == "hostname" and right_t == "port":
            self.value(a, IType.DOMAIN, left, {**ctx, "port": right})
        elif left_t == "domain" and right_t == "ip":
            self.value(a, IType.DOMAIN, left, {**ctx, "resolves_to": right})
            self.value(a, ip_type(right), right, {**ctx, "resolution_of": left})
        elif left_t == "regkey" and right_t == "value":
            self.value(a, IType.REGISTRY_KEY, left, {**ctx, "value_data": right} if right else ctx)
        else:
            self.unsupported[mtype] += 1

    def rule(self, a: dict[str, Any], kind: str, text: str, name: str) -> None:
        doc = f"{self.path} (MISP {kind} attribute {str(a.get('uuid', ''))[:36]})"
        added = add_rules(self.pack, kind, text, doc, name)
        self.rules[kind] += max(1, len(added))

    # --- objects --------------------------------------------------------------------------------
    def obj(self, o: Any) -> None:
        if not isinstance(o, dict):
            self.unsupported["(object not an object)"] += 1
            return
        given = as_list(o.get("Attribute"))
        attrs = [a for a in given if isinstance(a, dict)]
        if len(given) > len(attrs):
            self.unsupported["(not an object)"] += len(given) - len(attrs)
        rel = {str(a.get("object_relation", "")): a for a in attrs}
        name = str(o.get("name", ""))
        if name == "file" and any(str(a.get("type")) in HASHES for a in attrs):
            self.file_object(attrs, rel)
        elif name == "domain-ip":
            self.domain_ip(attrs)
        elif name == "yara" and any(str(a.get("type")) == "yara" for a in attrs):
            label = str((rel.get("yara-rule-name") or {}).get("value", ""))
            for a in attrs:
                if str(a.get("type")) == "yara":
                    self.rule(a, "yara", str(a.get("value", "")), label)
                elif a is not rel.get("yara-rule-name"):
                    self.attribute(a)
            if "yara-rule-name" in rel:
                self.consumed["yara object yara-rule-name (the rule's name)"] += 1
        else:
            for a in attrs:
                self.attribute(a)

    def file_object(self, attrs: list[dict[str, Any]], rel: dict[str, dict[str, Any]]) -> None:
        fname = str((rel.get("filename") or {}).get("value", "")).strip()
        full = str((rel.get("fullpath") or {}).get("value", "")).strip()
        folder = str((rel.get("path") or {}).get("value", "")).strip()
        if not full and folder and fname and path_platform(folder):
            full = folder.rstrip("\\/") + ("\\" if path_platform(folder) == "windows" else "/") + fname
        ctx: dict[str, ContextValue] = {}
        if fname:
            ctx["file_name"] = fname
        if full:
            ctx["file_path"] = full
        for a in attrs:
            r = str(a.get("object_relation", ""))
            if str(a.get("type")) in HASHES:
                self.attribute(a, ctx)
            elif r in ("filename", "path"):
                self.consumed[f"file object {r} (context of its hashes)"] += 1
            elif r == "fullpath":
                self.value(a, IType.FILE_PATH, full, {})
            else:
                self.attribute(a)

    def domain_ip(self, attrs: list[dict[str, Any]]) -> None:
        domains = [str(a.get("value", "")).strip() for a in attrs if str(a.get("type")) in ("domain", "hostname")]
        ips = [str(a.get("value", "")).strip() for a in attrs if str(a.get("type")) in IPS]
        for a in attrs:
            t = str(a.get("type"))
            if t in ("domain", "hostname") and ips:
                self.attribute(a, {"resolves_to": sorted(ips) if len(ips) > 1 else ips[0]})
            elif t in IPS and domains:
                self.attribute(a, {"resolution_of": sorted(domains) if len(domains) > 1 else domains[0]})
            else:
                self.attribute(a)

    # --- the event ------------------------------------------------------------------------------
    def event(self, ev: dict[str, Any]) -> None:
        before_ind, before_ctx = sum(self.indicators.values()), sum(self.context.values())
        tags = [t.get("name") for t in as_list(ev.get("Tag")) if isinstance(t, dict)]
        self._own = OWN_TAG in tags
        for a in as_list(ev.get("Attribute")):
            self.attribute(a)
        for o in as_list(ev.get("Object")):
            self.obj(o)
        n_ind = sum(self.indicators.values()) - before_ind
        n_ctx = sum(self.context.values()) - before_ctx
        if n_ctx and not n_ind:
            info = one_line(str(ev.get("info", "") or ev.get("uuid", "") or "MISP event"))[:100]
            self.pack.excluded.append(Exclusion(info, WARNING, (
                f"every one of this MISP event's {n_ctx} readable attributes is to_ids false: context, not "
                "indicators, so nothing from it is matched; to hunt with them anyway: "
                f"tracehound intel convert {self.path} --include-context -f json -o PACK.json"), self.path, 0))

    def finish(self) -> None:
        for kind, n in sorted(self.unsupported.items()):  # counted, never silent
            reason = REASONS.get(kind, f"MISP type {kind!r} is not an indicator tracehound matches")
            self.pack.excluded.append(Exclusion(f"{n} attribute(s)", "misp", reason, self.path, 0))
