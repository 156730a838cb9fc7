"""OpenIOC 1.0 (`<ioc>`, Mandiant 2010 schema) and 1.1 (`<OpenIOC>`) files, parsed with safexml.

An IndicatorItem is a Context (`document`, `search`, e.g. FileItem/Md5sum) and a Content. Read:
- in an OR (or at the top), each item with condition `is` whose search term tracehound matches is an
  indicator of its own;
- an AND group must hold as a whole, so nothing is made of its parts that would match more: a hash in
  it is an indicator (the hash names the file) with the group's other items as context (file_name,
  file_path, ...); a RegistryItem group (Hive, KeyPath or Path, ValueName, Value/Text) is one
  registry-key indicator; any other AND group is kept as context, item by item, with the reason;
- items with another condition (contains, matches, starts-with, ...), `negate="true"` or `isnot`
  are not exact values: kept as context with the condition; search terms tracehound does not match
  are counted per term. Nothing is dropped silently.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from tracehound.errors import PackError
from tracehound.intel.formats import safexml
from tracehound.intel.model import ContextValue, Exclusion, IType, Pack
from tracehound.intel.values import path_platform, visible

ROOTS = ("ioc", "OpenIOC")
IP = "ip"  # an address of either family, decided by its value
TERMS: dict[str, IType | str] = {
    "FileItem/Md5sum": IType.MD5, "FileItem/Sha1sum": IType.SHA1, "FileItem/Sha256sum": IType.SHA256,
    "FileItem/Sha512sum": IType.SHA512, "FileItem/FileName": IType.FILENAME, "FileItem/FullPath": IType.FILE_PATH,
    "FileItem/FilePath": IType.FILE_PATH, "ProcessItem/name": IType.FILENAME,
    "ProcessItem/HandleList/Handle/Name": IType.MUTEX, "ProcessItem/Mutex": IType.MUTEX, "ServiceItem/serviceDLL": IType.FILE_PATH,
    "DnsEntryItem/Host": IType.DOMAIN, "DnsEntryItem/RecordName": IType.DOMAIN, "Network/DNS": IType.DOMAIN,
    "DnsEntryItem/RecordData/Host": IType.DOMAIN, "UrlHistoryItem/HostName": IType.DOMAIN,
    "Network/URI": IType.URL, "UrlHistoryItem/URL": IType.URL, "Email/From": IType.EMAIL,
    "PortItem/remoteIP": IP, "RouteEntryItem/Destination": IP, "DnsEntryItem/RecordData/IPv4Address": IP,
    "RegistryItem/KeyPath": IType.REGISTRY_KEY, "RegistryItem/Path": IType.REGISTRY_KEY,
}
REGISTRY_PARTS = {"RegistryItem/Hive": "hive", "RegistryItem/ValueName": "value_name",
                  "RegistryItem/Value": "value_data", "RegistryItem/Text": "value_data"}
HASH_TYPES = (IType.MD5, IType.SHA1, IType.SHA256, IType.SHA512)
CONTEXT_KEYS = {"FileItem/FileName": "file_name", "FileItem/FullPath": "file_path", "FileItem/FilePath": "file_path",
                "FileItem/SizeInBytes": "file_size"}


@dataclass
class Item:
    search: str
    value: str
    condition: str
    line: int

    @property
    def exact(self) -> bool:
        return self.condition == "is"


@dataclass
class _Reader:
    pack: Pack
    tree: safexml.Tree
    path: str
    unknown: Counter[str] = field(default_factory=Counter)

    def item(self, el: Element) -> Item:
        ctx = safexml.child(el, "Context")
        content = safexml.child(el, "Content")
        search = safexml.attr(ctx, "search") if ctx is not None else ""
        cond = safexml.attr(el, "condition") or "is"
        if safexml.attr(el, "negate").lower() == "true":
            cond = f"not {cond}"
        return Item(search, safexml.text_of(content), cond, self.tree.line(el))

    def context(self, it: Item, reason: str) -> None:
        self.pack.excluded.append(Exclusion(visible(it.value), f"openioc {it.search}", reason, self.path, it.line))

    def add(self, itype: IType | str, it: Item, ctx: dict[str, ContextValue]) -> None:
        v = it.value.strip()
        if itype == IP:
            itype = IType.CIDR if "/" in v else IType.IPV6 if ":" in v else IType.IPV4
        assert isinstance(itype, IType)
        if itype is IType.FILENAME and path_platform(v):
            itype = IType.FILE_PATH
        safexml.add_source(self.pack.add_value(itype, v, ctx, 80, document=self.path, line=it.line,
                                               where=f"OpenIOC {it.search}"), self.path, it.line)

    def single(self, it: Item) -> None:
        itype = TERMS.get(it.search)
        if itype is None:
            self.unknown[it.search or "(item without a Context search)"] += 1
        elif not it.exact:
            self.context(it, f"condition '{it.condition}' is not an exact value: context, not an indicator")
        else:
            self.add(itype, it, {})

    def indicator(self, el: Element) -> None:
        op = (safexml.attr(el, "operator") or "OR").upper()
        if op == "AND":
            self.and_group(el)
            return
        for c in el:
            name = safexml.local(c.tag)
            if name == "IndicatorItem":
                self.single(self.item(c))
            elif name == "Indicator":
                self.indicator(c)

    def and_group(self, el: Element) -> None:
        items: list[Item] = []
        nested_or = False
        todo = [el]
        while todo:  # AND of ANDs is one AND
            for c in todo.pop():
                name = safexml.local(c.tag)
                if name == "IndicatorItem":
                    items.append(self.item(c))
                elif name == "Indicator":
                    if (safexml.attr(c, "operator") or "OR").upper() == "AND":
                        todo.append(c)
                    else:
                        nested_or = True
                        items += [self.item(x) for x in c.iter() if safexml.local(x.tag) == "IndicatorItem"]
        hashes = [it for it in items if it.exact and TERMS.get(it.search) in HASH_TYPES]
        if nested_or:
            for it in items:
                self.context(it, "in an AND group holding an OR: the conditions hold together, not alone")
        elif hashes:
            ctx: dict[str, ContextValue] = {}
            for it in items:
                if it not in hashes:
                    key = CONTEXT_KEYS.get(it.search, "openioc_" + it.search.replace("/", "_"))
                    ctx[key] = it.value if it.exact else f"{it.condition} {it.value}"
            for it in hashes:
                self.add(TERMS[it.search], it, dict(ctx))
        elif self.registry(items):
            return
        else:
            for it in items:
                self.context(it, f"one of {len(items)} conditions of an AND group that must hold together: "
                             "not an indicator alone")

    def registry(self, items: list[Item]) -> bool:
        keys = [it for it in items if TERMS.get(it.search) is IType.REGISTRY_KEY]
        if len(keys) != 1 or not keys[0].exact or any(
                it.search not in REGISTRY_PARTS and it is not keys[0] or not it.exact for it in items):
            return False
        ctx: dict[str, ContextValue] = {REGISTRY_PARTS[it.search]: it.value for it in items if it is not keys[0]}
        hive = str(ctx.pop("hive", ""))
        key = keys[0]
        value = key.value.strip()
        if hive and not value.upper().startswith(("HK", "COMPUTER\\")):
            value = hive.rstrip("\\") + "\\" + value
        safexml.add_source(self.pack.add_value(IType.REGISTRY_KEY, value, ctx, 80, document=self.path, line=key.line,
                                               where=f"OpenIOC {key.search}"), self.path, key.line)
        return True


def loads(text: str, path: str = "<openioc>") -> Pack:
    tree = safexml.parse(text, path)
    root = tree.root
    if safexml.local(root.tag) not in ROOTS:
        raise PackError(f"not an OpenIOC file (root element <{safexml.local(root.tag)}>, expected <ioc> or <OpenIOC>)",
                        path=path, line=tree.line(root) or None)
    meta = safexml.child(root, "metadata") if safexml.local(root.tag) == "OpenIOC" else None
    head = meta if meta is not None else root
    pack = Pack(name=safexml.attr(root, "id") or "openioc",
                title=safexml.text_of(safexml.child(head, "short_description")),
                published=(safexml.text_of(safexml.child(head, "authored_date")) or safexml.attr(root, "last-modified"))[:10])
    body = safexml.child(root, "definition")
    body = body if body is not None else safexml.child(root, "criteria")
    if body is None:
        raise PackError("OpenIOC file without <definition> (1.0) or <criteria> (1.1)", path=path)
    reader = _Reader(pack, tree, path)
    for ind in safexml.children(body, "Indicator"):
        reader.indicator(ind)
    for term, n in sorted(reader.unknown.items()):
        pack.excluded.append(Exclusion(f"{n} item(s)", "openioc", f"search term {term!r} is not one tracehound "
                                       "matches", path, 0))
    return pack
