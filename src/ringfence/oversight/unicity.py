"""Re-identification risk: unicity of pseudonymised traces (de Montjoye et al., 2013).

A *trace* is everything linkable to one pseudonym; a *point* is one sighting coarsened to a
spatial and temporal resolution (camera or borough; exact time, hour or day). Unicity at k is the
share of traces that are the only trace holding k points drawn at random from them: an attacker
who knows k places and times a person's vehicle was seen (a commute, a school run) finds that one
trace, and with it every other sighting under the same pseudonym.

The estimator follows the paper: sample traces with a seed, draw k of each one's distinct points
(the first k of a seeded random order, so the points for k include those for k-1), and count the
traces that hold all of them. It is one DuckDB query for every k at once: each candidate trace
sharing a point with a sampled one gets a bit mask of which of the sampled points it holds; the
run of ones from the lowest bit is the largest k it matches. Traces with fewer than k distinct
points are not eligible at k (they cannot be drawn k points from).

No I/O: the caller hands in a DuckDB relation (SQL text) of `trace`, `point` rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb


@dataclass(frozen=True, slots=True)
class Unicity:
    k: int
    traces: int  # traces in the population
    sampled: int  # traces sampled
    eligible: int  # sampled traces with at least k distinct points
    unique: int  # eligible traces that are the only one holding their k points
    median_points: float = float("nan")  # distinct points of a unique trace: what is revealed

    @property
    def share(self) -> float:
        return self.unique / self.eligible if self.eligible else float("nan")


def estimate_unicity(
    con: duckdb.DuckDBPyConnection,
    sightings: str,
    *,
    ks: Sequence[int],
    sample: int,
    seed: int,
) -> list[Unicity]:
    """Unicity for each k over `sightings` (SQL relation with columns `trace`, `point`)."""
    kmax = max(ks)
    if not 1 <= kmax <= 62:
        raise ValueError("k must be between 1 and 62 (the point masks are 64-bit)")
    sql = f"""
    WITH d AS (SELECT DISTINCT trace, point FROM ({sightings})),
    population AS (SELECT count(DISTINCT trace) AS traces FROM d),
    s AS (
        SELECT trace FROM (SELECT DISTINCT trace FROM d)
        ORDER BY hash(trace, $seed), trace LIMIT $sample
    ),
    ranked AS (
        SELECT trace AS sampled, point,
               row_number() OVER (PARTITION BY trace ORDER BY hash(point, $seed), point) AS r
        FROM d SEMI JOIN s USING (trace)
    ),
    drawn AS (SELECT * FROM ranked WHERE r <= {kmax}),
    npoints AS (SELECT sampled, max(r) AS n FROM ranked GROUP BY sampled),
    masks AS (
        SELECT drawn.sampled, d.trace AS candidate,
               bit_or((1::UBIGINT) << (drawn.r - 1)::UBIGINT) AS mask
        FROM drawn JOIN d USING (point)
        GROUP BY ALL
    ),
    matched AS (
        -- ones from the lowest bit: (mask + 1) & ~mask isolates the first zero bit
        SELECT sampled, bit_count(((mask + 1) & ~mask) - 1) AS upto FROM masks
    ),
    per_k AS (
        SELECT n.sampled, k.k, n.n, count(m.sampled) FILTER (WHERE m.upto >= k.k) AS holders
        FROM npoints n CROSS JOIN (SELECT unnest($ks) AS k) k
        LEFT JOIN matched m ON m.sampled = n.sampled
        GROUP BY ALL
    )
    SELECT k, (SELECT traces FROM population) AS traces,
           (SELECT count(*) FROM npoints) AS sampled,
           count(*) FILTER (WHERE n >= k) AS eligible,
           count(*) FILTER (WHERE n >= k AND holders = 1) AS unique_traces,
           median(n) FILTER (WHERE n >= k AND holders = 1) AS median_points
    FROM per_k GROUP BY k ORDER BY k
    """
    rows = con.execute(sql, {"seed": seed, "sample": sample, "ks": list(ks)}).fetchall()
    found = {int(r[0]): r for r in rows}
    traces = int(rows[0][1]) if rows else 0
    return [
        Unicity(
            k=k,
            traces=traces,
            sampled=int(found[k][2]) if k in found else 0,
            eligible=int(found[k][3]) if k in found else 0,
            unique=int(found[k][4]) if k in found else 0,
            median_points=float(found[k][5])
            if k in found and found[k][5] is not None
            else float("nan"),
        )
        for k in ks
    ]


#: Temporal resolutions: SQL for a time bucket from `captured_at` (UTC) and `charge_day`.
TEMPORAL = {
    "exact": "epoch_us(captured_at)",
    "hour": "epoch(date_trunc('hour', captured_at))",
    "day": "epoch(charge_day::TIMESTAMP)",
}
#: Spatial resolutions: the column of the sightings relation that names the place.
SPATIAL = {"camera": "camera_id", "borough": "borough_gss"}


def sightings_sql(
    reads: str, *, spatial: str, temporal: str, rotation_days: int, anchor_day: int
) -> str:
    """Trace/point rows from reads (`key_epoch`, `vrm_pseudonym`, `camera_id`, `borough_gss`,
    `captured_at`, `charge_day`): the pseudonym links only within windows of `rotation_days`
    charge days counted from `anchor_day` (days since 1970-01-01), as a shorter key rotation
    would allow."""
    if spatial not in SPATIAL or temporal not in TEMPORAL:
        raise ValueError(f"unknown resolution {spatial}/{temporal}")
    if rotation_days < 1:
        raise ValueError("rotation_days must be at least 1")
    window = f"((charge_day - DATE '1970-01-01') - {int(anchor_day)}) // {int(rotation_days)}"
    return (
        f"SELECT hash(key_epoch, vrm_pseudonym, {window}) AS trace, "
        f"hash(coalesce({SPATIAL[spatial]}, '?'), {TEMPORAL[temporal]}) AS point "
        f"FROM ({reads})"
    )
