"""`intel show`: every indicator shown to people is defanged, in free text too (remediation sentences,
reasons, rule errors); `--json` carries the pack's rules (name, kind, origin, compiles, error)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli

RULE_OK = 'rule evil_loader { strings: $a = "evil-c2.example" condition: $a }'
RULE_BAD = "rule broken { condition: nosuch }"


def _pack(tmp_path: Path) -> Path:
    f = tmp_path / "adv.json"
    f.write_text(json.dumps({
        "format": "tracehound-pack", "version": 1, "name": "adv",
        "indicators": [{"type": "domain", "value": "evil-c2.example"},
                       {"type": "url", "value": "http://*.com/gate"}],  # refused on reading: wildcard host
        "remediation": [{"action": "block-c2-domains",
                         "text": "Block evil-c2.example, https://cdn.evil-c2.example/gate.php?id=1, 203.0.113.9 and "
                                 "mail from ops@evil-c2.example; remove setup.exe and README.md.",
                         "document": "adv.txt", "line": 7}],
        "excluded": [{"value": "github.com", "type": "domain", "document": "adv.txt", "line": 9,
                      "reason": "legitimate service used as hosting; kept only as the URL github.com/IconStorages/images"},
                     {"value": "x", "type": "url", "document": "adv.txt", "line": 12,
                      "reason": "rejected: same host as http://stage.evil-c2.example/x (198.51.100.4)"}],
        "rules": [{"kind": "yara", "name": "evil_loader", "text": RULE_OK, "document": "adv.txt", "line": 20},
                  {"kind": "yara", "name": "broken", "text": RULE_BAD, "document": "misp-event.json", "line": 0,
                   "error": "adv.txt:30: unknown identifier `nosuch` near beacon.evil-c2.example"}],
    }))
    return f


def test_show_defangs_remediation_reasons_and_rule_errors(tmp_path: Path, capsys) -> None:
    code, out, _ = run_cli(["intel", "show", "--intel", str(_pack(tmp_path))], capsys)
    flat = " ".join(out.replace("│", " ").split())
    assert code == 0, out
    for raw in ("evil-c2.example", "203.0.113.9", "https://", "github.com/IconStorages", "http://stage",
                "198.51.100.4", "ops@"):
        assert raw not in flat, raw
    assert ("Block evil-c2[.]example, hxxps://cdn.evil-c2[.]example/gate.php?id=1, 203.0.113[.]9 and mail from "
            "ops[@]evil-c2[.]example; remove setup.exe and README.md.") in flat  # file names are not hosts
    assert "kept only as the URL github[.]com/IconStorages/images" in flat
    assert "same host as hxxp://stage.evil-c2[.]example/x (198.51.100[.]4)" in flat
    assert "near beacon.evil-c2[.]example" in flat


def test_show_json_lists_the_pack_rules(tmp_path: Path, capsys) -> None:
    code, out, _ = run_cli(["intel", "show", "--intel", str(_pack(tmp_path)), "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and [i["value"] for i in data["indicators"]] == ["evil-c2.example"]  # machine form: raw
    assert data["rules"] == [
        {"name": "evil_loader", "kind": "yara", "origin": {"document": "adv.txt", "line": 20}, "compiles": True,
         "error": ""},
        {"name": "broken", "kind": "yara", "origin": {"document": "misp-event.json", "line": 0}, "compiles": False,
         "error": "adv.txt:30: unknown identifier `nosuch` near beacon.evil-c2.example"}]


def test_show_real_advisory_reason_defanged(seed, tmp_path: Path, capsys) -> None:
    """The 3CX bulletin: github.com is left out as hosting, 'kept only as the URL github.com/...'."""
    pack = tmp_path / "3cx.json"
    code, _, err = run_cli(["intel", "extract", str(seed), "--product", "3CX Desktop App", "-o", str(pack)], capsys)
    assert code == 0, err
    assert "kept only as the URL github[.]com/IconStorages/images" in " ".join(err.split())
    code, out, _ = run_cli(["intel", "show", "--intel", str(pack)], capsys)
    flat = " ".join(out.replace("│", " ").split())
    assert code == 0 and "kept only as the URL github[.]com/IconStorages/images" in flat
    assert "github.com" not in flat
    data = json.loads(run_cli(["intel", "show", "--intel", str(pack), "--json"], capsys)[1])
    assert sum(1 for i in data["indicators"] if i["type"] == "domain") == 23 and isinstance(data["rules"], list)
