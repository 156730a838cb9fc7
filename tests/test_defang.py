import pytest

from tracehound.defang import defang, is_defanged, refang, strip_control


@pytest.mark.parametrize("raw,expected", [
    ("akamaicontainer[.]com", "akamaicontainer.com"),
    ("akamaicontainer(.)com", "akamaicontainer.com"),
    ("akamaicontainer{.}com", "akamaicontainer.com"),
    ("akamaicontainer[dot]com", "akamaicontainer.com"),
    ("akamaicontainer[DOT]com", "akamaicontainer.com"),
    ("162[.]0.229.159", "162.0.229.159"),
    ("hxxps://evil[.]com/a", "https://evil.com/a"),
    ("hXXp://evil[.]com/a", "http://evil.com/a"),
    ("https[:]//evil.com/a", "https://evil.com/a"),
    ("https[://]evil.com/a", "https://evil.com/a"),
    ("hxxps[:]//evil[.]com", "https://evil.com"),
    ("fxp://files[.]evil.com/x", "ftp://files.evil.com/x"),
    ("bad[at]evil[.]com", "bad@evil.com"),
    ("bad(at)evil(.)com", "bad@evil.com"),
    ("bad[@]evil[.]com", "bad@evil.com"),
])
def test_refang_styles(raw: str, expected: str) -> None:
    assert refang(raw) == expected
    assert is_defanged(raw)


def test_plain_text_untouched() -> None:
    text = "Les versions 18.12.407 et 18.12.416 (voir [1]) sont concernées."
    assert refang(text) == text
    assert not is_defanged("akamaicontainer.com")


def test_defang_display() -> None:
    assert defang("https://akamaicontainer.com/x.y") == "hxxps://akamaicontainer[.]com/x.y"
    assert defang("162.0.229.159") == "162.0.229[.]159"
    assert defang("github.com/IconStorages/images") == "github[.]com/IconStorages/images"


def test_strip_control_removes_terminal_escapes() -> None:
    assert "\x1b" not in strip_control("evil\x1b[31mred\x1b]0;title\x07")
    assert "\u202e" not in strip_control("abc\u202etxt.exe")


@pytest.mark.parametrize("raw,expected", [
    ("evil-c2\\.com", "evil-c2.com"),
    ("example [.] com", "example.com"),
    ("hxxp://example[.com/x", "http://example.com/x"),
    ("10.10.10.]]]10", "10.10.10.10"),
    ("10(((.]]]]10([[.)10.)10", "10.10.10.10"),
    ("sfXp://a[.]com/x", "sftp://a.com/x"),
    ("fXps://a[.]com", "ftps://a.com"),
    ("ftx://a[.]com/x", "ftp://a.com/x"),
    ("http__example[.]com/test", "http://example.com/test"),
    ("https:__example[.]com/test", "https://example.com/test"),
    ("hXXps:// 192.168.149[.]100/api", "https://192.168.149.100/api"),
    ("hxxp://example[.]com /test/path", "http://example.com/test/path"),
    ("hxxp://example .com/test", "http://example.com/test"),
    ("myuser @ example[.]com", "myuser@example.com"),
    ("myuser { at ) example[.]com", "myuser@example.com"),
    ("http://example(.)com(/)test", "http://example.com/test"),
])
def test_refang_more_styles(raw: str, expected: str) -> None:
    assert refang(raw) == expected
    assert is_defanged(raw) or "://" in raw or "@" in raw


@pytest.mark.parametrize("text", [
    "written in C# (.NET) today", "the framework (.NET) is", "(see foo.) Then", "hosted at example.com",
    "Hello (world). Next", "a [1] reference", "x__init__.py", "C:\\Windows\\System32\\a.dll",
])
def test_prose_that_looks_defanged_is_untouched(text: str) -> None:
    assert refang(text) == text
