"""Sightings: a charge day's reads grouped by vehicle and scheme, with misread safety.

The first half of the charge run, vectorised in DuckDB. It works on any vehicle key: the keyed
pseudonym in the read store (stored mode) or the normalised VRM from a file (stateless mode).

Inputs, registered on the connection as relations:
- `day_reads(read_id, camera_id, captured_at, confidence, vehicle_key, vrm_text,
  observed_make, observed_type)`; `vrm_text` is the clear VRM where the caller may hold it
  (files), else NULL; the observed make and type are NULL where no camera reported them;
- `cameras(camera_id, enforces)`;
- `charge_windows(scheme_id, window_start, window_end)`: the instants each scheme charges in.

Output: temp tables `camera_windows` (each camera's charging windows) and `sightings`, one
row per (vehicle_key, scheme_id) with counts, first and last sighting and whether the evidence
is enough to charge on (`read_ids_for` lists the reads behind chosen sightings: done only for
the few that become liabilities, not for millions):

    at least `min_reads` reads at or above `min_confidence`, or one read at or above
    `single_read_confidence`.

Anything less is never charged: it goes to review with the reason. (Issue 3: "Misread safety".)
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True, slots=True)
class EvidenceRule:
    """How sure the cameras must be before a read can found a charge. Data, not code."""

    min_confidence: float = 0.80
    min_reads: int = 2
    single_read_confidence: float = 0.95

    def __post_init__(self) -> None:
        if not (0 <= self.min_confidence <= self.single_read_confidence <= 1):
            raise ValueError("need 0 <= min_confidence <= single_read_confidence <= 1")
        if self.min_reads < 1:
            raise ValueError("min_reads must be at least 1")


def build_sightings(con: duckdb.DuckDBPyConnection, rule: EvidenceRule) -> None:
    # A few thousand rows: which windows each camera's reads can fall in. Kept for
    # `read_ids_for`, which joins the chosen reads to the same windows.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE camera_windows AS
        SELECT c.camera_id, w.scheme_id, w.window_start, w.window_end
        FROM cameras c
        JOIN charge_windows w ON list_contains(string_split(c.enforces, ';'), w.scheme_id)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE sightings AS
        WITH scheme_reads AS (
          SELECT r.read_id, r.captured_at, r.confidence, r.vehicle_key, r.vrm_text,
                 cw.scheme_id
          FROM day_reads r
          JOIN camera_windows cw
            ON cw.camera_id = r.camera_id
           AND r.captured_at >= cw.window_start AND r.captured_at < cw.window_end
        )
        SELECT vehicle_key, scheme_id,
               any_value(vrm_text) AS vrm_text,
               count(*) AS reads,
               count(*) FILTER (WHERE confidence >= $min_confidence) AS confident_reads,
               max(confidence) AS best_confidence,
               min(captured_at) AS first_seen_at,
               max(captured_at) AS last_seen_at,
               (count(*) FILTER (WHERE confidence >= $min_confidence) >= $min_reads
                OR max(confidence) >= $single) AS is_sufficient
        FROM scheme_reads
        GROUP BY vehicle_key, scheme_id
        """,
        {
            "min_confidence": rule.min_confidence,
            "min_reads": rule.min_reads,
            "single": rule.single_read_confidence,
        },
    )


def read_ids_for(con: duckdb.DuckDBPyConnection, chosen: str) -> None:
    """Temp table `sighting_reads(vehicle_key, scheme_id, read_ids, observed_types,
    observed_makes)` for the sightings in the relation `chosen(vehicle_key, scheme_id)`, after
    `build_sightings` (whose `camera_windows` it reuses): each
    id list in time order, and the types and makes cameras observed (NULL if none did).

    The observations are gathered here, over the reads of the few chosen sightings, rather than
    in `build_sightings`, so the day's full scan does no work for them."""
    # Listing (time, id) pairs and sorting each short list is cheaper than an ordered
    # aggregate over millions of reads, and gives the same order. The chosen vehicles' reads
    # are picked out first: the window join then sees a fraction of the day.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE sighting_reads AS
        SELECT r.vehicle_key, cw.scheme_id,
               list_transform(
                 list_sort(list(struct_pack(t := r.captured_at, i := r.read_id))),
                 lambda x: x.i
               ) AS read_ids,
               list(r.observed_type) FILTER (WHERE r.observed_type IS NOT NULL)
                 AS observed_types,
               list(r.observed_make) FILTER (WHERE r.observed_make IS NOT NULL)
                 AS observed_makes
        FROM (SELECT * FROM day_reads
              SEMI JOIN (SELECT DISTINCT vehicle_key FROM {chosen}) v USING (vehicle_key)) r
        JOIN camera_windows cw
          ON cw.camera_id = r.camera_id
         AND r.captured_at >= cw.window_start AND r.captured_at < cw.window_end
        SEMI JOIN {chosen} k ON k.vehicle_key = r.vehicle_key AND k.scheme_id = cw.scheme_id
        GROUP BY ALL
        """
    )
