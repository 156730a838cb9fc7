"""The pack's own detection rules (pasted in its advisories, intel/rule_check.py) in the YARA and Sigma exports.

Only valid rules are written, as published. YARA: one file holds the generated and the pack rules, so a
pack rule whose name is already taken (by a generated rule, or by another advisory's rule of the same
name) is renamed NAME_2, NAME_3... in its header and in the conditions of the rules that use it. Sigma:
one file per rule, named after the pack and the rule title.
"""

from __future__ import annotations

import re

from tracehound.intel.model import Pack
from tracehound.intel.rule_check import _STRING, imports_for, valid_rules, yara_sources


def _rename(text: str, old: str, new: str) -> str:
    """old -> new as an identifier outside strings (regexes and comments are left as they are)."""
    word = re.compile(rf"(?<![\w$#@!.]){re.escape(old)}(?!\w)")
    out, pos = [], 0
    for m in _STRING.finditer(text):
        out += [word.sub(new, text[pos:m.start()]), m.group(0)]
        pos = m.end()
    out.append(word.sub(new, text[pos:]))
    return "".join(out)


def yara_part(pack: Pack, taken: set[str]) -> tuple[str, list[str]]:
    """(imports the pack rules need, the rule texts) — names made unique against `taken` (updated)."""
    texts: list[str] = []
    for _origin, raw, names in yara_sources(valid_rules(pack, "yara")[0]):
        src = re.sub(r'^import "\w+"\n', "", raw.decode(), flags=re.M)
        shown = []
        for name, at in names.items():
            new, n = name, 1
            while new in taken:
                n += 1
                new = f"{name}_{n}"
            taken.add(new)
            if new != name:
                src = _rename(src, name, new)
            shown.append(f"{new} ({at})")
        note = re.sub(r"[^\x20-\x7e]", "?", ", ".join(shown))  # a comment line: no line break from a file name
        texts.append(f"// from the pack's advisory: {note}\n{src}")
    return imports_for(texts), texts


def sigma_part(pack: Pack, slug: str, taken: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for r in valid_rules(pack, "sigma")[0]:
        base = f"{slug}_pack_" + (re.sub(r"[^a-z0-9]+", "_", r.name.lower()).strip("_")[:60] or "rule")
        name, n = base + ".yml", 1
        while name in taken:
            n += 1
            name = f"{base}_{n}.yml"
        taken.add(name)
        out[name] = r.text.rstrip("\n") + "\n"
    return out
