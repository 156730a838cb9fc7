"""Proof on vendors' own log lines: ../shared/samples/vendor-logs (Elastic integrations pipeline test data).

Per the samples' README: a pack is built from the destination-side values of the aligned expected documents
(destination.ip, destination.domain, url.domain, dns.question.name, server.domain), leaving out private and
special IPs, values that are also a source.ip, and names that are not domains. Each raw file is hunted with it;
every aligned document carrying a pack value must get a finding on its line, attributed to its source.ip.
The floors below are what tracehound reaches today (honest numbers: raise them when a reader improves).
"""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import SAMPLES, need
from huntutil import hunt
from tracehound.intel.model import Indicator, IType, Pack, canonical_value

VENDOR = SAMPLES / "vendor-logs"
DEST_FIELDS = ("destination.ip", "destination.domain", "url.domain", "dns.question.name", "server.domain")

# package/file -> records found with the right source.ip (floor), records expected
# (a third figure, in TIME_FLOORS, counts the found records whose time agrees with the expected document's)
FLOORS: dict[str, tuple[int, int]] = {
    "fortinet_fortigate/test-fortinet-7-2.log": (6, 6),
    "aws/test-route53.log": (7, 7),
    "checkpoint/test-r81x.log": (3, 3),
    "pfsense/test-opensense.log": (3, 3),
    "pfsense/test-pfsense-squid.log": (1, 1),
    "juniper_srx/test-utm.log": (11, 11),
    "panw/test-panw-panos-threat-url-no-xff-sample.log": (1, 1),
    "sonicwall_firewall/test-drizzthacker.log": (12, 12),
    "cef/test-fp-ngfw-smc.json": (1, 1),
    "azure/test-applicationrules-raw.log": (5, 5),
    "azure/test-dnsproxyrules-raw.log": (3, 3),
    "cloudflare_logpush/test-pipeline-dns.log": (3, 3),
}
# Where the time differs, and why: the CEF event has no expected @timestamp; the pfSense Squid line's own
# epoch (UTC) is used, the pipeline uses the syslog header in a configured zone.
TIME_FLOORS: dict[str, int] = {"cef/test-fp-ngfw-smc.json": 0, "pfsense/test-pfsense-squid.log": 0}


def _same_time(expected: str | None, got: str | None) -> bool:
    """Same instant, or the same wall-clock time (month to second) when the line carries no zone or year:
    the pipeline tests configure a zone and a year that the raw line does not hold."""
    if not expected or not got:
        return False
    e = datetime.fromisoformat(expected.replace("Z", "+00:00"))
    g = datetime.fromisoformat(got.replace("Z", "+00:00"))
    if e.astimezone(UTC).replace(microsecond=0) == g.astimezone(UTC).replace(microsecond=0):
        return True
    return e.replace(tzinfo=None).timetuple()[1:6] == g.astimezone(UTC).replace(tzinfo=None).timetuple()[1:6]


def _get(doc: dict[str, Any], dotted: str) -> Any:
    cur: Any = doc
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _indicator(value: str) -> Indicator | None:
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        try:
            return Indicator(IType.DOMAIN, canonical_value(IType.DOMAIN, value))
        except ValueError:
            return None  # not a domain ("SMC User", "orac")
    if not ip.is_global:
        return None
    return Indicator(IType.IPV4 if ip.version == 4 else IType.IPV6, canonical_value(
        IType.IPV4 if ip.version == 4 else IType.IPV6, value))


def load_case(rel: str, tmp: Path) -> tuple[Path, list[tuple[int, dict[str, Any]]]]:
    """(raw file to hunt, [(line number, aligned expected doc)])."""
    src = VENDOR / rel
    docs = [d for d in json.loads(Path(f"{src}-expected.json").read_text())["expected"]]
    if src.suffix == ".json":  # decoded events: scored on each event's event.original
        lines = [e["event"]["original"] for e in json.loads(src.read_text())["events"]]
        raw = tmp / (src.stem + ".log")
        raw.write_text("".join(ln + "\n" for ln in lines), encoding="utf-8")
    else:
        raw = src
        lines = src.read_text(encoding="utf-8").splitlines()
    aligned: list[tuple[int, dict[str, Any]]] = []
    for i, d in enumerate(docs):
        if d is None:
            continue
        orig = _get(d, "event.original")
        if orig is None:
            if len(docs) == len(lines):
                aligned.append((i + 1, d))
        elif orig in lines:
            aligned.append((lines.index(orig) + 1, d))
    return raw, aligned


def build_pack(aligned: list[tuple[int, dict[str, Any]]]) -> tuple[Pack, list[tuple[int, str, str | None]]]:
    """The pack and [(line, expected source.ip, expected @timestamp)] of the records that carry one of its values."""
    sources = {str(_get(d, "source.ip")) for _, d in aligned if _get(d, "source.ip")}
    inds: dict[tuple[str, str], Indicator] = {}
    expected: list[tuple[int, str, str | None]] = []
    for line, d in aligned:
        carried = False
        for f in DEST_FIELDS:
            v = _get(d, f)
            if not isinstance(v, str) or v in sources:
                continue
            ind = _indicator(v)
            if ind is not None:
                inds[(ind.type.value, ind.value)] = ind
                carried = True
        if carried:
            expected.append((line, str(_get(d, "source.ip") or ""), _get(d, "@timestamp")))
    return Pack(name="vendor-logs", indicators=list(inds.values())), expected


def score(rel: str, tmp: Path) -> tuple[int, int, int, list[str]]:
    """(found with the right source, expected, found with the right time too, misses)."""
    raw, aligned = load_case(rel, tmp)
    pack, expected = build_pack(aligned)
    if not expected:
        return 0, 0, 0, []
    docs, summary = hunt(pack, [str(raw)], jobs=1)
    by_line: dict[int, set[str]] = {}
    times: dict[int, set[str]] = {}
    for d in docs:
        by_line.setdefault(d["tracehound"]["line"], set()).add(_get(d, "source.ip") or "")
        times.setdefault(d["tracehound"]["line"], set()).add(d.get("@timestamp") or "")
    found, timed, misses = 0, 0, []
    for line, src, ts in expected:
        got = by_line.get(line)
        if got is not None and (not src or src in got):
            found += 1
            timed += any(_same_time(ts, t) for t in times.get(line, ()))
        else:
            misses.append(f"line {line}: expected source {src or '-'}, got {sorted(got) if got else 'no finding'}"
                          f" (format {summary.files[0].format or summary.files[0].error})")
    return found, len(expected), timed, misses


@pytest.mark.parametrize("rel", sorted(FLOORS))
def test_vendor_file(rel: str, tmp_path: Path) -> None:
    need(VENDOR / rel)
    found, total, timed, misses = score(rel, tmp_path)
    floor, expected_total = FLOORS[rel]
    assert total == expected_total, f"{rel}: {total} records carry a pack value (README counts changed?)"
    assert found >= floor, f"{rel}: {found}/{total} found with the right source.ip; misses: {misses}"
    assert timed >= TIME_FLOORS.get(rel, floor), f"{rel}: {timed}/{found} found records have the expected time"


def main() -> None:  # pragma: no cover - measuring aid: python tests/test_vendor_logs_real.py
    import tempfile

    tf, tt, tm = 0, 0, 0
    with tempfile.TemporaryDirectory() as d:
        for rel in sorted(FLOORS):
            found, total, timed, misses = score(rel, Path(d))
            tf, tt, tm = tf + found, tt + total, tm + timed
            print(f"{rel}: {found}/{total} (time agrees: {timed})")
            for m in misses:
                print("   ", m)
    print(f"total: {tf}/{tt} (time agrees: {tm})")


if __name__ == "__main__":
    main()
