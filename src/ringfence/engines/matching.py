"""Match sightings to the vehicle register, keeping possible misreads away from charges.

Input relations: `sightings` (see sightings.py) and `register(vehicle_key, vrm, ...facts)`.
Output: temp table `matched`: every sighting with `match` =

- `exact`: the key is a registered vehicle;
- `absorbed`: not registered, but its text shares a confusion key (O/0/D/Q, I/1, ...) with a
  registered vehicle that is itself seen under the same scheme that day: a misread of a vehicle
  already accounted for, which can change nobody's charge (one charge per vehicle, scheme and
  day), so no one needs to look at it;
- `confusion`: the same, but no candidate is otherwise seen: a likely misread for a human to
  settle, with the candidates listed;
- `unregistered`: neither (a foreign vehicle, a vehicle missing from the register, or a misread
  beyond the confusion groups).

Only `exact` matches with sufficient evidence can be charged; the rest go to review.
"""

from __future__ import annotations

import duckdb

from ringfence.domain.reads import confusion_key_sql


def match_register(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE register_keys AS
        SELECT vrm, {confusion_key_sql("vrm")} AS confusion_key FROM register
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE matched AS
        WITH unmatched AS (
          SELECT s.vehicle_key, s.scheme_id, {confusion_key_sql("s.vrm_text")} AS confusion_key
          FROM sightings s ANTI JOIN register g ON g.vehicle_key = s.vehicle_key
          WHERE s.vrm_text IS NOT NULL
        ), near AS (
          SELECT u.vehicle_key, u.scheme_id, list(k.vrm ORDER BY k.vrm) AS candidates,
                 bool_or(seen.vehicle_key IS NOT NULL) AS candidate_seen
          FROM unmatched u
          JOIN register_keys k USING (confusion_key)
          JOIN register g2 ON g2.vrm = k.vrm
          LEFT JOIN sightings seen
                 ON seen.vehicle_key = g2.vehicle_key AND seen.scheme_id = u.scheme_id
          GROUP BY ALL
        )
        SELECT s.*, g.vrm,
               CASE WHEN g.vrm IS NOT NULL THEN 'exact'
                    WHEN n.candidate_seen THEN 'absorbed'
                    WHEN n.candidates IS NOT NULL THEN 'confusion'
                    ELSE 'unregistered' END AS match,
               n.candidates
        FROM sightings s
        LEFT JOIN register g ON g.vehicle_key = s.vehicle_key
        LEFT JOIN near n ON n.vehicle_key = s.vehicle_key AND n.scheme_id = s.scheme_id
        """
    )
