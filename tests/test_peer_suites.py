"""Other extractors' test suites (iocextract, ioc-finder, msticpy) as third-party expectations.

../shared/samples/peer-suites/cases.json holds every assertion those suites make, with a
`semantics` label saying how each relates to tracehound's documented rules (README there).
Scoring follows that README: values normalised (lowercase hosts and hashes, compressed IPv6,
URLs without scheme, default port or trailing '/'); recall over every expected value;
precision over the types whose expectation is complete for the case (`scored_types`) plus
`forbidden` hits; `neutral` values and, in the adjusted views, values whose `value_notes`
kind is differs/policy/peer-limitation count neither way.

Floors are the figures reached (honest, so a regression fails); `outside-docs` cases are
reported, not asserted beyond the all-cases floor.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections import defaultdict
from functools import cache

import pytest

from conftest import SAMPLES, need
from tracehound.intel.extract import extract_text

CASES = SAMPLES / "peer-suites" / "cases.json"
TYPES = ("domain", "ipv4", "ipv6", "cidr", "url", "md5", "sha1", "sha256", "sha512", "email")
_ALIASES = {"cert-sha1": "sha1", "cert-sha256": "sha256"}
_NOTED_OUT = {"differs", "policy", "peer-limitation"}

# Floors just under what is reached (issue 13 asks >= 0.99 on agree cases for every type, and on
# all cases a recall of at least iocextract's 0.88 with a precision above ioc-finder's 0.93).
# Reached when written: agree >= 0.997 recall and 1.000 precision for every type; all cases
# (adjusted) 0.922 recall, 0.989 precision; strict view 0.851 / 0.989.
AGREE_FLOOR = {"recall": 0.995, "precision": 0.995}
ALL_FLOOR = {"recall": 0.915, "precision": 0.98}


def norm(itype: str, value: str) -> str:
    v = value.strip()
    try:
        if itype in ("ipv4", "ipv6"):
            return str(ipaddress.ip_address(v))
        if itype == "cidr":
            return str(ipaddress.ip_network(v, strict=False))
    except ValueError:
        return v.lower()
    if itype == "url":
        v = re.sub(r"^[a-z][a-z0-9+.-]*://", "", v, flags=re.I)
        host, sep, rest = v.partition("/")
        host = re.sub(r":(?:80|443)$", "", host.lower())
        v6 = re.fullmatch(r"\[([0-9a-f:.]+)\](:\d+)?", host)
        if v6:  # the same address however it is written: [2001:db8:0:0::1] is [2001:db8::1]
            try:
                host = f"[{ipaddress.ip_address(v6.group(1))}]{v6.group(2) or ''}"
            except ValueError:
                pass
        return (host + sep + rest).rstrip("/")
    if itype == "email":
        local, _, host = v.rpartition("@")
        return f"{local}@{host.lower()}" if local else v.lower()
    return v.lower()


def found_values(case_input: str, name: str) -> dict[str, set[str]]:
    pack = extract_text(case_input, name)
    out: dict[str, set[str]] = defaultdict(set)
    for ind in pack.indicators:
        t = _ALIASES.get(ind.type.value, ind.type.value)
        if t in TYPES:
            out[t].add(norm(t, ind.value))
    return out


def _alternative(itype: str, alt: str) -> tuple[str, str]:
    """'domain:example.com' names another type; a value without a known type prefix is the same type."""
    t, sep, v = alt.partition(":")
    if sep and t in TYPES:
        return t, norm(t, v)
    return itype, norm(itype, alt)


def score_case(case: dict, found: dict[str, set[str]], adjusted: bool) -> dict[str, list[int]]:
    """Per type: [expected, found-of-expected, tp, fp]."""
    res: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    notes = case.get("value_notes", {})
    alts = case.get("alternatives", {})
    neutral = {(t, norm(t, v)) for t, vs in case.get("neutral", {}).items() for v in vs}
    skip = set(neutral)
    if adjusted:
        skip |= {(t, norm(t, v)) for t, vs in notes.items() for v, n in vs.items() if n.get("kind") in _NOTED_OUT}
    matched: set[tuple[str, str]] = set()
    for t, values in case["expected"].items():
        for v in values:
            key = (t, norm(t, v))
            if key in skip:
                continue
            res[t][0] += 1
            options = [key] + [_alternative(t, a) for a in alts.get(t, {}).get(v, [])]
            hit = [o for o in options if o[1] in found.get(o[0], set())]
            if hit:
                res[t][1] += 1
                matched.update(hit)
    for t in case.get("scored_types", []):
        for v in found.get(t, set()):
            if (t, v) in skip:
                continue
            if (t, v) in matched:
                res[t][2] += 1
            else:
                res[t][3] += 1
    for t, values in case.get("forbidden", {}).items():
        if t in case.get("scored_types", []):
            continue  # already counted as a false positive above
        for v in values:
            if norm(t, v) in found.get(t, set()) and (t, norm(t, v)) not in skip:
                res[t][3] += 1
    return res


Counts = dict[str, list[int]]


def _add(view: Counts, r: dict[str, list[int]]) -> None:
    for t, counts in r.items():
        view[t] = [a + b for a, b in zip(view.get(t, [0, 0, 0, 0]), counts, strict=True)]


@cache
def scored() -> tuple[Counts, Counts, list[tuple[str, dict]]]:
    agree, every, _, _, misses = views()
    return agree, every, misses


@cache
def views() -> tuple[Counts, Counts, Counts, Counts, list[tuple[str, dict]]]:
    """documented (agree, adjusted), all (adjusted), all (strict), outside-docs (adjusted), agree misses."""
    cases = json.loads(need(CASES).read_text(encoding="utf-8"))
    agree: Counts = {}
    every: Counts = {}
    strict: Counts = {}
    outside: Counts = {}
    misses: list[tuple[str, dict]] = []
    for case in cases:
        found = found_values(case["input"], case["id"])
        r = score_case(case, found, True)
        _add(every, r)
        _add(strict, score_case(case, found, False))
        if case["semantics"] == "outside-docs":
            _add(outside, r)
        if case["semantics"] == "agree":
            _add(agree, r)
            if any(c[0] != c[1] or c[3] for c in r.values()):
                misses.append((case["id"], {"input": case["input"][:200], "expected": case["expected"],
                                            "found": {k: sorted(v) for k, v in found.items()}}))
    return agree, every, strict, outside, misses


def rates(counts: list[int]) -> tuple[float, float]:
    exp, got, tp, fp = counts
    return (got / exp if exp else 1.0), (tp / (tp + fp) if tp + fp else 1.0)


def _total(view: Counts) -> list[int]:
    return [sum(c[k] for c in view.values()) for k in range(4)]


def table() -> str:
    agree, every, strict, outside, _ = views()
    cols = (("agree", agree), ("all", every), ("strict", strict), ("outside", outside))
    lines = [f"{'type':8} " + " ".join(f"{name + ' R':>10} {name + ' P':>10}" for name, _ in cols)]
    for t in (*TYPES, "total"):
        cells = [rates(_total(v) if t == "total" else v.get(t, [0, 0, 0, 0])) for _, v in cols]
        lines.append(f"{t:8} " + " ".join(f"{r:10.3f} {p:10.3f}" for r, p in cells))
    return "\n".join(lines)


@pytest.mark.parametrize("itype", TYPES)
def test_agree_cases_per_type(itype: str) -> None:
    agree, _, misses = scored()
    recall, precision = rates(agree.get(itype, [0, 0, 0, 0]))
    wrong = [m for m in misses if itype in m[1]["expected"] or itype in m[1]["found"]][:5]
    assert recall >= AGREE_FLOOR["recall"], (itype, recall, wrong)
    assert precision >= AGREE_FLOOR["precision"], (itype, precision, wrong)


def test_all_cases_overall(capsys: pytest.CaptureFixture[str]) -> None:
    _, every, _ = scored()
    recall, precision = rates(_total(every))
    with capsys.disabled():  # the report: documented, all (adjusted), all (strict) and outside-docs views
        print("\npeer suites: recall (R) and precision (P) per type\n" + table())
    assert recall >= ALL_FLOOR["recall"]
    assert precision >= ALL_FLOOR["precision"]


def test_scoring_counts_alternatives_and_forbidden() -> None:
    case = {"expected": {"url": ["http://example.com/x"]}, "scored_types": ["url", "domain"],
            "alternatives": {"url": {"http://example.com/x": ["domain:example.com"]}},
            "forbidden": {"md5": ["a" * 32]}}
    r = score_case(case, {"domain": {"example.com"}, "md5": {"a" * 32}}, True)
    assert r["url"][:2] == [1, 1] and r["domain"][2:] == [1, 0] and r["md5"][3] == 1
