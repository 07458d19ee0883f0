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
row per (vehicle_key, scheme_id) with counts, the best confidence, the first read's time (for
the explanation) and whether the evidence is enough to charge on (`read_ids_for` lists the
reads behind chosen sightings, with any other aggregate of them: done only for the few that
become liabilities, not for millions):

    at least `min_reads` reads at or above `min_confidence`, or one read at or above
    `single_read_confidence`.

Anything less is never charged: it goes to review with the reason. (Issue 3: "Misread safety".)
"""

from __future__ import annotations

from collections.abc import Mapping
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
          SELECT r.captured_at, r.confidence, r.vehicle_key, r.vrm_text,
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


# In time order (ties by id, so that a run is reproducible) costs a sort within every list: about
# a third of the pass over a full day. A stored run's lists go to its evidence file as sets, and
# are put in order where they are read (a few at a time); a fetched result is small.
READ_IDS_IN_ORDER = "list(r.read_id ORDER BY r.captured_at, r.read_id)"
READ_IDS = "list(r.read_id)"


def read_ids_for(
    con: duckdb.DuckDBPyConnection,
    chosen: str,
    extra: Mapping[str, str] | None = None,
    *,
    in_order: bool = True,
) -> None:
    """Temp table `sighting_reads(vehicle_key, scheme_id, read_ids, ...extra)` for the
    sightings in the relation `chosen(vehicle_key, scheme_id, ...)`: each id list (in time
    order, or in no particular order without ``in_order``), and ``extra`` aggregates (name to
    SQL over the read `r` and the chosen row `k`) of the same reads, that is, the vehicle's
    reads in the scheme's charging windows. Run after `build_sightings`, whose `camera_windows`
    it reuses; meant for the few sightings that become liabilities, not the day's millions."""
    # Joining the reads to the chosen (vehicle, scheme) pairs first means the window join sees
    # only their reads, and only under their own scheme (a vehicle chosen under one scheme is
    # mostly seen by cameras of another).
    aggregates = {"read_ids": READ_IDS_IN_ORDER if in_order else READ_IDS, **(extra or {})}
    columns = ", ".join(f"{sql} AS {name}" for name, sql in aggregates.items())
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE sighting_reads AS
        SELECT k.vehicle_key, k.scheme_id, {columns}
        FROM day_reads r
        JOIN {chosen} k USING (vehicle_key)
        JOIN camera_windows cw
          ON cw.camera_id = r.camera_id AND cw.scheme_id = k.scheme_id
         AND r.captured_at >= cw.window_start AND r.captured_at < cw.window_end
        GROUP BY k.vehicle_key, k.scheme_id
        """
    )
