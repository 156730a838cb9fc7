"""Observation store: logs indexed once (every record's observations, aggregated per day, kind,
value and client, plus a coverage ledger per source file and day), hunted many times.

scan.py reads every record of a file with the hunt's readers and bounds; rows.py turns
observations into store rows; layout.py owns the folder (Parquet parts, manifest, atomic
commit) and the DuckDB view; ingest.py decides what of a file is new; query.py hunts a pack
against the store with the matcher's semantics; sightings.py writes MISP/STIX sightings.
"""
