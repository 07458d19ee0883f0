"""The transparency report: what the platform did over a period, from the record, not curated.

Where each figure comes from (each table names its source):

- the audit log (`ringfence.audit`): reads ingested and purged by rule, key destructions, legal
  holds, vault recoveries, police requests, decisions, withdrawals and releases, hotlist
  changes, hits and reviews, governance changes, subject access, checkpoints, and the privacy
  budget's own ledger (`dp-release` entries);
- the state database: charges (liabilities by charge day), penalty notices, representations and
  appeals (each notice's history of dated events), refunds issued (by the instant issued) and
  payments (the imported payments file, kept beside the state under `<data-dir>/register/`, by
  the instant paid);
- the read store: reads held at the time of the report, per network and charge day.

`build_report(public=True)` is a release: under a lock of its own it checks the
privacy budget (refusing, before any noise is drawn, a release that would take a day of the
period past it), draws the noise once and records a `dp-release` audit entry. The noisy values
exist from then on only in the report and the files `write_report` keeps: asking again is a new
release, paid for again. The internal report is exact, spends nothing and is written owner-only.
"""

from __future__ import annotations

import csv
import io
import json
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from hashlib import sha256
from html import escape
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ringfence.audit import Entry
from ringfence.domain.sharing import GovernanceBook, Seriousness
from ringfence.errors import ConfigError, InputError
from ringfence.oversight.charts import bar_chart
from ringfence.oversight.privacy import (
    DP_RELEASE_EVENT,
    LedgerEntry,
    Noise,
    check_budget,
    format_period,
    ledger,
    privatise,
    spent_over,
)
from ringfence.oversight.transparency import (
    READ_STORE,
    TABLES,
    Fact,
    Public,
    Record,
    Table,
    TableSpec,
    aggregate,
    checkpoint_table,
    group_label,
    hotlist_table,
)
from ringfence.services.governance import current_book
from ringfence.settings import TransparencySettings
from ringfence.stores.readstore import connect, london_day_bounds
from ringfence.stores.state import LiabilityRow, PenaltyNoticeRow, RefundRow
from ringfence.workspace import Workspace

__all__ = [
    "REPORT_FORMAT",
    "BudgetRow",
    "PublishedTable",
    "TransparencyReport",
    "build_report",
    "write_report",
]

REPORT_FORMAT = "ringfence-transparency-report/1"
WRITTEN_EVENT = "transparency-report-written"
CHART_MAX_BARS = 25


@dataclass(frozen=True, slots=True)
class PublishedTable:
    """A table as published: exact, or noisy with its epsilon, sensitivity and accuracy."""

    name: str
    title: str
    source: str
    dims: tuple[str, ...]
    rows: tuple[tuple[tuple[str, ...], int], ...]
    method: str  # "exact" | "noisy"
    epsilon: Decimal | None = None
    sensitivity: int | None = None
    accuracy: int | None = None

    def value(self, *group: str) -> int | None:
        return next((v for g, v in self.rows if g == group), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "source": self.source,
            "dims": list(self.dims),
            "method": self.method,
            "epsilon": None if self.epsilon is None else str(self.epsilon),
            "sensitivity": self.sensitivity,
            "accuracy": self.accuracy,
            "rows": [
                {"group": dict(zip(self.dims, g, strict=True)), "value": v} for g, v in self.rows
            ],
        }


@dataclass(frozen=True, slots=True)
class BudgetRow:
    """One public release in the ledger, and the most any day of its period had borne after."""

    release_id: str
    at: datetime
    period: str
    epsilon: Decimal
    spent_after: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {
            "release_id": self.release_id,
            "at": self.at.isoformat(),
            "period": self.period,
            "epsilon": str(self.epsilon),
            "spent_after": str(self.spent_after),
        }


@dataclass(frozen=True, slots=True)
class TransparencyReport:
    report_id: str
    start: date
    end: date
    generated_at: datetime
    public: bool
    tables: tuple[PublishedTable, ...]
    epsilon: Decimal
    """This release's privacy loss (0 for the internal report)."""
    budget_epsilon: Decimal
    budget_used: Decimal
    """The most any day of the period has borne, this release included."""
    budget_history: tuple[BudgetRow, ...]
    alpha: float
    checkpoints: tuple[dict[str, Any], ...]

    @property
    def period(self) -> str:
        return format_period(self.start, self.end)

    @property
    def visibility(self) -> str:
        return "public" if self.public else "internal"

    def table(self, name: str) -> PublishedTable:
        return next(t for t in self.tables if t.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "report_id": self.report_id,
            "visibility": self.visibility,
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "generated_at": self.generated_at.isoformat(),
            "privacy": {
                "mechanism": "discrete Laplace (OpenDP make_laplace), noisy counts floored at 0",
                "unit": "one audited event",
                "alpha": self.alpha,
                "epsilon_this_release": str(self.epsilon),
                "budget_epsilon_per_day": str(self.budget_epsilon),
                "budget_used_in_period": str(self.budget_used),
                "releases": [r.to_dict() for r in self.budget_history],
            },
            "sources": {t.name: t.source for t in self.tables},
            "checkpoints": list(self.checkpoints),
            "tables": [t.to_dict() for t in self.tables],
        }


# -- building --------------------------------------------------------------------------------
@contextmanager
def _release_lock(ws: Workspace) -> Iterator[None]:
    """Serialise public releases (check the ledger, draw, record) between processes.

    Its own lock, not the workspace's writer lock: a release must not wait for an ingest, and a
    caller already holding the writer lock (a demo) must not deadlock on it.
    """
    with ws.lock("transparency"):
        yield


def _period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    if end < start:
        raise InputError(f"the period ends ({end}) before it starts ({start})")
    return london_day_bounds(start)[0], london_day_bounds(end)[1]


def _state_records(ws: Workspace, start: date, end: date) -> Iterator[Record]:
    """Charges, penalty-notice events and payments as facts (already summed where SQL can)."""
    with ws.state.session() as s:
        liabilities = s.execute(
            select(
                LiabilityRow.charge_day,
                LiabilityRow.scheme_id,
                LiabilityRow.status,
                func.count(),
                func.sum(LiabilityRow.amount_pence),
            )
            .where(LiabilityRow.charge_day.between(start, end))
            .group_by(LiabilityRow.charge_day, LiabilityRow.scheme_id, LiabilityRow.status)
        ).all()
        histories = s.execute(select(PenaltyNoticeRow.scheme_id, PenaltyNoticeRow.history)).all()
    for day, scheme, status, n, amount in liabilities:
        yield Record(
            "liability",
            london_day_bounds(day)[0],
            {"scheme": scheme, "status": status},
            {"events": int(n), "amount_pence": int(amount or 0)},
        )
    for scheme, history in histories:
        for event in history:
            yield Record(
                str(event["action"]),
                datetime.fromisoformat(str(event["at"])),
                {"scheme": scheme, "ground": str(event.get("ground") or "")},
                {"paid_pence": int(str(event.get("paid_pence") or 0))},
            )
    yield from _refunds_issued(ws, start, end)
    payments = ws.data_dir / "register" / "payments.parquet"
    if payments.exists():
        first, last = _period_bounds(start, end)
        con = connect(1)
        try:
            rows = con.execute(
                "SELECT scheme_id, count(*), sum(amount_pence) FROM read_parquet(?) "
                "WHERE paid_at >= ? AND paid_at < ? GROUP BY 1 ORDER BY 1",
                [str(payments), first, last],
            ).fetchall()
        finally:
            con.close()
        for scheme, n, amount in rows:
            yield Record(
                "payment", first, {"scheme": scheme}, {"events": n, "amount_pence": amount}
            )


def _refunds_issued(ws: Workspace, start: date, end: date) -> Iterator[Record]:
    """Refunds paid out in the period (by when issued, like payments by when paid)."""
    first, last = _period_bounds(start, end)
    with ws.state.session() as s:
        rows = s.execute(
            select(RefundRow.scheme_id, func.count(), func.sum(RefundRow.refund_pence))
            .where(
                RefundRow.status == "issued",
                RefundRow.issued_at >= first,
                RefundRow.issued_at < last,
            )
            .group_by(RefundRow.scheme_id)
            .order_by(RefundRow.scheme_id)
        ).all()
    for scheme, n, amount in rows:
        yield Record(
            "refund", first, {"scheme": scheme}, {"events": int(n), "amount_pence": int(amount)}
        )


def _reads_held(ws: Workspace) -> Table:
    """Reads in the store now, per network and charge day (not only the period's)."""
    files = ws.reads.all_files()
    cells: dict[tuple[str, ...], int] = {}
    if files:
        con = ws.reader()
        con.register("cameras_lookup", ws.cameras_table())
        try:
            rows = con.sql(
                f"SELECT coalesce(c.network, 'unknown'), CAST(r.charge_day AS VARCHAR), count(*) "
                f"FROM {ws.reads.scan(files)} r LEFT JOIN cameras_lookup c USING (camera_id) "
                "GROUP BY 1, 2 ORDER BY 1, 2"
            ).fetchall()
        finally:
            con.unregister("cameras_lookup")
        cells = {(str(net), str(day)): int(n) for net, day, n in rows}
    return Table(
        "reads_held",
        "Reads held at report time, by network and charge day",
        ("network", "day"),
        cells,
        READ_STORE,
    )


def _domains(ws: Workspace, rules: TransparencySettings, book: GovernanceBook) -> dict[str, Any]:
    """Public values of each dimension: configuration, the governance book, the cameras."""
    cameras = ws.cameras_table()
    found: dict[str, set[str]] = {
        "purpose": set(book.rules.purposes),
        "legal_basis": set(book.rules.legal_bases),
        "force": {r for i in book.instruments for r in i.recipients},
        "seriousness": {str(s) for s in Seriousness},
        "network": {n for i in book.instruments for n in i.networks}
        | {str(n) for n in cameras.column("network").to_pylist() if n},
        "borough": {str(b) for b in cameras.column("borough_gss").to_pylist() if b},
    }
    merged: dict[str, Any] = {k: set(v) for k, v in found.items()}
    for key, values in rules.domains.items():
        merged[key] = merged.get(key, set()) | set(values)
    return {k: sorted(v) for k, v in merged.items()}


def _exact(table: Table) -> PublishedTable:
    return PublishedTable(
        table.name,
        table.title,
        table.source,
        table.dims,
        tuple(sorted(table.cells.items())),
        "exact",
    )


def _protected_specs(rules: TransparencySettings) -> list[TableSpec]:
    known = {t.name for t in TABLES}
    unknown = sorted({p.table for p in rules.protected} - known)
    if unknown:
        raise ConfigError(
            f"[transparency.protected] names tables that do not exist: {', '.join(unknown)}"
        )
    return [t for t in TABLES if rules.rule(t.name) is not None]


def _noisy(
    facts: Sequence[Fact],
    table: TableSpec,
    bounds: tuple[datetime, datetime],
    domains: Mapping[str, Sequence[str]],
    rules: TransparencySettings,
) -> PublishedTable:
    rule = rules.rule(table.name)
    assert rule is not None
    try:
        bounded = aggregate(facts, table, *bounds, public=Public(domains, rule.bound))
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    noise = Noise(rule.epsilon, rule.bound, rules.alpha)
    groups = list(bounded.cells)
    drawn = privatise([bounded.cells[g] for g in groups], noise)
    return PublishedTable(
        table.name,
        table.title,
        table.source,
        bounded.dims,
        tuple(zip(groups, drawn, strict=True)),
        "noisy",
        epsilon=rule.epsilon,
        sensitivity=rule.bound,
        accuracy=noise.accuracy,
    )


def _budget_history(releases: Sequence[LedgerEntry]) -> tuple[BudgetRow, ...]:
    return tuple(
        BudgetRow(
            r.release_id,
            r.at,
            format_period(r.start, r.end),
            r.epsilon,
            spent_over(releases[: i + 1], r.start, r.end),
        )
        for i, r in enumerate(releases)
    )


def _release(
    ws: Workspace,
    report_id: str,
    start: date,
    end: date,
    epsilon: Decimal,
    now: datetime,
    draws: Sequence[tuple[TableSpec, Callable[[], PublishedTable]]],
) -> dict[str, PublishedTable]:
    """Check the budget, draw every protected table once, and record the release.

    All under one lock, so two releases cannot both pass the check; refused before any noise is
    drawn, and recorded only once every table is drawn.
    """
    with _release_lock(ws):
        # Read the ledger under the lock: another release may have just been made.
        check_budget(
            ledger(ws.audit.entries()), start, end, epsilon, ws.settings.transparency.budget_epsilon
        )
        noisy = {spec.name: draw() for spec, draw in draws}
        ws.audit.append(
            DP_RELEASE_EVENT,
            actor=ws.actor,
            at=now,
            subject=report_id,
            why=f"public transparency report for {format_period(start, end)}",
            counts={"cells": sum(len(t.rows) for t in noisy.values())},
            attrs={
                "epsilon": str(epsilon),
                "tables": ";".join(noisy),
                "period": format_period(start, end),
            },
        )
    return noisy


def build_report(
    ws: Workspace,
    *,
    start: date,
    end: date,
    public: bool,
    now: datetime,
    book: GovernanceBook | None = None,
) -> TransparencyReport:
    """The transparency report for the London days ``start``..``end`` (inclusive).

    Public: the protected tables are noisy and the release is recorded (see the module
    docstring); raises ``BudgetExceededError`` (nothing drawn, nothing recorded) past the
    budget. Internal: everything exact.
    """
    bounds = _period_bounds(start, end)
    rules = ws.settings.transparency
    protected = _protected_specs(rules)
    report_id = f"TR-{now.astimezone(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6].upper()}"
    entries: list[Entry] = list(ws.audit.entries())
    facts: list[Fact] = [*entries, *_state_records(ws, start, end)]
    tables: dict[str, PublishedTable] = {
        spec.name: _exact(aggregate(facts, spec, *bounds)) for spec in TABLES
    }
    epsilon = Decimal(0)
    if public:
        # The book as amended by recorded governance changes (new instruments' forces and
        # networks are public values too).
        domains = _domains(ws, rules, book or current_book(ws))
        epsilon = sum((r.epsilon for r in rules.protected), Decimal(0))
        draws = [(spec, partial(_noisy, facts, spec, bounds, domains, rules)) for spec in protected]
        tables.update(_release(ws, report_id, start, end, epsilon, now, draws))
    releases = ledger(ws.audit.entries())
    extra = [
        _exact(_reads_held(ws)),
        _exact(hotlist_table(entries, *bounds)),
        _exact(checkpoint_table(ws.audit.checkpoints(), *bounds)),
    ]
    return TransparencyReport(
        report_id=report_id,
        start=start,
        end=end,
        generated_at=now,
        public=public,
        tables=(extra[0], *tables.values(), *extra[1:]),
        epsilon=epsilon,
        budget_epsilon=rules.budget_epsilon,
        budget_used=spent_over(releases, start, end),
        budget_history=_budget_history(releases),
        alpha=rules.alpha,
        checkpoints=tuple(
            {"seq": cp.seq, "hash": cp.hash, "at": cp.at, "key": cp.key}
            for cp in ws.audit.checkpoints()
        ),
    )


# -- rendering -------------------------------------------------------------------------------
def render_json(report: TransparencyReport) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=True) + "\n"


def render_csv(report: TransparencyReport) -> str:
    """Long form: one row per cell: table, group, value, method (exact|noisy), epsilon."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["table", "group", "value", "method", "epsilon"])
    for t in report.tables:
        for group, value in t.rows:
            eps = "" if t.epsilon is None else str(t.epsilon)
            w.writerow([t.name, group_label(t.dims, group), value, t.method, eps])
    return buf.getvalue()


_CSS = (
    "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:2px 8px}"
    "td.n{text-align:right}.note{color:#555;font-size:.9em}section{margin:2rem 0}"
)


def _chart(t: PublishedTable) -> str:
    # The table's own order (groups, or the public domain) reads best; only a long table is
    # cut to its largest rows.
    rows = t.rows
    if len(rows) > CHART_MAX_BARS:
        rows = tuple(sorted(rows, key=lambda r: -r[1])[:CHART_MAX_BARS])
    if not rows:
        return '<p class="note">Nothing recorded in the period.</p>'
    labels = [" / ".join(g) or "all" for g, _ in rows]
    chart = bar_chart(
        t.title,
        labels,
        [v for _, v in rows],
        error=t.accuracy,
        colour="#9f5f2f" if t.method == "noisy" else "#2f6f9f",
    )
    more = len(t.rows) - len(rows)
    return chart + (
        f'<p class="note">The {more} smaller rows are in the table.</p>' if more else ""
    )


def _html_table(t: PublishedTable) -> str:
    head = "".join(f"<th>{escape(d)}</th>" for d in t.dims) + "<th>value</th>"
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(v)}</td>" for v in g) + f'<td class="n">{value:,}</td></tr>'
        for g, value in t.rows
    )
    summary = f"<summary>{len(t.rows)} rows</summary>"
    return f"<details>{summary}<table><tr>{head}</tr>{body}</table></details>"


def _protection(t: PublishedTable, alpha: float) -> str:
    if t.method == "exact":
        return f"Exact counts. Source: {escape(t.source)}."
    return (
        f"Noisy counts (differential privacy): epsilon {t.epsilon}, sensitivity {t.sensitivity}; "
        f"each value is within ±{t.accuracy} of the true count with probability at least "
        f"{1 - alpha:.0%}. Source: {escape(t.source)}."
    )


def _privacy_statement(r: TransparencyReport) -> str:
    spent = (
        f"The busiest day of this period has borne epsilon {r.budget_used} of a budget of "
        f"{r.budget_epsilon} per day, over every public release covering it."
    )
    if not r.public:
        return (
            "<strong>Internal version: every count is exact. Not for publication.</strong> It "
            f"spends no privacy budget. {spent}"
        )
    return (
        "Tables marked noisy are protected with differential privacy (OpenDP's discrete "
        "Laplace mechanism; negative draws are published as 0); the unit protected is one "
        f"audited event. This release spent epsilon {r.epsilon}, the sum over its noisy "
        f"tables. {spent}"
    )


def render_html(report: TransparencyReport) -> str:
    r = report
    budget_rows = "".join(
        f"<tr><td>{escape(b.release_id)}</td><td>{b.at:%Y-%m-%d %H:%M}</td>"
        f'<td>{escape(b.period)}</td><td class="n">{b.epsilon}</td>'
        f'<td class="n">{b.spent_after}</td></tr>'
        for b in r.budget_history
    )
    budget_chart = (
        bar_chart(
            "Privacy budget: the most epsilon a day of each release's period had borne after it",
            [f"{b.release_id} ({b.period})" for b in r.budget_history],
            [float(b.spent_after) for b in r.budget_history],
            limit=float(r.budget_epsilon),
            colour="#6f2f9f",
        )
        if r.budget_history
        else ""
    )
    sections = "".join(
        f'<section id="{escape(t.name)}"><h2>{escape(t.title)}</h2>'
        f'<p class="note">{_protection(t, r.alpha)}</p>{_chart(t)}{_html_table(t)}</section>'
        for t in r.tables
    )
    title = f"Ringfence transparency report {r.period} ({r.visibility})"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{escape(title)}</h1>
<p>Report {escape(r.report_id)}, generated {r.generated_at:%Y-%m-%d %H:%M} UTC, for the London days
{r.start} to {r.end} inclusive. Every figure is counted from the record (the audit log, the state
database or the read store, as each section says), not curated.</p>
<p class="note">Blue bars: exact counts. Brown bars: noisy counts, with a whisker of ±their
stated accuracy. Each chart shows its largest rows; every row is in the table under it and in
the CSV and JSON files.</p>
<section id="privacy"><h2>Privacy</h2>
<p>{_privacy_statement(r)}</p>
{budget_chart}
<table><tr><th>release</th><th>at (UTC)</th><th>period</th><th>epsilon</th>
<th>most borne by a day after it</th></tr>{budget_rows}</table></section>
{sections}
</body></html>
"""


def _write_new(path: Path, text: str, mode: int) -> None:
    """Create ``path`` (never overwrite: published noise is never replaced), fsynced."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, mode)  # the umask may have narrowed it; owner-only stays owner-only


def default_out_dir(ws: Workspace, report: TransparencyReport) -> Path:
    base = ws.data_dir / "reports" / "transparency"
    return base if report.public else base / "internal"


def write_report(
    ws: Workspace, report: TransparencyReport, out_dir: Path | None = None
) -> dict[str, Path]:
    """Write the report as JSON, CSV and HTML: ``<period>-<report id>.{json,csv,html}``.

    Default directory: ``<data-dir>/reports/transparency/`` (public) or its ``internal/``
    (exact; owner-only 0700 directory, 0600 files). The JSON's SHA-256 is audited.
    """
    target = out_dir or default_out_dir(ws, report)
    target.mkdir(parents=True, exist_ok=True, mode=0o755 if report.public else 0o700)
    mode = 0o644 if report.public else 0o600
    stem = f"{report.start}_{report.end}-{report.report_id}"
    texts = {
        "json": render_json(report),
        "csv": render_csv(report),
        "html": render_html(report),
    }
    paths = {kind: target / f"{stem}.{kind}" for kind in texts}
    for kind, text in texts.items():
        _write_new(paths[kind], text, mode)
    ws.record(
        WRITTEN_EVENT,
        subject=report.report_id,
        why=f"{report.visibility} transparency report for {report.period} written",
        attrs={"visibility": report.visibility, "period": report.period},
        digest=sha256(texts["json"].encode("utf-8")).hexdigest(),
    )
    return paths
