"""Store layout 2: rows sorted by a reversed-name key, distinct clients in a side file, and the pruned
lookup of `hunt --store` that reads only the row groups that can hold an indicator. Same findings as the
raw hunt and as the full join; a layout-1 store (built before) is still read and grown as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from huntutil import make_pack
from storeutil import fixture_logs, index, raw_table, store_table
from tracehound.intel.builtin import load_intel
from tracehound.stores import query
from tracehound.stores.ingest import IndexOptions, index_paths
from tracehound.stores.layout import Store


def _packs(tmp: Path) -> list[object]:
    p = tmp / "new.csv"  # a parent domain, a CIDR, a URL prefix, an address that is also a client (inbound)
    p.write_text("type,value\ndomain,example.com\ncidr,162.0.229.0/24\nurl,https://github.com/IconStorages\n"
                 "cidr,93.184.0.0/16\nipv4,10.0.0.100\n")
    return [make_pack(tmp), load_intel([str(p)]), load_intel(["3cx"])]


def test_pruned_lookup_equals_the_join_and_the_raw_hunt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = fixture_logs(tmp_path / "logs")
    index(tmp_path / "store", paths)
    store = Store(str(tmp_path / "store"))
    assert store.layout == 2 and store.manifest["clients"]
    con = store.connect()
    for (part,) in con.execute("SELECT DISTINCT filename FROM read_parquet([" +
                               ", ".join(f"'{store.root / p}'" for p in store.manifest["parts"]) + "], filename=true)").fetchall():
        keys = [k for (k,) in con.execute(f"SELECT k FROM read_parquet('{part}')").fetchall()]
        assert keys == sorted(keys)  # each part sorted by its key
    names = dict(con.execute("SELECT value, k FROM obs WHERE kind = 'dns' LIMIT 50").fetchall())
    assert names and all(k == ".".join(reversed(v.split("."))) for v, k in names.items())
    for pack in _packs(tmp_path):
        raw, _ = raw_table(pack, paths)
        assert raw
        assert query._pruned(query.Matcher(pack), query._clients(con, store), False) is not None
        pruned = store_table(tmp_path / "store", pack)
        with monkeypatch.context() as m:
            m.setattr(query, "SMALL", 0)  # every pack as a large one: joined against the key index
            key_joined = store_table(tmp_path / "store", pack)
            m.setattr(query, "key_conditions", lambda *a: None)  # joined against every row (no key index)
            joined = store_table(tmp_path / "store", pack)
        assert pruned == key_joined == joined == raw
    con.close()


def test_inbound_lookup_uses_the_client_list(tmp_path: Path) -> None:
    """An indicator that is a client address (a contact from it to us) is found through the clients side file."""
    log = tmp_path / "access.log"
    log.write_text("1678406400.000    100 198.51.100.77 TCP_MISS/200 500 GET http://www.example.org/ - "
                   "DIRECT/93.184.216.34 text/html\n")
    index(tmp_path / "store", [str(log)])
    pack = tmp_path / "p.csv"
    pack.write_text("type,value\nipv4,198.51.100.77\n")
    found = store_table(tmp_path / "store", load_intel([str(pack)]))
    assert found == raw_table(load_intel([str(pack)]), [str(log)])[0] and found


def test_layout_1_store_is_read_and_grown_as_it_was(tmp_path: Path) -> None:
    paths = fixture_logs(tmp_path / "logs")
    store = Store(str(tmp_path / "old"), create=True)
    del store.manifest["layout"], store.manifest["clients"]  # as a store written before layout 2
    store._write_manifest()
    index_paths(Store(str(tmp_path / "old")), paths[: len(paths) // 2], IndexOptions())
    index_paths(Store(str(tmp_path / "old")), paths[len(paths) // 2:], IndexOptions())
    old = Store(str(tmp_path / "old"))
    assert old.layout == 1 and "clients" not in json.loads(old.manifest_path.read_text())
    con = old.connect()
    assert "k" not in {c for (c, *_r) in con.execute("DESCRIBE obs").fetchall()}
    con.close()
    for pack in _packs(tmp_path):
        assert store_table(tmp_path / "old", pack) == raw_table(pack, paths)[0]


def test_key_index_equals_the_row_scan_and_skips_packs_with_no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store created with the key index: its distinct keys in a side file per batch; the hunt checks the ranges
    against them and reads the rows by the keys found. Same findings as a layout-2 store without the index."""
    paths = fixture_logs(tmp_path / "logs")
    index(tmp_path / "store", paths[: len(paths) // 2])
    index(tmp_path / "store", paths[len(paths) // 2:])  # a second batch, a second key file
    store = Store(str(tmp_path / "store"))
    assert len(store.manifest["keys"]) == 2
    con = store.connect()
    listed = ", ".join(f"'{store.root / p}'" for p in store.manifest["keys"])
    indexed = {k for (k,) in con.execute(f"SELECT k FROM read_parquet([{listed}])").fetchall()}
    assert indexed == {k for (k,) in con.execute("SELECT DISTINCT k FROM obs").fetchall()}
    seen: list[str] = []
    real = query._held_keys
    monkeypatch.setattr(query, "_held_keys", lambda *a: seen.append("held") or real(*a))
    for pack in _packs(tmp_path):
        with_index = store_table(tmp_path / "store", pack)
        assert with_index == raw_table(pack, paths)[0] and with_index
        held = real(con, store, query._key_cond(query.Matcher(pack)))
        assert held is not None and held and set(held) <= indexed
    assert len(seen) == 3
    nothing = tmp_path / "none.csv"
    nothing.write_text("type,value\ndomain,no-such-name.example\n")
    assert real(con, store, query._key_cond(query.Matcher(load_intel([str(nothing)])))) == []
    sql = query._candidates_sql(con, store, query.Matcher(load_intel([str(nothing)])), "true")
    assert "AND (false)" in sql and "k IN" not in sql  # no key held: no lookup of the rows at all
    assert store_table(tmp_path / "store", load_intel([str(nothing)])) == {}
    con.close()
    data = json.loads(store.manifest_path.read_text())
    del data["keys"]  # as a layout-2 store created before the key index: the rows are scanned, same findings
    store.manifest_path.write_text(json.dumps(data))
    for pack in _packs(tmp_path):
        assert store_table(tmp_path / "store", pack) == raw_table(pack, paths)[0]
    (store.root / "keys" / "stray.parquet").write_bytes(b"x")
    assert Store(str(tmp_path / "store")).cleanup() >= 1 and not (store.root / "keys" / "stray.parquet").exists()
