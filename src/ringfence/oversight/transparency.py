"""The transparency report's tables: audited facts in, tables of counts out. Pure: no I/O.

A *fact* is anything with an ``event``, an instant ``at``, ``attrs`` (the strings a table groups
by) and ``counts`` (the integers it adds up): an audit ``Entry`` is one as it stands, and the
service turns state-database rows (liabilities, penalty-notice events, payments, refunds) into
``Record``\\s so the same table definitions count them. Each ``TableSpec`` says which events a
table counts, which attrs it groups by and what it adds up; ``TABLES`` is the report.

Two ways to count one table:

- exact (``aggregate(..., public=None)``): the groups seen, each value as recorded; the
  internal report, and the truth a noisy count is measured against;
- for publication with differential privacy (``aggregate(..., public=Public(...))``): every
  group of the public domain, zero or not, values outside it counted as ``other`` (so which
  cells exist says nothing about the data), and each event's contribution to the whole table
  bounded (so one event moves the table by at most ``bound`` in L1: the mechanism's
  sensitivity).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

__all__ = [
    "EVENTS_MEASURE",
    "OTHER",
    "TABLES",
    "UNKNOWN",
    "Fact",
    "Public",
    "Record",
    "Table",
    "TableSpec",
    "aggregate",
    "checkpoint_table",
    "group_label",
    "hotlist_table",
    "spec",
]

OTHER = "other"
"""The public cell for a value outside a dimension's public domain."""
UNKNOWN = "unknown"
"""The value of an attr an event did not carry (older entries, or a fact not known)."""
EVENTS_MEASURE = "events"
"""The measure that counts events (1 each) rather than adding up one of their counts."""
MEASURE_DIM = "measure"

AUDIT = "audit log"
STATE = "state database"
READ_STORE = "read store"


class Fact(Protocol):
    """What a table counts: an audit entry, or a record made from a state row."""

    @property
    def event(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def attrs(self) -> dict[str, str]: ...
    @property
    def counts(self) -> dict[str, int]: ...


@dataclass(frozen=True, slots=True)
class Record:
    """A fact made from a state-database row (not audited itself)."""

    event: str
    at: datetime
    attrs: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One table: the events it counts, the attrs it groups by, and what it adds up.

    ``dims`` are attr names, or ``event`` for the event's own name; a dim in ``split`` holds a
    ";"-joined list and the event counts once under each value. ``measures`` are count keys
    (``events`` counts 1 per event); with more than one, ``measure`` is the last dim.
    ``fixed`` gives attrs an event lacks (a withdrawal's outcome is ``withdrawn``).
    """

    name: str
    title: str
    events: frozenset[str]
    dims: tuple[str, ...] = ()
    measures: tuple[str, ...] = (EVENTS_MEASURE,)
    split: frozenset[str] = frozenset()
    fixed: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    source: str = AUDIT

    @property
    def group_dims(self) -> tuple[str, ...]:
        return (*self.dims, MEASURE_DIM) if len(self.measures) > 1 else self.dims


@dataclass(frozen=True, slots=True)
class Table:
    """Counts by group: ``cells`` maps a tuple of dim values (``dims`` order) to an int."""

    name: str
    title: str
    dims: tuple[str, ...]
    cells: dict[tuple[str, ...], int]
    source: str


@dataclass(frozen=True, slots=True)
class Public:
    """How a protected table is counted for publication."""

    domains: Mapping[str, Sequence[str]]
    """Public values per dim (``table.dim`` before ``dim``); ``event``/``measure`` come from the
    spec."""
    bound: int
    """The most one event may add to the table (L1)."""


def _s(*names: str) -> frozenset[str]:
    return frozenset(names)


_SUBMITTED = _s("request-submitted")
_DECIDED = _s("request-decided", "request-withdrawn")
_WITHDRAWN = {"request-withdrawn": {"outcome": "withdrawn", "step": "withdraw"}}
_PCN_ACTIONS = _s(
    "warning-issued",
    "pcn-issued",
    "payment-received",
    "representation-received",
    "representation-accepted",
    "representation-rejected",
    "appeal-lodged",
    "appeal-allowed",
    "appeal-refused",
    "appeal-withdrawn",
    "charge-certificate-issued",
    "order-for-recovery-registered",
)

TABLES: tuple[TableSpec, ...] = (
    # -- reads: held, ingested and purged ---------------------------------------------------
    TableSpec(
        "reads_ingested",
        "Reads received, stored, duplicated and quarantined",
        _s("reads-ingested"),
        measures=("received", "stored", "duplicates", "quarantined"),
    ),
    TableSpec(
        "records_purged",
        "Records deleted by retention rule",
        _s("reads-deleted", "quarantine-deleted", "key-destroyed"),
        dims=("event", "rule", "purpose"),
        measures=("deleted", "held_back"),
    ),
    TableSpec("key_destructions", "Key epochs destroyed", _s("key-destroyed"), dims=("rule",)),
    TableSpec(
        "legal_holds",
        "Legal holds placed, and reads they hold",
        _s("legal-hold-placed"),
        measures=(EVENTS_MEASURE, "reads"),
    ),
    TableSpec(
        "vault_recoveries",
        "Clear VRMs recovered from the vault",
        _s("vault-recovered"),
        measures=(EVENTS_MEASURE, "asked", "recovered"),
    ),
    TableSpec("quarantine_reveals", "Quarantined rows revealed", _s("quarantine-revealed")),
    # -- charging and enforcement (state database) -----------------------------------------
    TableSpec(
        "charges",
        "Charges decided, by scheme and status (amounts in pence)",
        _s("liability"),
        dims=("scheme", "status"),
        measures=(EVENTS_MEASURE, "amount_pence"),
        source=STATE,
    ),
    TableSpec(
        "payments",
        "Payments received, by scheme (amounts in pence)",
        _s("payment"),
        dims=("scheme",),
        measures=(EVENTS_MEASURE, "amount_pence"),
        source=STATE,
    ),
    TableSpec(
        "refunds",
        "Refunds issued, by scheme (amounts in pence)",
        _s("refund"),
        dims=("scheme",),
        measures=(EVENTS_MEASURE, "amount_pence"),
        source=STATE,
    ),
    TableSpec(
        "penalty_notices",
        "Penalty notices: issued, paid, certificates, recoveries, representations and appeals",
        _PCN_ACTIONS,
        dims=("event",),
        source=STATE,
    ),
    TableSpec(
        "representations",
        "Representations by statutory ground",
        _s("representation-received"),
        dims=("ground",),
        source=STATE,
    ),
    # -- police requests ---------------------------------------------------------------------
    *(
        TableSpec(
            f"requests_by_{dim}", f"Police requests submitted, by {label}", _SUBMITTED, (dim,)
        )
        for dim, label in (
            ("kind", "type"),
            ("purpose", "purpose"),
            ("legal_basis", "legal basis"),
            ("force", "force"),
            ("seriousness", "seriousness"),
        )
    ),
    TableSpec(
        "requests_by_borough",
        "Police requests submitted, by borough of their scope",
        _SUBMITTED,
        ("borough",),
        split=_s("borough"),
    ),
    TableSpec(
        "request_outcomes",
        "Police request decisions, by step and outcome",
        _DECIDED,
        ("step", "outcome"),
        fixed=_WITHDRAWN,
    ),
    *(
        TableSpec(
            f"request_outcomes_by_{dim}",
            f"Police request decisions, by {label} and outcome",
            _DECIDED,
            (dim, "outcome"),
            fixed=_WITHDRAWN,
        )
        for dim, label in (
            ("kind", "type"),
            ("purpose", "purpose"),
            ("legal_basis", "legal basis"),
            ("force", "force"),
        )
    ),
    TableSpec(
        "refusal_reasons",
        "Reasons police requests were refused",
        _s("request-decided"),
        ("reasons",),
        split=_s("reasons"),
    ),
    TableSpec(
        "releases",
        "Releases to the police, and reads and vehicles disclosed",
        _s("release-issued"),
        measures=(EVENTS_MEASURE, "reads", "vehicles"),
    ),
    TableSpec("releases_by_force", "Releases, by force", _s("release-issued"), ("force",)),
    TableSpec(
        "release_expiries",
        "Releases expired, and files deleted",
        _s("release-expired"),
        measures=(EVENTS_MEASURE, "files"),
    ),
    # -- hotlists ----------------------------------------------------------------------------
    TableSpec(
        "hotlist_additions",
        "Hotlist entries added, by force",
        _s("hotlist-entry-added"),
        ("force",),
    ),
    TableSpec(
        "hotlist_refusals",
        "Hotlist entries refused, by force",
        _s("hotlist-entry-refused"),
        ("force",),
    ),
    TableSpec(
        "hotlist_hits_by_borough",
        "Hotlist hits, by borough",
        _s("hotlist-hit"),
        ("borough",),
        measures=("hits",),
    ),
    TableSpec(
        "hotlist_hits_by_force",
        "Hotlist hits, by force",
        _s("hotlist-hit"),
        ("force",),
        measures=("hits",),
    ),
    TableSpec(
        "hotlist_hits_by_kind",
        "Hotlist hits: real-time (at ingest) or historical (under an approved request)",
        _s("hotlist-hit"),
        ("historical",),
        measures=("hits",),
    ),
    TableSpec(
        "hotlist_historical_searches",
        "Historical hotlist searches (each within an approved request), and reads found",
        _s("hotlist-historical-search"),
        measures=(EVENTS_MEASURE, "reads"),
    ),
    TableSpec(
        "hotlist_hit_reviews",
        "Hotlist hits reviewed: confirmed, misread or no action",
        _s("hotlist-hit-reviewed"),
        ("outcome",),
    ),
    # -- governance and oversight ------------------------------------------------------------
    TableSpec(
        "governance_changes",
        "DPIAs, directions and revocations recorded",
        _s("governance-changed"),
        ("change", "ref"),
    ),
    TableSpec(
        "subject_access",
        "Subject access requests answered",
        _s("subject-access"),
        measures=(EVENTS_MEASURE, "reads", "releases", "hotlist_entries"),
    ),
)
"""Every table counted from facts, in report order (the service adds reads held, hotlist
size, checkpoints and the privacy budget)."""

_BY_NAME = {t.name: t for t in TABLES}


def spec(name: str) -> TableSpec:
    return _BY_NAME[name]


def group_label(dims: Sequence[str], group: Sequence[str]) -> str:
    """``kind=location;force=metropolitan_police``; ``all`` for a table without dims."""
    return ";".join(f"{d}={v}" for d, v in zip(dims, group, strict=True)) or "all"


# -- counting --------------------------------------------------------------------------------
def _values(fact: Fact, table: TableSpec, dim: str) -> list[str]:
    if dim == "event":
        return [fact.event]
    raw = fact.attrs.get(dim, table.fixed.get(fact.event, {}).get(dim, ""))
    if dim in table.split:
        parts = sorted({p for p in raw.split(";") if p})
        return parts or [UNKNOWN]
    return [raw or UNKNOWN]


def _domain(table: TableSpec, dim: str, public: Public) -> tuple[str, ...]:
    if dim == "event":
        return tuple(sorted(table.events))
    if dim == MEASURE_DIM:
        return table.measures
    values = public.domains.get(f"{table.name}.{dim}", public.domains.get(dim))
    if values is None:
        raise ValueError(
            f"table {table.name}: dimension {dim!r} has no public domain, so it cannot be "
            "published with differential privacy (list its values in [transparency.domains])"
        )
    return (*sorted(set(values) - {OTHER}), OTHER)


def _measure(fact: Fact, measure: str) -> int:
    # A Record summed in SQL stands for counts["events"] facts; an audit entry is one event.
    if measure == EVENTS_MEASURE:
        return int(fact.counts.get(EVENTS_MEASURE, 1))
    return int(fact.counts.get(measure, 0))


def aggregate(
    facts: Iterable[Fact],
    table: TableSpec,
    start_at: datetime,
    end_at: datetime,
    *,
    public: Public | None = None,
) -> Table:
    """Count ``table`` over the facts at or after ``start_at`` and before ``end_at``.

    Exact without ``public``; with it, over the public domain and bounded per event (see the
    module docstring).
    """
    domains: dict[str, tuple[str, ...]] = {}
    cells: dict[tuple[str, ...], int] = {}
    if public is not None:
        if len(table.measures) != 1:
            raise ValueError(
                f"table {table.name} adds up {len(table.measures)} measures; only a table of "
                "one measure can be published with differential privacy"
            )
        domains = {d: _domain(table, d, public) for d in table.group_dims}
        # Every public cell exists, zero or not: the cells say nothing about the data.
        cells = dict.fromkeys(itertools.product(*(domains[d] for d in table.group_dims)), 0)
    for fact in facts:
        if fact.event not in table.events or not start_at <= fact.at < end_at:
            continue
        per_dim = [_values(fact, table, d) for d in table.dims]
        if public is not None:
            per_dim = [
                sorted({v if v in domains[d] else OTHER for v in vals})
                for d, vals in zip(table.dims, per_dim, strict=True)
            ]
        groups = list(itertools.product(*per_dim))
        added = [(m, _measure(fact, m)) for m in table.measures]
        if public is not None:
            # Bound the event's L1 contribution: at most `bound` cells, each value clamped so
            # their sum stays within it (one measure only: checked above).
            groups = groups[: public.bound]
            cap = public.bound // len(groups)
            added = [(m, min(max(v, 0), cap)) for m, v in added]
        for group in groups:
            for m, value in added:
                key = (*group, m) if len(table.measures) > 1 else tuple(group)
                cells[key] = cells.get(key, 0) + value
    return Table(table.name, table.title, table.group_dims, cells, table.source)


def hotlist_table(facts: Iterable[Fact], start_at: datetime, end_at: datetime) -> Table:
    """Hotlist changes over the period, and its size at the start and end.

    Size is counted from the log's whole history (added, less expired and removed), so it needs
    every fact before ``end_at``, not only the period's.
    """
    size_start = size_end = added = refused = expired = removed = 0
    for fact in facts:
        if fact.at >= end_at:
            continue
        delta = {
            "hotlist-entry-added": 1,
            "hotlist-entry-expired": -fact.counts.get("entries", 1),
            "hotlist-entry-removed": -1,
        }.get(fact.event, 0)
        size_end += delta
        if fact.at < start_at:
            size_start += delta
            continue
        added += fact.event == "hotlist-entry-added"
        refused += fact.event == "hotlist-entry-refused"
        expired += -delta if fact.event == "hotlist-entry-expired" else 0
        removed += fact.event == "hotlist-entry-removed"
    cells: dict[tuple[str, ...], int] = {
        ("size_at_start",): size_start,
        ("added",): added,
        ("refused",): refused,
        ("expired",): expired,
        ("removed",): removed,
        ("size_at_end",): size_end,
    }
    return Table("hotlist", "Hotlist size and changes", (MEASURE_DIM,), cells, AUDIT)


class _Checkpoint(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def at(self) -> str: ...


def checkpoint_table(
    checkpoints: Iterable[_Checkpoint], start_at: datetime, end_at: datetime
) -> Table:
    """Signed checkpoints made in the period, and the last seq they attest."""
    made = [cp for cp in checkpoints if start_at <= datetime.fromisoformat(cp.at) < end_at]
    cells: dict[tuple[str, ...], int] = {
        ("signed",): len(made),
        ("last_seq",): max((cp.seq for cp in made), default=0),
    }
    return Table("audit_checkpoints", "Audit log checkpoints signed", (MEASURE_DIM,), cells, AUDIT)
