"""The read store is a contract: another engine reads it from the documented layout alone."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from ringfence.services.ingest import ingest_file
from ringfence.stores.readstore import READ_COLUMNS
from ringfence.workspace import Workspace
from support import write_reads

ROWS = [
    {
        "read_id": f"r{i}",
        "camera_id": "C1",
        "captured_at": f"2026-11-2{6 + i % 2}T0{i}:00:00Z",
        "plate": plate,
        "confidence": 0.9,
    }
    for i, plate in enumerate(["AB12CDE", "LX73ABC", "M123ABC", "AB12CDE", "GU05XYZ"])
]


def test_pyarrow_reads_the_store_by_the_documented_layout(
    ws: Workspace, tmp_path: Path, now: datetime
) -> None:
    ingest_file(ws, write_reads(tmp_path / "r.csv", ROWS), now=now)
    (ws.reads.staging_dir / "junk").mkdir(parents=True)  # work in progress must be ignored
    pq.write_table(pa.table({"x": [1]}), ws.reads.staging_dir / "junk" / "x.parquet")

    table = ds.dataset(ws.settings.reads_dir, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == len(ROWS)
    assert set(READ_COLUMNS) | {"charge_day"} == set(table.column_names)
    days = {str(d) for d in table.column("charge_day").to_pylist()}
    assert days == {"2026-11-26", "2026-11-27"}
    assert pa.types.is_binary(table.schema.field("vrm_pseudonym").type)
    assert {len(p) for p in table.column("vrm_pseudonym").to_pylist()} == {16}
    assert table.schema.field("captured_at").type == pa.timestamp("us", tz="UTC")


def test_each_file_is_sorted_for_lookups(ws: Workspace, tmp_path: Path, now: datetime) -> None:
    ingest_file(ws, write_reads(tmp_path / "a.csv", ROWS[:3]), now=now)
    ingest_file(ws, write_reads(tmp_path / "b.csv", ROWS[3:]), now=now)
    for day in ws.reads.days():
        (only,) = ws.reads.files(day)  # a second batch for the day was merged
        t = pq.read_table(only, columns=["vrm_pseudonym", "captured_at"]).to_pylist()
        keys = [(r["vrm_pseudonym"], r["captured_at"]) for r in t]
        assert keys == sorted(keys), day
    assert ws.reads.days() == [date(2026, 11, 26), date(2026, 11, 27)]


def test_an_open_day_stays_in_arrival_order_until_it_closes(
    ws: Workspace, tmp_path: Path, now: datetime
) -> None:
    from datetime import timedelta

    from ringfence.services.ingest import closed_days, compact_days

    today = now.date().isoformat()  # 2026-11-28, still open at 12:00
    rows = [{**r, "captured_at": today + str(r["captured_at"])[10:]} for r in ROWS]
    ingest_file(ws, write_reads(tmp_path / "today.csv", rows), now=now)
    (part,) = ws.reads.files(now.date())
    assert part.name.startswith("part-")
    assert closed_days(ws, now=now) == []
    # the day ends at midnight; two hours later (the default settle time) it is closed
    later = datetime.fromisoformat("2026-11-29T02:00:00+00:00")
    assert closed_days(ws, now=later - timedelta(seconds=1)) == []
    assert closed_days(ws, now=later) == [now.date()]
    assert compact_days(ws, closed_days(ws, now=later), now=later) == 1
    (merged,) = ws.reads.files(now.date())
    assert merged.name.startswith("compact-")
    assert compact_days(ws, [now.date()], now=later) == 0  # nothing left to do
