"""Detection rules carried by a feed (a MISP `yara`/`sigma` attribute, a STIX 2.1 indicator with
pattern_type yara|sigma): split into rules as in an advisory, validated, kept with the error when
they do not compile or parse (kept as text, never run, never dropped)."""

from __future__ import annotations

import re

from tracehound.intel.model import Pack, Rule

KINDS = ("yara", "sigma")
_TITLE = re.compile(r"^title[ \t]*:[ \t]*(.+)$", re.M)


def add_rules(pack: Pack, kind: str, text: str, document: str, name: str = "") -> list[Rule]:
    """Add the rules of one feed entry to pack (validated against the pack's other rules); returns them.

    `document` names the entry ('feed.json (MISP yara attribute 5b1c...)'): a rule's line is the
    line within the entry's text."""
    from tracehound.intel.rule_check import validate
    from tracehound.intel.rules import find_rules

    body = text.replace("\r\n", "\n").replace("\r", "\n")
    if kind == "sigma":  # the entry is the rule (custom keys included): one rule, named by its title
        title = _TITLE.search(body)
        found = [Rule(kind, (title.group(1).strip().strip("'\"") if title else "") or name, body, document, 1)]
    else:
        found = [f.rule for f in find_rules("text", body, document) if f.rule.kind == kind]
    if not found:  # not one rule head recognised: kept whole, and validation says why it is not a rule
        found = [Rule(kind, name or f"{kind} rule", body, document, 1)]
    elif name and len(found) == 1 and not found[0].name:
        found[0].name = name
    known = {(r.kind, r.text) for r in pack.rules}
    new = [r for r in found if (r.kind, r.text) not in known]
    validate(new, pack.rules)
    pack.rules += new
    return new
