"""Charging use cases: stateless evaluation of files (for auditors and tests).

`evaluate_files` needs no data directory, key or vault: reads are checked exactly as ingest
checks them, keyed by their own normalised VRM, and priced by the scheme rules. It writes one
liability row per (vrm, scheme, charge_day) that owes, is exempt, is paid or needs review.
"""

from __future__ import annotations

import csv
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.orm import Session

from ringfence.domain.observations import RegisterCheck
from ringfence.domain.schemes import SchemeBook, load_scheme_book, pounds
from ringfence.engines.accounts import (
    load_autopay,
    load_evidence,
    load_payments,
    load_registrations,
)
from ringfence.engines.charging import (
    LIABILITY_ORDER,
    ChargeDay,
    decide_charge_day,
    explain_charge_day,
    run_charge_day,
)
from ringfence.engines.observations import RULE as CONTRADICTION_RULE
from ringfence.engines.register import load_register
from ringfence.engines.sightings import EvidenceRule
from ringfence.errors import InputError, NotFoundError, StateError
from ringfence.services.cameras import read_cameras
from ringfence.services.ingest import (
    check_reads,
    detect_format,
    identity_keys,
    load_reads,
    parse_reads,
)
from ringfence.services.refunds import SavedRefunds, save_charge_refunds
from ringfence.stores.keys import EpochKeys, pseudonym_sql
from ringfence.stores.readstore import read_columns_sql, sql_list
from ringfence.stores.state import (
    LIABILITY_SETTLED,
    LiabilityRow,
    bulk_upsert,
    liability_settled_sql,
)
from ringfence.workspace import Workspace, camera_rows_table

OUT_COLUMNS = ("vrm", "scheme", "charge_day", "amount", "status", "reason", "rule", "read_ids")
REFUND_OUT_COLUMNS = ("vrm", "scheme", "charge_day", "paid", "due", "refund", "reason")
# Files may be historic: every capture time is accepted (the ingest clock does not apply).
ANY_TIME = (datetime(1900, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))


@dataclass(frozen=True, slots=True)
class Evaluation:
    days: list[ChargeDay]
    reads_received: int
    reads_refused: dict[str, int]
    out: Path | None
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def liabilities(self) -> int:
        return sum(d.liabilities.num_rows for d in self.days)


def evaluate_files(
    *,
    reads: Path,
    cameras: Path,
    vehicles: Path,
    payments: Path | None = None,
    registrations: Path | None = None,
    evidence: Path | None = None,
    autopay: Path | None = None,
    days: Sequence[date] | None = None,
    out: Path | None = None,
    refunds_out: Path | None = None,
    book: SchemeBook | None = None,
    evidence_rule: EvidenceRule | None = None,
    register_check: RegisterCheck | None = None,
) -> Evaluation:
    book = book or load_scheme_book()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("cameras", camera_rows_table(read_cameras(cameras)))
    types = load_reads(con, reads, detect_format(reads))
    found = parse_reads(con, types, as_of=date.today(), window=ANY_TIME)
    identity_keys(con, found)
    check_reads(con, ANY_TIME)
    received = int(con.execute("SELECT count(*) FROM checked").fetchone()[0])  # type: ignore[index]
    refused = dict(con.execute("SELECT reason, count(*) FROM refused GROUP BY 1").fetchall())
    load_register(con, vehicles)
    load_payments(con, payments)
    load_registrations(con, registrations)
    load_evidence(con, evidence)
    load_autopay(con, autopay)
    wanted = sorted(days) if days else found
    unknown = sorted(set(wanted) - set(found))
    if days and unknown:
        raise InputError(f"{reads}: no accepted reads on {', '.join(map(str, unknown))}")
    results = []
    for day in wanted:
        con.execute(
            "CREATE OR REPLACE TEMP VIEW day_reads AS SELECT read_id, camera_id, captured_at, "
            "confidence, decode(vrm_pseudonym) AS vehicle_key, decode(vrm_pseudonym) AS vrm_text, "
            "observed_make, observed_type FROM accepted "
            f"WHERE charge_day = DATE '{day}'"
        )
        results.append(
            run_charge_day(
                con, book, day, evidence_rule=evidence_rule, register_check=register_check
            )
        )
    by_status: dict[str, int] = {}
    for d in results:
        for s in d.liabilities.column("status").to_pylist():
            by_status[s] = by_status.get(s, 0) + 1
    if out is not None:
        write_liabilities(out, [d.liabilities for d in results])
    if refunds_out is not None:
        write_refunds(refunds_out, [d.refunds_due for d in results])
    return Evaluation(
        days=results,
        reads_received=received,
        reads_refused={str(k): int(v) for k, v in refused.items()},
        out=out,
        by_status=dict(sorted(by_status.items())),
    )


def write_liabilities(out: Path, tables: Sequence[pa.Table]) -> None:
    """Liabilities in the interchange form: CSV (amount in pounds) or Parquet by suffix."""

    def as_csv(r: dict[str, Any]) -> list[object]:
        amount = pounds(int(r["amount_pence"]))
        ids = ";".join(r["read_ids"])
        return [
            r["vrm"],
            r["scheme_id"],
            r["charge_day"],
            amount,
            r["status"],
            r["reason"],
            r["rule"],
            ids,
        ]

    _write_interchange(out, [r for t in tables for r in t.to_pylist()], OUT_COLUMNS, as_csv)


def write_refunds(out: Path, tables: Sequence[pa.Table]) -> None:
    """Refunds due in the interchange form: CSV (pounds) or Parquet (pence) by suffix. In
    stateless mode the vehicle key is the VRM as paid."""
    rows = [
        {
            "vrm": r["vrm"] or r["vehicle_key"],
            "scheme": r["scheme_id"],
            "charge_day": r["charge_day"],
            "paid_pence": r["paid_pence"],
            "due_pence": r["due_pence"],
            "refund_pence": r["refund_pence"],
            "reason": r["reason"],
        }
        for t in tables
        for r in t.to_pylist()
    ]

    def as_csv(r: dict[str, Any]) -> list[object]:
        amounts = [pounds(int(r[k])) for k in ("paid_pence", "due_pence", "refund_pence")]
        return [r["vrm"], r["scheme"], r["charge_day"], *amounts, r["reason"]]

    _write_interchange(out, rows, REFUND_OUT_COLUMNS, as_csv)


def _write_interchange(
    out: Path,
    rows: list[dict[str, Any]],
    header: Sequence[str],
    as_csv: Callable[[dict[str, Any]], list[object]],
) -> None:
    """Rows as Parquet (as they are) or CSV (``header``, each row through ``as_csv``)."""
    if out.suffix.lower() == ".parquet":
        pq.write_table(pa.Table.from_pylist(rows) if rows else pa.table({}), out)
        return
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(as_csv(r) for r in rows)


# -- stored mode ----------------------------------------------------------------------------
REGISTER_FILES = {
    "vehicles": "vehicles.parquet",
    "registrations": "registrations.parquet",
    "payments": "payments.parquet",
    "evidence": "evidence.parquet",
    "autopay": "autopay.parquet",
}


EMPTY_LOADERS = {
    "registrations": load_registrations,
    "payments": load_payments,
    "evidence": load_evidence,
    "autopay": load_autopay,
}


@dataclass(frozen=True, slots=True)
class RegisterImport:
    kind: str
    rows: int
    path: Path


def import_register_file(ws: Workspace, kind: str, source: Path) -> RegisterImport:
    """Check a vehicles, registrations or payments file and keep it in the data directory.

    These hold clear VRMs (the register is DVLA data; payments and registrations are made by
    VRM), so they live apart from the read store, under `<data-dir>/register/`. A new file
    replaces the old one of its kind.
    """
    loaders: dict[str, Callable[[duckdb.DuckDBPyConnection, Path], int]] = {
        "vehicles": load_register,
        "registrations": load_registrations,
        "payments": load_payments,
        "evidence": load_evidence,
        "autopay": partial(
            load_autopay,
            personal_max_vehicles=ws.settings.autopay_personal_max,
            fleet_min_vehicles=ws.settings.autopay_fleet_min,
        ),
    }
    if kind not in loaders:
        raise InputError(f"unknown register file kind {kind!r}: {', '.join(loaders)}")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rows = loaders[kind](con, source)
    target = ws.data_dir / "register" / REGISTER_FILES[kind]
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_suffix(".partial")
    table = "register" if kind == "vehicles" else kind
    con.execute(f"COPY {table} TO '{staged}' (FORMAT parquet, COMPRESSION zstd)")
    staged.replace(target)
    return RegisterImport(kind=kind, rows=int(rows), path=target)


LIABILITY_STATE_COLUMNS = (
    "account_id",
    "scheme_id",
    "vrm_pseudonym",
    "amount_pence",
    "status",
    "rule",
    "reason",
    "reads",
)
"""A run's rows for the `liabilities` table, as `_state_table` builds them; the columns with one
value for the whole run (`_run_constants`) are written apart."""
_SCHEME_AT = LIABILITY_STATE_COLUMNS.index("scheme_id")
_SETTLED = text(f"({LIABILITY_SETTLED})")
_UNSETTLED = text(f"NOT ({LIABILITY_SETTLED})")
_PSEUDONYM_AT = LIABILITY_STATE_COLUMNS.index("vrm_pseudonym")
_STATUS_AT = LIABILITY_STATE_COLUMNS.index("status")
_PENCE_AT = LIABILITY_STATE_COLUMNS.index("amount_pence")
_RULE_AT = LIABILITY_STATE_COLUMNS.index("rule")


@dataclass(frozen=True, slots=True)
class ChargeRun:
    run_id: str
    charge_day: date
    key_epoch: int
    reads: int
    vehicles_seen: int
    not_liable: int
    unidentified: int
    misreads_absorbed: int
    vault_lookups: int
    by_status: dict[str, int]
    amount_due_pence: int
    refunds: int
    refunds_pence: int
    seconds: float
    register_contradictions: int = 0
    """Charges held for review because cameras saw another vehicle than the register holds."""
    review_by_rule: dict[str, int] = field(default_factory=dict)
    refunds_due: int = 0
    """Refunds saved as due by this run: ``refunds`` less those already issued."""
    refunds_due_pence: int = 0
    refunds_issued_not_due: list[int] = field(default_factory=list)
    """Ids of refunds already issued that this run no longer finds due: kept, for a person."""


def _record_refunds(ws: Workspace, day: date, run_id: str, refunds: SavedRefunds) -> None:
    if not (refunds.due or refunds.issued_not_due):
        return
    ws.record(
        "refunds-due",
        subject=f"charge-day:{day}",
        why=f"run {run_id}: payments above what was owed"
        + (
            f"; issued refunds no longer due: {', '.join(map(str, refunds.issued_not_due))}"
            if refunds.issued_not_due
            else ""
        ),
        counts={
            "due": refunds.due,
            "due_pence": refunds.due_pence,
            "issued_not_due": len(refunds.issued_not_due),
        },
    )


@dataclass(frozen=True, slots=True)
class _VaultRecovery:
    """The stored run's `Recover`: an audited vault look-up."""

    ws: Workspace
    keys: EpochKeys
    day: date

    def __call__(self, pseudonyms: Sequence[bytes]) -> dict[bytes, str]:
        clear = self.ws.vault.recover(self.keys, pseudonyms)
        self.ws.record(
            "vault-recovered",
            subject=f"charge-day:{self.day}",
            why="charging: plates not in the register, matched to registered vehicles by "
            "confusion key (misread safety)",
            counts={"asked": len(pseudonyms), "recovered": len(clear)},
        )
        return clear


def run_stored(
    ws: Workspace,
    day: date,
    *,
    now: datetime,
    book: SchemeBook | None = None,
    evidence_rule: EvidenceRule | None = None,
    register_check: RegisterCheck | None = None,
) -> ChargeRun:
    """Charge one stored day: the register keyed under the day's epoch, liabilities saved.

    Clear VRMs are recovered from the vault only for sighted plates the register does not
    know, so that likely misreads can be matched to registered vehicles by their confusion key.
    One run at a time (the `charge-run` lock): a run removes evidence files no row refers to,
    which must not be another run's, written and not yet committed.
    """
    with ws.lock("charge-run"):
        return _run_stored(
            ws, day, now=now, book=book, evidence_rule=evidence_rule, register_check=register_check
        )


def _run_stored(
    ws: Workspace,
    day: date,
    *,
    now: datetime,
    book: SchemeBook | None,
    evidence_rule: EvidenceRule | None,
    register_check: RegisterCheck | None,
) -> ChargeRun:
    started = time.perf_counter()
    book = book or load_scheme_book()
    files = ws.reads.files(day)
    if not files:
        raise NotFoundError(f"no stored reads for charge day {day}")
    vehicles = ws.data_dir / "register" / REGISTER_FILES["vehicles"]
    if not vehicles.exists():
        raise StateError("no vehicle register: run `ringfence register import vehicles FILE`")
    epoch = ws.keys.epoch_for_day(day)
    if epoch is None:
        raise StateError(f"no key epoch covers {day}")
    keys = ws.keys.keys(epoch.epoch)
    inner, outer = keys.hmac_blocks()
    run_id = uuid.uuid4().hex[:16]
    con = ws.engine(memory_limit=ws.settings.charge_memory_limit)
    try:
        con.register("cameras", ws.require_cameras())
        con.register("pads", pa.table({"i": [inner], "o": [outer]}))
        key = pseudonym_sql("vrm", "(SELECT i FROM pads)", "(SELECT o FROM pads)")
        con.execute(
            f"CREATE TEMP TABLE register AS SELECT * EXCLUDE (vehicle_key), {key} AS vehicle_key "
            f"FROM read_parquet('{vehicles}')"
        )
        for kind in ("registrations", "payments", "evidence", "autopay"):
            path = ws.data_dir / "register" / REGISTER_FILES[kind]
            if path.exists():
                vkey = pseudonym_sql("vehicle_key", "(SELECT i FROM pads)", "(SELECT o FROM pads)")
                # A refund is paid back to the plate paid under: payments keep it (it is in
                # the clear in the operator's file already), so refunds never need the vault.
                payer = ", vehicle_key AS vrm" if kind == "payments" else ""
                con.execute(
                    f"CREATE TEMP TABLE {kind} AS SELECT * EXCLUDE (vehicle_key), "
                    f"{vkey} AS vehicle_key{payer} FROM read_parquet('{path}')"
                )
            else:
                EMPTY_LOADERS[kind](con, None)
        con.unregister("pads")
        observed = read_columns_sql(con, files, ("observed_make", "observed_type"))
        con.execute(
            f"CREATE TEMP VIEW day_reads AS SELECT read_id, camera_id, captured_at, confidence, "
            f"vrm_pseudonym AS vehicle_key, NULL::VARCHAR AS vrm_text, {observed} "
            f"FROM read_parquet({sql_list(files)}, union_by_name = true) "
            f"WHERE key_epoch = {epoch.epoch}"
        )
        recover = _VaultRecovery(ws, keys, day)
        decisions = decide_charge_day(con, book, day, evidence_rule=evidence_rule, recover=recover)
        decided = _state_table(con)
        constants = _run_constants(run_id=run_id, day=day, key_epoch=epoch.epoch, now=now)
        with ws.writer(), ws.state.session() as s:
            # The rows are saved while DuckDB gathers their reads (SQLite's work and DuckDB's
            # both leave Python's lock): that pass only holds a few charges for review, which
            # are updated once it is done. Nothing commits until the evidence file is written.
            with ThreadPoolExecutor(max_workers=1) as pool:
                saving = pool.submit(_save_liabilities, s, decided, day=day, constants=constants)
                result = explain_charge_day(
                    con,
                    decisions,
                    register_check=register_check or ws.settings.register_check,
                    fetch=False,
                )
                ws.charge_evidence.write(
                    con,
                    "SELECT scheme_id, vehicle_key AS vrm_pseudonym, read_ids FROM liabilities",
                    day,
                    run_id,
                )
                reads = int(con.execute("SELECT count(*) FROM day_reads").fetchone()[0])  # type: ignore[index]
                rows, kept_runs = saving.result()
            rows = _hold(s, rows, _held_rows(con), constants=constants)
            refunds = save_charge_refunds(
                s, result.refunds_due, day=day, key_epoch=epoch.epoch, run_id=run_id, now=now
            )
    finally:
        con.close()
    # Only once the rows are committed: until then the rows of the run they replace are the
    # day's, and their evidence is that run's file.
    ws.charge_evidence.prune(day, {run_id, *kept_runs})
    by_status: dict[str, int] = {}
    review_by_rule: dict[str, int] = {}
    for r in rows:
        by_status[r[_STATUS_AT]] = by_status.get(r[_STATUS_AT], 0) + 1
        if r[_STATUS_AT] == "review":
            review_by_rule[r[_RULE_AT]] = review_by_rule.get(r[_RULE_AT], 0) + 1
    ws.record("charge-run", subject=f"charge-day:{day}", why=f"run {run_id}", counts=by_status)
    _record_refunds(ws, day, run_id, refunds)
    return ChargeRun(
        run_id=run_id,
        charge_day=day,
        key_epoch=epoch.epoch,
        reads=reads,
        vehicles_seen=result.sightings,
        not_liable=result.not_liable,
        unidentified=result.unidentified,
        misreads_absorbed=result.absorbed,
        vault_lookups=result.recovered_asked,
        by_status=dict(sorted(by_status.items())),
        amount_due_pence=sum(r[_PENCE_AT] for r in rows if r[_STATUS_AT] == "unpaid"),
        refunds=result.refunds,
        refunds_pence=result.refunds_pence,
        refunds_due=refunds.due,
        refunds_due_pence=refunds.due_pence,
        refunds_issued_not_due=refunds.issued_not_due,
        seconds=time.perf_counter() - started,
        register_contradictions=result.contradicted,
        review_by_rule=dict(sorted(review_by_rule.items())),
    )


def _save_liabilities(
    s: Session,
    table: pa.Table,
    *,
    day: date,
    constants: dict[str, str | int | None],
) -> tuple[list[tuple[Any, ...]], set[str]]:
    """Save the run's rows (``table``, from `_state_table`) for ``day``; returns those saved
    and the runs of the rows kept."""
    decided = list(zip(*(column.to_pylist() for column in table.columns), strict=True))
    # A liability that already has a penalty notice, or that a person has reviewed, is settled
    # history: a re-run keeps it (and a notice's link to it) and does not decide it again.
    settled = s.execute(
        select(LiabilityRow.scheme_id, LiabilityRow.vrm_pseudonym, LiabilityRow.run_id).where(
            LiabilityRow.charge_day == day, _SETTLED
        )
    ).all()
    kept = {(scheme_id, bytes(pseudonym)) for scheme_id, pseudonym, _ in settled}
    rows = (
        [r for r in decided if (r[_SCHEME_AT], r[_PSEUDONYM_AT]) not in kept] if kept else decided
    )
    # A re-run decides mostly the same rows again: they are updated in place (keeping their
    # ids), and only rows this run no longer decides are deleted.
    _upsert(s, rows, constants)
    # Finding rows of other runs reads every row of the day; counting them (on the unique
    # key's index) tells whether there are any, and mostly there are none.
    day_rows = s.scalar(select(func.count()).where(LiabilityRow.charge_day == day))
    if day_rows != len(rows) + len(settled):
        s.execute(
            delete(LiabilityRow).where(
                LiabilityRow.charge_day == day,
                _UNSETTLED,
                LiabilityRow.run_id != constants["run_id"],
            )
        )
    return rows, {run for _, _, run in settled}


_STATE_COLUMNS_SQL = """
    account_id, scheme_id, vehicle_key, amount_pence::BIGINT, status, left(rule, 96), reason,
    reads::BIGINT
"""


def _state_table(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The run's liabilities (the engine's `decisions` view) as `liabilities` rows in storage
    form (`LIABILITY_STATE_COLUMNS`), in the engine's order.

    Built by DuckDB on the engine's own connection: a day has hundreds of thousands of rows,
    and turning each into a dict in Python cost more than the decision. As Arrow (0.7 s for a
    full day, against 1.2 s to fetch tuples): turning its columns into the rows SQLite binds
    is left to the thread that saves them, while DuckDB goes on.
    """
    return con.sql(f"SELECT {_STATE_COLUMNS_SQL} FROM decisions {LIABILITY_ORDER}").to_arrow_table()


def _held_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """The charges `explain_charge_day` held for review, after their rows were made: as
    `liabilities` rows in storage form, like `_state_table`."""
    return con.execute(
        f"SELECT {_STATE_COLUMNS_SQL} FROM decisions WHERE rule = '{CONTRADICTION_RULE}'"
    ).fetchall()


def _hold(
    s: Session,
    rows: list[tuple[Any, ...]],
    held: list[tuple[Any, ...]],
    *,
    constants: dict[str, str | int | None],
) -> list[tuple[Any, ...]]:
    """Save the charges held for review over the rows `_save_liabilities` saved; returns
    ``rows`` as they now stand. The same upsert: a settled row the run kept stays as it is."""
    if not held:
        return rows
    _upsert(s, held, constants)
    at = {(r[_SCHEME_AT], r[_PSEUDONYM_AT]): r for r in held}
    return [at.get((r[_SCHEME_AT], r[_PSEUDONYM_AT]), r) for r in rows]


def _upsert(
    s: Session, rows: Sequence[tuple[Any, ...]], constants: dict[str, str | int | None]
) -> None:
    """Insert the run's rows, or update in place a day's row of the same key, unless settled."""
    bulk_upsert(
        s,
        LiabilityRow.__tablename__,
        LIABILITY_STATE_COLUMNS,
        rows,
        key=("charge_day", "scheme_id", "key_epoch", "vrm_pseudonym"),
        keep_where=liability_settled_sql(LiabilityRow.__tablename__),
        constants=constants,
    )


def _run_constants(
    *, run_id: str, day: date, key_epoch: int, now: datetime
) -> dict[str, str | int | None]:
    """The `liabilities` columns one run writes alike in all its rows, in storage form. Read
    ids go to the run's evidence file (NULL here: an update in place clears an older list)."""
    return {
        "run_id": run_id,
        "charge_day": day.isoformat(),
        "key_epoch": key_epoch,
        "read_ids": None,
        "decided_at": now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
    }


def list_liabilities(
    ws: Workspace, day: date, *, status: str | None = None, limit: int = 50
) -> list[dict[str, object]]:
    with ws.state.session() as s:
        query = (
            select(LiabilityRow)
            .where(LiabilityRow.charge_day == day)
            .order_by(LiabilityRow.scheme_id, LiabilityRow.id)
            .limit(limit)
        )
        if status:
            # As a literal: the review queue's partial index serves only `status = 'review'`.
            query = query.where(LiabilityRow.status == bindparam("s", status, literal_execute=True))
        rows = s.scalars(query).all()
    read_ids = ws.charge_evidence.of_liabilities(rows)
    return [
        {
            "id": r.id,
            "charge_day": r.charge_day.isoformat(),
            "scheme_id": r.scheme_id,
            "key_epoch": r.key_epoch,
            "vrm_pseudonym": r.vrm_pseudonym.hex(),
            "amount_pence": r.amount_pence,
            "status": r.status,
            "rule": r.rule,
            "reason": r.reason,
            "read_ids": read_ids[r.id],
            "reviewed_by": r.reviewed_by,
            "reviewed_at": r.reviewed_at.isoformat() if r.reviewed_at else None,
            "review_note": r.review_note,
        }
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class AccountBill:
    account_id: str
    charges: int
    amount_pence: int
    by_scheme: dict[str, int]


def autopay_bills(ws: Workspace, month: str) -> list[AccountBill]:
    """Each Auto Pay account's charges for a calendar month (YYYY-MM), as billed."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError as exc:
        raise InputError(f"{month!r} is not a month (YYYY-MM)") from exc
    last = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    with ws.state.session() as s:
        rows = s.execute(
            select(LiabilityRow.account_id, LiabilityRow.scheme_id, LiabilityRow.amount_pence)
            .where(
                LiabilityRow.account_id.is_not(None),
                LiabilityRow.charge_day >= first,
                LiabilityRow.charge_day < last,
            )
            .order_by(LiabilityRow.account_id)
        ).all()
    bills: dict[str, AccountBill] = {}
    for account, scheme, pence in rows:
        assert account is not None  # selected IS NOT NULL above
        b = bills.get(account) or AccountBill(account, 0, 0, {})
        by_scheme = {**b.by_scheme, scheme: b.by_scheme.get(scheme, 0) + pence}
        bills[account] = AccountBill(account, b.charges + 1, b.amount_pence + pence, by_scheme)
    return list(bills.values())
