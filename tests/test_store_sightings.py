"""Sightings from a store hunt: MISP (PyMISP loads them) and STIX 2.1 (stix2-validator accepts them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import run_cli
from huntutil import make_pack
from storeutil import fixture_logs, index, store_table


@pytest.fixture(scope="module")
def sighted(tmp_path_factory) -> tuple[Path, dict, list, dict]:
    base = tmp_path_factory.mktemp("sight")
    paths = fixture_logs(base / "logs")
    index(base / "store", paths)
    (base / "extra.csv").write_text((Path(__file__).parent / "logfixtures.py").read_text().split('EXTRA_PACK_CSV = """')[1]
                                    .split('"""')[0])
    misp, stix = base / "misp.json", base / "stix.json"
    with pytest.raises(SystemExit):
        from tracehound.cli import main

        main(["hunt", "--store", str(base / "store"), "--intel", "3cx", "--intel", str(base / "extra.csv"), "-q",
              "-o", str(base / "hits.jsonl"), "--misp-sightings", str(misp), "--stix-sightings", str(stix)])
    table = store_table(base / "store", make_pack(base))
    return base, table, json.loads(misp.read_text()), json.loads(stix.read_text())


def test_misp_sightings_load_in_pymisp_with_last_contact(sighted) -> None:
    pymisp = pytest.importorskip("pymisp")
    _base, table, misp, _ = sighted
    assert len(misp) == len(table)
    for s in misp:
        obj = pymisp.MISPSighting()
        obj.from_dict(**s)
        assert str(obj.type) == "0"
        host = s["source"].removeprefix("tracehound:")
        _first, last, _n = table[(host, s["value"])]
        assert int(obj.date_sighting) == int(last.timestamp())  # the last contact, not the hunt time


def test_stix_sightings_validate_and_carry_counts(sighted) -> None:
    validator = pytest.importorskip("stix2validator")
    _base, table, _, bundle = sighted
    result = validator.validate_instance(bundle, validator.ValidationOptions(strict=False))
    assert result.is_valid, [str(e) for e in result.errors]
    objs = {o["id"]: o for o in bundle["objects"]}
    sightings = [o for o in bundle["objects"] if o["type"] == "sighting"]
    assert len(sightings) == len(table)
    for s in sightings:
        [where] = s["where_sighted_refs"]
        host = objs[where]["name"]
        assert objs[where]["type"] == "identity" and objs[s["sighting_of_ref"]]["type"] == "indicator"
        value = next(k[1] for k in table if k[0] == host and objs[s["sighting_of_ref"]]["pattern"].count(f"'{k[1]}'"))
        first, last, n = table[(host, value)]
        assert s["count"] == n
        assert datetime.fromisoformat(s["first_seen"].replace("Z", "+00:00")) == first.astimezone(UTC)
        assert datetime.fromisoformat(s["last_seen"].replace("Z", "+00:00")) == last.astimezone(UTC)


def test_sightings_need_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["hunt", str(tmp_path), "--misp-sightings", str(tmp_path / "m.json")], capsys)
    assert code == 2 and "need --store" in err
