"""`hunt` expands the user's arguments once: names found on disk are never patterns, folders are
walked without following symlinks (counted and said), a literal path with glob characters works."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import run_cli
from logfixtures import squid
from tracehound.engines.inputs import expand_inputs

LINE = ("1680000000.123    120 10.0.0.{n} TCP_MISS/200 512 GET https://akamaicontainer.com/x - "
        "HIER_DIRECT/1.2.3.4 text/html\n")


def bundle(tmp_path: Path) -> tuple[Path, Path]:
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "secret.log").write_text(squid()[0])
    (outside / "deep" / "x.log").write_text(squid()[0])
    b = tmp_path / "bundle"
    b.mkdir()
    (b / "**").write_text(LINE.format(n=1))  # a file named '**': glob would pull in everything below, links too
    (b / "access[1].log").write_text(LINE.format(n=2))  # as a glob: matches 'access1.log' or nothing
    (b / "etc").symlink_to(outside, target_is_directory=True)
    (b / "link.log").symlink_to(outside / "secret.log")
    return b, outside


def hunted(out: Path) -> set[str]:
    return {json.loads(x)["log"]["file"]["path"] for x in out.read_text().splitlines()}


def test_names_on_disk_are_not_patterns(tmp_path: Path, capsys) -> None:
    b, outside = bundle(tmp_path)
    out = tmp_path / "hits.jsonl"
    code, _, err = run_cli(["hunt", str(b), "-o", str(out), "-j", "1", "--no-first-seen"], capsys)
    assert code == 1, err
    assert hunted(out) == {str(b / "**"), str(b / "access[1].log")}  # nothing from outside the bundle
    assert "not followed" in err and "2 symlink(s)" in err


def test_literal_path_with_glob_characters(tmp_path: Path, capsys) -> None:
    b, _ = bundle(tmp_path)
    out = tmp_path / "hits.jsonl"
    code, _, err = run_cli(["hunt", str(b / "access[1].log"), str(b / "**"), "-o", str(out), "-j", "1",
                            "--no-first-seen"], capsys)
    assert code == 1, err
    assert hunted(out) == {str(b / "**"), str(b / "access[1].log")}


def test_user_glob_does_not_cross_symlinks(tmp_path: Path) -> None:
    b, outside = bundle(tmp_path)
    got = expand_inputs([str(b) + "/**/*.log"])
    assert got.files == [str(b / "access[1].log")]
    assert str(b / "link.log") in got.symlinks and all(not f.startswith(str(outside)) for f in got.files)
    assert any(s.startswith(str(b / "etc")) for s in got.symlinks)


def test_explicit_symlink_is_followed(tmp_path: Path) -> None:
    b, outside = bundle(tmp_path)
    assert expand_inputs([str(b / "link.log")]).files == [str(b / "link.log")]
    walked = expand_inputs([str(b / "etc")])
    assert sorted(walked.files) == sorted([str(b / "etc" / "secret.log"), os.path.join(str(b / "etc"), "deep", "x.log")])


def test_engines_take_the_expanded_list_literally(tmp_path: Path) -> None:
    """What the local and the Spark engines do with the CLI's list (expand_paths(..., globs=False))."""
    from tracehound.engines.inputs import expand_paths

    b, _ = bundle(tmp_path)
    files = expand_inputs([str(b)]).files
    assert expand_paths(files, globs=False) == files == [str(b / "**"), str(b / "access[1].log")]
