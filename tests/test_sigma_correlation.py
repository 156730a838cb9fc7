"""Sigma correlation rules over base-rule hits of real reader records (Squid lines)."""

from __future__ import annotations

from pathlib import Path

from tracehound.matching.sigma.engine import SigmaStats, sigma_text
from tracehound.matching.sigma.hunt import load_ruleset
from tracehound.sources.logs.readers.squid import SquidReader

BASE = """title: {title}
id: {id}
name: {name}
logsource:
    category: proxy
detection:
    sel:
        c-uri|contains: '{needle}'
    condition: sel
level: medium
"""
ICO = BASE.format(title="ico fetch", id="11111111-0000-4000-8000-000000000001", name="ico", needle=".ico")
PHP = BASE.format(title="php post", id="11111111-0000-4000-8000-000000000002", name="php", needle=".php")


def corr(kind: str, condition: str, rules: str = "ico", group: str = "c-ip", span: str = "10m",
         generate: bool = False) -> str:
    return (f"title: corr {kind}\nid: 11111111-0000-4000-8000-0000000000{len(kind):02d}\nlevel: high\n"
            f"correlation:\n    type: {kind}\n    rules:\n" + "".join(f"        - {r}\n" for r in rules.split(","))
            + f"    group-by:\n        - {group}\n    timespan: {span}\n" + condition
            + f"    generate: {'true' if generate else 'false'}\n")


def line(t: int, ip: str, url: str) -> str:
    return f"{1680000000 + t}.000 100 {ip} TCP_MISS/200 10 GET {url} - DIRECT/1.2.3.4 text/plain"


def run(tmp_path: Path, rules_text: list[str], lines: list[str]) -> tuple[list[dict], list[dict]]:
    for i, text in enumerate(rules_text):
        (tmp_path / f"r{i}.yml").write_text(text)
    log = tmp_path / "access.log"
    log.write_text("\n".join(lines) + "\n")
    rules = load_ruleset([str(p) for p in sorted(tmp_path.glob("r*.yml"))])
    assert not rules.failures, rules.failures
    base = list(sigma_text(str(log), "squid", SquidReader(), rules, SigmaStats()))
    return base, rules.correlator.finish()


LINES = [line(0, "10.0.0.1", "http://a.example/1.ico"), line(60, "10.0.0.1", "http://b.example/2.ico"),
         line(120, "10.0.0.1", "http://c.example/3.ico"), line(3000, "10.0.0.1", "http://d.example/4.ico"),
         line(10, "10.0.0.2", "http://a.example/1.ico"), line(20, "10.0.0.2", "http://a.example/x.php"),
         line(30, "10.0.0.3", "http://a.example/x.php"), line(40, "10.0.0.3", "http://a.example/5.ico")]


def test_event_count_by_group_within_timespan(tmp_path: Path) -> None:
    base, found = run(tmp_path, [ICO, corr("event_count", "    condition:\n        gte: 3\n")], LINES)
    assert base == []  # generate: false -> the base rule gives no finding of its own
    assert len(found) == 1
    f = found[0]
    assert f["tracehound"]["sigma"]["group"] == {"c-ip": "10.0.0.1"} and f["tracehound"]["sigma"]["value"] == 3
    assert f["tracehound"]["host"] == "10.0.0.1" and f["rule"]["name"] == "corr event_count"
    assert [e["line"] for e in f["tracehound"]["sigma"]["events"]] == [1, 2, 3]  # the 4th is 48 min later


def test_value_count_and_generate(tmp_path: Path) -> None:
    cond = "    condition:\n        gte: 2\n        field: cs-host\n"
    base, found = run(tmp_path, [ICO, corr("value_count", cond, generate=True)], LINES)
    assert len(base) == 6  # generate: true keeps the base findings (6 .ico fetches)
    assert [(f["tracehound"]["sigma"]["group"]["c-ip"], f["tracehound"]["sigma"]["value"]) for f in found] == [
        ("10.0.0.1", 3)]


def test_temporal_and_temporal_ordered(tmp_path: Path) -> None:
    base, found = run(tmp_path, [ICO, PHP, corr("temporal", "", rules="ico,php")], LINES)
    assert sorted(f["tracehound"]["sigma"]["group"]["c-ip"] for f in found) == ["10.0.0.2", "10.0.0.3"]
    for p in tmp_path.glob("r*.yml"):
        p.unlink()
    base, found = run(tmp_path, [ICO, PHP, corr("temporal_ordered", "", rules="ico,php")], LINES)
    # 10.0.0.2: ico then php (in order); 10.0.0.3: php then ico (not in order)
    assert [f["tracehound"]["sigma"]["group"]["c-ip"] for f in found] == ["10.0.0.2"]


def test_correlation_findings_in_the_hunt_output(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    import json

    from conftest import run_cli

    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ico.yml").write_text(ICO)
    (rules / "corr.yml").write_text(corr("event_count", "    condition:\n        gte: 3\n"))
    logs = []
    for i, chunk in enumerate((LINES[:2], LINES[2:])):  # the window spans two files
        p = tmp_path / f"access{i}.log"
        p.write_text("\n".join(chunk) + "\n")
        logs.append(str(p))
    out = tmp_path / "hits.jsonl"
    code, _o, err = run_cli(["hunt", "--sigma", str(rules), *logs, "-o", str(out), "--no-first-seen"], capsys)
    assert code == 1, err
    docs = [json.loads(x) for x in out.read_text().splitlines()]
    kinds = [d["tracehound"]["kind"] for d in docs]
    assert kinds.count("sigma-correlation") == 1 and "sigma" not in kinds
    assert "1 correlation rules run" in err
