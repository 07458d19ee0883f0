"""Operational state in a SQL database through SQLAlchemy: SQLite by default, PostgreSQL by URL.

The schema is owned by Alembic (`stores/migrations/`); `open_state` upgrades a database to the
latest revision before handing it out, so a fresh data directory and an old one behave alike.
The tables hold what the read store cannot: batches and their reconciled counts, the quarantine,
key epochs, store operations in flight (for crash recovery), deletion receipts and legal holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from ringfence.errors import StateError

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: refuses naive datetimes, stores UTC, always returns an aware UTC datetime.

    SQLite has no time zones and would hand back naive values; PostgreSQL returns them in the
    session's zone. Normalising here keeps every `*_at` attribute comparable on both.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for an instant column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class CameraRow(Base):
    __tablename__ = "cameras"
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    borough_gss: Mapped[str | None] = mapped_column(String(9))
    network: Mapped[str] = mapped_column(String(64), index=True)
    enforces: Mapped[str] = mapped_column(String(64))
    site_kind: Mapped[str] = mapped_column(String(16))
    commissioned_on: Mapped[date] = mapped_column(Date)
    decommissioned_on: Mapped[date | None] = mapped_column(Date)


class KeyEpochRow(Base):
    __tablename__ = "key_epochs"
    epoch: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    starts_on: Mapped[date] = mapped_column(Date, index=True)
    ends_on: Mapped[date] = mapped_column(Date)  # exclusive
    key_file: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    destroyed_reason: Mapped[str | None] = mapped_column(Text)


class IngestBatchRow(Base):
    __tablename__ = "ingest_batches"
    batch_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    source_format: Mapped[str] = mapped_column(String(16))
    source_sha256: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received: Mapped[int] = mapped_column(Integer, default=0)
    stored: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    charge_days: Mapped[list[str]] = mapped_column(JSON, default=list)
    quarantine_by_reason: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)


class QuarantineRow(Base):
    """A row that could not be accepted, kept with its reason.

    The original row is sealed (AES-GCM under the key epoch of the day it was received) because it
    may hold a clear VRM; the reason and non-personal fields stay readable for triage.
    Only `row_key` is indexed: a large batch can quarantine hundreds of thousands of rows, and
    each extra index costs more at insert than the occasional triage scan saves.
    """

    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("row_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("ingest_batches.batch_id"))
    row_number: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))  # explained by QUARANTINE_REASONS
    row_key: Mapped[str] = mapped_column(String(32))
    camera_id: Mapped[str | None] = mapped_column(String(64))
    captured_at_text: Mapped[str | None] = mapped_column(String(64))
    key_epoch: Mapped[int] = mapped_column(Integer)
    sealed_row: Mapped[bytes] = mapped_column(LargeBinary)
    received_on: Mapped[date] = mapped_column(Date)


class StoreOperationRow(Base):
    """A multi-file change to the read store, recorded before it starts so a crash can be undone."""

    __tablename__ = "store_operations"
    op_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    charge_day: Mapped[date | None] = mapped_column(Date)
    inputs: Mapped[list[str]] = mapped_column(JSON, default=list)
    output: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DeletionReceiptRow(Base):
    __tablename__ = "deletion_receipts"
    receipt_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    rule: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(16))  # reads | quarantine | vault | key
    charge_day: Mapped[date | None] = mapped_column(Date)
    deleted: Mapped[int] = mapped_column(Integer)
    held_back: Mapped[int] = mapped_column(Integer)
    deleted_ids_sha256: Mapped[str] = mapped_column(String(64))
    executed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class LegalHoldRow(Base):
    __tablename__ = "legal_holds"
    hold_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_by: Mapped[str | None] = mapped_column(String(128))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)


class LegalHoldReadRow(Base):
    __tablename__ = "legal_hold_reads"
    hold_id: Mapped[str] = mapped_column(ForeignKey("legal_holds.hold_id"), primary_key=True)
    read_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    charge_day: Mapped[date] = mapped_column(Date, index=True)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets the CLI read while an ingest writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A charge run replaces a day's liabilities (hundreds of thousands of rows) in one
    # transaction; with SQLite's 2 MB default page cache their index pages thrash and the delete
    # and insert take twice as long. The cache only grows as pages are used (up to 128 MiB).
    cursor.execute("PRAGMA cache_size=-131072")
    cursor.close()


def liability_settled_sql(table: str | None = None) -> str:
    """SQL: a liability a person or a notice has settled, which charge runs do not decide
    again (columns qualified by ``table`` where a statement names two)."""
    at = f"{table}." if table else ""
    return f"{at}status = 'noticed' OR {at}reviewed_at IS NOT NULL"


LIABILITY_SETTLED = liability_settled_sql()


class LiabilityRow(Base):
    """What a charge run decided for one vehicle, scheme and charge day.

    Keyed by the epoch's pseudonym: the clear VRM is taken from the vault only when a penalty
    notice is issued. Re-running a day updates its rows in place (same key) and deletes those it
    no longer decides; noticed rows are kept as they are.
    """

    __tablename__ = "liabilities"
    # Every look-up is by charge day, and the unique key leads with it: "the day's unpaid" reads
    # the day's rows through it. An index on (charge_day, status) cost a charge run a write per
    # row (of hundreds of thousands) to save a notice run from filtering one day's rows.
    __table_args__ = (
        UniqueConstraint("charge_day", "scheme_id", "key_epoch", "vrm_pseudonym"),
        # Few liabilities are billed to an Auto Pay account: a partial index leaves the many
        # others out of it, which a charge run writing a day's rows does not pay for.
        # A re-run keeps the day's settled rows (noticed or reviewed) and must find them
        # without reading the day's hundreds of thousands of rows; few rows are settled when a
        # day is charged. Queries must spell the condition as `LIABILITY_SETTLED` does for
        # SQLite to use the index.
        Index(
            "ix_liabilities_settled",
            "charge_day",
            sqlite_where=text(LIABILITY_SETTLED),
            postgresql_where=text(LIABILITY_SETTLED),
        ),
        # The review queue is listed by people, a day at a time: its few rows get their own
        # index, in listing order (queries must compare status with a literal, not a bound
        # parameter, for SQLite to use it).
        Index(
            "ix_liabilities_review_queue",
            "charge_day",
            "scheme_id",
            "id",
            sqlite_where=text("status = 'review'"),
            postgresql_where=text("status = 'review'"),
        ),
        Index(
            "ix_liabilities_account_id",
            "account_id",
            sqlite_where=text("account_id IS NOT NULL"),
            postgresql_where=text("account_id IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(40))
    charge_day: Mapped[date] = mapped_column(Date)
    scheme_id: Mapped[str] = mapped_column(String(32))
    key_epoch: Mapped[int] = mapped_column(Integer)
    vrm_pseudonym: Mapped[bytes] = mapped_column(LargeBinary(16))
    amount_pence: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(96))
    reason: Mapped[str] = mapped_column(Text)
    reads: Mapped[int] = mapped_column(Integer)
    # The reads a liability rests on are in its run's evidence file (stores/charge_evidence.py);
    # only rows decided before that file existed still hold them here.
    read_ids: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    account_id: Mapped[str | None] = mapped_column(String(64))  # Auto Pay
    # A person's decision on a liability the run sent to review (see services/review.py); a
    # re-run keeps a reviewed row as it is, like a noticed one.
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str | None] = mapped_column(Text)

    @property
    def evidence_key(self) -> tuple[date, str, str, bytes]:
        """Where its read ids are: see `charge_evidence.ChargeEvidence`."""
        return (self.charge_day, self.run_id, self.scheme_id, self.vrm_pseudonym)


def bulk_insert(
    session: Session,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
) -> None:
    """Insert many rows inside the session's transaction at the driver's full speed.

    ORM and Core inserts build parameters row by row in Python, which at hundreds of thousands
    of quarantined rows costs more than the rest of an ingest. PostgreSQL takes COPY; SQLite takes
    one executemany. Values must already be in storage form: dates and instants as ISO text
    (`YYYY-MM-DD`, UTC `YYYY-MM-DD HH:MM:SS.ffffff`), bytes for blobs.
    """
    if not rows:
        return
    names = ", ".join(columns)
    connection = session.connection()
    driver: Any = connection.connection.driver_connection  # psycopg or sqlite3
    if connection.dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    elif connection.dialect.name == "sqlite":
        marks = ", ".join("?" for _ in columns)
        driver.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported and tested
        target = Base.metadata.tables[table]
        connection.execute(target.insert(), [dict(zip(columns, r, strict=True)) for r in rows])


def bulk_upsert(
    session: Session,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    key: Sequence[str],
    keep_where: str,
    constants: Mapping[str, str | int | None] | None = None,
) -> None:
    """Insert many rows, or update in place those whose unique ``key`` exists, unless the
    existing row matches the SQL condition ``keep_where`` (on ``table``'s columns).

    For re-decisions of the same rows: updating in place leaves every index but the changed
    columns' alone, where a delete and a re-insert rewrite all of them for every row. Values
    in storage form, as for `bulk_insert`. ``constants`` are columns with one value for every
    row (a run's id, its day): written into the statement once rather than bound for each of
    hundreds of thousands of rows, which costs a third of SQLite's time.
    """
    if not rows:
        return
    fixed = dict(constants or {})
    names = ", ".join([*columns, *fixed])
    literals = [_sql_literal(v) for v in fixed.values()]
    updates = ", ".join(f"{c} = excluded.{c}" for c in [*columns, *fixed] if c not in key)
    conflict = f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates} WHERE NOT ({keep_where})"
    connection = session.connection()
    driver: Any = connection.connection.driver_connection  # psycopg or sqlite3
    if connection.dialect.name == "sqlite":
        values = ", ".join(["?"] * len(columns) + literals)
        driver.executemany(f"INSERT INTO {table} ({names}) VALUES ({values}) {conflict}", rows)
        return
    if connection.dialect.name != "postgresql":  # pragma: no cover - SQLite and PostgreSQL only
        raise StateError(f"bulk_upsert: unsupported database {connection.dialect.name}")
    # COPY cannot resolve conflicts: stage the rows in a temporary table, then upsert from it.
    # (COPY binds nothing: the constants are simply written with each row.)
    staged = f"_upsert_{table}"
    tail = tuple(fixed.values())
    with driver.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {staged}")
        cursor.execute(f"CREATE TEMP TABLE {staged} AS SELECT {names} FROM {table} WITH NO DATA")
        with cursor.copy(f"COPY {staged} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row, *tail))
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staged} {conflict}")
        cursor.execute(f"DROP TABLE {staged}")


def _sql_literal(value: str | int | None) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"not a constant for SQL: {value!r}")
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("ringfence.stores") / "migrations"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


class StateDB:
    """A handle on the operational database: an engine plus a session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine: Engine = create_engine(url, future=True)
        except (SQLAlchemyError, ImportError) as exc:
            raise StateError(f"cannot open state database {url!r}: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def upgrade(self) -> None:
        """Bring the schema to the latest Alembic revision."""
        try:
            with self.engine.begin() as connection:
                command.upgrade(alembic_config(connection), "head")
        except SQLAlchemyError as exc:
            raise StateError(f"cannot migrate state database {self.url!r}: {exc}") from exc

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on any exception."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def open_state(url: str) -> StateDB:
    db = StateDB(url)
    db.upgrade()
    return db


class PenaltyNoticeRow(Base):
    """A penalty charge notice (or warning notice) and its history: a serialised domain `PCN`.

    The only table holding a clear VRM: it is taken from the vault when the notice is issued,
    because the notice is posted to the keeper. One notice per liability (natural key: the
    liability's day, scheme, epoch and pseudonym), so issuing twice never notices twice, even
    after the day's liabilities are re-run (which sets `liability_id` to NULL).
    """

    __tablename__ = "penalty_notices"
    __table_args__ = (UniqueConstraint("charge_day", "scheme_id", "key_epoch", "vrm_pseudonym"),)
    pcn_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    liability_id: Mapped[int | None] = mapped_column(
        ForeignKey("liabilities.id", ondelete="SET NULL"), index=True
    )
    charge_day: Mapped[date] = mapped_column(Date, index=True)
    scheme_id: Mapped[str] = mapped_column(String(32))
    key_epoch: Mapped[int] = mapped_column(Integer)
    vrm_pseudonym: Mapped[bytes] = mapped_column(LargeBinary(16))
    vrm: Mapped[str] = mapped_column(String(16))
    keeper_ref: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32), index=True)
    amount_due_pence: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[date] = mapped_column(Date)
    served_on: Mapped[date] = mapped_column(Date)
    terms: Mapped[dict[str, int]] = mapped_column(JSON)
    history: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    evidence_ref: Mapped[str] = mapped_column(String(64))
    evidence: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


REFUND_STATUSES = ("due", "issued")


class RefundRow(Base):
    """Money to pay back: a charge-day payment above what was owed, or a PCN overpayment.

    ``vrm`` is the plate the payer paid under, as it is in the operator's payments file (or on
    the notice), because the refund goes back to whoever paid; the liability link is the epoch
    pseudonym. A charge re-run replaces its day's ``due`` rows; ``issued`` rows are money paid
    out and are never changed or deleted by a run.
    """

    __tablename__ = "refunds"
    # Ids are what operators issue refunds by: SQLite must never reuse a deleted one.
    __table_args__ = (
        Index("ix_refunds_charge_day_status", "charge_day", "status"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))  # charge | pcn
    charge_day: Mapped[date] = mapped_column(Date)
    scheme_id: Mapped[str] = mapped_column(String(32))
    key_epoch: Mapped[int] = mapped_column(Integer)
    vrm_pseudonym: Mapped[bytes] = mapped_column(LargeBinary(16))
    vrm: Mapped[str | None] = mapped_column(String(16))
    paid_pence: Mapped[int] = mapped_column(Integer)
    due_pence: Mapped[int] = mapped_column(Integer)
    refund_pence: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # REFUND_STATUSES
    run_id: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    issued_by: Mapped[str | None] = mapped_column(String(128))
    payment_ref: Mapped[str | None] = mapped_column(String(64))
    """The payment refunded, where it has a reference (a PCN overpayment: the PCN's id)."""


class AccessRequestRow(Base):
    """A police request for reads (issue 4), from submission to release, refusal or withdrawal.

    It holds the VRMs the police supplied (the request itself names them) but never read data:
    releases are files under `<data-dir>/releases/`, described by `ReleaseRow`. ``decisions`` is
    every policy decision taken on it, in order, each with all its reasons.
    """

    __tablename__ = "access_requests"
    request_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # vehicle_history | location
    status: Mapped[str] = mapped_column(String(16), index=True)
    requester_id: Mapped[str] = mapped_column(String(128), index=True)
    requester_force: Mapped[str] = mapped_column(String(64))
    requester_rank: Mapped[str] = mapped_column(String(64))
    authoriser_id: Mapped[str | None] = mapped_column(String(128))
    authoriser_rank: Mapped[str | None] = mapped_column(String(64))
    reviewer_id: Mapped[str | None] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(String(128))
    legal_basis: Mapped[str] = mapped_column(String(64))
    case_ref: Mapped[str] = mapped_column(String(128))
    seriousness: Mapped[str] = mapped_column(String(32))
    necessity: Mapped[str] = mapped_column(Text)
    scope: Mapped[dict[str, object]] = mapped_column(JSON)
    """What is asked about: ``{"vrms": [...]}`` for a vehicle history."""
    networks: Mapped[list[str]] = mapped_column(JSON)
    data_classes: Mapped[list[str]] = mapped_column(JSON)
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    """Inclusive: the last (London) day of reads asked for."""
    approved_scope: Mapped[dict[str, object] | None] = mapped_column(JSON)
    """Networks, data classes and window approved (narrowed or as asked); None until then."""
    decisions: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    authorised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReleaseRow(Base):
    """One release of reads for an approved request: the file written, its digest and expiry."""

    __tablename__ = "releases"
    release_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("access_requests.request_id"), index=True)
    issued_by: Mapped[str] = mapped_column(String(128))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    networks: Mapped[list[str]] = mapped_column(JSON)
    data_classes: Mapped[list[str]] = mapped_column(JSON)
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    read_count: Mapped[int] = mapped_column(Integer)
    vrm_count: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the release's expiry was enforced: its file deleted from the data directory."""


class ReleaseSubjectRow(Base):
    """Who a release disclosed, for subject access after the release file is gone.

    ``subject_index`` is a keyed HMAC of the VRM (the workspace's subject-index key), so the
    disclosure log answers "was this plate disclosed?" without holding plates in the clear.
    """

    __tablename__ = "release_subjects"
    release_id: Mapped[str] = mapped_column(ForeignKey("releases.release_id"), primary_key=True)
    subject_index: Mapped[str] = mapped_column(String(64), primary_key=True)
    reads: Mapped[int] = mapped_column(Integer)


class GovernanceChangeRow(Base):
    """A change to the governance book recorded by an operator: a DPIA, a direction, or the
    revocation of an instrument. The packaged book plus these, in order, is the book in force."""

    __tablename__ = "governance_changes"
    change_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # dpia | direction | revocation
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    why: Mapped[str] = mapped_column(Text)


class HotlistEntryRow(Base):
    """A VRM the police asked to be alerted to, with its provenance and a hard expiry.

    The VRM is the one the police supplied (like a request's); matching pseudonymises it per key
    epoch, so reads are never un-pseudonymised to find it.
    """

    __tablename__ = "hotlist_entries"
    entry_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    vrm: Mapped[str] = mapped_column(String(16))
    subject_index: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # active | expired | removed
    force: Mapped[str] = mapped_column(String(64))
    officer_id: Mapped[str] = mapped_column(String(128))
    officer_rank: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(128))
    legal_basis: Mapped[str] = mapped_column(String(64))
    case_ref: Mapped[str] = mapped_column(String(128))
    warning_markers: Mapped[list[str]] = mapped_column(JSON)
    networks: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_on: Mapped[date] = mapped_column(Date)
    """The last London day the entry matches; it expires at the following midnight."""
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by: Mapped[str | None] = mapped_column(String(128))
    ended_why: Mapped[str | None] = mapped_column(Text)


class HotlistHitRow(Base):
    """A read that matched a hotlist entry: an alert awaiting human confirmation of the read."""

    __tablename__ = "hotlist_hits"
    __table_args__ = (UniqueConstraint("entry_id", "read_id"),)
    hit_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("hotlist_entries.entry_id"), index=True)
    read_id: Mapped[str] = mapped_column(String(64))
    camera_id: Mapped[str] = mapped_column(String(64))
    network: Mapped[str] = mapped_column(String(64))
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confidence: Mapped[float] = mapped_column(Float)
    image_ref: Mapped[str | None] = mapped_column(Text)
    key_epoch: Mapped[int] = mapped_column(Integer)
    historical: Mapped[bool] = mapped_column(Boolean)
    request_id: Mapped[str | None] = mapped_column(String(40))
    """For a historical hit: the approved request that allowed searching past reads."""
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), index=True)
    """pending | confirmed | misread | no_action"""
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
