"""Ingest: every refusal reason, reconciliation, idempotency, formats, charge-day partitions."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ringfence.errors import InputError, SchemaError
from ringfence.services.ingest import ingest_file
from ringfence.services.quarantine import list_quarantine
from ringfence.services.reads import store_summary, vrm_history
from ringfence.stores.state import IngestBatchRow, QuarantineRow
from ringfence.workspace import Workspace
from support import write_reads

GOOD = [
    {
        "read_id": "g1",
        "camera_id": "C1",
        "captured_at": "2026-11-27T08:00:00+00:00",
        "plate": "AB12 CDE",
        "confidence": 0.97,
        "direction": "in",
        "lane": 1,
        "image_ref": "img://C1/g1",
    },
    {
        "read_id": "g2",
        "camera_id": "C2",
        "captured_at": "2026-11-27T08:05:00Z",
        "plate": "ab12cde",
        "confidence": 0.95,
    },
    {
        "read_id": None,
        "camera_id": "C1",
        "captured_at": "2026-11-27T09:00:00+00:00",
        "plate": "LX73 ABC",
        "confidence": 0.9,
        "direction": "out",
    },
    {
        "read_id": "g4",
        "camera_id": "C3",
        "captured_at": "2026-11-27T23:30:00-01:00",
        "plate": "M123 ABC",
        "confidence": 0.88,
    },
]
BAD = {
    "missing_camera": {
        "camera_id": "",
        "captured_at": "2026-11-27T08:00:00Z",
        "plate": "AB12CDE",
        "confidence": 0.9,
    },
    "missing_time": {"camera_id": "C1", "captured_at": "", "plate": "AB12CDE", "confidence": 0.9},
    "naive_time": {
        "camera_id": "C1",
        "captured_at": "2026-11-27T08:00:00",
        "plate": "AB12CDE",
        "confidence": 0.9,
    },
    "bad_time": {
        "camera_id": "C1",
        "captured_at": "yesterday at 8",
        "plate": "AB12CDE",
        "confidence": 0.9,
    },
    "future_time": {
        "camera_id": "C1",
        "captured_at": "2026-11-29T08:00:00Z",
        "plate": "AB12CDE",
        "confidence": 0.9,
    },
    "too_old": {
        "camera_id": "C1",
        "captured_at": "2026-01-01T08:00:00Z",
        "plate": "AB12CDE",
        "confidence": 0.9,
    },
    "unknown_camera": {
        "camera_id": "C99",
        "captured_at": "2026-11-27T08:00:00Z",
        "plate": "AB12CDE",
        "confidence": 0.9,
    },
    "camera_not_in_service": {
        "camera_id": "C4",
        "captured_at": "2026-11-27T08:00:00Z",
        "plate": "AB12CDE",
        "confidence": 0.9,
    },
    "bad_confidence": {
        "camera_id": "C1",
        "captured_at": "2026-11-27T08:00:00Z",
        "plate": "AB12CDE",
        "confidence": 1.5,
    },
    "bad_lane": {
        "camera_id": "C1",
        "captured_at": "2026-11-27T08:00:00Z",
        "plate": "AB12CDE",
        "confidence": 0.9,
        "lane": "left",
    },
    "no_plate": {
        "camera_id": "C1",
        "captured_at": "2026-11-27T08:00:00Z",
        "plate": "",
        "confidence": 0.3,
    },
    "unreadable_plate": {
        "camera_id": "C1",
        "captured_at": "2026-11-27T08:00:00Z",
        "plate": "AB1?",
        "confidence": 0.4,
    },
    "bad_read_id": {
        "read_id": "x" * 65,
        "camera_id": "C1",
        "captured_at": "2026-11-27T08:00:00Z",
        "plate": "AB12CDE",
        "confidence": 0.9,
    },
}


def _rows() -> list[dict[str, object]]:
    bad = [{"read_id": f"b-{k}", **v} for k, v in BAD.items()]
    bad[-1]["read_id"] = "x" * 65
    return GOOD + bad


def _stored(ws: Workspace) -> pa.Table:
    files = ws.reads.all_files()
    return duckdb.sql(f"SELECT * FROM {ws.reads.scan(files)} ORDER BY read_id").to_arrow_table()


def test_every_refusal_reason_is_quarantined_and_counts_reconcile(
    ws: Workspace, tmp_path: Path, now: datetime
) -> None:
    report = ingest_file(ws, write_reads(tmp_path / "r.csv", _rows()), now=now)
    assert report.received == len(GOOD) + len(BAD)
    assert report.stored == len(GOOD)
    assert report.duplicates == 0
    assert report.quarantine_by_reason == {k: 1 for k in BAD}
    assert report.reconciles
    with ws.state.session() as s:
        reasons = {r.reason: r.row_number for r in s.scalars(select(QuarantineRow))}
    # row numbers are 1-based positions in the file, good rows first
    assert reasons["missing_camera"] == len(GOOD) + 1


def test_quarantined_row_keeps_the_original_sealed(ws: Workspace, tmp_path: Path, now: datetime):
    ingest_file(ws, write_reads(tmp_path / "r.csv", _rows()), now=now)
    with ws.state.session() as s:
        row = s.scalars(
            select(QuarantineRow).where(QuarantineRow.reason == "unreadable_plate")
        ).one()
        assert b"AB1?" not in row.sealed_row  # the clear plate is not readable at rest
    (shown,) = list_quarantine(ws, reason="unreadable_plate", reveal=True)
    assert shown.original is not None
    assert (shown.original["plate"], shown.original["camera_id"]) == ("AB1?", "C1")
    assert shown.row_number == len(GOOD) + list(BAD).index("unreadable_plate") + 1
    (hidden,) = list_quarantine(ws, reason="unreadable_plate")
    assert hidden.original is None


def test_store_holds_no_clear_vrm_and_recovers_it_from_the_vault(
    ws: Workspace, tmp_path: Path, now: datetime
) -> None:
    ingest_file(ws, write_reads(tmp_path / "r.csv", GOOD), now=now)
    for path in [*ws.reads.all_files(), *ws.settings.vault_dir.rglob("*.parquet")]:
        blob = path.read_bytes()
        for vrm in (b"AB12CDE", b"LX73ABC", b"M123ABC"):
            assert vrm not in blob, f"{vrm!r} in clear in {path}"
    stored = _stored(ws)
    epoch = stored.column("key_epoch")[0].as_py()
    keys = ws.keys.keys(epoch)
    pseudonym = keys.pseudonymise(["AB12CDE"])[0]
    assert ws.vault.recover(keys, [pseudonym]) == {pseudonym: "AB12CDE"}


def test_normalised_plates_share_one_pseudonym(ws: Workspace, tmp_path: Path, now: datetime):
    ingest_file(ws, write_reads(tmp_path / "r.csv", GOOD), now=now)
    by_id = {r["read_id"]: r["vrm_pseudonym"] for r in _stored(ws).to_pylist()}
    assert by_id["g1"] == by_id["g2"]  # "AB12 CDE" and "ab12cde"
    assert by_id["g1"] != by_id["g4"]


def test_same_file_twice_stores_nothing_twice(ws: Workspace, tmp_path: Path, now: datetime):
    path = write_reads(tmp_path / "r.csv", _rows())
    first = ingest_file(ws, path, now=now)
    second = ingest_file(ws, path, now=now)
    assert second.stored == 0 and second.quarantined == 0
    assert second.duplicates == second.received == first.received
    assert second.reconciles
    assert _stored(ws).num_rows == len(GOOD)
    with ws.state.session() as s:
        assert len(s.scalars(select(QuarantineRow)).all()) == len(BAD)


def test_overlapping_files_store_each_read_once(ws: Workspace, tmp_path: Path, now: datetime):
    a = write_reads(tmp_path / "a.csv", GOOD[:3])
    b = write_reads(tmp_path / "b.csv", GOOD[1:])
    ingest_file(ws, a, now=now)
    report = ingest_file(ws, b, now=now)
    assert (report.stored, report.duplicates) == (1, 2)
    assert _stored(ws).num_rows == len(GOOD)


def test_derived_read_id_is_deterministic_and_keyed(ws: Workspace, tmp_path: Path, now: datetime):
    row = {**GOOD[2]}
    ingest_file(ws, write_reads(tmp_path / "a.csv", [row]), now=now)
    report = ingest_file(ws, write_reads(tmp_path / "b.jsonl", [row]), now=now)
    assert report.duplicates == 1
    (read_id,) = _stored(ws).column("read_id").to_pylist()
    assert read_id.startswith("d-") and len(read_id) == 26


def test_reused_read_id_for_a_different_read_is_a_conflict(
    ws: Workspace, tmp_path: Path, now: datetime
) -> None:
    ingest_file(ws, write_reads(tmp_path / "a.csv", GOOD[:1]), now=now)
    other = {**GOOD[0], "plate": "LX73ABC"}  # g1 again, but another vehicle
    same_batch = [GOOD[1], {**GOOD[1], "camera_id": "C1"}]
    report = ingest_file(ws, write_reads(tmp_path / "b.csv", [other, *same_batch]), now=now)
    assert report.quarantine_by_reason == {"read_id_conflict": 2}
    assert report.stored == 1
    assert report.reconciles


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_formats_store_the_same_reads_as_csv(
    tmp_path: Path, cameras_csv: Path, now: datetime, suffix: str
) -> None:
    from ringfence.services.cameras import import_cameras

    results = []
    for name, sfx in (("csv", ".csv"), ("other", suffix)):
        w = Workspace.open(tmp_path / name)
        import_cameras(w, cameras_csv)
        report = ingest_file(w, write_reads(tmp_path / f"in{sfx}", GOOD), now=now)
        assert report.stored == len(GOOD)
        t = _stored(w)
        # Derived ids are keyed per workspace, so compare them only by form.
        results.append(
            sorted(
                (
                    "derived" if r["read_id"].startswith("d-") else r["read_id"],
                    r["captured_at"],
                    r["camera_id"],
                    r["confidence"],
                    r["lane"],
                )
                for r in t.to_pylist()
            )
        )
    assert results[0] == results[1]


def test_parquet_with_zoned_and_naive_timestamps(ws: Workspace, tmp_path: Path, now: datetime):
    zoned = pa.table(
        {
            "camera_id": ["C1"],
            "plate": ["AB12CDE"],
            "confidence": [0.9],
            "captured_at": pa.array(
                [datetime(2026, 11, 27, 8, tzinfo=now.tzinfo)], pa.timestamp("us", tz="UTC")
            ),
        }
    )
    naive = zoned.set_column(
        3, "captured_at", pa.array([datetime(2026, 11, 27, 8)], pa.timestamp("us"))
    )
    pq.write_table(zoned, tmp_path / "z.parquet")
    pq.write_table(naive, tmp_path / "n.parquet")
    assert ingest_file(ws, tmp_path / "z.parquet", now=now).stored == 1
    assert ingest_file(ws, tmp_path / "n.parquet", now=now).quarantine_by_reason == {
        "naive_time": 1
    }


def test_charge_day_is_the_london_calendar_day(ws: Workspace, tmp_path: Path, now: datetime):
    rows = [
        # In winter London is on GMT: 23:30 UTC on 27 Nov is still 27 Nov ...
        {
            "read_id": "w",
            "camera_id": "C1",
            "captured_at": "2026-11-27T23:30:00Z",
            "plate": "AB12CDE",
            "confidence": 0.9,
        },
        # ... and an instant given with another offset is placed by its UTC value.
        {
            "read_id": "s",
            "camera_id": "C1",
            "captured_at": "2026-11-26T23:59:59.999+00:00",
            "plate": "AB12CDE",
            "confidence": 0.9,
        },
        {
            "read_id": "o",
            "camera_id": "C1",
            "captured_at": "2026-11-27T00:30:00+01:00",
            "plate": "AB12CDE",
            "confidence": 0.9,
        },
    ]
    ingest_file(ws, write_reads(tmp_path / "r.csv", rows), now=now)
    days = {r["read_id"]: r["charge_day"] for r in _stored(ws).to_pylist()}
    assert days == {"w": date(2026, 11, 27), "s": date(2026, 11, 26), "o": date(2026, 11, 26)}


def test_charge_day_across_the_bst_boundary(tmp_path: Path, cameras_csv: Path):
    from ringfence.services.cameras import import_cameras

    summer_now = datetime.fromisoformat("2026-07-02T12:00:00+00:00")
    w = Workspace.open(tmp_path / "summer")
    import_cameras(w, cameras_csv)
    rows = [
        {
            "read_id": "late",
            "camera_id": "C1",
            "captured_at": "2026-07-01T23:30:00Z",
            "plate": "AB12CDE",
            "confidence": 0.9,
        },  # 00:30 BST on 2 July
        {
            "read_id": "early",
            "camera_id": "C1",
            "captured_at": "2026-07-01T22:59:59Z",
            "plate": "AB12CDE",
            "confidence": 0.9,
        },  # 23:59:59 BST on 1 July
    ]
    ingest_file(w, write_reads(tmp_path / "r.csv", rows), now=summer_now)
    days = {r["read_id"]: r["charge_day"] for r in _stored(w).to_pylist()}
    assert days == {"late": date(2026, 7, 2), "early": date(2026, 7, 1)}
    assert [d.isoformat() for d in w.reads.days()] == ["2026-07-01", "2026-07-02"]


def test_unreadable_and_schemaless_files_fail_clearly_and_leave_nothing(
    ws: Workspace, tmp_path: Path, now: datetime
) -> None:
    bad = tmp_path / "r.csv"
    bad.write_text("camera_id,plate\nC1,AB12CDE\n")
    with pytest.raises(SchemaError, match="captured_at"):
        ingest_file(ws, bad, now=now)
    with pytest.raises(InputError, match="no such file"):
        ingest_file(ws, tmp_path / "missing.csv", now=now)
    unknown = tmp_path / "r.txt"
    unknown.write_text(bad.read_text())
    with pytest.raises(InputError, match="format"):
        ingest_file(ws, unknown, now=now)
    with ws.state.session() as s:
        assert [b.status for b in s.scalars(select(IngestBatchRow))] == ["failed"]
    assert ws.reads.all_files() == []
    assert list(ws.reads.staging_dir.glob("*")) == []


def test_history_finds_a_vrm_in_any_spelling(ws: Workspace, tmp_path: Path, now: datetime):
    ingest_file(ws, write_reads(tmp_path / "r.csv", GOOD), now=now)
    start = now - timedelta(days=2)
    found = vrm_history(ws, "ab-12 cde", start, now)
    assert found.reads.column("read_id").to_pylist() == ["g1", "g2"]
    assert vrm_history(ws, "AB12CDF", start, now).reads.num_rows == 0
    summary = store_summary(ws)
    # g4 was taken at 23:30 at UTC-1, which is 00:30 on the 28th in London
    assert summary.reads == len(GOOD) and summary.days == ["2026-11-27", "2026-11-28"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "camera_id": st.sampled_from(["C1", "C2", "C3", "C4", "C9", ""]),
                "captured_at": st.sampled_from(
                    [
                        "2026-11-27T08:00:00Z",
                        "2026-11-27T08:00:01+01:00",
                        "2026-11-27T08:00",
                        "nonsense",
                        "2026-11-30T00:00:00Z",
                    ]
                ),
                "plate": st.sampled_from(["AB12CDE", "LX73ABC", "AB1?", "", "M123ABC"]),
                "confidence": st.sampled_from([0.9, 0.5, -1, 2, "x"]),
            }
        ),
        max_size=30,
    )
)
def test_counts_always_reconcile(
    tmp_path_factory: pytest.TempPathFactory, rows: list[dict], cameras_csv: Path, now: datetime
) -> None:
    from ringfence.services.cameras import import_cameras

    base = tmp_path_factory.mktemp("prop")
    w = Workspace.open(base / "data")
    import_cameras(w, cameras_csv)
    path = write_reads(base / "r.csv", rows)
    for _ in range(2):  # and again: the second pass is all duplicates
        report = ingest_file(w, path, now=now)
        assert report.received == len(rows)
        assert report.reconciles
    assert report.stored == 0
    files = w.reads.all_files()
    stored = (
        duckdb.execute(f"SELECT count(*) FROM {w.reads.scan(files)}").fetchall()[0][0]
        if files
        else 0
    )
    with w.state.session() as s:
        quarantined = len(s.scalars(select(QuarantineRow)).all())
    assert stored + quarantined <= len(rows)
    w.close()


# -- observed make and type (make and model recognition) -----------------------------------
OBSERVED = [
    {**GOOD[0], "observed_make": "  ford ", "observed_type": "Car"},
    {**GOOD[1], "observed_make": "", "observed_type": "spaceship"},  # an unknown class
    {**GOOD[2], "observed_make": None, "observed_type": None},
    {**GOOD[3], "observed_make": "Mercedes-Benz", "observed_type": " HGV "},
]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_observed_make_and_type_are_stored_normalised(
    ws: Workspace, tmp_path: Path, now: datetime, suffix: str
) -> None:
    report = ingest_file(ws, write_reads(tmp_path / f"o{suffix}", OBSERVED), now=now)
    # an observed type outside the vocabulary is no observation, never a refusal
    assert (report.stored, report.quarantined, report.reconciles) == (4, 0, True)
    stored = _stored(ws)
    seen = [(r["observed_make"], r["observed_type"]) for r in stored.to_pylist()]
    assert sorted(seen, key=str) == sorted(
        [("FORD", "car"), (None, None), (None, None), ("MERCEDES-BENZ", "hgv")], key=str
    )


def test_files_without_observations_store_nulls(ws: Workspace, tmp_path: Path, now: datetime):
    ingest_file(ws, write_reads(tmp_path / "r.csv", GOOD), now=now)
    stored = _stored(ws)
    assert stored.column("observed_make").null_count == stored.num_rows
    assert stored.column("observed_type").null_count == stored.num_rows


def test_observed_columns_are_last_in_the_stored_files(
    ws: Workspace, tmp_path: Path, now: datetime
) -> None:
    ingest_file(ws, write_reads(tmp_path / "o.csv", OBSERVED), now=now)
    for path in ws.reads.all_files():
        assert pq.read_schema(path).names[-2:] == ["observed_make", "observed_type"]


def test_a_day_with_files_from_before_the_observed_columns_still_reads_and_compacts(
    ws: Workspace, tmp_path: Path, now: datetime
) -> None:
    ingest_file(ws, write_reads(tmp_path / "o.csv", OBSERVED[:1]), now=now, compact=False)
    (day_dir,) = {p.parent for p in ws.reads.all_files()}
    # a file as written before the columns existed, sorting first in the day
    old = pq.read_table(ws.reads.all_files()[0]).drop_columns(["observed_make", "observed_type"])
    pq.write_table(
        old.set_column(0, "read_id", pa.array(["old-1"])), day_dir / "compact-0000.parquet"
    )
    assert {r["read_id"]: r["observed_make"] for r in _stored(ws).to_pylist()} == {
        "old-1": None,
        "g1": "FORD",
    }
    day = date.fromisoformat(day_dir.name.removeprefix("charge_day="))
    con = ws.engine()
    try:
        ws.reads.rewrite_day(con, day, kind="compact", now=now)
    finally:
        con.close()
    (merged,) = ws.reads.all_files()
    assert pq.read_schema(merged).names[-2:] == ["observed_make", "observed_type"]
    assert sorted(pq.read_table(merged).column("observed_make").to_pylist(), key=str) == [
        "FORD",
        None,
    ]


def test_charge_day_of_every_instant_around_the_clock_changes(tmp_path: Path, cameras_csv: Path):
    # The store derives each read's charge day through its quarter hour (see parse_reads);
    # every 7 min 13.5 s across both 2026 clock changes and the midnights around them must
    # land on the London calendar day that zoneinfo gives.
    from zoneinfo import ZoneInfo

    from ringfence.services.cameras import import_cameras

    w = Workspace.open(tmp_path / "dst")
    import_cameras(w, cameras_csv)
    starts = [datetime.fromisoformat("2026-03-28T21:00:00+00:00")]
    starts.append(datetime.fromisoformat("2026-10-24T21:00:00+00:00"))
    instants = [s + timedelta(seconds=433.5 * i) for s in starts for i in range(60)]
    rows: list[dict[str, object]] = [
        {
            "read_id": f"r{i}",
            "camera_id": "C1",
            "captured_at": t.isoformat(),
            "plate": "AB12CDE",
            "confidence": 0.9,
        }
        for i, t in enumerate(instants)
    ]
    for part, now in ((rows[:60], "2026-03-30T12:00:00+00:00"), (rows[60:], "2026-10-26T12:00Z")):
        path = write_reads(tmp_path / f"r{now[:7]}.csv", part)
        ingest_file(w, path, now=datetime.fromisoformat(now))
    days = {r["read_id"]: r["charge_day"] for r in _stored(w).to_pylist()}
    london = ZoneInfo("Europe/London")
    assert days == {f"r{i}": t.astimezone(london).date() for i, t in enumerate(instants)}
