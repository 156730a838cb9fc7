"""`hunt --store` with a pack over query.SMALL indicators: the pack joined against the key index's distinct keys,
the rows read by the keys held (stores/key_join.py). Same findings as the raw hunt and as the join against every
row; a store without a key index still takes that join."""

from __future__ import annotations

import json
import random
from pathlib import Path

import duckdb
import pytest

from conftest import SAMPLES, need
from huntutil import make_pack
from storeutil import fixture_logs, index, raw_table, store_table
from tracehound.errors import InputError
from tracehound.intel.builtin import load_intel
from tracehound.intel.model import Pack
from tracehound.matching.matcher import Matcher
from tracehound.stores import key_join, query
from tracehound.stores.layout import Store
from tracehound.stores.query import hunt_store

# Present in the fixtures: a parent domain, IPv4 CIDRs, a URL prefix, an address that is also a client (inbound)
_PRESENT = ("domain,example.com\ncidr,162.0.229.0/24\nurl,https://github.com/IconStorages\ncidr,93.184.0.0/16\n"
            "ipv4,10.0.0.100\n")


def _random_names(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    tlds = ["com", "net", "org", "co.uk", "de", "info"]
    names = {f"{''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(rng.randint(6, 12)))}.{rng.choice(tlds)}"
             for _ in range(n)}
    # a few of three labels and more, under names the fixtures hold and do not hold
    names |= {f"deep{i}.sub.example.org" for i in range(20)} | {f"x{i}.www.example.com" for i in range(20)}
    return sorted(names)


def _big_pack(tmp: Path, extra: str = "", seed: int = 7) -> Pack:
    p = tmp / f"big-{seed}.csv"
    p.write_text("type,value\n" + _PRESENT + extra + "".join(f"domain,{d}\n" for d in _random_names(5000, seed)))
    pack = load_intel([str(p), "3cx"])
    m = Matcher(pack)
    assert len(m.domains) + len(m.urls) + len(m.ips) + len(m.networks4) > query.SMALL
    return pack


@pytest.fixture()
def spied(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[object]]:
    """Which lookup served each hunt: the key join (and the keys it held) or the join against every row."""
    seen: dict[str, list[object]] = {"held": [], "rows": []}
    real_held, real_load = key_join.held_keys, query._load_pack
    monkeypatch.setattr(key_join, "held_keys", lambda *a: seen["held"].append(real_held(*a)) or seen["held"][-1])
    monkeypatch.setattr(query, "_load_pack", lambda *a: seen["rows"].append(1) or real_load(*a))
    return seen


def test_large_pack_through_the_key_index_equals_the_raw_hunt(tmp_path: Path, spied: dict[str, list[object]],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    paths = fixture_logs(tmp_path / "logs")
    index(tmp_path / "store", paths[: len(paths) // 2])
    index(tmp_path / "store", paths[len(paths) // 2:])  # two batches: a key held twice is read once
    pack = _big_pack(tmp_path)
    raw, _ = raw_table(pack, paths)
    assert raw and any(v == "162.0.229.0/24" for _h, v in raw) and any("github.com" in v for _h, v in raw)
    found = store_table(tmp_path / "store", pack)
    assert found == raw
    with monkeypatch.context() as m:  # the pack has a C2 address that is a record's client: found by the clients file
        m.setattr(query, "_inbound", lambda *a: [])
        assert store_table(tmp_path / "store", pack) != raw
    assert spied["rows"] == [] and len(spied["held"]) == 2
    held = spied["held"][0]
    assert isinstance(held, list) and 0 < len(held) < 100 and held == sorted(set(held))
    with monkeypatch.context() as m:
        m.setattr(key_join, "SMALL", 0)  # inbound clients and CIDRs through temp tables too
        assert store_table(tmp_path / "store", pack) == raw
    assert spied["rows"] == []
    with monkeypatch.context() as m:
        m.setattr(query, "key_conditions", lambda *a: None)  # the join against every row, as before the key index
        assert store_table(tmp_path / "store", pack) == raw
    assert spied["rows"] == [1]
    none = tmp_path / "none.csv"  # only names the logs do not hold
    none.write_text("type,value\n" + "".join(f"domain,{d}\n" for d in _random_names(5000, 8) if "example" not in d))
    nothing = load_intel([str(none)])
    assert store_table(tmp_path / "store", nothing) == raw_table(nothing, paths)[0] == {}
    assert spied["held"][-1] == []


def test_large_pack_without_a_key_index_takes_the_row_join(tmp_path: Path, spied: dict[str, list[object]]) -> None:
    paths = fixture_logs(tmp_path / "logs")
    index(tmp_path / "store", paths)
    data = json.loads((tmp_path / "store" / "manifest.json").read_text())
    del data["keys"]  # a store created before the key index
    (tmp_path / "store" / "manifest.json").write_text(json.dumps(data))
    pack = _big_pack(tmp_path)
    found = store_table(tmp_path / "store", pack)
    assert found and found == raw_table(pack, paths)[0]
    assert spied["rows"] == [1] and spied["held"] == []


def test_large_pack_on_realfixture_logs(tmp_path: Path, spied: dict[str, list[object]]) -> None:
    logs = need(SAMPLES / "logs")
    paths = [str(logs / "squid" / "access1.log"), str(logs / "zeek" / "dns.log"), str(logs / "zeek" / "ssl.log")]
    index(tmp_path / "store", paths)
    names = set()
    for line in (logs / "zeek" / "dns.log").read_text().splitlines()[8:400:7]:
        q = line.split("\t")[9].lower().rstrip(".") if line.count("\t") > 9 else ""
        if q.count(".") >= 1:
            names.add(".".join(q.split(".")[-3:]))  # three labels where the name has them: a key prefix check
    pack = _big_pack(tmp_path, "".join(f"domain,{n}\n" for n in sorted(names)) + "cidr,134.71.0.0/16\n")
    raw, _ = raw_table(pack, paths)
    assert len(raw) > 5
    assert store_table(tmp_path / "store", pack) == raw
    assert spied["rows"] == [] and spied["held"] and spied["held"][-1]


def test_held_keys_are_the_label_prefixes_the_pack_names(tmp_path: Path) -> None:
    """A key (a name's labels reversed) is held by an indicator of 1, 2 or 3+ labels when the indicator's reversed
    labels are a label prefix of it; a value (URL host, address, hash) when it is the key; nothing else."""
    keys = ["com.example", "com.example.www", "com.example-cdn", "com.examplex", "uk.co.shop", "uk.co.shop.a.b",
            "uk.co.shopx", "uk.co.other", "org.deep.b.a", "org.deep.b.ab", "org.deep.b", "local", "local.printer",
            "localhost", "10.0.0.5", "10.0.0.50", "github.com", "ab" * 32]
    f = tmp_path / "keys.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT unnest(?) AS k) TO '{f}' (FORMAT PARQUET)", [keys])
    p = tmp_path / "p.csv"
    p.write_text("type,value\ndomain,example.com\ndomain,shop.co.uk\ndomain,a.b.deep.org\n"
                 f"ipv4,10.0.0.5\nurl,https://github.com/x\nsha256,{'ab' * 32}\n")
    matcher = Matcher(load_intel([str(p)]))
    matcher.domains["local"] = matcher.domains["example.com"]  # one label (packs refuse it; the lookup need not)
    held = key_join.held_keys(con, [str(f), str(f)], matcher)
    assert held == sorted(["com.example", "com.example.www", "uk.co.shop", "uk.co.shop.a.b", "org.deep.b.a", "local",
                           "local.printer", "10.0.0.5", "github.com", "ab" * 32])
    assert key_join.held_keys(con, [], Matcher(load_intel([str(p)]))) == []
    con.close()


def test_small_pack_still_pruned_and_equal(tmp_path: Path, spied: dict[str, list[object]]) -> None:
    paths = fixture_logs(tmp_path / "logs")
    index(tmp_path / "store", paths)
    pack = make_pack(tmp_path)
    assert store_table(tmp_path / "store", pack) == raw_table(pack, paths)[0]
    assert spied == {"held": [], "rows": []}  # the small packs' lookup, untouched
    assert Store(str(tmp_path / "store")).manifest["keys"]


def test_damaged_key_index_is_an_input_error(tmp_path: Path) -> None:
    paths = fixture_logs(tmp_path / "logs")
    index(tmp_path / "store", paths)
    store = Store(str(tmp_path / "store"))
    (store.root / store.manifest["keys"][0]).write_bytes(b"PAR1 not parquet")  # replaced behind the manifest's back
    for pack in (_big_pack(tmp_path), make_pack(tmp_path)):  # the key join and the small packs' key check
        with pytest.raises(InputError, match="store unreadable"):
            hunt_store(Store(str(tmp_path / "store")), pack)
