"""YARA and Sigma rules pasted in advisories: extracted exactly, validated, kept with their error, and no
bogus indicators from their text (issue 13 item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracehound.intel.extract import ExtractOptions, extract_files, extract_text
from tracehound.intel.formats.native import dumps, loads
from tracehound.intel.model import IType, Pack, Rule
from tracehound.intel.rule_check import valid_rules, validate
from tracehound.intel.rules import Block, find_rules, rule_end, yara_in

ADV = Path(__file__).parent / "data" / "advisories"


def _pack(name: str) -> Pack:
    return extract_files([str(ADV / name)], ExtractOptions()).pack


def _lines(name: str, first: int, last: int) -> str:
    return "\n".join((ADV / name).read_text().split("\n")[first - 1:last])


def test_markdown_fenced_yara_and_sigma_exact() -> None:
    p = _pack("acme-smoothoperator.md")
    got = [(r.kind, r.name, r.line) for r in p.rules]
    assert got == [("yara", "ACME_SmoothOperator_Loader", 14), ("yara", "ACME_Helper", 27), ("yara", "ACME_Signed", 28),
                   ("yara", "ACME_Broken", 51), ("sigma", "ACME SmoothOperator loader started", 34)]
    by = {r.name: r for r in p.rules}
    md = "acme-smoothoperator.md"
    assert by["ACME_SmoothOperator_Loader"].text == _lines(md, 14, 25)  # braces in strings, regex, comment, hex
    assert by["ACME_Helper"].text == _lines(md, 27, 27)
    assert by["ACME SmoothOperator loader started"].text == _lines(md, 34, 45)
    assert [r.name for r in p.rules if not r.error] == ["ACME_SmoothOperator_Loader", "ACME_Helper", "ACME_Signed",
                                                         "ACME SmoothOperator loader started"]
    # The broken rule is kept as published, with its error at the line inside the rule.
    assert by["ACME_Broken"].text == _lines(md, 51, 56)
    assert by["ACME_Broken"].error.startswith("acme-smoothoperator.md:56: error[E001]: syntax error")


def test_rule_text_gives_no_bogus_indicators() -> None:
    p = _pack("acme-smoothoperator.md")
    assert sorted((i.type.value, i.value) for i in p.indicators) == [
        ("domain", "evil-c2.example.com"), ("sha256", "aa11bb22cc33dd44ee55ff6677889900aa11bb22cc33dd44ee55ff6677889900")]
    h = p.get(IType.SHA256, "aa11bb22cc33dd44ee55ff6677889900aa11bb22cc33dd44ee55ff6677889900")
    assert h is not None and h.context == {"source": "yara-meta", "yara_rule": "ACME_SmoothOperator_Loader"}
    assert h.sources[0].lines == [17]
    # Neither an indicator nor a left-out value: the Sigma value and the YARA string are rule text.
    assert not [e for e in p.excluded if "update-check" in e.value or "cmd.exe" in e.value]
    prose = _pack("acme-prose.txt")
    assert sorted((i.type.value, i.value) for i in prose.indicators) == [("ipv4", "203.0.113.77")]
    assert not prose.excluded


def test_html_pre_and_code_blocks() -> None:
    p = _pack("acme-html.html")
    assert [(r.kind, r.name, r.line, r.error) for r in p.rules] == [
        ("yara", "Brace_Implant", 7, ""), ("sigma", "Brace implant DNS lookup", 18, "")]
    assert p.rules[0].text == ('rule Brace_Implant\n{\n    strings:\n        $a = "<brace>" ascii\n'
                               '        $b = "stage2.brace-drop.com" ascii\n    condition:\n        $a and $b\n}')
    assert p.rules[1].text.startswith("title: Brace implant DNS lookup\nid: 8d0e4c8a")
    assert p.rules[1].text.endswith("    condition: selection\nlevel: medium")
    assert [i.value for i in p.indicators] == ["c2.brace-op.net"]
    assert not [e for e in p.excluded if "brace-drop" in e.value or "brace-dns" in e.value]


def test_plain_text_rule_in_prose_and_unfenced_multi_document_sigma() -> None:
    p = _pack("acme-prose.txt")
    assert [(r.kind, r.name, r.line, r.error) for r in p.rules] == [
        ("yara", "Lynx_Dropper", 5, ""), ("sigma", "Quiet Lynx dropper launched", 7, ""),
        ("sigma", "Quiet Lynx service installed", 18, "")]
    assert p.rules[0].text == 'rule Lynx_Dropper { strings: $a = "lynx-drop.org/get" condition: $a }'
    assert p.rules[1].text == _lines("acme-prose.txt", 7, 16)  # up to the `---`, not the prose after
    assert p.rules[2].text == _lines("acme-prose.txt", 18, 28)


def _pdf(pages: list[list[str]]) -> bytes:
    """A minimal PDF, one text line per input line, one page per list."""
    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    n = len(pages)
    objs = ["<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [{' '.join(f'{3 + 2 * k} 0 R' for k in range(n))}] /Count {n} >>"]
    font = 3 + 2 * n
    for k, lines in enumerate(pages):
        stream = "BT /F1 11 Tf 14 TL 50 780 Td " + " ".join(f"({esc(x)}) Tj T*" for x in lines) + " ET"
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents {4 + 2 * k} 0 R "
                    f"/Resources << /Font << /F1 {font} 0 R >> >> >>")
        objs.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    objs.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = b"%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{o}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def test_pdf_rule_across_a_page_break_loses_the_running_header_and_footer(tmp_path: Path) -> None:
    head = "ACME Intel Report | TLP:CLEAR"
    f = tmp_path / "report.pdf"
    f.write_bytes(_pdf([
        [head, "Detection", "rule PDF_Split_Rule {", "strings:", '$a = "pdf split marker"', "Page 1 of 3"],
        [head, "condition:", "$a", "}", "Page 2 of 3"],
        [head, "End of the report", "Page 3 of 3"]]))
    p = extract_files([str(f)], ExtractOptions()).pack
    [r] = p.rules
    assert r.name == "PDF_Split_Rule" and r.error == "" and r.line == 3
    assert r.text == 'rule PDF_Split_Rule {\nstrings:\n$a = "pdf split marker"\ncondition:\n$a\n}'


@pytest.mark.parametrize("text,end", [
    ('rule a { strings: $s = "}" condition: $s }', 42),
    ("rule a { strings: $r = /a\\/}/ condition: $r }", 45),
    ("rule a { strings: $h = { 4D 5A } condition: $h } tail", 48),
    ("rule a { /* } */ condition: true // }\n}", 39),
    ("rule a { condition: true", -1),
])
def test_brace_matching(text: str, end: int) -> None:
    start = text.index("{") + 1
    assert rule_end(text, start, len(text)) == end


def test_private_global_and_several_rules_in_one_block() -> None:
    src = ('global rule G { condition: filesize < 10MB }\nprivate rule P { condition: true }\n'
           'rule Uses { condition: P }\nrule Module { condition: math.entropy(0, filesize) > 7 }\n')
    got = yara_in(Block(src, 1))
    assert [(n, t.split(" {")[0]) for n, t, _, _ in got] == [
        ("G", "global rule G"), ("P", "private rule P"), ("Uses", "rule Uses"), ("Module", "rule Module")]
    found = [f.rule for f in find_rules("text", src, "x.txt")]
    validate(found)
    assert [r.error for r in found] == ["", "", "", ""]  # Uses needs P; Module needs `import "math"`
    # Naming a rule nobody published is an error at the rule's line.
    lone = [Rule("yara", "Lone", "rule Lone {\n condition: Missing\n}", "adv.md", 40)]
    validate(lone)
    assert lone[0].error.startswith("adv.md:41: error[E009]: unknown identifier `Missing`")


def test_hostile_rules_are_kept_with_an_error() -> None:
    rules = [Rule("yara", "Slow", 'rule Slow { strings: $a = /(a+)+b/ condition: $a }', "h.md", 3),
             Rule("yara", "Inc", 'include "/etc/passwd"\nrule Inc { condition: true }', "h.md", 9),
             Rule("sigma", "Bad", "title: Bad\nlogsource:\n  product: windows\ndetection:\n  sel:\n"
                  "    Image: x\n  condition: sel and nothing\n", "h.md", 20)]
    validate(rules)
    assert "slow pattern" in rules[0].error and rules[0].error.startswith("h.md:3:")
    assert "include statements not allowed" in rules[1].error
    assert rules[2].error.startswith("h.md:20: ")
    # A pack file edited to clear an error does not make the rule run: validity is checked again on use.
    pack = Pack("edited", rules=[Rule(r.kind, r.name, r.text, r.document, r.line) for r in rules])
    assert valid_rules(pack, "yara") == ([], pack.rules[:2])
    assert valid_rules(pack, "sigma")[0] == []


def test_rules_round_trip_in_the_native_pack() -> None:
    p = _pack("acme-smoothoperator.md")
    back = loads(dumps(p), "x.json")
    assert [(r.kind, r.name, r.text, r.document, r.line, r.error) for r in back.rules] == \
        [(r.kind, r.name, r.text, r.document, r.line, r.error) for r in p.rules]


def test_no_rules_no_change() -> None:
    text = "C2 at bad-domain-c2.net\nThe rule of thumb: update.\ntitle: not yaml at all\n"
    p = extract_text(text, "plain.txt")
    assert p.rules == [] and [i.value for i in p.indicators] == ["bad-domain-c2.net"]


def test_sigma_regex_that_backtracks_is_not_run_from_an_advisory() -> None:
    """Sigma `|re` runs on Python's backtracking `re`: a pack rule with `(a+)+$` could stall a hunt on one
    record; it is kept with the reason (a --sigma file the analyst chose still runs it)."""
    text = ("title: Backtracker\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  sel:\n"
            "    CommandLine|re: '(a+)+$'\n  condition: sel\nlevel: high\n")
    fine = text.replace("(a+)+$", "\\\\[a-z]{1,8}\\.exe$").replace("Backtracker", "Fine")
    rules = [Rule("sigma", "Backtracker", text, "h.md", 5), Rule("sigma", "Fine", fine, "h.md", 30)]
    validate(rules)
    assert rules[0].error == ("h.md:5: regular expression '(a+)+$' repeats a repeat (exponential backtracking): "
                              "not run from an advisory (put it in a --sigma file)")
    assert rules[1].error == ""


def test_a_rule_cut_short_is_said_not_dropped() -> None:
    text = "Detection:\n\nrule Cut_Short {\n  strings:\n    $a = \"x\"\n  condition:\n    $a\n\n(end of page)\n"
    p = extract_text(text, "cut.txt")
    assert p.rules == []
    assert [(e.value, e.type, e.line, e.reason.split(" (")[0]) for e in p.excluded] == [
        ("Cut_Short", "yara-rule", 3, "a YARA rule head whose closing brace was not found")]


def test_hostile_rule_heads_stay_linear() -> None:
    """CPU time at 4x the repetitions within 10x (scaling.py); then the full-size input, whose result is checked."""
    from scaling import assert_linear

    for shape in (lambda k: "rule a { condition: " * k, lambda k: "rule a {\n" * k,
                  lambda k: 'rule a { $a = "' + "x" * (10 * k)):
        assert_linear(lambda text: find_rules("text", text, "h.txt", []), shape, 2_500, what=shape(1))
        cut: list[tuple[str, int, str]] = []
        assert find_rules("text", shape(100_000), "h.txt", cut) == []
        assert cut  # what was not taken is said
    # Heads that are not rules at all (a `(?:private\s+)*rule` prefix took minutes on the first one).
    for shape in (lambda k: "private " * k + "x", lambda k: "rule a " + " " * (2 * k), lambda k: "rule a : " + "x \n" * k,
                  lambda k: "rule " * k):
        assert_linear(lambda text: find_rules("text", text, "h.txt"), shape, 2_500, what=shape(1))
        assert find_rules("text", shape(100_000), "h.txt") == []


def test_modifiers_and_tags_over_lines() -> None:
    src = "x\nprivate  global\nrule G : t1\n t2 { condition: true }\nxprivate rule Q { condition: true }\n"
    assert [(n, t, line) for n, t, line, _ in yara_in(Block(src, 1))] == [
        ("G", "private  global\nrule G : t1\n t2 { condition: true }", 1), ("Q", "rule Q { condition: true }", 4)]


def test_the_rest_of_a_sentence_holding_a_rule_is_still_read() -> None:
    text = ('Block 198.51.100[.]23 and scan with rule Lynx_Two { strings: $a = "lynx-two.org" condition: $a } today.\n'
            "\nMore C2: lynx-c2-relay[.]net\n")
    p = extract_text(text, "s.txt")
    assert [r.text for r in p.rules] == ['rule Lynx_Two { strings: $a = "lynx-two.org" condition: $a }']
    assert sorted(i.value for i in p.indicators) == ["198.51.100.23", "lynx-c2-relay.net"]
    html = ("<html><body><pre>C2 host 198.51.100.24\nrule Pre_Mixed { strings: $a = \"pre-mixed.org\" condition: $a }"
            "</pre></body></html>")
    h = extract_text(html, "m.html", ".html")
    assert [r.name for r in h.rules] == ["Pre_Mixed"] and h.rules[0].line == 2
    assert [i.value for i in h.indicators] == ["198.51.100.24"]


def test_a_flood_of_rules_is_capped_and_said(monkeypatch: pytest.MonkeyPatch) -> None:
    from tracehound.intel import rules as rules_mod

    monkeypatch.setattr(rules_mod, "MAX_RULES", 3)
    text = "".join(f"rule Flood_{i} {{ condition: true }}\n" for i in range(5))
    p = extract_text(text, "flood.txt")
    assert [r.name for r in p.rules] == ["Flood_0", "Flood_1", "Flood_2"]
    assert [(e.value, e.type, e.line) for e in p.excluded] == [("Flood_3", "yara-rule", 4), ("Flood_4", "yara-rule", 5)]
    assert all("more than 3 detection rules" in e.reason for e in p.excluded)


def test_commented_out_rules_and_braces_in_hex_comments() -> None:
    src = ("/*\nrule Old { condition: Gone }\n*/\n// rule Older { condition: true }\n"
           "See https://x.example/a rule Live { strings: $h = {\n  5f  // pop edi {__saved_edi}\n  c3 /* } */\n}"
           " condition: $h }\n")
    got = [(n, t) for n, t, _, _ in yara_in(Block(src, 1))]
    assert got == [("Live", "rule Live { strings: $h = {\n  5f  // pop edi {__saved_edi}\n  c3 /* } */\n} condition: $h }")]


def test_signature_base_rules_pasted_in_an_advisory() -> None:
    """Real rules (../shared/samples/yara*: signature-base): each file pasted in a fenced block gives
    exactly the rules yara-x compiles from the file, each valid. The whole repository (737 files):
    5,849 of 5,849 rules, all valid (measured once; here the campaign files and two hard cases)."""
    import yara_x

    from conftest import SAMPLES, need
    from tracehound.sweep.yara_rules import EXTERNALS

    files = sorted(need(SAMPLES / "yara").glob("*.yar"))
    full = SAMPLES / "yara-full" / "yara"
    files += [f for f in (full / "apt_ta397_dec24.yar", full / "apt_triton_mal_sshdoor.yar") if f.exists()]
    for f in files:
        src = f.read_text(errors="replace")
        c = yara_x.Compiler()
        for k, v in EXTERNALS.items():
            c.define_global(k, v)
        c.add_source(src)
        names = sorted(r.identifier for r in c.build())
        adv = f"# Advisory\n\nRules:\n\n```yara\n{src}\n```\n"
        found = [x.rule for x in find_rules("markdown", adv, f.name)]
        validate(found)
        public = sorted(r.name for r in found if not r.text.lstrip().startswith("private"))
        assert public == names, f.name
        assert all(r.text in adv and not r.error for r in found), f.name
