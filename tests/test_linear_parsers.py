"""Every parser of untrusted text is linear in its input. Each pathological shape is measured at two sizes
(scaling.assert_linear: CPU time at 4n within 10x of n; a quadratic parser is 16x) before it is parsed at the
documented maximum size (a 1 MiB log line, `hunt --max-line`; a 1 MiB STIX pattern), whose results are
checked. Each input here took minutes to hours with the former backtracking regexes; no wall clock is
asserted (speed is measured in bench/)."""

from __future__ import annotations

import pytest

from scaling import assert_linear
from tracehound.intel.formats.stix import parse_pattern
from tracehound.intel.model import IType
from tracehound.sources.logs.observation import RecordError
from tracehound.sources.logs.readers import BY_NAME
from tracehound.sources.logs.readers.dns_text import BindReader
from tracehound.sources.logs.readers.syslog import CefReader
from tracehound.sources.logs.stream import DEFAULT_MAX_LINE

MAX = DEFAULT_MAX_LINE  # 1 MiB: longer lines are skipped before any reader sees them
N = 2048  # the smaller size of a linearity check (and 4 x N): a quadratic parser fails in seconds there


def linear(fn, *shapes, n: int = N):
    """Each shape (size -> input) costs linear CPU time in fn; then fn on each at the maximum size."""
    for k, shape in enumerate(shapes):
        assert_linear(fn, shape, n, what=f"shape #{k}")
    return [fn(shape(MAX)) for shape in shapes]


def test_stix_pattern_linear():
    got = linear(parse_pattern,
                 lambda n: f"[domain-name:value ={' ' * n}'evil.example.com'{' ' * n}]",  # 300 s at 10,000 spaces before
                 lambda n: f"[domain-name:value ={' ' * n}",  # no closing bracket
                 lambda n: f"[a:b ={' ' * n}x{' ' * n}",
                 lambda n: "[" + "a" * n + ":" + "b" * n + "=",
                 lambda n: f"[software:name = 'X' AND software:version IN ({' ' * n}'1.0'{' ' * n}){' ' * n}]",
                 lambda n: "[software:name = '" + "\\'" * (n // 2) + "]")
    assert got[0] == (IType.DOMAIN, "evil.example.com", {})
    assert got[1] is None and got[2] is None and got[3] is None and got[5] is None
    assert got[4] == (IType.SOFTWARE, "X", {"versions": ["1.0"]})


def test_stix_pattern_shapes_kept():
    assert parse_pattern("[file:hashes.'SHA-256' = 'ab']") == (IType.SHA256, "ab", {})
    assert parse_pattern("[ file:name MATCHES '^a\\\\.exe$' ]") == (IType.FILENAME_REGEX, "^a\\.exe$", {})
    assert parse_pattern("[ipv4-addr:value = '10.0.0.0/8']") == (IType.CIDR, "10.0.0.0/8", {})
    assert parse_pattern("[url:value = ]") is None
    # a raw line end in the value is kept for the canonical gate, which refuses it with its reason
    assert parse_pattern("[domain-name:value = 'a.com\nb.com']") == (IType.DOMAIN, "a.com\nb.com", {})


CEF_HEAD = "CEF:0|Vendor|Product|1.0|100|name|5|"


def test_cef_extension_linear():
    r = CefReader({})
    out = linear(r.parse,
                 lambda n: CEF_HEAD + " " * n + "src=10.0.0.1",  # 84 s at 40,000 spaces before
                 lambda n: CEF_HEAD + "msg=" + " " * n + "x dst=192.0.2.1",
                 lambda n: CEF_HEAD + "a=" * (n // 2),
                 lambda n: CEF_HEAD + "a= " * (n // 3),
                 lambda n: CEF_HEAD + "msg=" + "\\=" * (n // 2),
                 lambda n: CEF_HEAD + "k" * n + "=v")
    assert out[0][0].src_ip == "10.0.0.1"
    assert out[1][0].dst_ip == "192.0.2.1"


def test_cef_extension_values():
    r = CefReader({})
    obs = r.parse(CEF_HEAD + r"src=10.0.0.5 request=http://evil.example.com/a?q=1&b=2 msg=a \= b  dst=192.0.2.9 "
                  "shost=PC1")[0]
    assert (obs.src_ip, obs.dst_ip, obs.src_host, obs.domain) == ("10.0.0.5", "192.0.2.9", "PC1", "evil.example.com")
    assert obs.url.endswith("/a?q=1&b=2")


def test_bind_query_linear():
    r = BindReader({})
    q = "client @0x7f 10.0.0.7#5353 (a.example.com): query: a.example.com IN A +E(0) (10.0.0.1)"

    def parse(ln: str):
        try:
            return r.parse(ln)
        except RecordError:
            return None
    out = linear(parse, lambda n: " " * n + q, lambda n: "28-Mar-2023 10:00:00.000" + " " * n + q,
                 lambda n: "client " * (n // 7) + "query:", lambda n: "client @" + "x" * n + " query:",
                 lambda n: "28-Mar-2023 10:00:00.123 queries: info: " + q + " " * (n // 1000))
    assert out[0][0].src_ip == "10.0.0.7" and out[0][0].domain == "a.example.com"
    assert out[4][0].ts is not None and out[4][0].ts.year == 2023


UNITS = (" ", "a ", "a=", " a=b", "1.", "\\", "'", "|", ",", "\t", '"', "{", "[", "client ", "(1)", ": ", "#")


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_reader_linear(name):
    """Each reader on 1 MiB lines of repeated separators/quotes/keys (the shapes that make regexes backtrack)."""
    r = BY_NAME[name]({})

    def read_all(lines: list[str]) -> None:
        BY_NAME[name].sniff(lines[:3])
        for ln in lines:
            try:
                r.parse(ln)
            except (RecordError, ValueError):
                pass
    shaped = lambda size: [u * (size // len(u)) for u in UNITS]  # noqa: E731
    assert_linear(read_all, shaped, N, what=f"{name}: {len(UNITS)} lines")  # all the shapes at once
    read_all(shaped(MAX))


# ---- regexes from feeds: Loki file-name regexes run on Hyperscan -------------------------------------------

def _regex_pack(*patterns: tuple[str, dict]):
    from tracehound.intel.model import Indicator, Pack

    pack = Pack(name="feed")
    for pat, ctx in patterns:
        pack.add(Indicator(IType.FILENAME_REGEX, pat, ctx, 80))
    return pack


def test_feed_regex_exponential_pattern_is_linear():
    from tracehound.sweep.files import FileIndex

    index = FileIndex.build(_regex_pack(("(.+)+X", {}), ("(a|aa)+$", {}), ("(?i)\\\\temp\\\\[^\\\\]{1,20}\\.ps1", {})))
    assert not index.refused
    ordinary = "Users/" + "a" * 5000 + "/AppData/Local/Temp/" + "b" * 5000  # re: (.+)+X never returns on this
    assert index.regex_hits(ordinary) == []
    assert_linear(index.regex_hits, lambda n: "Users/" + "a" * n + "/AppData/Local/Temp/" + "b" * n, 1250)
    assert [i.value for i in index.regex_hits("Users/bob/X.txt")] == ["(.+)+X"]
    assert [i.value for i in index.regex_hits("tmp/baaaa")] == ["(a|aa)+$"]
    assert [i.value for i in index.regex_hits("Windows/TEMP/run.ps1")] == ["(?i)\\\\temp\\\\[^\\\\]{1,20}\\.ps1"]


def test_feed_regex_refused_is_reported():
    from tracehound.sweep.files import FileIndex

    index = FileIndex.build(_regex_pack(("(a)\\1", {}), ("(?<=x)y", {}), ("\\\\evil\\.exe", {"false_positive_regex": ["(?=z)"]}),
                                        ("\\\\good\\.exe", {})))
    reasons = {i.value: r for i, r in index.refused}
    assert set(reasons) == {"(a)\\1", "(?<=x)y", "\\\\evil\\.exe"}
    assert all(reasons.values()) and reasons["\\\\evil\\.exe"].startswith("false-positive regex")
    assert [i.value for i in index.regex_hits("C/good.exe")] == ["\\\\good\\.exe"]
    summary = index.refused_summary()
    assert len(summary) == 3 and all(k.startswith("file-name regex not run (") for k in summary)


def test_loki_filename_iocs_same_as_re(samples):
    """signature-base filename-iocs.txt (3,828 lines): all but the patterns Hyperscan cannot express compile,
    and on a path sample the hits equal Python re's (paths built from the regexes themselves, so many match)."""
    import re

    from tracehound.intel.formats import read_pack
    from tracehound.sweep.files import FileIndex

    pack = read_pack(str(samples / "loki-iocs" / "filename-iocs.txt"), None)
    inds = pack.of_type(IType.FILENAME_REGEX)
    index = FileIndex.build(pack)
    refused = {i.value: r for i, r in index.refused}
    assert len(inds) > 3600 and len(index.regexes) + len(refused) == len(inds)
    assert len(refused) <= 5, refused
    # the two refused ones hold an unescaped '$' inside the pattern, which cannot match in re either
    assert all("$" in i.value + "".join(i.ctx("false_positive_regex")) for i, _ in index.refused)
    # building grows with the patterns, not their square: a quarter of the file vs all of it
    assert_linear(FileIndex.build, lambda k: _regex_pack(*((i.value, i.context) for i in inds[:k])), len(inds) // 4,
                  what="FileIndex.build")

    def literal(rx: str) -> str:
        s = re.sub(r"\\(.)", r"\1", rx.replace("(?i)", ""))
        return re.sub(r"[\^$()\[\]{}*+?|]", "", s).lstrip("\\/").replace("\\", "/")

    paths = [literal(i.value) for i in inds[::30]] + [
        "Windows/System32/svchost.exe", "Windows/System32/wermgr.exe", "Users/bob/AppData/Roaming/x.js",
        "Users/bob/AppData/Local/Temp/procdump64.exe", "Program Files/3CXDesktopApp/ffmpeg.dll", "tmp/svchîst.exe"]
    compiled = [(re.compile(i.value), re.compile(i.ctx("false_positive_regex")[0]) if i.ctx("false_positive_regex")
                 else None, i) for i in inds if i.value not in refused]
    total = 0
    for p in paths:
        forms = ("/" + p, "\\" + p.replace("/", "\\"))
        want = {i.value for rx, fp, i in compiled
                if any(rx.search(f) for f in forms) and not (fp and any(fp.search(f) for f in forms))}
        assert {i.value for i in index.regex_hits(p)} == want, p
        total += len(want)
    assert total > 50  # the sample really exercises the regexes


# ---- advisories (attacker-controlled text, up to 64 MiB) ---------------------------------------------------

def _extract(tmp_path, text: str, suffix: str = ".txt"):
    from tracehound.intel.extract import ExtractOptions, extract_files

    f = tmp_path / f"advisory{suffix}"
    f.write_text(text)
    return extract_files([str(f)], ExtractOptions(max_bytes=1 << 26))


def _ips(k: int) -> list[str]:
    return [f"203.0.{i // 250}.{i % 250 + 1}" for i in range(k)]


def test_advisory_long_lines_linear(tmp_path):
    _extract(tmp_path, "warm-up 192.0.2.1\n")  # warninglists load once
    # one line of k addresses: 55 s for 2,000 before (quadratic); 150 vs 600 here
    assert_linear(lambda text: _extract(tmp_path, text), lambda k: "C2: " + " ".join(_ips(k)) + "\n", 150,
                  what="a line of IPs")
    result = _extract(tmp_path, "C2: " + " ".join(_ips(6000)) + "\n")
    got = {i.value for i in result.pack.indicators if i.type is IType.IPV4}
    assert got == set(_ips(6000))
    # long lines: the extractor runs ~20 case-insensitive searches per line (linear, ~2 s per MiB);
    # 'v' + 40,000 spaces took 3.7 s before (quadratic), so 256 KiB would take minutes
    for shape in (lambda n: "version" + " " * n + "1.2.3.4\n", lambda n: "v" + ":" * n + "\n"):
        assert_linear(lambda text: _extract(tmp_path, text), shape, 4 * N, what=shape(8)[:8])
        _extract(tmp_path, shape(MAX // 4))


def test_advisory_version_word_still_excludes(tmp_path):
    result = _extract(tmp_path, "Affected: version 18.12.407.1 and build: 1.2.3.4; C2 at 198.51.100.23\n")
    assert {i.value for i in result.pack.indicators if i.type is IType.IPV4} == {"198.51.100.23"}


def test_html_unclosed_script_tags_linear():
    from tracehound.intel.documents import _strip_tags

    shape = lambda n: "<p>c2 evil.example.com</p>" + "<script" * (n // 7) + "<style>x</style>"  # noqa: E731
    assert_linear(_strip_tags, shape, 4 * N)
    lines = _strip_tags(shape(MAX))
    assert "c2 evil.example.com" in lines


def test_feed_regexes_refused_without_a_linear_engine(monkeypatch):
    from tracehound.matching import safe_regex
    from tracehound.sweep.files import FileIndex

    monkeypatch.setattr(safe_regex, "_hyperscan", lambda: None)
    index = FileIndex.build(_regex_pack(("\\\\good\\.exe", {})))
    assert [r for _, r in index.refused] == [safe_regex.NO_ENGINE] and index.regex_hits("C/good.exe") == []
    assert list(index.refused_summary().values()) == [1]


def test_host_artefact_forms_linear():
    """Paths, keys and mutexes on lines built to backtrack (spaced components never closed, a key or a path every
    few characters, cues with no value): CPU time linear in the line's length (scaling.assert_linear)."""
    from tracehound.intel.artefact_forms import find_mutexes, find_paths_and_keys

    makers = [lambda n: "C:\\" + "Ab " * (n // 3), lambda n: "C:\\" + ("Ab " * 7 + "\\") * (n // 24),
              lambda n: "HKLM\\" + "a b " * (n // 4), lambda n: "HKLM\\x " * (n // 7),
              lambda n: "/Library/" + "A " * (n // 2), lambda n: "~/" * (n // 2), lambda n: "C:\\" + "<a>" * (n // 3),
              lambda n: "…\\" * (n // 2), lambda n: "mutex " * (n // 6), lambda n: "HKLM\\a\\b " + "value " * (n // 6),
              lambda n: "C:\\a" + " Ab" * (n // 3)]

    def forms(line: str) -> object:
        return find_paths_and_keys(line, line.lower()), find_mutexes(line, True)

    for k, make in enumerate(makers):
        assert_linear(forms, make, 4096, what=f"artefact shape #{k}")
    shapes = [make(MAX // 4) for make in makers]  # the full size still runs, and its result is checked below
    for line in shapes:
        forms(line)
    assert [f.value for f in find_paths_and_keys(shapes[3][:14], shapes[3][:14].lower())] == ["HKLM\\x", "HKLM\\x"]
