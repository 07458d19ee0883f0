"""Ingest camera reads: validate, quarantine, pseudonymise, deduplicate, store. Loses nothing.

One batch is one input file. The work is vectorised in DuckDB; Python touches each *distinct*
VRM once (to key its pseudonym and seal it into the vault) and each *quarantined* row once (to
seal it), never each read.

Crash safety: the batch is recorded as `started` before anything is written; every file it
writes carries its batch id in its name and is staged, then published by atomic renames; the
quarantine rows and the counts commit in one transaction that marks the batch `committed`. A
batch found `started` (the process died) is rolled back, its published files removed, before the
next ingest, so re-running the same file after a kill -9 stores every read exactly once.

Counts always reconcile: received = stored + duplicates + quarantined.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy import select

from ringfence.domain.observations import observed_make_sql, observed_type_sql
from ringfence.domain.reads import normalise_sql, plate_class_sql
from ringfence.errors import InputError, SchemaError, StateError
from ringfence.faults import crash_point
from ringfence.services.hotlist import match_batch
from ringfence.services.quarantine import associated_data
from ringfence.stores.keys import pseudonym_sql
from ringfence.stores.readstore import fsync_file, london_day_bounds, sql_list
from ringfence.stores.state import IngestBatchRow, QuarantineRow, bulk_insert
from ringfence.workspace import Workspace

Progress = Callable[[str, int, int], None]
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
FORMATS |= {".parquet": "parquet"}
STAGES = 7  # reading, keying, validating, sealing, deduplicating, writing, quarantining
RAW_COLUMNS = (
    "read_id",
    "camera_id",
    "captured_at",
    "plate",
    "confidence",
    "direction",
    "lane",
    "image_ref",
    "observed_make",
    "observed_type",
)
REQUIRED = ("camera_id", "captured_at", "plate", "confidence")
ISO_WITH_OFFSET = (
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)$"
)


@dataclass(frozen=True, slots=True)
class IngestReport:
    batch_id: str
    source: str
    received: int
    stored: int
    duplicates: int
    quarantined: int
    quarantine_by_reason: dict[str, int]
    charge_days: list[str]
    seconds: float
    recovered: list[str] = field(default_factory=list)
    hotlist_hits: list[str] = field(default_factory=list)
    """Alerts raised by real-time hotlist matching of this batch (pending confirmation)."""

    @property
    def reconciles(self) -> bool:
        return self.received == self.stored + self.duplicates + self.quarantined

    def as_dict(self) -> dict[str, object]:
        return {
            "batch_id": self.batch_id,
            "source": self.source,
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "quarantine_by_reason": self.quarantine_by_reason,
            "charge_days": self.charge_days,
            "seconds": round(self.seconds, 3),
            "reconciles": self.reconciles,
            "recovered": self.recovered,
            "hotlist_hits": self.hotlist_hits,
        }


def detect_format(path: Path, declared: str | None = None) -> str:
    if declared:
        if declared not in {"csv", "jsonl", "parquet"}:
            raise InputError(f"unknown reads format {declared!r}: use csv, jsonl or parquet")
        return declared
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: cannot tell the format from the suffix; pass --format")
    return fmt


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- loading ------------------------------------------------------------------------------
def load_reads(con: duckdb.DuckDBPyConnection, path: Path, fmt: str) -> dict[str, str]:
    """Create temp table `src`: one row per input row, `rn` its 1-based position in the file.

    Columns keep the types the file gives them (a Parquet timestamp stays a timestamp), so a
    well-typed file is never rendered to text and parsed back. Returns each column's type.
    """
    p = str(path).replace("'", "''")
    try:
        if fmt == "csv":
            source = f"read_csv('{p}', header = true, all_varchar = true, auto_detect = true)"
        elif fmt == "jsonl":
            source = f"read_json('{p}', format = 'newline_delimited', records = true)"
        else:
            source = f"read_parquet('{p}')"
        con.execute(f"CREATE OR REPLACE TEMP VIEW src_file AS SELECT * FROM {source}")
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'src_file'"
            ).fetchall()
        )
    except duckdb.Error as exc:
        raise InputError(f"{path}: cannot be read as {fmt}: {exc}") from exc
    missing = [c for c in REQUIRED if c not in types]
    if missing:
        raise SchemaError(
            f"{path}: missing required read columns: {', '.join(missing)} "
            f"(found: {', '.join(sorted(types)) or 'none'})"
        )
    cols = [name if name in types else f"NULL::VARCHAR AS {name}" for name in RAW_COLUMNS]
    if fmt == "parquet":
        # Parquet knows each row's position: a view costs nothing and re-reads fast.
        con.execute(
            "CREATE OR REPLACE TEMP VIEW src AS SELECT file_row_number + 1 AS rn, "
            + ", ".join(cols)
            + f" FROM read_parquet('{p}', file_row_number = true)"
        )
        return {name: types.get(name, "VARCHAR") for name in RAW_COLUMNS}
    # Text formats: row order is the file's order only while DuckDB preserves insertion order.
    con.execute("SET preserve_insertion_order = true")
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE src AS SELECT row_number() OVER () AS rn, "
            + ", ".join(cols)
            + " FROM src_file"
        )
    except duckdb.Error as exc:
        raise InputError(f"{path}: cannot be read as {fmt}: {exc}") from exc
    finally:
        con.execute("SET preserve_insertion_order = false")
    return {name: types.get(name, "VARCHAR") for name in RAW_COLUMNS}


def _text(column: str) -> str:
    return f"NULLIF(trim(CAST({column} AS VARCHAR)), '')"


def _time_sql(kind: str) -> tuple[str, str, str]:
    """(parsed instant, has an offset, is missing) for the captured_at column's type."""
    if kind.startswith("TIMESTAMP WITH TIME ZONE"):
        return "s.captured_at", "TRUE", "s.captured_at IS NULL"
    if kind.startswith("TIMESTAMP"):
        # A naive timestamp: parsed only so the row can be refused as naive, never stored.
        return "CAST(s.captured_at AS TIMESTAMPTZ)", "FALSE", "s.captured_at IS NULL"
    text = _text("s.captured_at")
    return (
        f"TRY_CAST({text} AS TIMESTAMPTZ)",
        f"regexp_full_match({text}, '{ISO_WITH_OFFSET}')",
        f"{text} IS NULL",
    )


def parse_reads(
    con: duckdb.DuckDBPyConnection,
    types: dict[str, str],
    *,
    as_of: date,
    window: tuple[datetime, datetime],
) -> list[date]:
    """Views `parsed` (typed fields) and table `plates` (each distinct plate text normalised
    and classified: regex work done once per plate, not per read). Returns the charge days of
    the reads whose time could be accepted, so their key epochs can be readied."""
    instant, has_offset, no_time = _time_sql(types["captured_at"])
    lane_given = (
        "s.lane IS NOT NULL" if types["lane"] != "VARCHAR" else f"{_text('s.lane')} IS NOT NULL"
    )
    # The charge day of each read, through its quarter hour: a time-zone conversion per read
    # cost a full day's ingest seconds, while a batch spans a few hundred quarter hours. Exact
    # because UTC offsets (London's included) are whole quarter hours and change on one.
    quarter = f"CASE WHEN isfinite({instant}) THEN floor(epoch_us({instant}) / 9e8)::BIGINT END"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE quarter_days AS
        SELECT q, CAST(timezone('Europe/London', to_timestamp(q * 900)) AS DATE) AS charge_day
        FROM (SELECT DISTINCT {quarter} AS q FROM src s) WHERE q IS NOT NULL
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW parsed AS
        SELECT s.rn,
               {_text("s.read_id")} AS vendor_read_id,
               {_text("s.camera_id")} AS camera_id,
               {instant} AS captured_at,
               {has_offset} AS has_offset,
               {no_time} AS no_time,
               TRY_CAST(s.confidence AS DOUBLE) AS confidence,
               {_text("s.direction")} AS direction,
               TRY_CAST(s.lane AS SMALLINT) AS lane,
               {lane_given} AS has_lane,
               {_text("s.image_ref")} AS image_ref,
               {observed_make_sql("s.observed_make")} AS observed_make,
               {observed_type_sql("s.observed_type")} AS observed_type,
               CAST(s.plate AS VARCHAR) AS plate,
               qd.charge_day
        FROM src s
        LEFT JOIN quarter_days qd ON qd.q = {quarter}
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE plates AS
        SELECT plate, vrm, {plate_class_sql("vrm", as_of)} AS vrm_class
        FROM (SELECT plate, {normalise_sql("plate")} AS vrm
              FROM (SELECT DISTINCT CAST(plate AS VARCHAR) AS plate FROM src))
        """
    )
    first, last = window
    rows = con.execute(
        "SELECT DISTINCT charge_day FROM parsed WHERE has_offset "
        "AND captured_at BETWEEN ? AND ? ORDER BY 1",
        [first, last],
    ).fetchall()
    return [r[0] for r in rows]


def _time_window(now: datetime, ws: Workspace) -> tuple[datetime, datetime]:
    """The oldest and newest capture instants a read may have to be accepted now."""
    return (
        now - timedelta(days=ws.settings.max_read_age_days),
        now + timedelta(seconds=ws.settings.max_future_skew_seconds),
    )


def check_reads(con: duckdb.DuckDBPyConnection, window: tuple[datetime, datetime]) -> None:
    """Table `checked`: every row with its first failing reason (NULL if accepted), and for
    accepted rows its key epoch, pseudonym and read_id. Views `accepted` and `refused`."""
    oldest, newest = window
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE checked AS
        SELECT p.* EXCLUDE (plate, has_offset, no_time, has_lane),
               pl.vrm_class, e.key_epoch, ps.vrm_pseudonym,
               coalesce(p.vendor_read_id, 'd-' || substr(md5(
                   p.camera_id || '|' || epoch_us(p.captured_at)::VARCHAR || '|'
                   || hex(ps.vrm_pseudonym)), 1, 24)) AS read_id,
               CASE
                 WHEN p.camera_id IS NULL THEN 'missing_camera'
                 WHEN p.no_time THEN 'missing_time'
                 WHEN NOT p.has_offset AND p.captured_at IS NOT NULL THEN 'naive_time'
                 WHEN p.captured_at IS NULL THEN 'bad_time'
                 WHEN p.captured_at > ?::TIMESTAMPTZ THEN 'future_time'
                 WHEN p.captured_at < ?::TIMESTAMPTZ THEN 'too_old'
                 WHEN c.camera_id IS NULL THEN 'unknown_camera'
                 WHEN p.charge_day < c.commissioned_on
                   OR p.charge_day >= c.decommissioned_on THEN 'camera_not_in_service'
                 WHEN p.confidence IS NULL OR isnan(p.confidence)
                   OR p.confidence < 0 OR p.confidence > 1 THEN 'bad_confidence'
                 WHEN p.has_lane AND p.lane IS NULL THEN 'bad_lane'
                 WHEN pl.vrm IS NULL OR pl.vrm = '' THEN 'no_plate'
                 WHEN pl.vrm_class = 'invalid' THEN 'unreadable_plate'
                 WHEN length(p.vendor_read_id) > 64 THEN 'bad_read_id'
               END AS reason
        FROM parsed p
        LEFT JOIN cameras c ON c.camera_id = p.camera_id
        LEFT JOIN plates pl ON pl.plate = p.plate
        LEFT JOIN epochs e ON e.charge_day = p.charge_day
        LEFT JOIN pseudonyms ps ON ps.key_epoch = e.key_epoch AND ps.vrm = pl.vrm
        """,
        [newest, oldest],
    )
    con.execute(
        "CREATE OR REPLACE TEMP VIEW accepted AS SELECT * FROM checked WHERE reason IS NULL"
    )
    con.execute(
        "CREATE OR REPLACE TEMP VIEW refused AS "
        "SELECT rn, reason FROM checked WHERE reason IS NOT NULL"
    )


# -- the batch ----------------------------------------------------------------------------
def recover_batches(ws: Workspace) -> list[str]:
    """Roll back batches a crash left `started`; finish or undo interrupted rewrites."""
    notes = ws.reads.recover_operations()
    with ws.state.session() as s:
        stale = s.scalars(select(IngestBatchRow).where(IngestBatchRow.status == "started")).all()
        for batch in stale:
            removed = 0
            for path in ws.settings.reads_dir.glob(f"charge_day=*/part-{batch.batch_id}-*.parquet"):
                path.unlink()
                removed += 1
            for path in ws.settings.vault_dir.glob(f"epoch=*/part-{batch.batch_id}.parquet"):
                path.unlink()
                removed += 1
            shutil.rmtree(ws.reads.staging_dir / batch.batch_id, ignore_errors=True)
            batch.status = "rolled_back"
            batch.finished_at = datetime.now(UTC)
            notes.append(f"batch {batch.batch_id} rolled back ({removed} files removed)")
    return notes


def ingest_file(
    ws: Workspace,
    path: Path,
    *,
    now: datetime,
    fmt: str | None = None,
    progress: Progress | None = None,
    compact: bool = True,
    threads: int | None = None,
) -> IngestReport:
    """Ingest one file of reads; see the module docstring for the guarantees."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not path.exists():
        raise InputError(f"{path}: no such file")
    fmt = detect_format(path, fmt)
    tick = progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    with ws.writer():
        recovered = recover_batches(ws)
        batch_id = uuid.uuid4().hex[:16]
        with ws.state.session() as s:
            s.add(
                IngestBatchRow(
                    batch_id=batch_id,
                    source=str(path),
                    source_format=fmt,
                    source_sha256=_sha256(path),
                    status="started",
                    started_at=now,
                    received=0,
                    stored=0,
                    duplicates=0,
                    quarantined=0,
                    charge_days=[],
                    quarantine_by_reason={},
                )
            )
        crash_point("ingest-started")
        con = ws.engine(threads)
        try:
            report = _run_batch(ws, con, path, fmt, batch_id, now=now, tick=tick)
        except Exception:
            # A refused file (unreadable, wrong columns) or an engine error: nothing was
            # published, so record the failure and leave no staging behind.
            _fail(ws, batch_id)
            raise
        finally:
            con.close()
        ws.record(
            "reads-ingested",
            subject=f"batch:{report.batch_id}",
            why=f"ingest of {path.name}",
            counts={
                "received": report.received,
                "stored": report.stored,
                "duplicates": report.duplicates,
                "quarantined": report.quarantined,
            },
            digest=_sha256(path),
        )
        # Real-time matching: the batch is stored, so its alerts are raised before it returns.
        days = [date.fromisoformat(d) for d in report.charge_days]
        hits = match_batch(ws, report.batch_id, days, now) if report.stored else []
        report = replace(report, hotlist_hits=hits)
        if compact:
            # Every closed day, not only this batch's: a merge an earlier crash interrupted is
            # finished here. Days already compacted cost a directory listing.
            compact_days(ws, closed_days(ws, now=now), now=now)
    return replace(report, seconds=time.perf_counter() - started, recovered=recovered)


def _fail(ws: Workspace, batch_id: str) -> None:
    shutil.rmtree(ws.reads.staging_dir / batch_id, ignore_errors=True)
    with ws.state.session() as s:
        batch = s.get(IngestBatchRow, batch_id)
        if batch is not None:
            batch.status = "failed"
            batch.finished_at = datetime.now(UTC)


def _write_reads(
    con: duckdb.DuckDBPyConnection,
    fresh: str,
    staging: Path,
    batch_id: str,
    days: Sequence[date],
    stored: int,
) -> None:
    """Write the batch's new reads under ``staging/charge_day=D/`` as the store's files."""
    columns = (
        "read_id, camera_id, captured_at, vrm_pseudonym, key_epoch, vrm_class, confidence, "
        f"direction, lane, image_ref, '{batch_id}' AS batch_id, observed_make, observed_type"
    )
    options = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000"
    if len(days) == 1:
        # The usual batch holds one charge day: a plain write skips the partitioned writer,
        # which costs a full day about 2 s more for the same file. Accepted reads all have a
        # day in `days` (their key epochs were readied for those only); the count checks it.
        folder = staging / f"charge_day={days[0].isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        written = con.execute(
            f"COPY (SELECT {columns} FROM {fresh} WHERE charge_day = DATE '{days[0]}') "
            f"TO '{folder / f'part-{batch_id}-0.parquet'}' ({options})"
        ).fetchone()
        if written is None or int(written[0]) != stored:
            raise StateError(f"batch {batch_id}: wrote {written} reads, expected {stored}")
        return
    con.execute(
        f"""
        COPY (SELECT {columns}, charge_day FROM {fresh})
        TO '{staging}'
        ({options}, PARTITION_BY (charge_day), FILENAME_PATTERN 'part-{batch_id}-{{i}}')
        """
    )


def _run_batch(
    ws: Workspace,
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: str,
    batch_id: str,
    *,
    now: datetime,
    tick: Progress,
) -> IngestReport:
    stages = STAGES
    tick("reading", 0, stages)
    con.register("cameras", ws.require_cameras())
    types = load_reads(con, path, fmt)
    tick("keying", 1, stages)
    window = _time_window(now, ws)
    days = parse_reads(con, types, as_of=now.date(), window=window)
    epochs = _pseudonymise(ws, con, days, now=now)
    tick("validating", 2, stages)
    check_reads(con, window)
    received = _scalar(con, "SELECT count(*) FROM checked")
    staging = ws.reads.staging_dir / batch_id
    staging.mkdir(parents=True, exist_ok=True)
    tick("sealing", 3, stages)
    _seal_new_vrms(ws, con, epochs, staging, batch_id)

    tick("deduplicating", 4, stages)
    _statuses(con, ws, days)
    not_new = dict(con.execute("SELECT status, count(*) FROM statuses GROUP BY 1").fetchall())
    stored = _scalar(con, "SELECT count(*) FROM accepted") - sum(not_new.values())
    # What to store: every accepted row but those a status names (usually none at all).
    fresh = "(SELECT * FROM accepted ANTI JOIN statuses USING (rn))" if not_new else "accepted"

    tick("writing", 5, stages)
    reads_staging = staging / "reads"
    if stored:
        _write_reads(con, fresh, reads_staging, batch_id, days, stored)

    tick("quarantining", 6, stages)
    quarantine_rows, quarantine_dupes = _quarantine_rows(ws, con, batch_id, now=now)
    by_reason = Counter(str(row[2]) for row in quarantine_rows)
    duplicates = int(not_new.get("duplicate", 0)) + quarantine_dupes
    quarantined = len(quarantine_rows)
    if received != stored + duplicates + quarantined:
        raise StateError(
            f"batch {batch_id} does not reconcile: received {received} != stored {stored} + "
            f"duplicates {duplicates} + quarantined {quarantined}; nothing was committed"
        )

    # Publish: each rename is atomic; the batch commits only after all of them.
    crash_point("ingest-staged")
    for staged in sorted(reads_staging.glob("charge_day=*/*.parquet")):
        target = ws.settings.reads_dir / staged.parent.name / staged.name
        target.parent.mkdir(parents=True, exist_ok=True)
        fsync_file(staged)
        os.replace(staged, target)
        crash_point("ingest-mid-publish")
    for staged in sorted((staging / "vault").glob("epoch=*/*.parquet")):
        target = ws.settings.vault_dir / staged.parent.name / staged.name
        target.parent.mkdir(parents=True, exist_ok=True)
        fsync_file(staged)
        os.replace(staged, target)
    stored_days = sorted(
        {str(r[0]) for r in con.execute(f"SELECT DISTINCT charge_day FROM {fresh}").fetchall()}
    )
    crash_point("ingest-before-commit")
    with ws.state.session() as s:
        bulk_insert(s, QuarantineRow.__tablename__, QUARANTINE_COLUMNS, quarantine_rows)
        batch = s.get(IngestBatchRow, batch_id)
        assert batch is not None
        batch.status = "committed"
        batch.finished_at = datetime.now(UTC)
        batch.received, batch.stored = received, stored
        batch.duplicates, batch.quarantined = duplicates, quarantined
        batch.charge_days = stored_days
        batch.quarantine_by_reason = dict(by_reason)
    shutil.rmtree(staging, ignore_errors=True)
    tick("done", stages, stages)
    return IngestReport(
        batch_id=batch_id,
        source=str(path),
        received=received,
        stored=stored,
        duplicates=duplicates,
        quarantined=quarantined,
        quarantine_by_reason=dict(sorted(by_reason.items())),
        charge_days=stored_days,
        seconds=0.0,
    )


def _pseudonymise(
    ws: Workspace, con: duckdb.DuckDBPyConnection, days: list[date], *, now: datetime
) -> list[int]:
    """Table `pseudonyms` (key_epoch, vrm, vrm_pseudonym): each distinct readable VRM keyed
    once per epoch of the batch's days, in DuckDB. Registers `epochs`. Returns the epochs."""
    epochs = ws.keys.ensure_epochs(days, now=now)
    numbers = sorted({e.epoch for e in epochs.values()})
    blocks = [ws.keys.keys(n).hmac_blocks() for n in numbers]
    con.register(
        "epochs",
        pa.table(
            {
                "charge_day": pa.array(days, pa.date32()),
                "key_epoch": pa.array([epochs[d].epoch for d in days], pa.int32()),
            }
        ),
    )
    con.register(
        "epoch_keys",
        pa.table(
            {
                "key_epoch": pa.array(numbers, pa.int32()),
                "inner_pad": pa.array([b[0] for b in blocks], pa.binary()),
                "outer_pad": pa.array([b[1] for b in blocks], pa.binary()),
            }
        ),
    )
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE pseudonyms AS
            SELECT k.key_epoch, v.vrm,
                   {pseudonym_sql("v.vrm", "k.inner_pad", "k.outer_pad")} AS vrm_pseudonym
            FROM (SELECT DISTINCT vrm FROM plates
                  WHERE vrm_class <> 'invalid' AND vrm <> '') v
            CROSS JOIN epoch_keys k
            """
        )
    finally:
        con.unregister("epoch_keys")  # the pads are key material: drop them at once
    return numbers


def identity_keys(con: duckdb.DuckDBPyConnection, days: list[date]) -> None:
    """Tables `epochs` and `pseudonyms` that key each VRM by itself, for stateless evaluation
    of files (`ringfence charge evaluate`), where no store, key or vault is involved."""
    con.register(
        "epochs",
        pa.table(
            {
                "charge_day": pa.array(days, pa.date32()),
                "key_epoch": pa.array([0] * len(days), pa.int32()),
            }
        ),
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE pseudonyms AS "
        "SELECT 0::INTEGER AS key_epoch, vrm, encode(vrm) AS vrm_pseudonym FROM "
        "(SELECT DISTINCT vrm FROM plates WHERE vrm_class <> 'invalid' AND vrm <> '')"
    )


def _seal_new_vrms(
    ws: Workspace,
    con: duckdb.DuckDBPyConnection,
    epochs: list[int],
    staging: Path,
    batch_id: str,
) -> int:
    """Seal into the vault each VRM this batch stores that the epoch's vault lacks."""
    sealed = 0
    for number in epochs:
        files = ws.vault.files(number)
        held = (
            f"SELECT vrm_pseudonym FROM read_parquet({sql_list(files)})"
            if files
            else "SELECT NULL::BLOB AS vrm_pseudonym WHERE false"
        )
        new = con.execute(
            f"""
            SELECT p.vrm, p.vrm_pseudonym FROM pseudonyms p
            WHERE p.key_epoch = ?
              AND p.vrm_pseudonym IN (SELECT vrm_pseudonym FROM accepted WHERE key_epoch = ?)
              AND p.vrm_pseudonym NOT IN ({held})
            """,
            [number, number],
        ).fetchnumpy()
        vrms, pseudonyms = new["vrm"].tolist(), new["vrm_pseudonym"].tolist()
        ws.vault.stage(ws.keys.keys(number), vrms, pseudonyms, staging / "vault", batch_id)
        sealed += len(vrms)
    return sealed


def _statuses(con: duckdb.DuckDBPyConnection, ws: Workspace, days: list[date]) -> None:
    """Table `statuses` (rn, status) for the accepted rows that are not new: `duplicate` (the
    same read again) or `read_id_conflict` (an id already naming another read).

    Almost every read in a vendor file has an id of its own, so the expensive part (ordering
    the rows that share an id) runs only on the ids a cheap GROUP BY finds repeated, or that the
    store already holds.
    """
    existing_files = [f for d in days for f in ws.reads.files(d)]
    stored = (
        f"SELECT read_id, hash(camera_id, captured_at, vrm_pseudonym) AS h "
        f"FROM read_parquet({sql_list(existing_files)}) "
        "WHERE read_id IN (SELECT read_id FROM accepted)"
        if existing_files
        else "SELECT NULL::VARCHAR AS read_id, NULL::UBIGINT AS h WHERE false"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE stored_ids AS {stored}")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE statuses AS
        WITH suspects AS (
          SELECT read_id FROM accepted GROUP BY read_id HAVING count(*) > 1
          UNION SELECT read_id FROM stored_ids
        ), ranked AS (
          SELECT a.rn, a.read_id, hash(a.camera_id, a.captured_at, a.vrm_pseudonym) AS h,
                 row_number() OVER (PARTITION BY a.read_id ORDER BY a.rn) AS nth,
                 first_value(hash(a.camera_id, a.captured_at, a.vrm_pseudonym))
                   OVER (PARTITION BY a.read_id ORDER BY a.rn) AS h_first
          FROM accepted a SEMI JOIN suspects USING (read_id)
        )
        SELECT r.rn,
               CASE
                 WHEN x.read_id IS NOT NULL AND x.h = r.h THEN 'duplicate'
                 WHEN x.read_id IS NOT NULL THEN 'read_id_conflict'
                 WHEN r.nth > 1 AND r.h = r.h_first THEN 'duplicate'
                 WHEN r.nth > 1 THEN 'read_id_conflict'
                 ELSE 'new'
               END AS status
        FROM ranked r LEFT JOIN stored_ids x USING (read_id)
        """
    )
    con.execute("DELETE FROM statuses WHERE status = 'new'")


QUARANTINE_COLUMNS = (
    "batch_id",
    "row_number",
    "reason",
    "row_key",
    "camera_id",
    "captured_at_text",
    "key_epoch",
    "sealed_row",
    "received_on",
)


def _quarantine_rows(
    ws: Workspace, con: duckdb.DuckDBPyConnection, batch_id: str, *, now: datetime
) -> tuple[list[tuple[object, ...]], int]:
    """Rows for the quarantine table (in QUARANTINE_COLUMNS order), sealed; and how many
    refused rows were already in the quarantine (from an earlier batch or earlier in this one).
    """
    raw_json = "to_json(struct_pack(" + ", ".join(f"{c} := s.{c}" for c in RAW_COLUMNS) + "))"
    rows = con.execute(
        f"""
        SELECT rn, reason, camera_id, captured_at, raw, md5(raw) AS row_key
        FROM (
          SELECT q.rn, q.reason, left(CAST(s.camera_id AS VARCHAR), 64) AS camera_id,
                 left(CAST(s.captured_at AS VARCHAR), 64) AS captured_at, {raw_json} AS raw
          FROM (SELECT rn, reason FROM refused
                UNION ALL
                SELECT rn, status FROM statuses WHERE status = 'read_id_conflict') q
          JOIN src s USING (rn)
        ) ORDER BY rn
        """
    ).fetchall()
    if not rows:
        return [], 0
    already: set[str] = set()
    keys = [r[5] for r in rows]
    with ws.state.session() as s:
        for i in range(0, len(keys), 5000):
            chunk = keys[i : i + 5000]
            already.update(
                s.scalars(select(QuarantineRow.row_key).where(QuarantineRow.row_key.in_(chunk)))
            )
    fresh = []
    for r in rows:
        if r[5] not in already:
            already.add(r[5])  # an identical row later in the same file is a duplicate too
            fresh.append(r)
    received_on = now.astimezone(UTC).date()
    epoch = ws.keys.ensure_epochs([received_on], now=now)[received_on].epoch
    sealed = ws.keys.keys(epoch).seal(
        [(r[4].encode("utf-8"), associated_data(r[5])) for r in fresh]
    )
    day = received_on.isoformat()
    out: list[tuple[object, ...]] = [
        (batch_id, r[0], r[1], r[5], r[2], r[3], epoch, blob, day)
        for r, blob in zip(fresh, sealed, strict=True)
    ]
    return out, len(rows) - len(fresh)


def closed_days(ws: Workspace, *, now: datetime) -> list[date]:
    """Stored charge days that ended (in London) at least `ingest.compact_after_hours` ago.

    A day still open keeps receiving batches; sorting it after each one would re-sort the whole
    day again and again, so it stays in arrival order until it closes.
    """
    settle = timedelta(hours=ws.settings.compact_after_hours)
    return [d for d in ws.reads.days() if london_day_bounds(d)[1] + settle <= now]


def compact_days(ws: Workspace, days: list[date], *, now: datetime) -> int:
    """Sort each day that is not yet one compacted file into one file, for plate look-ups.

    Batches land in arrival order (`part-*` files); compaction merges a day's files into one
    `compact-*` file sorted by (vrm_pseudonym, captured_at). Returns the days rewritten.
    """
    rewritten = 0
    con = ws.engine()
    try:
        for day in days:
            files = ws.reads.files(day)
            if len(files) > 1 or (files and not files[0].name.startswith("compact-")):
                ws.reads.rewrite_day(con, day, kind="compact", now=now)
                rewritten += 1
    finally:
        con.close()
    return rewritten


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0
