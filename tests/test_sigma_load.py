"""Sigma rule loading: every rule loads or is reported once with its reason (real SigmaHQ rules first)."""

from __future__ import annotations

from pathlib import Path

from conftest import SAMPLES, need
from tracehound.matching.sigma.hunt import load_report, load_ruleset

RULE = """title: {title}
id: 0e1c2f0e-0000-4000-8000-00000000000{n}
status: test
logsource:
    product: windows
    category: process_creation
detection:
{detection}
level: high
"""


def test_3cx_rules_all_load_and_run() -> None:
    rules = load_ruleset([str(need(SAMPLES / "sigma"))])
    assert rules.files == 8
    assert len(rules.rules) == 8 and not rules.failures and not rules.not_run
    assert {r.level for r in rules.rules} <= {"high", "critical"}


def test_real_sigmahq_folder_loads_at_least_99_percent() -> None:
    folder = need(SAMPLES / "sigma-rules" / "rules" / "windows" / "registry")
    rules = load_ruleset([str(folder)])
    n_files = len(list(Path(folder).rglob("*.yml")))
    assert rules.files == n_files > 200
    # Every file accounted for: run, loaded-but-not-run, or reported with a reason.
    assert len(rules.rules) + len(rules.not_run) + len(rules.failures) == n_files
    assert len(rules.rules) >= 0.99 * n_files
    assert all(r.windows for r in rules.rules)


def test_hostile_and_unsupported_rules_are_each_reported_once(tmp_path: Path) -> None:
    good = RULE.format(title="ok", n=1, detection="    sel:\n        Image|endswith: '\\\\a.exe'\n    condition: sel")
    (tmp_path / "good.yml").write_text(good)
    (tmp_path / "bad_yaml.yml").write_text("title: [unclosed\n")
    (tmp_path / "bad_modifier.yml").write_text(RULE.format(
        title="badmod", n=2, detection="    sel:\n        Image|nosuchmodifier: x\n    condition: sel"))
    (tmp_path / "placeholder.yml").write_text(RULE.format(
        title="ph", n=3, detection="    sel:\n        Image|expand: '%admins%'\n    condition: sel"))
    (tmp_path / "bad_condition.yml").write_text(RULE.format(
        title="cond", n=4, detection="    sel:\n        Image: x\n    condition: sel and missing"))
    (tmp_path / "latin1.yml").write_bytes("title: caf\xe9\n".encode("latin-1"))
    orphan = ("title: orphan\nid: 0e1c2f0e-0000-4000-8000-00000000000a\ncorrelation:\n    type: event_count\n"
              "    rules:\n        - 0e1c2f0e-0000-4000-8000-0000000000ff\n    timespan: 1h\n"
              "    condition:\n        gte: 5\n")
    corr = ("title: corr\nid: 0e1c2f0e-0000-4000-8000-000000000009\ncorrelation:\n    type: event_count\n"
            "    rules:\n        - 0e1c2f0e-0000-4000-8000-000000000001\n    group-by:\n        - Computer\n"
            "    timespan: 1h\n    condition:\n        gte: 5\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "corr.yml").write_text(corr)
    (tmp_path / "notes.txt").write_text("not a rule")
    (tmp_path / "orphan.yml").write_text(orphan)
    rules = load_ruleset([str(tmp_path)])
    assert rules.files == 8 and [r.title for r in rules.rules] == ["ok"]
    assert [c.rule.title for c in rules.correlator.correlations] == ["corr"]  # names good.yml: resolved across files
    by_file = {Path(f.path).name: f for f in rules.failures}
    assert set(by_file) == {"bad_yaml.yml", "bad_modifier.yml", "placeholder.yml", "bad_condition.yml",
                            "latin1.yml", "orphan.yml"}
    assert "nosuchmodifier" in by_file["bad_modifier.yml"].reason
    assert "placeholder" in by_file["placeholder.yml"].reason
    assert "missing" in by_file["bad_condition.yml"].reason
    assert by_file["latin1.yml"].kind == "unreadable file"
    assert "0e1c2f0e-0000-4000-8000-0000000000ff" in by_file["orphan.yml"].reason
    text = "\n".join(load_report(rules))
    assert "1/" in text.splitlines()[0] and "6 not loaded" in text
    for name in by_file:
        assert text.count(name) == 1


def test_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    """Refused without expanding: a bomb 100x larger (two more levels of 10 aliases) costs about the same CPU
    time (scaling.cpu_per_call), where expanding it would cost 100x. No wall clock."""
    from scaling import FLOOR, cpu_per_call

    def bomb(folder: Path, depth: int) -> Path:
        folder.mkdir()
        lines = ["title: bomb", "logsource:", "    product: windows", "detection:",
                 '    a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
        lines += [f"    a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, depth + 1)]
        lines += ["    sel:", f"        Image: *a{depth}", "    condition: sel"]
        (folder / "bomb.yml").write_text("\n".join(lines) + "\n")
        return folder

    small, large = bomb(tmp_path / "d6", 6), bomb(tmp_path / "d8", 8)
    (large / "cycle.yml").write_text("title: c\nlogsource:\n    product: windows\ndetection:\n"
                                     "    sel: &s\n        Image: [*s]\n    condition: sel\n")
    load_ruleset([str(small)])  # warm-up
    cost6 = cpu_per_call(lambda d: load_ruleset([str(d)]), small)
    cost8 = cpu_per_call(lambda d: load_ruleset([str(d)]), large)
    assert cost8 <= 5 * max(cost6, FLOOR), (cost6, cost8)  # a cycle file more, and 2 lines: not 100x
    rules = load_ruleset([str(large)])
    reasons = {Path(f.path).name: f.reason for f in rules.failures}
    assert "expand to 2,345,679,033 nodes" in reasons["bomb.yml"] and "cycle.yml" in reasons
    assert not rules.rules
