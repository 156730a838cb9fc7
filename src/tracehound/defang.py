"""Refang (advisory text -> machine values) and defang (values -> safe human display).

Advisories defang indicators in many styles; the extractor refangs the whole text first
and remembers which spans were defanged, because a defanged value is a strong signal that
the author meant it as an indicator (and a live link in a defanged document is a reference).
"""

from __future__ import annotations

import re

# Order matters: multi-character forms before their single-character parts, spaced forms
# (`example [.] com`, ` [dot] `) before the bare bracket forms.
_SCHEME_WORDS = r"(?:https?|s?ftps?|tcp|udp)"
_B = ("[", "(", "{", "<")
_RULE_SPECS: list[tuple[tuple[str, ...], str, str, int]] = [
    (("[",), r"\[\s*:\s*/\s*/\s*\]|\[:\]//|\[://\]", "://", re.I),
    (("xxp", "meow"), r"\b(h[xX]{2}p|hxxp|hXXp|meow)(s?)(?=(?:\[?:\]?|://|\[://\]))", r"http\2", re.I),
    (("xp",), r"\b(s?)f[xX]p(s?)(?=(?:\[?:\]?|://))", r"\1ftp\2", re.I),
    (("ftx",), r"\bftx(?=://)", "ftp", re.I),
    (("\\",), r"\b(https?|s?ftps?):\\\\{1,2}(?=[\w\[])", r"\1://", re.I),
    (("__",), r"\b(https?|s?ftps?)(?::__|__)(?=[\w\[])", r"\1://", re.I),
    (("[", "("), r"(?<=\w)[ \t]+(?:\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\))[ \t]+(?=\w)", ".", re.I),
    (_B, r"\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\}|<\s*(?:\.|dot)\s*>", ".", re.I),
    (("[", "]"), r"(?<=\w)\[\.(?=\w)|(?<=\w)\.\](?=\w)", ".", 0),
    # Repeated or mismatched brackets around a dot (`10.10.10.]]]10`, `a[.]b[.] c`, `com [.tld`).
    ((".]", ".)", ".}", "[.", "(.", "{.", "dot"),
     r"(?<=\w)[\[({]+[ \t]*(?:\.|dot\b)[ \t]*[\])}]*[ \t]*(?=\w)"
     r"|(?<=\w)[ \t]*[\[({]+[ \t]*(?:\.|dot\b)[ \t]*[\])}]+[ \t]*(?=\w)"
     r"|(?<=\w)[ \t]+[\[({]+\.(?=(?-i:[a-z0-9]))"
     r"|(?<=\w)(?:\.|dot\b)[\])}]+(?=\w)", ".", re.I),
    (("[", "(", "{"), r"(?<=\w)[ \t]*[\[({]+[ \t]*(?:@|at)[ \t]*[\])}]+[ \t]*(?=\w)", "@", re.I),
    # `user @ example.com`, `user@ example[.]com`: spaces around an @ between a name and a dotted host.
    ((" @", "@ ", "\t"), r"(?<=\w)(?:[ \t]+@[ \t]*|[ \t]*@[ \t]+)(?=[\w-]+\.\w)", "@", 0),
    (("[", "(", "{"), r"\[\s*(?:@|at)\s*\]|\(\s*(?:@|at)\s*\)|\{\s*(?:@|at)\s*\}", "@", re.I),
    (("[",), r"\[\s*:\s*\]", ":", 0),
    (("[", "("), r"\[\s*/\s*\]|\(\s*/\s*\)|(?<=\w)\[/(?=\w)", "/", 0),
    (("://",), rf"\b({_SCHEME_WORDS}://)[ \t]+(?=[\w\[])", r"\1", re.I),
    # `hxxp://example .com/test`: a space before a dot of a URL's host.
    (("://",), rf"(\b{_SCHEME_WORDS}://[\w-]+(?:\.[\w-]+)*)[ \t]+(?=\.[a-z]{{2,}}\b)", r"\1", re.I),
    # `http://[example.com`: a stray bracket opening a host name (a bracketed IPv6 host has no dot).
    (("://[",), r"(?<=://)\[(?=[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:[/:?#\s]|$))", "", re.I),
    # `hxxp://example[.]com /test/path`: a space between a URL's host and its path.
    (("://",), rf"(\b{_SCHEME_WORDS}://[^\s/]+\.[^\s/]+)[ \t]+(?=/\w)", r"\1", re.I),
]
# (substrings of which one must be present, pattern, replacement): a rule is skipped on lines
# that cannot match it, which keeps a 1 MB advisory fast.
_REFANG_RULES: list[tuple[tuple[str, ...], re.Pattern[str], str]] = [
    (needs, re.compile(rx, flags), repl) for needs, rx, repl, flags in _RULE_SPECS]
# A whitespace/quote-delimited token holding a `\.`, matched only from a token's start (linear on one long token).
_DOT_TOKEN = re.compile(r"(?<![^\s\"'`<>|])[^\s\"'`<>|]*?\\\.[^\s\"'`<>|]*")
_PATH_TOKEN = re.compile(r"[A-Za-z]:\\|%\w+%\\|HK[A-Za-z_]*:?\\|\\(?!\.)")
_BACKSLASH_DOT = re.compile(r"(?<=\w)\\\.(?=\w)")


def _path_token(token: str) -> bool:
    return _PATH_TOKEN.search(token) is not None


def _backslash_dots(text: str, hide: bool = False) -> str:
    """`\\.` is a defang (`evil-c2\\.com`) unless its token is a Windows path or registry key
    (`HKCU\\Software\\Classes\\.lnk`, `C:\\Users\\x\\.config`): one with a drive, a %VAR%, a hive root or
    another backslash that is a separator (not before a dot). hide=True: the path ones become `\\\0` (for
    is_defanged) and the others stay."""
    def one(m: re.Match[str]) -> str:
        token = m.group(0)
        if _path_token(token):
            return token.replace("\\.", "\\\0") if hide else token
        return token if hide else _BACKSLASH_DOT.sub(".", token)
    return _DOT_TOKEN.sub(one, text)


_DEFANG_MARK = re.compile(
    r"\[\s*(?:\.|dot|:|://|:\]//|@|at)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\}|\bh[xX]{2}ps?\b|\bs?f[xX]ps?\b"
    r"|\bftx://|(?<=\w)\[\.(?=\w)|(?<=\w)\\\.(?=\w)|\b(?:https?|ftp):?__(?=\w)|(?<=\w)[\[({]+\s*(?:\.|dot\b)"
    r"|(?<=\w)\s*(?:\.|dot\b)\s*[\])}]+(?=\w)",
    re.I,
)


# Every rule needs one of these: most lines of an advisory have none and are returned as they are.
_MAY_BE_DEFANGED = re.compile(r"[\[\](){}<\\@]|__|://|h[xX]{2}p|f[xX]p|ftx|meow", re.I)


def refang(text: str) -> str:
    """Return text with every common defanging style undone."""
    if not _MAY_BE_DEFANGED.search(text):
        return text
    low = text.lower()
    for needs, pattern, repl in _REFANG_RULES:
        if any(n in low for n in needs):
            text = pattern.sub(repl, text)
            low = text.lower()
    return _backslash_dots(text) if "\\." in text else text


def is_defanged(text: str) -> bool:
    """True when the text carries at least one defanging mark (a `\\.` in a Windows path is none)."""
    if _MAY_BE_DEFANGED.search(text) is None:
        return False
    return _DEFANG_MARK.search(_backslash_dots(text, hide=True) if "\\." in text else text) is not None


_SCHEME = re.compile(r"^(https?|ftp)://", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def defang(value: str) -> str:
    """Safe display form: dots in hosts bracketed, schemes broken, control characters removed."""
    value = strip_control(value)
    value = _SCHEME.sub(lambda m: {"http": "hxxp", "https": "hxxps", "ftp": "fxp"}[m.group(1).lower()] + "://", value)
    host_end = len(value)
    start = value.find("://") + 3 if "://" in value else 0
    for sep in "/?#":
        i = value.find(sep, start)
        if i != -1:
            host_end = min(host_end, i)
    host = value[start:host_end]
    if host.count(".") and host.rfind(".") != -1:
        last = host.rfind(".")
        host = host[:last] + "[.]" + host[last + 1 :]
    return value[:start] + host + value[host_end:]


def strip_control(text: str) -> str:
    """Remove terminal control and bidi override characters (log content never drives the terminal)."""
    return _CONTROL.sub("\ufffd", text)
