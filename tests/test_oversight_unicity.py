"""The unicity estimator against constructed traces whose answer is known exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb
import pyarrow as pa
import pytest

from ringfence.oversight.unicity import estimate_unicity, sightings_sql


def designed() -> list[tuple[str, str]]:
    """32 traces of two points each, built so the answer is known whatever points are drawn.

    - 10 loners: both points are theirs alone (unique at k = 1 and 2);
    - 5 pairs of twins with the same two points (never unique);
    - 3 cycles of 4 traces, {p_j, p_(j+1)}: each point is shared by two traces, the pair
      by none (unique at k = 2 only).
    """
    rows = []
    for i in range(10):
        rows += [(f"a{i}", f"a{i}x"), (f"a{i}", f"a{i}y")]
    for i in range(5):
        for twin in "12":
            rows += [(f"b{i}{twin}", f"b{i}x"), (f"b{i}{twin}", f"b{i}y")]
    for c in range(3):
        for j in range(4):
            rows += [(f"c{c}{j}", f"c{c}p{j}"), (f"c{c}{j}", f"c{c}p{(j + 1) % 4}")]
    return rows


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    rows = designed()
    c.register("t", pa.table({"trace": [r[0] for r in rows], "point": [r[1] for r in rows]}))
    return c


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_unicity_of_designed_traces_is_exact(con: duckdb.DuckDBPyConnection, seed: int) -> None:
    found = estimate_unicity(con, "SELECT * FROM t", ks=[1, 2, 3], sample=1000, seed=seed)
    by_k = {u.k: u for u in found}
    assert by_k[1].traces == 32 and by_k[1].sampled == 32
    assert (by_k[1].unique, by_k[1].eligible) == (10, 32)
    assert (by_k[2].unique, by_k[2].eligible) == (22, 32)
    assert by_k[2].share == pytest.approx(22 / 32)
    assert by_k[3].eligible == 0  # nobody has three points


def test_sampling_is_seeded_and_bounded(con: duckdb.DuckDBPyConnection) -> None:
    a = estimate_unicity(con, "SELECT * FROM t", ks=[2], sample=8, seed=9)
    b = estimate_unicity(con, "SELECT * FROM t", ks=[2], sample=8, seed=9)
    assert a == b and a[0].sampled == 8 and a[0].traces == 32


def _reads(rows: list[tuple[str, str, datetime]]) -> pa.Table:
    return pa.table(
        {
            "key_epoch": pa.array([1] * len(rows), pa.int32()),
            "vrm_pseudonym": pa.array([r[0].encode() for r in rows], pa.binary()),
            "camera_id": [r[1] for r in rows],
            "borough_gss": ["E09000001" if r[1] < "C3" else "E09000002" for r in rows],
            "captured_at": pa.array([r[2] for r in rows], pa.timestamp("us", tz="UTC")),
            "charge_day": pa.array([r[2].date() for r in rows], pa.date32()),
        }
    )


def test_coarser_resolutions_make_traces_less_unique() -> None:
    t0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    # v1 and v2 pass the same cameras minutes apart; v3 is alone at C3
    rows = [
        ("v1", "C1", t0),
        ("v1", "C2", t0 + timedelta(hours=1)),
        ("v2", "C1", t0 + timedelta(minutes=5)),
        ("v2", "C2", t0 + timedelta(hours=1, minutes=5)),
        ("v3", "C3", t0),
        ("v3", "C4", t0 + timedelta(hours=3)),
    ]
    con = duckdb.connect()
    con.register("reads", _reads(rows))

    def share(spatial: str, temporal: str, k: int = 2) -> float:
        rel = sightings_sql(
            "SELECT * FROM reads", spatial=spatial, temporal=temporal, rotation_days=1, anchor_day=0
        )
        return estimate_unicity(con, rel, ks=[k], sample=10, seed=1)[0].share

    assert share("camera", "exact") == 1.0
    assert share("camera", "hour") == pytest.approx(1 / 3)  # v1 and v2 now look the same
    # per borough and day each vehicle has one point: v1 and v2 share theirs, v3 does not
    assert share("borough", "day", k=1) == pytest.approx(1 / 3)


def test_shorter_key_rotation_cuts_traces_into_windows() -> None:
    start = date(2026, 11, 2)  # a Monday
    rows = []
    for d in range(4):  # v1 is seen at C1 every day at 08:00; v2 only on the first day
        at = datetime(start.year, start.month, start.day, 8, tzinfo=UTC) + timedelta(days=d)
        rows.append(("v1", "C1", at))
    rows.append(("v2", "C2", datetime(2026, 11, 2, 8, tzinfo=UTC)))
    con = duckdb.connect()
    con.register("reads", _reads(rows))
    anchor = (start - date(1970, 1, 1)).days

    def traces(period: int) -> int:
        rel = sightings_sql(
            "SELECT * FROM reads",
            spatial="camera",
            temporal="day",
            rotation_days=period,
            anchor_day=anchor,
        )
        return estimate_unicity(con, rel, ks=[1], sample=100, seed=1)[0].traces

    assert traces(1) == 5  # v1's four days are four unlinkable traces
    assert traces(2) == 3
    assert traces(7) == 2


def test_k_outside_the_mask_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError):
        estimate_unicity(con, "SELECT * FROM t", ks=[63], sample=10, seed=1)


def test_median_points_of_unique_traces_is_what_an_attacker_learns() -> None:
    con = duckdb.connect()
    rows = [("solo", f"p{i}") for i in range(7)] + [("t1", "q"), ("t2", "q")]
    con.register("t", pa.table({"trace": [r[0] for r in rows], "point": [r[1] for r in rows]}))
    one = estimate_unicity(con, "SELECT * FROM t", ks=[1], sample=10, seed=4)[0]
    assert (one.unique, one.eligible, one.median_points) == (1, 3, 7.0)
