"""STIX 1.x packages (XML, STIX 1.1.1/1.2 with CybOX 2.x objects), as Talos and national CERTs still
publish them; parsed with safexml (no DTD, no entities, no external references).

Read: every Indicator's Observable (inline or by idref, Observable_Composition with OR), and the
package's own Observables that no indicator names. CybOX objects read:
- DomainName, Hostname: domain; URI: url (type "Domain Name": domain); Address: ipv4/ipv6/cidr/e-mail
  by its category;
- File: each hash (MD5, SHA1, SHA256, SHA512) is an indicator, the name and path its context; without
  a hash, a fully qualified File_Path (or File_Path + File_Name) is a file-path indicator, File_Name a file name;
- WindowsRegistryKey: Hive + Key (+ Values/Value Name and Data as context) is one registry-key indicator;
- Mutex, WindowsMutex: mutex.
A value with a condition other than Equals, a negated observable, an AND composition and any other
object type are counted with their reason. Lists `a##comma##b` (apply_condition ANY) give each value.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from tracehound.errors import PackError
from tracehound.intel.formats import safexml
from tracehound.intel.model import ContextValue, Exclusion, IType, Pack
from tracehound.intel.values import path_platform, visible

HASHES = {"MD5": IType.MD5, "SHA1": IType.SHA1, "SHA-1": IType.SHA1, "SHA256": IType.SHA256,
          "SHA-256": IType.SHA256, "SHA512": IType.SHA512, "SHA-512": IType.SHA512}
ADDRESS = {"ipv4-addr": IType.IPV4, "ipv6-addr": IType.IPV6, "ipv4-net": IType.CIDR, "ipv6-net": IType.CIDR,
           "e-mail": IType.EMAIL}
DELIMITER = "##comma##"


@dataclass
class _Reader:
    pack: Pack
    tree: safexml.Tree
    path: str
    skipped: Counter[str] = field(default_factory=Counter)
    by_id: dict[str, Element] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    def values(self, el: Element | None) -> list[str]:
        """The value(s) of a CybOX property, or [] after counting why it is not an exact value."""
        if el is None:
            return []
        text = safexml.text_of(el)
        cond = safexml.attr(el, "condition") or "Equals"
        if cond != "Equals":
            self.pack.excluded.append(Exclusion(visible(text), f"stix1 {safexml.local(el.tag)}",
                                                f"condition {cond!r} is not an exact value: not an indicator",
                                                self.path, self.tree.line(el)))
            return []
        parts = text.split(safexml.attr(el, "delimiter") or DELIMITER)
        return [p.strip() for p in parts if p.strip()]

    def add(self, itype: IType, value: str, el: Element, ctx: dict[str, ContextValue] | None = None) -> None:
        line = self.tree.line(el)
        safexml.add_source(self.pack.add_value(itype, value, ctx or {}, 80, document=self.path, line=line,
                                               where=f"STIX 1 {safexml.local(el.tag)}"), self.path, line)

    # --- objects --------------------------------------------------------------------------------
    def properties(self, props: Element, ctx: dict[str, ContextValue]) -> None:
        kind = safexml.attr(props, "type").rsplit(":", 1)[-1]
        simple = {"DomainNameObjectType": ("Value", IType.DOMAIN), "HostnameObjectType": ("Hostname_Value", IType.DOMAIN),
                  "MutexObjectType": ("Name", IType.MUTEX), "WindowsMutexObjectType": ("Name", IType.MUTEX)}
        if kind in simple:
            name, itype = simple[kind]
            for v in self.values(safexml.child(props, name)):
                self.add(itype, v, props, ctx)
        elif kind == "URIObjectType":
            itype = IType.DOMAIN if safexml.attr(props, "type") == "Domain Name" else IType.URL
            for v in self.values(safexml.child(props, "Value")):
                self.add(itype, v, props, ctx)
        elif kind == "AddressObjectType":
            category = safexml.attr(props, "category") or "ipv4-addr"
            if category not in ADDRESS:
                self.skipped[f"Address of category {category!r} is not matched"] += 1
                return
            for v in self.values(safexml.child(props, "Address_Value")):
                self.add(IType.CIDR if "/" in v else ADDRESS[category], v, props, ctx)
        elif kind in ("FileObjectType", "WindowsFileObjectType", "WindowsExecutableFileObjectType"):
            self.file(props, ctx)
        elif kind in ("WindowsRegistryKeyObjectType",):
            self.registry(props, ctx)
        else:
            self.skipped[f"CybOX object {kind or '(no xsi:type)'} is not one tracehound matches"] += 1

    def file(self, props: Element, ctx: dict[str, ContextValue]) -> None:
        names = self.values(safexml.child(props, "File_Name"))
        path_el = safexml.child(props, "File_Path")
        paths = self.values(path_el)
        name, folder = (names[0] if names else ""), (paths[0] if paths else "")
        full = ""
        if folder and path_platform(folder):
            full = folder if not name or folder.lower().rstrip("\\/").endswith(name.lower()) else \
                folder.rstrip("\\/") + ("\\" if path_platform(folder) == "windows" else "/") + name
        hashes: list[tuple[IType, str, Element]] = []
        hash_list = safexml.child(props, "Hashes")
        for h in hash_list if hash_list is not None else []:
            if safexml.local(h.tag) != "Hash":
                continue
            htype = safexml.text_of(safexml.child(h, "Type")).upper()
            value_el = safexml.child(h, "Simple_Hash_Value")
            if htype not in HASHES:
                self.skipped[f"file hash type {htype[:20] or '(none)'!r} is not matched"] += 1
                continue
            hashes += [(HASHES[htype], v, h) for v in self.values(value_el)]
        if hashes:
            extra = dict(ctx)
            if name:
                extra["file_name"] = name
            if full:
                extra["file_path"] = full
            for itype, v, el in hashes:
                self.add(itype, v, el, dict(extra))
        elif full:
            self.add(IType.FILE_PATH, full, props, ctx)
        elif name:
            self.add(IType.FILE_PATH if path_platform(name) else IType.FILENAME, name, props, ctx)
        else:
            self.skipped["File object without a hash, a full path or a name"] += 1

    def registry(self, props: Element, ctx: dict[str, ContextValue]) -> None:
        keys = self.values(safexml.child(props, "Key"))
        hive = (self.values(safexml.child(props, "Hive")) or [""])[0]
        if not keys:
            self.skipped["WindowsRegistryKey without an exact Key"] += 1
            return
        extra = dict(ctx)
        vals = safexml.child(props, "Values")
        first = safexml.child(vals, "Value") if vals is not None else None
        if first is not None:
            vname = self.values(safexml.child(first, "Name"))
            vdata = self.values(safexml.child(first, "Data"))
            if vname:
                extra["value_name"] = vname[0]
            if vdata:
                extra["value_data"] = vdata[0]
        for k in keys:
            full = k if not hive or k.upper().startswith("HK") else hive.rstrip("\\") + "\\" + k
            self.add(IType.REGISTRY_KEY, full, props, extra)

    # --- observables ----------------------------------------------------------------------------
    def observable(self, obs: Element, ctx: dict[str, ContextValue], depth: int = 0) -> None:
        ref = safexml.attr(obs, "idref")
        if ref:
            target = self.by_id.get(ref)
            if target is None:
                self.skipped[f"observable reference {ref[:80]!r} not in this package"] += 1
                return
            self.used.add(ref)
            if depth < 20:
                self.observable(target, ctx, depth + 1)
            return
        if safexml.attr(obs, "negate").lower() == "true":
            self.skipped["a negated observable is not an indicator"] += 1
            return
        comp = safexml.child(obs, "Observable_Composition")
        if comp is not None:
            if (safexml.attr(comp, "operator") or "OR").upper() != "OR":
                self.skipped["an AND composition of observables must be seen together: not matched"] += 1
                return
            for o in safexml.children(comp, "Observable"):
                self.observable(o, ctx, depth + 1)
            return
        obj = safexml.child(obs, "Object")
        props = safexml.child(obj, "Properties") if obj is not None else None
        if props is None:
            self.skipped["an observable without an object (an event or a pattern) is not read"] += 1
            return
        self.properties(props, ctx)

    def indicator(self, ind: Element) -> None:
        title = safexml.text_of(safexml.child(ind, "Title"))
        ctx: dict[str, ContextValue] = {"indicator": title[:200]} if title else {}
        found = False
        for o in safexml.children(ind, "Observable"):
            found = True
            self.observable(o, ctx)
        comp = safexml.child(ind, "Composite_Indicator_Expression")
        if comp is not None:
            found = True
            if (safexml.attr(comp, "operator") or "OR").upper() != "OR":
                self.skipped["an AND of indicators must hold together: not matched"] += 1
            else:
                for sub in safexml.children(comp, "Indicator"):
                    self.indicator(sub)
        if not found and not safexml.attr(ind, "idref"):
            self.skipped["an indicator without an observable (test mechanism only) is not read"] += 1


def loads(text: str, path: str = "<stix1>") -> Pack:
    tree = safexml.parse(text, path)
    root = tree.root
    if safexml.local(root.tag) != "STIX_Package":
        raise PackError(f"not a STIX 1.x package (root element <{safexml.local(root.tag)}>)", path=path,
                        line=tree.line(root) or None)
    header = safexml.child(root, "STIX_Header")
    pack = Pack(name=safexml.attr(root, "id") or "stix1",
                title=safexml.text_of(safexml.child(header, "Title")) if header is not None else "",
                published=safexml.attr(root, "timestamp")[:10])
    reader = _Reader(pack, tree, path)
    top = safexml.child(root, "Observables")
    top_list = safexml.children(top, "Observable") if top is not None else []
    for el in root.iter():
        if safexml.local(el.tag) == "Observable" and safexml.attr(el, "id"):
            reader.by_id[safexml.attr(el, "id")] = el
    inds = safexml.child(root, "Indicators")
    for ind in safexml.children(inds, "Indicator") if inds is not None else []:
        reader.indicator(ind)
    for obs in top_list:  # observables published without an indicator naming them
        if safexml.attr(obs, "id") not in reader.used:
            reader.observable(obs, {})
    for reason, n in sorted(reader.skipped.items()):
        pack.excluded.append(Exclusion(f"{n} item(s)", "stix1", reason, path, 0))
    return pack
