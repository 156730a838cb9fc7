"""The evaluator of the pySigma rule model: every value modifier and condition form of the specification."""

from __future__ import annotations

import base64

import pytest
from sigma.collection import SigmaCollection

from tracehound.matching.sigma.compile import Unsupported
from tracehound.matching.sigma.record import SigmaRecord
from tracehound.matching.sigma.ruleset import _predicate

HEAD = "title: t\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n"


def pred(detection: str):  # noqa: ANN201 - a predicate
    coll = SigmaCollection.from_yaml(HEAD + detection)
    return _predicate(coll.rules[0])


def hit(detection: str, **fields: object) -> bool:
    return pred(detection)(SigmaRecord(fields))


SEL = "    sel:\n        {}\n    condition: sel\n"


@pytest.mark.parametrize("det,value,expected", [
    ("Image: 'C:\\Windows\\cmd.exe'", "c:\\windows\\CMD.EXE", True),  # case-insensitive by default
    ("Image: 'C:\\Windows\\cmd.exe'", "c:\\windows\\cmd.exe2", False),
    ("Image|contains: 'Temp'", "C:\\temp\\x.exe", True),
    ("Image|startswith: 'C:\\Users'", "c:\\users\\a\\x.exe", True),
    ("Image|startswith: 'C:\\Users'", "d:\\c:\\users", False),
    ("Image|endswith: '\\x.exe'", "C:\\A\\X.EXE", True),
    ("Image: 'C:\\\\*\\x?.exe'", "C:\\dir\\sub\\x1.exe", True),  # '\\*' in YAML: a backslash, then a wildcard
    ("Image: 'C:\\\\*\\x?.exe'", "C:\\dir\\x12.exe", False),
    ("Image: 'C:\\*'", "C:anything", False),  # '\*' is an escaped (literal) star
    ("Image: 'C:\\*'", "C:*", True),
    ("Image|cased: 'Cmd.exe'", "cmd.exe", False),
    ("Image|cased: 'Cmd.exe'", "Cmd.exe", True),
    ("Image|re: '^C:\\\\W.*\\.exe$'", "C:\\Windows\\a.exe", True),
    ("Image|re: '^c:\\\\w.*'", "C:\\Windows\\a.exe", False),  # re is case-sensitive...
    ("Image|re|i: '^c:\\\\w.*'", "C:\\Windows\\a.exe", True),  # ...unless |i
    ("Image|re|s: 'a.b'", "a\nb", True),
    ("Image|re: 'a.b'", "a\nb", False),
    ("Image|re|m: '^b$'", "a\nb", True),
    ("Image|re: '^b$'", "a\nb", False),
])
def test_string_modifiers(det: str, value: str, expected: bool) -> None:
    assert hit(SEL.format(det), Image=value) is expected


def test_all_links_values_with_and_and_lists_with_or() -> None:
    d = SEL.format("CommandLine|contains|all:\n            - '--update'\n            - 'http'")
    assert hit(d, CommandLine="update.exe --update http://x")
    assert not hit(d, CommandLine="update.exe --update")
    d = SEL.format("CommandLine|contains:\n            - 'aaa'\n            - 'bbb'")
    assert hit(d, CommandLine="x bbb") and not hit(d, CommandLine="ccc")


def test_encodings() -> None:
    d = SEL.format("CommandLine|base64: 'IEX'")
    assert hit(d, CommandLine=base64.b64encode(b"IEX").decode()) and not hit(d, CommandLine="IEX")
    d = SEL.format("CommandLine|base64offset|contains: 'http://'")
    for prefix in (b"", b"a", b"ab"):
        enc = base64.b64encode(prefix + b"http://evil").decode()
        assert hit(d, CommandLine=f"powershell -enc {enc}"), prefix
    assert not hit(d, CommandLine=base64.b64encode(b"https://evil").decode())
    d = SEL.format("CommandLine|wide|base64offset|contains: 'ping'")
    assert hit(d, CommandLine="-e " + base64.b64encode("x ping".encode("utf-16le")).decode())
    d = SEL.format("CommandLine|utf16be|base64offset|contains: 'ping'")
    assert hit(d, CommandLine=base64.b64encode("  ping".encode("utf-16be")).decode())
    # pySigma 1.5.1 names UTF-16LE 'wide' (the specification's utf16le alias is not registered).


def test_windash() -> None:
    d = SEL.format("CommandLine|windash|contains: ' -f '")
    for dash in ("-", "/", "\u2013", "\u2014", "\u2015"):
        assert hit(d, CommandLine=f"x.exe {dash}f y"), dash
    assert not hit(d, CommandLine="x.exe +f y")


def test_cidr_numbers_and_comparisons() -> None:
    d = SEL.format("DestinationIp|cidr: '10.0.0.0/8'")
    assert hit(d, DestinationIp="10.2.3.4") and not hit(d, DestinationIp="11.0.0.1")
    assert not hit(d, DestinationIp="not-an-ip")
    d6 = SEL.format("DestinationIp|cidr: 'fe80::/10'")
    assert hit(d6, DestinationIp="fe80::1") and not hit(d6, DestinationIp="10.2.3.4")
    assert hit(SEL.format("EventID: 4688"), EventID=4688) and hit(SEL.format("EventID: 4688"), EventID="4688")
    assert not hit(SEL.format("EventID: 4688"), EventID=4689)
    for op, n, ok in (("lt", 5, True), ("lt", 4, False), ("lte", 4, True), ("gt", 3, True), ("gt", 4, False),
                      ("gte", 4, True), ("gte", 5, False)):
        assert hit(SEL.format(f"Count|{op}: {n}"), Count=4) is ok, (op, n)
    assert not hit(SEL.format("Count|gt: 3"), Count="many")


def test_exists_null_fieldref_bool() -> None:
    assert hit(SEL.format("Hashes|exists: true"), Hashes="")
    assert not hit(SEL.format("Hashes|exists: true"), Image="x")
    assert hit(SEL.format("Hashes|exists: false"), Image="x")
    assert hit(SEL.format("Hashes: null"), Image="x") and hit(SEL.format("Hashes: null"), Hashes=None)
    assert not hit(SEL.format("Hashes: null"), Hashes="x")
    assert hit(SEL.format("Image|fieldref: ParentImage"), Image="A.exe", ParentImage="a.exe")
    assert not hit(SEL.format("Image|fieldref: ParentImage"), Image="a.exe", ParentImage="b.exe")
    assert hit(SEL.format("Image|fieldref|startswith: Dir"), Image="c:\\dir\\a.exe", Dir="c:\\dir")
    assert hit(SEL.format("Image|fieldref|endswith: Name"), Image="c:\\dir\\a.exe", Name="a.exe")
    assert hit(SEL.format("Image|fieldref|contains: Name"), Image="c:\\dir\\a.exe", Name="dir")
    assert not hit(SEL.format("Image|fieldref: Missing"), Image="a")
    assert hit(SEL.format("Initiated: true"), Initiated=True) and hit(SEL.format("Initiated: true"), Initiated="true")
    assert not hit(SEL.format("Initiated: true"), Initiated=False)


def test_neq_and_timestamp_parts() -> None:
    d = SEL.format("Image|neq: 'a.exe'")
    assert hit(d, Image="b.exe") and not hit(d, Image="A.EXE")
    with pytest.raises(Unsupported, match="timestamp"):
        pred(SEL.format("UtcTime|hour: 3"))


def test_missing_field_and_lists_in_record() -> None:
    assert not hit(SEL.format("Image|contains: 'x'"), Other="x")
    assert hit(SEL.format("Names|endswith: '.dll'"), Names=["a.exe", "b.DLL"])
    assert not hit(SEL.format("Names|endswith: '.dll'"), Names=["a.exe"])


def test_keywords() -> None:
    d = "    keywords:\n        - 'mimikatz'\n        - 'sekurlsa::*'\n    condition: keywords\n"
    assert hit(d, CommandLine="run MimiKatz.exe")
    assert hit(d, Payload="x sekurlsa::logonpasswords")
    assert not hit(d, CommandLine="notepad")


def test_condition_forms() -> None:
    base = ("    sel_a:\n        A: '1'\n    sel_b:\n        B: '1'\n    filter:\n        C: '1'\n"
            "    condition: {}\n")
    cases = {
        "sel_a and not filter": [({"A": 1}, True), ({"A": 1, "C": 1}, False)],
        "1 of sel_*": [({"B": 1}, True), ({"C": 1}, False)],
        "any of sel_*": [({"B": 1}, True), ({}, False)],
        "all of sel_*": [({"A": 1, "B": 1}, True), ({"A": 1}, False)],
        "all of them": [({"A": 1, "B": 1, "C": 1}, True), ({"A": 1, "B": 1}, False)],
        "1 of them": [({"C": 1}, True), ({"D": 1}, False)],
        "(sel_a or sel_b) and not filter": [({"B": 1}, True), ({"B": 1, "C": 1}, False)],
        "sel_a or sel_b and filter": [({"A": 1}, True), ({"B": 1}, False), ({"B": 1, "C": 1}, True)],
        "not (sel_a or sel_b)": [({"C": 1}, True), ({"A": 1}, False)],
        "not 1 of sel_*": [({"C": 1}, True), ({"B": 1}, False)],
    }
    for cond, recs in cases.items():
        p = pred(base.format(cond))
        for fields, want in recs:
            assert p(SigmaRecord({k: str(v) for k, v in fields.items()})) is want, (cond, fields)


def test_multiple_fields_in_a_selection_and_list_of_maps() -> None:
    d = ("    sel:\n        - Image|endswith: '\\a.exe'\n          CommandLine|contains: 'x'\n"
         "        - Image|endswith: '\\b.exe'\n    condition: sel\n")
    assert hit(d, Image="c:\\a.exe", CommandLine="-x")
    assert not hit(d, Image="c:\\a.exe", CommandLine="-y")
    assert hit(d, Image="c:\\b.exe")


def test_placeholders_are_refused_not_guessed() -> None:
    with pytest.raises(Unsupported, match="placeholder"):
        pred(SEL.format("User|expand: '%admins%'"))


def test_literal_prefilter_requirements() -> None:
    from tracehound.matching.sigma.literals import LiteralIndex, rule_literals

    def lits(detection: str):  # noqa: ANN202
        return rule_literals(SigmaCollection.from_yaml(HEAD + detection).rules[0])

    assert lits(SEL.format("Image|endswith: '\\\\Temp\\\\evil.exe'")) == {"\\temp\\evil.exe"}
    assert lits(SEL.format("Image|re: 'evil'")) is None  # regexes: always evaluated
    assert lits("    sel:\n        Image: 'a'\n    f:\n        B: 'xyz'\n    condition: not f\n") is None
    two = "    a:\n        A|contains: 'alpha'\n    b:\n        B: 'betas'\n    condition: {}\n"
    assert lits(two.format("a or b")) == {"alpha", "betas"}
    assert lits(two.format("a and b")) in ({"alpha"}, {"betas"})
    assert lits(SEL.format("CommandLine|windash|contains: ' -enc '")) == {" -enc ", " /enc ", " \u2013enc ",
                                                                           " \u2014enc ", " \u2015enc "}
    idx = LiteralIndex([{"alpha"}, None, {"gamma", "delta"}])
    assert idx.scan("x alpha y") == {0} and idx.always == {1} and idx.scan("delta") == {2}
    assert idx.scan("nothing") == set()
