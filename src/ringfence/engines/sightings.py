"""Sightings: a charge day's reads grouped by vehicle and scheme, with misread safety.

The first half of the charge run, vectorised in DuckDB. It works on any vehicle key: the keyed
pseudonym in the read store (stored mode) or the normalised VRM from a file (stateless mode).

Inputs, registered on the connection as relations:
- `day_reads(read_id, camera_id, captured_at, confidence, vehicle_key, vrm_text)`; `vrm_text`
  is the clear VRM where the caller may hold it (files), else NULL;
- `cameras(camera_id, enforces)`;
- `charge_windows(scheme_id, window_start, window_end)`: the instants each scheme charges in.

Output: temp table `sightings`, one row per (vehicle_key, scheme_id) with counts, the read ids
(in time order) and whether the evidence is enough to charge on:

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
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE sightings AS
        WITH scheme_reads AS (
          SELECT r.read_id, r.captured_at, r.confidence, r.vehicle_key, r.vrm_text,
                 w.scheme_id
          FROM day_reads r
          JOIN cameras c USING (camera_id)
          JOIN charge_windows w
            ON list_contains(string_split(c.enforces, ';'), w.scheme_id)
           AND r.captured_at >= w.window_start AND r.captured_at < w.window_end
        )
        SELECT vehicle_key, scheme_id,
               any_value(vrm_text) AS vrm_text,
               count(*) AS reads,
               count(*) FILTER (WHERE confidence >= $min_confidence) AS confident_reads,
               max(confidence) AS best_confidence,
               min(captured_at) AS first_seen_at,
               max(captured_at) AS last_seen_at,
               list(read_id ORDER BY captured_at, read_id) AS read_ids,
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
