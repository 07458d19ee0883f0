"""THE decision point for police access: ``decide(action, context) -> Decision``.

Pure: no I/O, no clock (``context.today`` is the day decided for), no environment. Services call
`decide` and audit the `Decision` whole; nothing else may allow or refuse access. As in
Datasette's ``allowed()``, actions are frozen dataclasses and every rule answers with a `Reason`:
a decision keeps the reasons of every rule checked, passed or failed, and a refusal lists EVERY
failing rule, not just the first. ``allowed`` is true exactly when no reason failed.

Actions (`ACTIONS`)
    `QueryReads` (a vehicle history or location query), `IssueRelease` (the same scope, approved
    by a data-sharing officer), `AddHotlistEntry`, `MatchHotlistRead` (alert on one read of a
    hotlisted VRM), `BulkFeed`.

Rules and their failure codes (``ref`` names the instrument, DPIA, direction, network or rule)
    Coverage, per network asked (recipient = the requester's force):
      ``networks:empty``, ``network:not_covered`` (no instrument names the network for the
      recipient), ``instrument:not_in_force`` (none effective today), ``instrument:revoked``
      (the effective ones are revoked), otherwise for each unrevoked effective instrument that
      does not fit: ``instrument:purpose``, ``instrument:data_class``, ``instrument:use`` (e.g. a
      bulk feed not named), ``condition:dpia_approved``, ``condition:mayoral_direction``.
      Passing: ``instrument:covers`` and ``condition:<name>`` (ref: the record meeting it).
    Statements: ``purpose:unknown``, ``legal_basis:missing``, ``legal_basis:unknown``,
      ``case_ref:missing``, ``necessity:missing``, ``data_classes:empty``.
    Window: ``window:inverted`` (start after end), ``window:future`` (end after today),
      ``requested_on:future``.
    Authorisation (queries and releases): ``authoriser:missing``, ``authoriser:is_requester``,
      ``rank:unknown``; data age (today - window start) against the age bands:
      ``age:too_old`` (older than every band: never), ``age:seriousness``, ``age:rank_too_low``.
    Release: ``release:not_approved``, ``release:approver_not_independent``.
    Hotlist: ``hotlist:expiry_missing``, ``hotlist:expired``, ``hotlist:expiry_too_long``.
    Hotlist match (`MatchHotlistRead`, one network): coverage with use ``hotlist``, purpose,
      legal basis, and ``hotlist:expired`` once today is past the entry's last day.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import ClassVar, assert_never

from ringfence.domain.sharing import GovernanceBook, Instrument, Seriousness

__all__ = [
    "ACTIONS",
    "Action",
    "AddHotlistEntry",
    "BulkFeed",
    "Decision",
    "IssueRelease",
    "MatchHotlistRead",
    "Officer",
    "PolicyContext",
    "QueryReads",
    "Reason",
    "decide",
]

VRM_TEXT = "vrm_text"


# --- Decisions ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule's answer: what was checked, against which record, and whether it passed."""

    code: str
    message: str
    ref: str
    """The instrument, DPIA, direction, network or rule the answer is about."""
    passed: bool


@dataclass(frozen=True, slots=True)
class Decision:
    """Allowed exactly when no reason failed; ``reasons`` keeps every rule checked, in order."""

    allowed: bool
    reasons: tuple[Reason, ...]

    @property
    def failures(self) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if not r.passed)

    @property
    def failure_codes(self) -> frozenset[str]:
        return frozenset(r.code for r in self.failures)


# --- Who and when ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Officer:
    """A police officer: the requester or the authoriser."""

    officer_id: str
    rank: str
    force: str = ""
    """The recipient instruments name (e.g. ``metropolitan_police``); needed for the requester."""


@dataclass(frozen=True, slots=True)
class PolicyContext:
    """Everything `decide` may look at besides the action."""

    book: GovernanceBook
    requester: Officer
    authoriser: Officer | None
    seriousness: Seriousness
    today: date


# --- Actions --------------------------------------------------------------------------------------


def _frozen(value: Iterable[str]) -> frozenset[str]:
    return value if isinstance(value, frozenset) else frozenset(value)


@dataclass(frozen=True, slots=True)
class _Scope:
    """What a query or a release asks for (not an action by itself)."""

    networks: frozenset[str]
    data_classes: frozenset[str]
    purpose: str
    legal_basis: str
    case_ref: str
    necessity: str
    """Why this data is necessary and proportionate for the case."""
    window_start: date
    window_end: date
    """Inclusive: the last day of reads asked for."""
    requested_on: date

    def __post_init__(self) -> None:  # accept any iterable, store frozensets
        object.__setattr__(self, "networks", _frozen(self.networks))
        object.__setattr__(self, "data_classes", _frozen(self.data_classes))


@dataclass(frozen=True, slots=True)
class QueryReads(_Scope):
    """A vehicle history or location query over reads."""

    name: ClassVar[str] = "query-reads"
    use: ClassVar[str] = "query"
    kind: str = "vehicle_history"
    """``vehicle_history`` (one VRM's reads) or ``location`` (reads at cameras)."""


@dataclass(frozen=True, slots=True)
class IssueRelease(_Scope):
    """A release of reads to the requester, approved by a data-sharing officer."""

    name: ClassVar[str] = "issue-release"
    use: ClassVar[str] = "release"
    approved_by: str | None = None
    """The data-sharing officer who approved it; None: not approved."""


@dataclass(frozen=True, slots=True)
class AddHotlistEntry:
    """A VRM to be watched for on some networks until ``expires_on``."""

    name: ClassVar[str] = "add-hotlist-entry"
    use: ClassVar[str] = "hotlist"
    networks: frozenset[str]
    purpose: str
    legal_basis: str
    expires_on: date | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "networks", _frozen(self.networks))


@dataclass(frozen=True, slots=True)
class MatchHotlistRead:
    """Alert on a read of a hotlisted VRM taken on ``network`` (asked per network and day, so a
    revocation or an expiry stops matching at once)."""

    name: ClassVar[str] = "match-hotlist-read"
    use: ClassVar[str] = "hotlist"
    network: str
    purpose: str
    legal_basis: str
    expires_on: date


@dataclass(frozen=True, slots=True)
class BulkFeed:
    """A continuous feed of every read on some networks: refused unless an instrument names it."""

    name: ClassVar[str] = "bulk-feed"
    use: ClassVar[str] = "bulk_feed"
    networks: frozenset[str]
    purpose: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "networks", _frozen(self.networks))


Action = QueryReads | IssueRelease | AddHotlistEntry | MatchHotlistRead | BulkFeed
ACTIONS: tuple[type[Action], ...] = (
    QueryReads,
    IssueRelease,
    AddHotlistEntry,
    MatchHotlistRead,
    BulkFeed,
)


# --- The decision ---------------------------------------------------------------------------------


def decide(action: Action, context: PolicyContext) -> Decision:
    """Allow or refuse ``action`` in ``context``, with the reasons of every rule checked."""
    reasons = tuple(_reasons(action, context))
    return Decision(allowed=all(r.passed for r in reasons), reasons=reasons)


def _reasons(action: Action, ctx: PolicyContext) -> Iterator[Reason]:
    match action:
        case QueryReads() | IssueRelease():
            yield from _coverage(action.networks, action.data_classes, action.purpose, action, ctx)
            yield from _purpose(action.purpose, ctx)
            yield from _legal_basis(action.legal_basis, ctx)
            yield from _statements(action)
            yield from _window(action, ctx)
            yield from _authoriser(ctx)
            yield from _age(action, ctx)
            if isinstance(action, IssueRelease):
                yield from _release(action, ctx)
        case AddHotlistEntry():
            yield from _coverage(
                action.networks, frozenset({VRM_TEXT}), action.purpose, action, ctx
            )
            yield from _purpose(action.purpose, ctx)
            yield from _legal_basis(action.legal_basis, ctx)
            yield from _hotlist(action, ctx)
        case MatchHotlistRead():
            yield from _coverage(
                frozenset({action.network}), frozenset({VRM_TEXT}), action.purpose, action, ctx
            )
            yield from _purpose(action.purpose, ctx)
            yield from _legal_basis(action.legal_basis, ctx)
            yield from _hotlist_live(action, ctx)
        case BulkFeed():
            yield from _coverage(
                action.networks, frozenset({VRM_TEXT}), action.purpose, action, ctx
            )
            yield from _purpose(action.purpose, ctx)
        case _:  # pragma: no cover - exhaustiveness, checked by mypy
            assert_never(action)


def _ok(code: str, message: str, ref: str) -> Reason:
    return Reason(code, message, ref, passed=True)


def _no(code: str, message: str, ref: str) -> Reason:
    return Reason(code, message, ref, passed=False)


# --- Coverage by instruments ----------------------------------------------------------------------


def _coverage(
    networks: frozenset[str],
    data_classes: frozenset[str],
    purpose: str,
    action: Action,
    ctx: PolicyContext,
) -> Iterator[Reason]:
    if not networks:
        yield _no("networks:empty", "no camera network asked for", "request")
    if not data_classes:
        yield _no("data_classes:empty", "no data class asked for", "request")
    recipient, today = ctx.requester.force, ctx.today
    for network in sorted(networks):
        named = [
            i for i in ctx.book.instruments if network in i.networks and recipient in i.recipients
        ]
        if not named:
            yield _no(
                "network:not_covered",
                f"no instrument shares {network} with {recipient or 'an unnamed force'}",
                network,
            )
            continue
        effective = [i for i in named if i.is_effective(today)]
        if not effective:
            for i in named:
                yield _no(
                    "instrument:not_in_force",
                    f"{i.reference} is not in force for {network} on {today}",
                    i.instrument_id,
                )
            continue
        live = [i for i in effective if not i.is_revoked(today)]
        if not live:
            for i in effective:
                yield _no(
                    "instrument:revoked",
                    f"{i.reference} was revoked on {i.revoked_on}",
                    i.instrument_id,
                )
            continue
        answers = [
            _instrument_fit(i, network, data_classes, purpose, action.use, ctx) for i in live
        ]
        fitting = next((a for a in answers if all(r.passed for r in a)), None)
        if fitting is not None:
            yield from fitting
        else:
            for answer in answers:
                yield from (r for r in answer if not r.passed)


def _instrument_fit(
    instrument: Instrument,
    network: str,
    data_classes: frozenset[str],
    purpose: str,
    use: str,
    ctx: PolicyContext,
) -> list[Reason]:
    ref, name = instrument.instrument_id, instrument.reference
    found: list[Reason] = []
    if purpose not in instrument.purposes:
        found.append(_no("instrument:purpose", f"{name} does not cover purpose {purpose}", ref))
    if missing := sorted(data_classes - instrument.data_classes):
        found.append(
            _no(
                "instrument:data_class",
                f"{name} does not share {', '.join(missing)} from {network}",
                ref,
            )
        )
    if use not in instrument.uses:
        found.append(_no("instrument:use", f"{name} does not allow {use} on {network}", ref))
    for condition in sorted(instrument.conditions):
        met_by = ctx.book.condition_met(condition, network, purpose, ctx.today)
        if met_by is None:
            found.append(
                _no(
                    f"condition:{condition}",
                    f"{name} requires {condition} for {network}: none recorded in force "
                    f"on {ctx.today}",
                    ref,
                )
            )
        else:
            found.append(_ok(f"condition:{condition}", f"{condition} for {network}", met_by))
    found.append(_ok("instrument:covers", f"{name} covers {use} on {network} for {purpose}", ref))
    return found


# --- Statements, window, authorisation ------------------------------------------------------------


def _purpose(purpose: str, ctx: PolicyContext) -> Iterator[Reason]:
    if purpose not in ctx.book.rules.purposes:
        yield _no("purpose:unknown", f"{purpose!r} is not a recognised purpose", "access.purposes")


def _legal_basis(legal_basis: str, ctx: PolicyContext) -> Iterator[Reason]:
    if not legal_basis.strip():
        yield _no("legal_basis:missing", "no legal basis given", "access.legal_bases")
    elif legal_basis not in ctx.book.rules.legal_bases:
        yield _no(
            "legal_basis:unknown",
            f"{legal_basis!r} is not a recognised legal basis",
            "access.legal_bases",
        )
    else:
        yield _ok("legal_basis:recorded", f"legal basis {legal_basis}", legal_basis)


def _statements(action: _Scope) -> Iterator[Reason]:
    if not action.case_ref.strip():
        yield _no("case_ref:missing", "no case reference given", "request")
    else:
        yield _ok("case_ref:recorded", f"case {action.case_ref}", action.case_ref)
    if not action.necessity.strip():
        yield _no("necessity:missing", "no necessity statement given", "request")
    else:
        yield _ok("necessity:recorded", "necessity statement given", "request")


def _window(action: _Scope, ctx: PolicyContext) -> Iterator[Reason]:
    failed = False
    if action.window_start > action.window_end:
        failed = True
        yield _no(
            "window:inverted",
            f"window starts {action.window_start}, after its end {action.window_end}",
            "request",
        )
    if action.window_end > ctx.today:
        failed = True
        yield _no("window:future", f"window ends {action.window_end}, after today", "request")
    if action.requested_on > ctx.today:
        failed = True
        yield _no(
            "requested_on:future", f"requested on {action.requested_on}, after today", "request"
        )
    if not failed:
        yield _ok("window:valid", f"{action.window_start} to {action.window_end}", "request")


def _authoriser(ctx: PolicyContext) -> Iterator[Reason]:
    rules, requester, authoriser = ctx.book.rules, ctx.requester, ctx.authoriser
    if rules.rank_order(requester.rank) is None:
        yield _no("rank:unknown", f"requester rank {requester.rank!r} unknown", "access.ranks")
    if authoriser is None:
        yield _no("authoriser:missing", "no authorising officer", "request")
        return
    if rules.rank_order(authoriser.rank) is None:
        yield _no("rank:unknown", f"authoriser rank {authoriser.rank!r} unknown", "access.ranks")
    if authoriser.officer_id == requester.officer_id:
        yield _no(
            "authoriser:is_requester",
            f"{requester.officer_id} cannot authorise their own request",
            "request",
        )
    else:
        yield _ok(
            "authoriser:independent",
            f"authorised by {authoriser.officer_id}, not the requester",
            authoriser.officer_id,
        )


def _age(action: _Scope, ctx: PolicyContext) -> Iterator[Reason]:
    rules = ctx.book.rules
    age = (ctx.today - action.window_start).days
    band = rules.band_for(age)
    if band is None:
        oldest = rules.age_bands[-1].max_age_days
        yield _no(
            "age:too_old",
            f"data {age} days old: nothing older than {oldest} days may be accessed",
            f"access.age_bands<={oldest}",
        )
        return
    ref = f"access.age_bands<={band.max_age_days}"
    failed = False
    if ctx.seriousness not in band.seriousness:
        failed = True
        levels = ", ".join(sorted(band.seriousness))
        yield _no(
            "age:seriousness",
            f"data {age} days old needs a case of {levels}, not {ctx.seriousness}",
            ref,
        )
    authoriser = ctx.authoriser
    needed = rules.rank_order(band.min_rank)
    held = None if authoriser is None else rules.rank_order(authoriser.rank)
    if authoriser is not None and held is not None and needed is not None and held < needed:
        failed = True
        yield _no(
            "age:rank_too_low",
            f"data {age} days old needs a {band.min_rank} or above, not a {authoriser.rank}",
            ref,
        )
    if held is None:  # no (known) authoriser: reported by the authoriser rule
        failed = True
    if not failed:
        yield _ok("age:authorised", f"data {age} days old, authorised at {band.min_rank}+", ref)


def _release(action: IssueRelease, ctx: PolicyContext) -> Iterator[Reason]:
    approver = (action.approved_by or "").strip()
    if not approver:
        yield _no("release:not_approved", "no data-sharing officer approved it", "release")
        return
    involved = {ctx.requester.officer_id} | (
        set() if ctx.authoriser is None else {ctx.authoriser.officer_id}
    )
    if approver in involved:
        yield _no(
            "release:approver_not_independent",
            f"{approver} requested or authorised it and cannot approve its release",
            approver,
        )
    else:
        yield _ok("release:approved", f"approved by {approver}", approver)


def _hotlist(action: AddHotlistEntry, ctx: PolicyContext) -> Iterator[Reason]:
    limit = ctx.book.rules.hotlist_max_days
    ref = "access.hotlist_max_days"
    if action.expires_on is None:
        yield _no("hotlist:expiry_missing", "a hotlist entry must expire", ref)
    elif action.expires_on <= ctx.today:
        yield _no("hotlist:expired", f"expiry {action.expires_on} is not after today", ref)
    elif (action.expires_on - ctx.today).days > limit:
        yield _no(
            "hotlist:expiry_too_long",
            f"expiry {action.expires_on} is more than {limit} days away",
            ref,
        )
    else:
        yield _ok("hotlist:expiry_valid", f"expires {action.expires_on}", ref)


def _hotlist_live(action: MatchHotlistRead, ctx: PolicyContext) -> Iterator[Reason]:
    # The entry's last day is ``expires_on``: it matches nothing after it.
    ref = "hotlist.expires_on"
    if ctx.today > action.expires_on:
        yield _no("hotlist:expired", f"the entry expired after {action.expires_on}", ref)
    else:
        yield _ok("hotlist:live", f"the entry runs to {action.expires_on}", ref)
