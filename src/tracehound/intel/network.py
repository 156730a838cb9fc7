"""Network indicator forms in refanged text: URLs, domains, IPv4/IPv6, CIDR, e-mail.

One job: find the candidate spans and say whether a host is a registrable domain. Which
candidates become indicators (references, file names, defanging) is decided by the caller.

Forms handled (each tested in tests/test_extract_classes.py):
- a value right after punctuation (`...185.220.101.4`, `.!@..1.1.1.1`), but not inside a
  longer dotted run (`1.1.1.1.a`, a 5-part version);
- URLs with any common scheme (http(s), ftp(s), sftp, tcp, udp, file, telnet, ws(s)...),
  bracketed IPv6 hosts (`https://[2001:db8::5]:8443/x`), bare `host:port/path` and
  `1.2.3.4:8080/gate.php`; a URL ends at whitespace, quotes, brackets, a backslash or a comma;
- detection names that end in a TLD (`Win32/Winnti.AG`, `Trojan.Win64.Agent.AB`) are not
  domains: a name whose labels are malware-naming words is left out.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

# TLDs that are also common file extensions: such a "domain" is only believed when defanged
# or written in a domain column (3CXDesktopApp.app, setup.zip, README.md).
FILE_EXTENSION_TLDS = frozenset(
    {"zip", "mov", "app", "py", "sh", "pl", "rs", "md", "ps", "so", "cc", "ai", "sc", "exe", "dll", "pm", "js", "cs", "rb"}
)

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4_CORE = rf"(?:{_OCTET}\.){{3}}{_OCTET}"
_URL_BODY = r"(?:[^\s<>\"'`\])}\\,]|,(?=\d))"
SCHEMES = r"(?:https?|s?ftps?|tcp|udp|file|telnet|ssh|smb|wss?|rdp|irc)"

URL_SCHEME = re.compile(
    rf"\b{SCHEMES}://(?:[^\s/@\[]*@)?\[[0-9a-f:.]+\](?::\d{{1,5}})?(?:[/?#]{_URL_BODY}*)?"
    rf"|\b{SCHEMES}://{_URL_BODY}+", re.I)
URL_BARE = re.compile(
    r"(?<![\w@./:-])((?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62})"
    rf"((?::\d{{1,5}})?/{_URL_BODY}*)", re.I)
# An IP with a port and/or a path (a path that starts with a digit would be a CIDR).
URL_BARE_IP = re.compile(
    rf"(?<![\w.:/-])({_IPV4_CORE})((?::\d{{1,5}}/|/(?=[A-Za-z_.~%-])){_URL_BODY}*)", re.I)
EMAIL = re.compile(
    r"(?<![\w.+])[\w+](?:[\w.+-]{0,62}[\w+])?(?:\([\w.+-]{1,64}\))?@(?:(?:[a-z0-9-]+\.)+[a-z]{2,63}\b|\[?" + _IPV4_CORE + r"\]?(?![\d.]))", re.I)
DOMAIN = re.compile(
    r"(?<![\w@.-])(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}(?![\w-]|\.[a-z0-9])", re.I)
# Not inside a longer dotted run: `1.1.1.1.a`, `.18.12.15.14` (a lone dot before it), a 5-part version;
# but after other punctuation it is a value (`...185.220.101.4`, `.!@..1.1.1.1`).
IPV4 = re.compile(rf"(?<![\d])(?<!\d\.)(?<!^\.)(?<![\s\w]\.){_IPV4_CORE}(?:/\d{{1,2}})?(?!\d|\.\w)")
IPV6 = re.compile(r"(?<![:\w])(?<!\w\.)(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?:/\d{1,3})?(?![:\w])", re.I)
VERSION = re.compile(r"(?<![\d.])\d+\.\d+(?:\.\d+){1,3}(?!\d|\.\d)")

# Detection and family names (`Win32/Winnti.AG`, `Backdoor.Win64.Agent.ab`): a dotted name
# with one of these labels, or written after a slash, is a detection name, not a host.
_DETECTION_LABELS = frozenset({
    "win32", "win64", "msil", "linux", "macos", "osx", "android", "trojan", "backdoor", "worm", "virus",
    "ransom", "exploit", "hacktool", "riskware", "adware", "pua", "pup", "trojandownloader", "trojandropper",
    "trojanspy", "dropper", "downloader", "generic", "heur", "agent", "malware", "rootkit", "spyware",
    "script", "js", "vbs", "html", "w32", "w64",
})
_DETECTION_BEFORE = re.compile(r"(?:[A-Za-z0-9]+/|[:!])$")


@lru_cache(maxsize=1)
def _tld_extractor():
    import tldextract

    # Bundled public suffix list snapshot only: an incident machine may have no network.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)


@lru_cache(maxsize=65536)
def registered_suffix(host: str) -> tuple[str, str]:
    """(registrable domain, public suffix) of host; empty strings when it has no known suffix."""
    ext = _tld_extractor()(host)
    if not ext.suffix or not ext.domain:
        return "", ""
    return f"{ext.domain}.{ext.suffix}", ext.suffix


def valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_detection_name(token: str, before: str) -> bool:
    """`Win32/Winnti.AG`, `Trojan.Win64.Agent.AB`: a malware detection name ending in a TLD."""
    labels = [x.lower() for x in token.split(".")]
    if any(x in _DETECTION_LABELS for x in labels[:-1]):
        return True
    parts = token.split(".")
    # `Winnti.AG`: a two-letter upper-case suffix after a capitalised name is a detection variant.
    shaped = len(parts) == 2 and len(parts[-1]) <= 2 and parts[-1].isupper() and parts[0][:1].isupper() \
        and any(c.islower() for c in parts[0])
    return shaped or (bool(_DETECTION_BEFORE.search(before)) and parts[-1].isupper())


_VERSION_WORD = re.compile(r"(?:versions?|v|build|release|rev)$", re.I)


def version_word_before(line: str, pos: int) -> bool:
    r"""Does 'version', 'v', 'build', 'release' or 'rev' (then optional ':' and spaces) end just before pos?
    Linear: the former `\b(?:...)\s*:?\s*$` searched the whole prefix for every address (quadratic)."""
    lo = max(0, pos - 64)  # the word, a colon and up to ~50 spaces
    p = line[lo:pos].rstrip()
    if p.endswith(":"):
        p = p[:-1].rstrip()
    tail = p[-9:]
    m = _VERSION_WORD.search(tail)
    if not m:
        return False
    start = lo + len(p) - len(tail) + m.start()
    return start == 0 or not (line[start - 1].isalnum() or line[start - 1] == "_")
