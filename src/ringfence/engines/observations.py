"""Misread safety against the register's type and make: a charge the cameras contradict is held.

A misread can land exactly on another registered plate (AB12 CDE read as AB12 CD8, which is
an HGV's): the exact match then looks sound, and only what the cameras saw of the vehicle can
tell. Where cameras report make and model recognition, and most of a sighting's observations
disagree with the register (`RegisterCheck`, from `[misread]` in `defaults.toml`), the charge
goes to review with the evidence instead of to the keeper of the registered plate.

Works on the run's few chargeable rows only, in two steps. `vote_chosen_sql` and `vote_counts`
let the pass that lists each liability's reads (`sightings.read_ids_for`) count, per sighting,
the observations and those against the register; `hold_contradicted` then gathers what cameras
saw only for the sightings those counts contradict, to explain them. Relations: `decided` (the
run's decisions), `sighting_reads` (with the counts), `register`, and the day's reads.
"""

from __future__ import annotations

import duckdb

from ringfence.domain.observations import RegisterCheck

RULE = "match:register_contradiction"


def vote_chosen_sql(check: RegisterCheck, decided: str = "decided") -> str:
    """SQL: each decided sighting with its register entry's camera class and canonical make,
    for `vote_counts` to compare each read with."""
    return (
        f"SELECT d.vehicle_key, d.scheme_id, {check.type_class_sql('g.vehicle_type')} "
        f"AS registered_class, {check.make_sql('g.make')} AS registered_make "
        f"FROM {decided} d LEFT JOIN register g USING (vehicle_key)"
    )


def vote_counts(check: RegisterCheck) -> dict[str, str]:
    """Aggregates over a sighting's reads `r` and its row `k` of `vote_chosen_sql`: how many
    reads carry a type (a make) and how many of those disagree with the register. A make
    disagrees only where the register has one; a type, unless both fall in one class."""
    cls = check.type_class_sql
    return {
        "types_seen": "count(r.observed_type)",
        "types_against": "count(r.observed_type) FILTER (WHERE NOT coalesce("
        f"{cls('r.observed_type')} = k.registered_class, false))",
        "makes_seen": "count(r.observed_make)",
        "makes_against": f"count(*) FILTER (WHERE {check.make_sql('r.observed_make')} "
        "<> k.registered_make)",
    }


def hold_contradicted(con: duckdb.DuckDBPyConnection, check: RegisterCheck) -> int:
    """Turn each charge `decided` would make (unpaid, or billed to an Auto Pay account) whose
    register entry the cameras contradict into `review`, with the evidence as its reason.
    Returns how many were held."""
    cls = check.type_class_sql
    make = check.make_sql
    # The counts pick out the contradicted sightings; their observations (a few hundred
    # sightings' reads) are listed again only to say what the cameras saw.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE contradiction_suspects AS
        SELECT d.vehicle_key, d.scheme_id
        FROM decided d JOIN sighting_reads sr USING (vehicle_key, scheme_id)
        WHERE (d.status = 'unpaid' OR (d.status = 'paid' AND d.rule = 'autopay'))
          AND ((sr.types_seen >= $min AND sr.types_against * 2 > sr.types_seen)
               OR (sr.makes_seen >= $min AND sr.makes_against * 2 > sr.makes_seen))
        """,
        {"min": check.min_observed_reads},
    )
    # Their reads are the listed ones. Two steps, so that the day's reads are first cut down
    # to the suspects' vehicles (a join on the key alone): a join on read ids over the day
    # costs about seven times more.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE suspect_reads AS
        SELECT r.vehicle_key, r.read_id, r.observed_type, r.observed_make FROM day_reads r
        JOIN (SELECT DISTINCT vehicle_key FROM contradiction_suspects) USING (vehicle_key)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE suspect_observations AS
        SELECT l.vehicle_key, l.scheme_id,
               list(r.observed_type) FILTER (WHERE r.observed_type IS NOT NULL)
                 AS observed_types,
               list(r.observed_make) FILTER (WHERE r.observed_make IS NOT NULL)
                 AS observed_makes
        FROM suspect_reads r
        JOIN (SELECT vehicle_key, scheme_id, unnest(read_ids) AS read_id
              FROM sighting_reads SEMI JOIN contradiction_suspects
                USING (vehicle_key, scheme_id)) l
          USING (vehicle_key, read_id)
        GROUP BY l.vehicle_key, l.scheme_id
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE contradicted AS
        WITH chosen AS (
          SELECT o.vehicle_key, o.scheme_id, g.vehicle_type, g.make,
                 o.observed_types, o.observed_makes
          FROM suspect_observations o
          JOIN register g USING (vehicle_key)
        ), type_counts AS (
          SELECT vehicle_key, scheme_id, seen,
                 coalesce({cls("seen")} = {cls("reg")}, false) AS agrees, count(*) AS k
          FROM (SELECT vehicle_key, scheme_id, vehicle_type AS reg,
                       unnest(observed_types) AS seen FROM chosen)
          GROUP BY ALL
        ), type_votes AS (
          SELECT vehicle_key, scheme_id, sum(k) AS n,
                 coalesce(sum(k) FILTER (WHERE NOT agrees), 0) AS against,
                 first(seen ORDER BY k DESC, seen) FILTER (WHERE NOT agrees) AS seen
          FROM type_counts GROUP BY ALL
        ), make_counts AS (
          SELECT vehicle_key, scheme_id, {make("seen")} AS seen, {make("reg")} AS reg,
                 count(*) AS k
          FROM (SELECT vehicle_key, scheme_id, make AS reg,
                       unnest(observed_makes) AS seen FROM chosen)
          GROUP BY ALL
        ), make_votes AS (
          SELECT vehicle_key, scheme_id, sum(k) AS n,
                 coalesce(sum(k) FILTER (WHERE seen <> reg), 0) AS against,
                 bool_or(reg IS NOT NULL) AS has_register_make,
                 first(seen ORDER BY k DESC, seen) AS seen,
                 first(seen ORDER BY k DESC, seen) FILTER (WHERE seen <> reg) AS seen_against
          FROM make_counts GROUP BY ALL
        ), judged AS (
          SELECT c.vehicle_key, c.scheme_id, c.vehicle_type, c.make,
                 t.seen AS type_seen, t.n AS type_n, t.against AS type_against,
                 m.seen AS make_seen, m.seen_against AS make_against_seen, m.n AS make_n,
                 m.against AS make_against,
                 coalesce(t.n >= $min AND t.against * 2 > t.n, false) AS type_contradicts,
                 coalesce(m.has_register_make AND m.n >= $min AND m.against * 2 > m.n, false)
                   AS make_contradicts
          FROM chosen c
          LEFT JOIN type_votes t USING (vehicle_key, scheme_id)
          LEFT JOIN make_votes m USING (vehicle_key, scheme_id)
        )
        SELECT vehicle_key, scheme_id,
               'cameras saw a '
               || CASE WHEN type_contradicts
                       THEN upper(type_seen) || coalesce(' (' || make_seen || ')', '')
                            || ' in ' || type_against || ' of ' || type_n || ' reads'
                       ELSE make_against_seen
                            || ' in ' || make_against || ' of ' || make_n || ' reads' END
               || '; the register holds a ' || vehicle_type
               || coalesce(' (' || {make("make")} || ')', '')
               || ': possible misread or cloned plate' AS reason
        FROM judged
        WHERE type_contradicts OR make_contradicts
        """,
        {"min": check.min_observed_reads},
    )
    held = con.execute(
        f"""
        UPDATE decided SET status = 'review', rule = '{RULE}', reason = c.reason,
                           account_id = NULL
        FROM contradicted c
        WHERE decided.vehicle_key = c.vehicle_key AND decided.scheme_id = c.scheme_id
        """
    ).fetchone()
    return int(held[0]) if held else 0
