"""The read store: day-partitioned, pseudonymised Parquet queried with DuckDB.

Layout (documented in docs/formats.md, the contract other engines rely on)::

    reads/charge_day=YYYY-MM-DD/part-<batch_id>-<n>.parquet   as ingested
    reads/charge_day=YYYY-MM-DD/compact-<op_id>.parquet       one sorted file after compaction
    reads/_staging/...                                        work in progress, never read

Every change that touches more than one file (publishing a batch, compacting or purging a day)
is journalled in the state database first, so that a crash at any point can be rolled forward or
back by `recover()` with no loss and no duplicate.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
from sqlalchemy import select

from ringfence.errors import InputError
from ringfence.faults import crash_point
from ringfence.stores.state import StateDB, StoreOperationRow

LONDON = ZoneInfo("Europe/London")
ROW_GROUP_ROWS = 100_000
READ_COLUMNS = (
    "read_id",
    "camera_id",
    "captured_at",
    "vrm_pseudonym",
    "key_epoch",
    "vrm_class",
    "confidence",
    "direction",
    "lane",
    "image_ref",
    "batch_id",
    "observed_make",
    "observed_type",
)
ADDED_COLUMNS = {"observed_make": "VARCHAR", "observed_type": "VARCHAR"}
"""Columns added to the store's files since its first release, with their types: files written
earlier lack them, and they read as NULL there."""


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the settings every Ringfence query relies on."""
    con = duckdb.connect(config={"threads": threads or os.cpu_count() or 1})
    # Timestamps are compared and written in UTC; charge days are derived explicitly.
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    # Footers of files already opened are kept: repeated look-ups skip re-reading them.
    con.execute("SET parquet_metadata_cache = true")
    return con


def sql_list(paths: Sequence[Path]) -> str:
    """A DuckDB list literal of file paths (paths are ours, but quote them properly anyway)."""
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def relation_columns(con: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    """The column names of ``relation``: a table, a view, or a query (`SELECT ...`)."""
    return {str(r[0]) for r in con.execute(f"DESCRIBE {relation}").fetchall()}


def charge_day_of(instant: datetime) -> date:
    return instant.astimezone(LONDON).date()


def as_utc(instant: datetime) -> datetime:
    """An instant given to a service, in UTC; a time without an offset is refused (ambiguous)."""
    if instant.tzinfo is None:
        raise InputError("times need a UTC offset")
    return instant.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class DayRewrite:
    """The outcome of rewriting one day's files into one."""

    day: date
    rows_in: int
    rows_out: int
    output: Path | None


class ReadStore:
    def __init__(self, reads_dir: Path, state: StateDB) -> None:
        self.reads_dir = reads_dir
        self.state = state

    @property
    def staging_dir(self) -> Path:
        return self.reads_dir / "_staging"

    def day_dir(self, day: date) -> Path:
        return self.reads_dir / f"charge_day={day.isoformat()}"

    def days(self) -> list[date]:
        if not self.reads_dir.exists():
            return []
        found = []
        for child in self.reads_dir.iterdir():
            if child.name.startswith("charge_day=") and any(child.glob("*.parquet")):
                found.append(date.fromisoformat(child.name.removeprefix("charge_day=")))
        return sorted(found)

    def files(self, day: date) -> list[Path]:
        return sorted(self.day_dir(day).glob("*.parquet"))

    def files_between(self, first: date, last: date) -> list[Path]:
        return [f for day in self.days() if first <= day <= last for f in self.files(day)]

    def all_files(self) -> list[Path]:
        return sorted(self.reads_dir.glob("charge_day=*/*.parquet"))

    def scan(self, files: Sequence[Path]) -> str:
        """SQL for a relation over these files with `charge_day` from the folder name."""
        # By name: a day can hold files written before a column was added (`ADDED_COLUMNS`).
        return f"read_parquet({sql_list(files)}, hive_partitioning = true, union_by_name = true)"

    # -- queries -------------------------------------------------------------------------
    def history(
        self,
        con: duckdb.DuckDBPyConnection,
        pseudonyms: Sequence[tuple[int, bytes, date, date]],
        start_at: datetime,
        end_at: datetime,
    ) -> pa.Table:
        """Reads of one vehicle: one (epoch, pseudonym, first_day, last_day) per live epoch."""
        parts: list[str] = []
        params: list[object] = []
        for epoch, pseudonym, first, last in pseudonyms:
            files = self.files_between(
                max(first, charge_day_of(start_at)), min(last, charge_day_of(end_at))
            )
            if not files:
                continue
            parts.append(
                f"SELECT * FROM {self.scan(files)} WHERE vrm_pseudonym = ? AND key_epoch = ? "
                "AND captured_at >= ? AND captured_at < ?"
            )
            params += [pseudonym, epoch, start_at, end_at]
        if not parts:
            return _empty_reads()
        sql = " UNION ALL ".join(parts) + " ORDER BY captured_at"
        return con.sql(sql, params=params).to_arrow_table()

    def at_cameras(
        self,
        con: duckdb.DuckDBPyConnection,
        camera_ids: Sequence[str],
        start_at: datetime,
        end_at: datetime,
    ) -> pa.Table:
        files = self.files_between(charge_day_of(start_at), charge_day_of(end_at))
        if not files or not camera_ids:
            return _empty_reads()
        return con.sql(
            f"SELECT * FROM {self.scan(files)} WHERE camera_id IN (SELECT unnest(?)) "
            "AND captured_at >= ? AND captured_at < ? ORDER BY captured_at, camera_id",
            params=[list(camera_ids), start_at, end_at],
        ).to_arrow_table()

    def counts(
        self,
        con: duckdb.DuckDBPyConnection,
        by: str,
        first: date,
        last: date,
        cameras: pa.Table,
    ) -> pa.Table:
        """Read counts per camera, borough or hour (Europe/London) over charge days."""
        files = self.files_between(first, last)
        group = {
            "camera": "r.camera_id",
            "borough": "coalesce(c.borough_gss, 'unknown')",
            "hour": "hour(timezone('Europe/London', r.captured_at))",
            "day": "r.charge_day",
            "network": "coalesce(c.network, 'unknown')",
        }[by]
        if not files:
            return pa.table({by: pa.array([], pa.string()), "reads": pa.array([], pa.int64())})
        con.register("cameras_lookup", cameras)
        try:
            return con.sql(
                f"SELECT {group} AS {by}, count(*) AS reads FROM {self.scan(files)} r "
                "LEFT JOIN cameras_lookup c USING (camera_id) GROUP BY 1 ORDER BY 1"
            ).to_arrow_table()
        finally:
            con.unregister("cameras_lookup")

    # -- crash-safe rewrites -------------------------------------------------------------
    def rewrite_day(
        self,
        con: duckdb.DuckDBPyConnection,
        day: date,
        *,
        kind: str,
        keep_where: str = "TRUE",
        params: Sequence[object] = (),
        now: datetime,
        on_commit: Callable[[int, int], None] | None = None,
    ) -> DayRewrite:
        """Replace a day's files by one file sorted for look-ups, keeping rows `keep_where`.

        Journalled: the operation row lists the inputs and names the output before anything is
        written; the output appears by one atomic rename; then inputs are deleted. `recover`
        finishes or undoes an interrupted rewrite. `on_commit(rows_in, rows_out)` runs inside the
        transaction that marks it done, so its own records commit with it.
        """
        inputs = self.files(day)
        if not inputs:
            return DayRewrite(day, 0, 0, None)
        op_id = uuid.uuid4().hex[:16]
        output = self.day_dir(day) / f"compact-{op_id}.parquet"
        staged = self.staging_dir / f"op-{op_id}" / output.name
        with self.state.session() as s:
            s.add(
                StoreOperationRow(
                    op_id=op_id,
                    kind=kind,
                    status="started",
                    charge_day=day,
                    inputs=[str(p) for p in inputs],
                    output=str(output),
                    started_at=now,
                )
            )
        staged.parent.mkdir(parents=True, exist_ok=True)
        rows_in = con.execute(f"SELECT count(*) FROM read_parquet({sql_list(inputs)})").fetchone()
        assert rows_in is not None
        columns = read_columns_sql(con, inputs)
        con.execute(
            f"COPY (SELECT {columns} FROM read_parquet({sql_list(inputs)}, union_by_name = true) "
            f"WHERE {keep_where} "
            f"ORDER BY vrm_pseudonym, captured_at) TO '{staged}' "
            f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS})",
            list(params),
        )
        rows_out = con.execute(f"SELECT count(*) FROM read_parquet('{staged}')").fetchone()
        assert rows_out is not None
        if rows_out[0] == 0:
            staged.unlink()
            final: Path | None = None
        else:
            fsync_file(staged)
            os.replace(staged, output)
            final = output
            crash_point("rewrite-published")
        for path in inputs:
            path.unlink(missing_ok=True)
        shutil.rmtree(staged.parent, ignore_errors=True)
        with self.state.session() as s:
            row = s.get(StoreOperationRow, op_id)
            assert row is not None
            row.status = "done"
            row.finished_at = datetime.now(UTC)
            if on_commit is not None:
                on_commit(int(rows_in[0]), int(rows_out[0]))
        return DayRewrite(day, int(rows_in[0]), int(rows_out[0]), final)

    def recover_operations(self) -> list[str]:
        """Finish or undo rewrites a crash interrupted. Returns what was done, for the log."""
        done: list[str] = []
        with self.state.session() as s:
            pending = s.scalars(
                select(StoreOperationRow).where(StoreOperationRow.status == "started")
            ).all()
            for op in pending:
                output = Path(op.output) if op.output else None
                if output is not None and output.exists():
                    # The new file was published: the old ones must go, or rows would double.
                    for name in op.inputs:
                        Path(name).unlink(missing_ok=True)
                    op.status = "done"
                    done.append(f"{op.kind} {op.op_id}: completed")
                else:
                    op.status = "abandoned"
                    done.append(f"{op.kind} {op.op_id}: abandoned, inputs kept")
                op.finished_at = datetime.now(UTC)
                shutil.rmtree(self.staging_dir / f"op-{op.op_id}", ignore_errors=True)
        return done


def read_columns_sql(
    con: duckdb.DuckDBPyConnection, files: Sequence[Path], columns: Sequence[str] = READ_COLUMNS
) -> str:
    """A select list of ``columns`` over ``files`` read with ``union_by_name``: a column added
    since every one of them was written (`ADDED_COLUMNS`) is NULL, not an error."""
    present = relation_columns(
        con, f"SELECT * FROM read_parquet({sql_list(files)}, union_by_name = true)"
    )
    return ", ".join(
        c if c in present or c not in ADDED_COLUMNS else f"NULL::{ADDED_COLUMNS[c]} AS {c}"
        for c in columns
    )


def fsync_file(path: Path) -> None:
    """Flush a file to disk before it is published by rename."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _empty_reads() -> pa.Table:
    return pa.table(
        {
            "read_id": pa.array([], pa.string()),
            "camera_id": pa.array([], pa.string()),
            "captured_at": pa.array([], pa.timestamp("us", tz="UTC")),
            "vrm_pseudonym": pa.array([], pa.binary()),
            "key_epoch": pa.array([], pa.int32()),
            "vrm_class": pa.array([], pa.string()),
            "confidence": pa.array([], pa.float64()),
            "direction": pa.array([], pa.string()),
            "lane": pa.array([], pa.int16()),
            "image_ref": pa.array([], pa.string()),
            "batch_id": pa.array([], pa.string()),
            "observed_make": pa.array([], pa.string()),
            "observed_type": pa.array([], pa.string()),
            "charge_day": pa.array([], pa.date32()),
        }
    )


def london_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which a Europe/London charge day starts and ends (23, 24 or 25 h)."""
    start = datetime(day.year, day.month, day.day, tzinfo=LONDON)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=LONDON)
    return start.astimezone(UTC), end.astimezone(UTC)
