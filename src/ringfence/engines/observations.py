"""Misread safety against the register's type and make: a charge the cameras contradict is held.

A misread can land exactly on another registered plate (AB12 CDE read as AB12 CD8, which is
an HGV's): the exact match then looks sound, and only what the cameras saw of the vehicle can
tell. Where cameras report make and model recognition, and most of a sighting's observations
disagree with the register (`RegisterCheck`, from `[misread]` in `defaults.toml`), the charge
goes to review with the evidence instead of to the keeper of the registered plate.

Works on the run's few chargeable rows only: `decided` (the run's decisions),
`sighting_reads` (with the observations gathered by `read_ids_for`) and `register`.
"""

from __future__ import annotations

import duckdb

from ringfence.domain.observations import RegisterCheck

RULE = "match:register_contradiction"


def hold_contradicted(con: duckdb.DuckDBPyConnection, check: RegisterCheck) -> int:
    """Turn each charge `decided` would make (unpaid, or billed to an Auto Pay account) whose
    register entry the cameras contradict into `review`, with the evidence as its reason.
    Returns how many were held."""
    cls = check.type_class_sql
    make = check.make_sql
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE contradicted AS
        WITH chosen AS (
          SELECT d.vehicle_key, d.scheme_id, g.vehicle_type, g.make,
                 sr.observed_types, sr.observed_makes
          FROM decided d
          JOIN sighting_reads sr USING (vehicle_key, scheme_id)
          JOIN register g USING (vehicle_key)
          WHERE (d.status = 'unpaid' OR (d.status = 'paid' AND d.rule = 'autopay'))
            AND (sr.observed_types IS NOT NULL OR sr.observed_makes IS NOT NULL)
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
