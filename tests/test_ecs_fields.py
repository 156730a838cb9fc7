"""Every field of every finding kind outside `tracehound.*` is an ECS field of a compatible type, checked
against Elastic's own reference (../shared/samples/ecs/ecs_flat.yml); the indicator fields Elastic's
threat-intel views read are filled."""

from __future__ import annotations

import ipaddress
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import SAMPLES, need
from huntutil import hunt, make_pack
from logfixtures import FORMATS
from tracehound.findings.ecs import matched_indicators

INT_TYPES = {"long", "integer", "short", "byte", "unsigned_long"}
STR_TYPES = {"keyword", "wildcard", "match_only_text", "text", "constant_keyword"}


@pytest.fixture(scope="module")
def ecs() -> dict[str, str]:
    yaml = pytest.importorskip("yaml")
    ref = need(SAMPLES / "ecs" / "ecs_flat.yml")
    return {k: v["type"] for k, v in yaml.safe_load(ref.read_text(encoding="utf-8")).items()}


def flatten(doc: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in doc.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out += flatten(v, key + ".")
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for x in v:
                out += flatten(x, key + ".")
        elif isinstance(v, list):
            out += [(key, x) for x in v]
        else:
            out.append((key, v))
    return out


def compatible(ecs_type: str, value: Any) -> bool:
    if ecs_type in STR_TYPES:
        return isinstance(value, str)
    if ecs_type in INT_TYPES:
        return isinstance(value, int) and not isinstance(value, bool)
    if ecs_type in ("float", "double", "scaled_float", "half_float"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if ecs_type == "boolean":
        return isinstance(value, bool)
    if ecs_type == "date":
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return False
        return isinstance(value, str)
    if ecs_type == "ip":  # Elasticsearch's ip type takes no IPv6 zone ('fe80::1%eth0'); Python's parser does
        try:
            return not isinstance(value, str) or "%" not in value and bool(ipaddress.ip_address(value))
        except ValueError:
            return False
    return False  # object/nested/flattened must not hold a scalar


def violations(docs: list[dict[str, Any]], ecs: dict[str, str]) -> dict[str, str]:
    bad: dict[str, str] = {}
    for d in docs:
        for key, value in flatten(d):
            if key == "tracehound" or key.startswith("tracehound."):
                continue
            if key not in ecs:
                bad[key] = "not an ECS field"
            elif not compatible(ecs[key], value):
                bad[key] = f"ECS type {ecs[key]}, value {value!r}"
    return bad


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory) -> dict[str, list[dict[str, Any]]]:
    """Findings of every kind, made by the project's own test helpers."""
    from hosttree import build_tree, signed_macho
    from test_sweep import sweep, tree_pack
    from tracehound.cli import main
    from tracehound.intel.builtin import load_intel

    base = tmp_path_factory.mktemp("ecs")
    kinds: dict[str, list[dict[str, Any]]] = {}
    pack = make_pack(base)
    for name, make in FORMATS.items():
        text, _ = make()
        f = base / f"{name}.log"
        f.write_text(text)
        kinds[f"hunt:{name}"] = hunt(pack, [str(f)], jobs=1)[0]
    from tracehound.stores.ingest import IndexOptions, index_paths
    from tracehound.stores.layout import Store
    from tracehound.stores.query import hit_doc, hunt_store

    store = Store(str(base / "store"), create=True)
    index_paths(store, [str(base / f"{name}.log") for name in FORMATS], IndexOptions())
    kinds["hunt-store"] = [hit_doc(store, h, pack.name, evidence=True) for h in hunt_store(store, pack).hits]
    evtx = SAMPLES / "evtx" / "exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx"
    if evtx.exists():
        p = base / "evtx.csv"
        p.write_text("type,value,confidence\ndomain,inwitelecom.net,80\nipv4,108.179.232.58,80\n")
        kinds["hunt:evtx"] = hunt(load_intel([str(p)]), [str(evtx)], jobs=1)[0]
    tree = build_tree(base / "tree")
    yara = [str(Path(__file__).parent / "data" / "yara")]
    docs, _ = sweep(tree_pack(base, tree), tree.root, yara=yara, jobs=1, host_name="TESTHOST")
    for d in docs:
        kinds.setdefault(f"sweep:{d['tracehound'].get('check') or d['tracehound'].get('record')}", []).append(d)
    macho, thumb = signed_macho(base)
    app = base / "mac" / "Applications" / "3CX Desktop App.app" / "Contents" / "MacOS"
    app.mkdir(parents=True)
    (app / "3CX Desktop App").write_bytes(macho)
    (base / "m.csv").write_text(f"type,value\ncert-sha1,{thumb}\n")
    kinds["sweep:signing-macho"] = sweep(load_intel([str(base / "m.csv")]), base / "mac", jobs=1)[0]
    inventory = base / "assets.csv"
    inventory.write_text("host,ip,platform,product,version\nWS-1,10.0.0.9,windows,3CX Desktop App,18.12.416\n"
                         "WS-2,10.0.0.8,windows,3CX Desktop App,18.12.425\n")
    out = base / "scope.jsonl"
    try:
        main(["scope", str(inventory), "-o", str(out)])
    except SystemExit:
        pass
    import json

    kinds["scope"] = [json.loads(line) for line in out.read_text().splitlines()]
    return kinds


def test_every_finding_kind_is_ecs_outside_tracehound(every_kind: dict[str, list[dict]], ecs: dict[str, str]) -> None:
    assert all(every_kind.values()), [k for k, v in every_kind.items() if not v]
    sweep_checks = {k for k in every_kind if k.startswith("sweep:")}
    expected = {"browser", "files", "resolution", "software", "yara", "signing-macho", "host-summary"}
    expected |= {"signing"} if shutil.which("osslsigncode") else set()  # the signed PE needs it (CI installs it)
    assert {f"sweep:{c}" for c in expected} <= sweep_checks  # live-only checks (network, process) aside
    report = {kind: violations(docs, ecs) for kind, docs in every_kind.items()}
    assert {k: v for k, v in report.items() if v} == {}


def test_indicator_fields_elastic_reads(every_kind: dict[str, list[dict]], ecs: dict[str, str]) -> None:
    seen: dict[str, set[str]] = {}
    for docs in every_kind.values():
        for d in docs:
            for e, m in zip((d.get("threat") or {}).get("enrichments") or [], matched_indicators(d), strict=True):
                ind = e["indicator"]
                assert m["value"] and e["matched"]["atomic"] and e["matched"]["field"] and ind["provider"]
                keys = {k for k, _ in flatten(ind)}
                seen.setdefault(m["type"], set()).update(keys)
                if m["type"] == "domain":
                    assert ind["url"]["domain"] == m["value"]
                elif m["type"] in ("ipv4", "ipv6"):
                    assert ind["ip"] == m["value"]
                elif m["type"] == "url":
                    assert ind["url"]["full"] == m["value"] and m["value"].startswith(ind["url"]["domain"])
                elif m["type"] in ("md5", "sha1", "sha256"):
                    assert ind["file"]["hash"][m["type"]] == m["value"]
                elif m["type"] == "cert-sha256":
                    assert ind["file"]["code_signature"]["thumbprint_sha256"] == m["value"]
    assert {"domain", "ipv4", "url", "sha256", "cert-sha1", "software"} <= set(seen)
    for d in (d for docs in every_kind.values() for d in docs):
        for e, m in zip((d.get("threat") or {}).get("enrichments") or [], matched_indicators(d), strict=True):
            serial = e["indicator"].get("x509", {}).get("serial_number")
            assert serial is None or serial.lower() != m["value"]  # a thumbprint is not a serial number
    signed = [d for d in every_kind.get("sweep:signing", []) if d["tracehound"]["verdict"] == "exposed"]
    assert signed or not shutil.which("osslsigncode")
    for d in signed:  # the signer's certificate: ECS x509 fields for what ECS has, SHA-1 thumbprint under tracehound
        x509, thumb = d["file"]["x509"], d["tracehound"]["file"]["code_signature"]["thumbprint_sha1"]
        assert x509["serial_number"] == x509["serial_number"].upper() and x509["serial_number"].lower() != thumb
        assert x509["issuer"]["distinguished_name"].startswith("CN=")


def test_previous_findings_shape_still_read(tmp_path: Path, capsys, ecs: dict[str, str]) -> None:
    """`case add` of a findings file written before the ECS move (value in matched.indicator)."""
    import json

    from conftest import run_cli

    old = {"@timestamp": "2023-03-29T10:00:00Z", "event": {"kind": "alert"}, "source": {"ip": "10.0.0.5"},
           "url": {"full": "https://akamaicontainer.com/x"}, "log": {"file": {"path": "p.log"}, "offset": 0},
           "threat": {"enrichments": [{"matched": {"atomic": "akamaicontainer.com", "field": "destination.domain",
                                                   "type": "indicator_match_rule", "indicator": "akamaicontainer.com"},
                                       "indicator": {"type": "domain-name", "tracehound_type": "domain",
                                                     "provider": "3cx", "stage": "Stage 1"}}]},
           "tracehound": {"source": "hunt", "line": 1, "verdict": "compromised", "host": "10.0.0.5"}}
    assert {"log.offset", "threat.enrichments.matched.indicator", "threat.enrichments.indicator.stage",
            "threat.enrichments.indicator.tracehound_type"} == set(violations([old], ecs))  # the checker sees them
    f = tmp_path / "old.jsonl"
    f.write_text(json.dumps(old) + "\n")
    case = tmp_path / "case"
    run_cli(["case", "init", str(case)], capsys)
    code, _, _ = run_cli(["case", "add", str(case), str(f)], capsys)
    assert code == 0
    run_cli(["report", str(case), "-f", "json", "-o", str(tmp_path / "r.json")], capsys)
    [h] = json.loads((tmp_path / "r.json").read_text())["hosts"]
    assert h["evidence"][0]["indicators"] == ["akamaicontainer[.]com"]
    assert any(r["advisory"] for r in h["remediation"])  # the built-in pack it names is recorded


@pytest.mark.parametrize("doc", [{}, {"threat": "x"}, {"threat": {"enrichments": {"a": 1}}},
                                 {"threat": {"enrichments": [1, {"matched": "x", "indicator": []}]}, "tracehound": {"indicators": {"0": 1}}},
                                 {"threat": {"enrichments": [{}]}, "tracehound": "x"}])
def test_matched_indicators_of_hostile_documents(doc: dict) -> None:
    assert all(m["value"] == "" for m in matched_indicators(doc))


def test_ipv6_zone_is_kept_out_of_ip_fields(tmp_path: Path, ecs: dict[str, str]) -> None:
    """Link-local peers logged with their zone (Zeek on Linux: fe80::1%eth0; Windows: fe80::1%12) match the
    indicator fe80::1; the ECS ip field gets the address, the zone goes to tracehound.ip_zone.<field set>."""
    from tracehound.intel.builtin import load_intel

    lines = need(SAMPLES / "logs" / "zeek" / "dns.log").read_text().splitlines()
    head = [ln for ln in lines[:20] if ln.startswith("#")]
    body = [ln for ln in lines if not ln.startswith("#")][:50]
    body[7] = body[7].replace("\t10.0.0.100\t", "\tfe80::1%eth0\t", 1)  # id.resp_h: destination
    body[9] = body[9].split("\t", 3)[0] + "\t" + body[9].split("\t", 3)[1] + "\tfe80::1%12\t" + body[9].split("\t", 3)[3]
    f = tmp_path / "dns.log"
    f.write_text("\n".join(head + body) + "\n")
    p = tmp_path / "p.csv"
    p.write_text("type,value\nipv6,fe80::1\n")
    docs, _ = hunt(load_intel([str(p)]), [str(f)], jobs=1)
    assert len(docs) == 2
    assert violations(docs, ecs) == {}
    by_line = {d["tracehound"]["line"]: d for d in docs}
    dst, src = by_line[len(head) + 8], by_line[len(head) + 10]
    assert dst["destination"]["ip"] == "fe80::1" and dst["tracehound"]["ip_zone"] == {"destination": "eth0"}
    assert src["source"]["ip"] == "fe80::1" and src["tracehound"]["ip_zone"] == {"source": "12"}
    assert dst["threat"]["enrichments"][0]["matched"]["atomic"] == "fe80::1%eth0"  # what the log said, a keyword
    from tracehound.findings.ecs import split_zone

    assert split_zone("[fe80::1%25eth0]") == ("fe80::1", "eth0") and split_zone("10.0.0.1%eth0") == ("10.0.0.1%eth0", "")
    assert split_zone("fe80::1") == ("fe80::1", "")
