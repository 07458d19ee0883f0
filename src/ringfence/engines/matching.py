"""Find the sightings the register does not know, keeping possible misreads away from charges.

Input relations: `sightings` (see sightings.py) and `register(vehicle_key, vrm, ...facts)`, with
an optional `confusion_key` column (the register import stores it, so a charge run need not
compute it for millions of registered VRMs). Where a sighting's `vrm_text` is NULL (stored mode
keeps no clear VRM with the reads), the caller's `Recover` gives it: the vault in stored mode.

Sightings of registered vehicles (`exact`) are priced by the charge run directly against the
register. This builds temp table `unmatched(vehicle_key, scheme_id, vrm_text, is_sufficient,
match, candidates)`: every other sighting (the rest of each is in `sightings`: most are read
again only to be counted, so they are not copied), with `match` =

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

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from ringfence.domain.reads import confusion_key_sql
from ringfence.stores.readstore import relation_columns

Recover = Callable[[Sequence[bytes]], Mapping[bytes, str]]
"""Clear VRMs for vehicle keys the caller can decrypt (stored mode: the epoch's vault)."""


@dataclass(frozen=True, slots=True)
class PendingMatch:
    """Unregistered sightings found, their clear VRMs possibly still being recovered."""

    asked: int
    recovered: Future[Mapping[bytes, str]] | None


def match_register(con: duckdb.DuckDBPyConnection, recover: Recover | None = None) -> int:
    """Build `unmatched`. ``recover`` gives the clear VRM of sighted keys the register does not
    know whose `vrm_text` is NULL (stored mode); returns how many keys it was asked for."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return finish_matching(con, start_matching(con, recover, pool))


def start_matching(
    con: duckdb.DuckDBPyConnection, recover: Recover | None, pool: ThreadPoolExecutor
) -> PendingMatch:
    """Find the sightings the register does not know and start recovering their clear VRMs on
    ``pool``: the vault's decryption is Python work that can run while DuckDB prices the
    registered sightings (`finish_matching` waits for it)."""
    # One anti-join with the register (millions of rows on both sides) leaves the few hundred
    # thousand sightings that need recovery and confusion matching; registered ones are not
    # copied anywhere.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE unmatched AS "
        "SELECT s.vehicle_key, s.scheme_id, s.vrm_text, s.is_sufficient FROM sightings s "
        "ANTI JOIN register g ON g.vehicle_key = s.vehicle_key"
    )
    if recover is None:
        return PendingMatch(asked=0, recovered=None)
    keys: list[bytes] = (
        con.sql("SELECT DISTINCT vehicle_key FROM unmatched WHERE vrm_text IS NULL")
        .to_arrow_table()
        .column("vehicle_key")
        .to_pylist()
    )
    return PendingMatch(asked=len(keys), recovered=pool.submit(recover, keys))


def finish_matching(con: duckdb.DuckDBPyConnection, pending: PendingMatch) -> int:
    """Complete `unmatched` with each sighting's `match` and candidates; returns how many keys
    recovery was asked for."""
    _register_texts(con, pending.recovered.result() if pending.recovered is not None else {})
    register_key = (
        "confusion_key"
        if "confusion_key" in relation_columns(con, "register")
        else confusion_key_sql("vrm")
    )
    # Texts and candidates are a vehicle's, whatever the scheme: worked out once per vehicle
    # key (a misread is mostly seen under two schemes). Candidates carry their own vehicle key,
    # so whether one is seen is a look-up in `sightings` (a registered key there is an exact
    # sighting), not a join back by VRM; the look-up is an inner join so that the few
    # candidates, not the day's sightings, are hashed.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE unmatched AS
        WITH texts AS (
          SELECT vehicle_key, vrm_text, {confusion_key_sql("vrm_text")} AS confusion_key
          FROM (SELECT DISTINCT vehicle_key, vrm_text FROM unmatched WHERE vrm_text IS NOT NULL
                UNION ALL
                SELECT vehicle_key, vrm_text FROM recovered)
        ), candidates AS (
          SELECT t.vehicle_key, k.vrm, k.vehicle_key AS candidate_key
          FROM texts t
          JOIN (SELECT vrm, vehicle_key, {register_key} AS confusion_key FROM register) k
            USING (confusion_key)
        ), near AS (
          SELECT vehicle_key, list(vrm ORDER BY vrm) AS candidates
          FROM candidates GROUP BY vehicle_key
        ), seen AS (
          SELECT DISTINCT c.vehicle_key, s.scheme_id
          FROM candidates c JOIN sightings s ON s.vehicle_key = c.candidate_key
        )
        SELECT s.vehicle_key, s.scheme_id, coalesce(s.vrm_text, t.vrm_text) AS vrm_text,
               s.is_sufficient,
               CASE WHEN seen.vehicle_key IS NOT NULL THEN 'absorbed'
                    WHEN n.candidates IS NOT NULL THEN 'confusion'
                    ELSE 'unregistered' END AS match,
               n.candidates
        FROM unmatched s
        LEFT JOIN texts t USING (vehicle_key)
        LEFT JOIN near n USING (vehicle_key)
        LEFT JOIN seen ON seen.vehicle_key = s.vehicle_key AND seen.scheme_id = s.scheme_id
        """
    )
    con.unregister("recovered")
    return pending.asked


def _register_texts(con: duckdb.DuckDBPyConnection, clear: Mapping[bytes, str]) -> None:
    """Relation `recovered(vehicle_key, vrm_text)`: the clear VRMs the caller recovered where
    `unmatched.vrm_text` is NULL.

    Only these can be misreads matched by confusion key, and only sighted ones (in a scheme's
    charging hours at its cameras) can be charged or reviewed: asking after grouping keeps
    vault decryption to the plates that matter and the join off the day's millions of reads.
    """
    con.register(
        "recovered",
        pa.table(
            {
                "vehicle_key": pa.array(list(clear), pa.binary()),
                "vrm_text": pa.array(list(clear.values()), pa.string()),
            }
        ),
    )
