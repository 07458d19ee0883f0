"""The one decision point: one table row per allow/deny path with its exact failing reasons, and
properties that hold for any action and context."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.domain.sharing import (
    DPIA,
    Direction,
    GovernanceBook,
    Seriousness,
    load_governance_book,
)
from ringfence.policy import (
    ACTIONS,
    Action,
    AddHotlistEntry,
    BulkFeed,
    Decision,
    IssueRelease,
    MatchHotlistRead,
    Officer,
    PolicyContext,
    QueryReads,
    decide,
)

MET = "metropolitan_police"
TODAY = date(2026, 11, 28)
SERIOUS = "law_enforcement:serious_crime"

BOOK = load_governance_book()
LONDON_WIDE_DPIA = DPIA(
    dpia_id="tfl_mps_anpr_london_wide",
    version="1.0",
    networks=frozenset({"ulez_london_2023"}),
    purposes=frozenset({SERIOUS, "law_enforcement:counter_terrorism"}),
    status="approved",
    approved_on=date(2026, 1, 5),
    review_on=date(2027, 1, 5),
    equality_impact_ref="EqIA-test",
)
LONDON_WIDE_DIRECTION = Direction(
    reference="MD-TEST-DIRECTION",
    issuer="mayor",
    networks=frozenset({"ulez_london_2023"}),
    signed_on=date(2026, 2, 1),
)
WITH_DPIA = BOOK.with_dpia(LONDON_WIDE_DPIA)
WITH_DIRECTION = BOOK.with_direction(LONDON_WIDE_DIRECTION)
WITH_BOTH = WITH_DPIA.with_direction(LONDON_WIDE_DIRECTION)
INNER_REVOKED = BOOK.revoke("md2977_cc_lez_inner", date(2026, 6, 1))

CONSTABLE = Officer("PC100", "constable", MET)
INSPECTOR = Officer("INS200", "inspector", MET)
CHIEF_INSPECTOR = Officer("CI250", "chief_inspector", MET)
SUPERINTENDENT = Officer("SUPT300", "superintendent", MET)
COMMISSIONER = Officer("COMM1", "commissioner", MET)
KENT = Officer("K100", "constable", "kent_police")


def query(days_old: int = 10, **changes: object) -> QueryReads:
    """A query whose window starts ``days_old`` days before TODAY and ends the day after.

    Unless given, ``requested_on`` is the day after the window ends, but never after TODAY.
    """
    if "window_end" in changes and "requested_on" not in changes:
        end = changes["window_end"]
        assert isinstance(end, date)
        changes["requested_on"] = min(end + timedelta(days=1), TODAY)
    base = QueryReads(
        networks=frozenset({"ulez_inner_2021"}),
        data_classes=frozenset({"vrm_text"}),
        purpose=SERIOUS,
        legal_basis="DPA2018_Part3",
        case_ref="CAD-1234/26",
        necessity="suspect vehicle seen leaving the scene; no other source of its route",
        window_start=TODAY - timedelta(days=days_old),
        window_end=TODAY - timedelta(days=max(days_old - 1, 0)),
        requested_on=TODAY,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def release(**changes: object) -> IssueRelease:
    q = query()
    base = IssueRelease(
        networks=q.networks,
        data_classes=q.data_classes,
        purpose=q.purpose,
        legal_basis=q.legal_basis,
        case_ref=q.case_ref,
        necessity=q.necessity,
        window_start=q.window_start,
        window_end=q.window_end,
        requested_on=q.requested_on,
        approved_by="DSO42",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def hotlist(days: int | None = 28, **changes: object) -> AddHotlistEntry:
    base = AddHotlistEntry(
        networks=frozenset({"ulez_inner_2021"}),
        purpose=SERIOUS,
        legal_basis="DPA2018_Part3",
        expires_on=None if days is None else TODAY + timedelta(days=days),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def match(network: str = "ulez_inner_2021", **changes: object) -> MatchHotlistRead:
    base = MatchHotlistRead(
        network=network,
        purpose=SERIOUS,
        legal_basis="DPA2018_Part3",
        expires_on=TODAY + timedelta(days=3),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Row:
    action: Action
    failing: frozenset[str] = frozenset()
    """The exact failing codes; empty: allowed."""
    book: GovernanceBook = BOOK
    requester: Officer = CONSTABLE
    authoriser: Officer | None = INSPECTOR
    seriousness: Seriousness = Seriousness.SERIOUS
    today: date = TODAY
    passing: frozenset[str] = field(default_factory=frozenset)
    """Passing codes that must be among the reasons (to check what an allow rests on)."""

    def context(self) -> PolicyContext:
        return PolicyContext(
            self.book, self.requester, self.authoriser, self.seriousness, self.today
        )


def fails(*codes: str) -> frozenset[str]:
    return frozenset(codes)


DAY_2020 = date(2020, 6, 1)
WIDE = frozenset({"ulez_london_2023"})
CONDITIONS = fails("condition:dpia_approved", "condition:mayoral_direction")

TABLE: dict[str, Row] = {
    # --- Coverage by instruments, over London's history
    "inner ULEZ VRM text, inspector, 10 days: allowed": Row(
        query(), passing=fails("instrument:covers", "age:authorised", "authoriser:independent")
    ),
    "CC/LEZ images after MD2977: allowed": Row(
        query(networks={"cc_lez_2015"}, data_classes={"vrm_text", "contextual_images"})
    ),
    "CC/LEZ VRM text under the 2015 decision: allowed": Row(
        query(
            networks={"cc_lez_2015"}, window_start=date(2020, 5, 20), window_end=date(2020, 5, 21)
        ),
        today=DAY_2020,
    ),
    "images on a VRM-text-only network (2015 decision): refused": Row(
        query(
            networks={"cc_lez_2015"},
            data_classes={"vrm_text", "contextual_images"},
            window_start=date(2020, 5, 20),
            window_end=date(2020, 5, 21),
        ),
        fails("instrument:data_class"),
        today=DAY_2020,
    ),
    "inner ULEZ cameras before MD2977: refused": Row(
        query(window_start=date(2020, 5, 20), window_end=date(2020, 5, 21)),
        fails("instrument:not_in_force"),
        today=DAY_2020,
    ),
    "2015 decision the day before its revocation: allowed": Row(
        query(networks={"cc_lez_2015"}, window_start=date(2022, 5, 1), window_end=date(2022, 5, 2)),
        today=date(2022, 5, 15),
    ),
    "CC/LEZ on MD2977's first day (2015 decision revoked): allowed": Row(
        query(networks={"cc_lez_2015"}, window_start=date(2022, 5, 1), window_end=date(2022, 5, 2)),
        today=date(2022, 5, 16),
    ),
    "London-wide network, no DPIA nor direction: refused": Row(query(networks=WIDE), CONDITIONS),
    "London-wide network, DPIA only: refused": Row(
        query(networks=WIDE), fails("condition:mayoral_direction"), book=WITH_DPIA
    ),
    "London-wide network, direction only: refused": Row(
        query(networks=WIDE), fails("condition:dpia_approved"), book=WITH_DIRECTION
    ),
    "London-wide network, approved DPIA and direction: allowed": Row(
        query(networks=WIDE),
        book=WITH_BOTH,
        passing=fails("condition:dpia_approved", "condition:mayoral_direction"),
    ),
    "London-wide network, DPIA due for review: refused": Row(
        query(networks=WIDE, window_start=date(2027, 1, 1), window_end=date(2027, 1, 2)),
        fails("condition:dpia_approved"),
        book=WITH_BOTH,
        today=date(2027, 1, 5),
    ),
    "London-wide network, purpose outside the DPIA: refused": Row(
        query(networks=WIDE, purpose="law_enforcement:missing_persons"),
        fails("condition:dpia_approved"),
        book=WITH_BOTH,
    ),
    "London-wide network, before the direction was signed: refused": Row(
        query(networks=WIDE, window_start=date(2026, 1, 20), window_end=date(2026, 1, 21)),
        fails("condition:mayoral_direction"),
        book=WITH_BOTH,
        today=date(2026, 1, 31),
    ),
    "London-wide and inner together, nothing recorded: refused for London-wide only": Row(
        query(networks={"ulez_london_2023", "ulez_inner_2021"}), CONDITIONS
    ),
    "revoked instrument, from its revocation day: refused": Row(
        query(window_start=date(2026, 5, 20), window_end=date(2026, 5, 21)),
        fails("instrument:revoked"),
        book=INNER_REVOKED,
        today=date(2026, 6, 1),
    ),
    "revoked instrument, the day before: allowed": Row(
        query(window_start=date(2026, 5, 20), window_end=date(2026, 5, 21)),
        book=INNER_REVOKED,
        today=date(2026, 5, 31),
    ),
    "network no instrument names: refused": Row(
        query(networks={"birmingham_caz_2021"}), fails("network:not_covered")
    ),
    "force no instrument names: refused": Row(
        query(), fails("network:not_covered"), requester=KENT, authoriser=INSPECTOR
    ),
    "no network asked: refused": Row(query(networks=set()), fails("networks:empty")),
    "no data class asked: refused": Row(query(data_classes=set()), fails("data_classes:empty")),
    "purpose not recognised: refused": Row(
        query(purpose="marketing"), fails("purpose:unknown", "instrument:purpose")
    ),
    # --- Statements
    "missing legal basis: refused": Row(query(legal_basis=""), fails("legal_basis:missing")),
    "unknown legal basis: refused": Row(
        query(legal_basis="GDPR_6_1_f"), fails("legal_basis:unknown")
    ),
    "missing case reference: refused": Row(query(case_ref="  "), fails("case_ref:missing")),
    "missing necessity statement: refused": Row(query(necessity=""), fails("necessity:missing")),
    "every statement missing: every failure listed": Row(
        query(legal_basis="", case_ref="", necessity=""),
        fails("legal_basis:missing", "case_ref:missing", "necessity:missing"),
    ),
    # --- Window
    "window ending after today: refused": Row(
        query(window_end=TODAY + timedelta(days=1)), fails("window:future")
    ),
    "window ending today: allowed": Row(query(window_end=TODAY)),
    "inverted window: refused": Row(
        query(window_start=TODAY - timedelta(days=3), window_end=TODAY - timedelta(days=5)),
        fails("window:inverted"),
    ),
    "requested in the future: refused": Row(
        query(requested_on=TODAY + timedelta(days=1)), fails("requested_on:future")
    ),
    # --- Authorisation and data age
    "90 days old, inspector, standard case: allowed": Row(
        query(days_old=90), seriousness=Seriousness.STANDARD
    ),
    "91 days old, inspector, serious case: refused": Row(
        query(days_old=91), fails("age:rank_too_low")
    ),
    "over-age without superintendent, standard case: refused on both counts": Row(
        query(days_old=120),
        fails("age:rank_too_low", "age:seriousness"),
        authoriser=CHIEF_INSPECTOR,
        seriousness=Seriousness.STANDARD,
    ),
    "over-age, superintendent, standard case: refused": Row(
        query(days_old=120),
        fails("age:seriousness"),
        authoriser=SUPERINTENDENT,
        seriousness=Seriousness.STANDARD,
    ),
    "over-age, superintendent, serious case: allowed": Row(
        query(days_old=120), authoriser=SUPERINTENDENT
    ),
    "over-age, superintendent, major case: allowed": Row(
        query(days_old=200), authoriser=SUPERINTENDENT, seriousness=Seriousness.MAJOR
    ),
    "365 days old, superintendent, counter-terrorism: allowed": Row(
        query(days_old=365, purpose="law_enforcement:counter_terrorism"),
        authoriser=SUPERINTENDENT,
        seriousness=Seriousness.COUNTER_TERRORISM,
    ),
    "more than 12 months old: refused even for the commissioner": Row(
        query(days_old=366, purpose="law_enforcement:counter_terrorism"),
        fails("age:too_old"),
        authoriser=COMMISSIONER,
        seriousness=Seriousness.COUNTER_TERRORISM,
    ),
    "same requester and authoriser: refused": Row(
        query(), fails("authoriser:is_requester"), requester=INSPECTOR, authoriser=INSPECTOR
    ),
    "no authoriser: refused": Row(query(), fails("authoriser:missing"), authoriser=None),
    "authoriser of an unknown rank: refused": Row(
        query(), fails("rank:unknown"), authoriser=Officer("X1", "general", MET)
    ),
    # --- Releases
    "release approved by a data-sharing officer: allowed": Row(
        release(), passing=fails("release:approved")
    ),
    "release not approved: refused": Row(release(approved_by=None), fails("release:not_approved")),
    "release approved by the requester: refused": Row(
        release(approved_by=CONSTABLE.officer_id), fails("release:approver_not_independent")
    ),
    "release approved by the authoriser: refused": Row(
        release(approved_by=INSPECTOR.officer_id), fails("release:approver_not_independent")
    ),
    "release of images on the London-wide network: refused": Row(
        release(networks=WIDE, data_classes={"vrm_text", "contextual_images"}), CONDITIONS
    ),
    # --- Hotlist
    "hotlist entry for 28 days: allowed": Row(hotlist(28)),
    "hotlist entry without expiry: refused": Row(hotlist(None), fails("hotlist:expiry_missing")),
    "hotlist entry for 29 days: refused": Row(hotlist(29), fails("hotlist:expiry_too_long")),
    "hotlist entry expiring today: refused": Row(hotlist(0), fails("hotlist:expired")),
    "hotlist entry without legal basis: refused": Row(
        hotlist(legal_basis=""), fails("legal_basis:missing")
    ),
    "hotlist entry on the London-wide network: refused": Row(hotlist(networks=WIDE), CONDITIONS),
    # --- Bulk feeds
    "bulk feed of CC/LEZ cameras: refused": Row(
        BulkFeed(networks=frozenset({"cc_lez_2015"}), purpose=SERIOUS), fails("instrument:use")
    ),
    "bulk feed of the London-wide cameras, DPIA and direction recorded: refused": Row(
        BulkFeed(networks=WIDE, purpose=SERIOUS), fails("instrument:use"), book=WITH_BOTH
    ),
    "hotlist match on a covered network, entry live: allowed": Row(
        match(), passing=fails("instrument:covers", "hotlist:live")
    ),
    "hotlist match on its last day: allowed": Row(match(expires_on=TODAY)),
    "hotlist match the day after expiry: refused": Row(
        match(expires_on=TODAY - timedelta(days=1)), fails("hotlist:expired")
    ),
    "hotlist match on the London-wide network, nothing recorded: refused": Row(
        match("ulez_london_2023"), CONDITIONS
    ),
    "hotlist match after the instrument is revoked: refused": Row(
        match(), fails("instrument:revoked"), book=INNER_REVOKED
    ),
    "hotlist match for another force: refused": Row(
        match(), fails("network:not_covered"), requester=KENT
    ),
    "hotlist match with no legal basis: refused": Row(
        match(legal_basis=""), fails("legal_basis:missing")
    ),
    "bulk feed of the London-wide cameras, nothing recorded: refused on every count": Row(
        BulkFeed(networks=WIDE, purpose=SERIOUS), CONDITIONS | {"instrument:use"}
    ),
}


@pytest.mark.parametrize("row", TABLE.values(), ids=TABLE.keys())
def test_decision(row: Row) -> None:
    decision = decide(row.action, row.context())
    assert decision.failure_codes == row.failing, [r.message for r in decision.failures]
    assert decision.allowed is (not row.failing)
    passed = {r.code for r in decision.reasons if r.passed}
    assert row.passing <= passed


def test_every_action_has_an_allow_and_a_deny_row() -> None:
    for action in ACTIONS:
        rows = [r for r in TABLE.values() if type(r.action) is action]
        assert any(not r.failing for r in rows) or action is BulkFeed, action.name
        assert any(r.failing for r in rows), action.name


def test_reasons_name_the_records_that_decided() -> None:
    allowed = decide(
        query(networks=WIDE), TABLE["London-wide network, DPIA only: refused"].context()
    )
    assert [(r.code, r.ref) for r in allowed.failures] == [
        ("condition:mayoral_direction", "md2977_london_wide")
    ]
    approved = decide(query(networks=WIDE), replace(allowed_context(), book=WITH_BOTH))
    refs = {r.code: r.ref for r in approved.reasons if r.passed}
    assert refs["condition:dpia_approved"] == "tfl_mps_anpr_london_wide v1.0"
    assert refs["condition:mayoral_direction"] == "MD-TEST-DIRECTION"
    assert refs["instrument:covers"] == "md2977_london_wide"
    revoked = decide(
        query(window_start=date(2026, 5, 20), window_end=date(2026, 5, 21)),
        replace(allowed_context(), book=INNER_REVOKED, today=date(2026, 6, 1)),
    )
    assert [(r.code, r.ref) for r in revoked.failures] == [
        ("instrument:revoked", "md2977_cc_lez_inner")
    ]
    assert "2026-06-01" in revoked.failures[0].message


def test_actions_accept_any_iterable_and_store_frozensets() -> None:
    action = query(networks=["cc_lez_2015"], data_classes=("vrm_text",))
    assert action.networks == frozenset({"cc_lez_2015"})
    assert isinstance(action.data_classes, frozenset)
    assert {a.name for a in ACTIONS} == {
        "query-reads",
        "issue-release",
        "add-hotlist-entry",
        "match-hotlist-read",
        "bulk-feed",
    }


def allowed_context() -> PolicyContext:
    return PolicyContext(BOOK, CONSTABLE, INSPECTOR, Seriousness.SERIOUS, TODAY)


# --- Properties -----------------------------------------------------------------------------------

NETWORKS = ["cc_lez_2015", "ulez_inner_2021", "ulez_london_2023", "elsewhere"]
PURPOSES = [*sorted(BOOK.rules.purposes), "marketing"]
OFFICERS = [CONSTABLE, INSPECTOR, SUPERINTENDENT, COMMISSIONER, KENT, Officer("X", "general", MET)]
days = st.dates(min_value=date(2014, 1, 1), max_value=date(2029, 12, 31))
networks = st.frozensets(st.sampled_from(NETWORKS), max_size=3)
texts = st.sampled_from(["", "  ", "CAD-1", "necessary because..."])


@st.composite
def scopes(draw: st.DrawFn) -> dict[str, object]:
    start = draw(days)
    return {
        "networks": draw(networks),
        "data_classes": draw(
            st.frozensets(st.sampled_from(["vrm_text", "contextual_images", "audio"]), max_size=2)
        ),
        "purpose": draw(st.sampled_from(PURPOSES)),
        "legal_basis": draw(st.sampled_from(["", "DPA2018_Part3", "DPA2018_Part4", "GDPR"])),
        "case_ref": draw(texts),
        "necessity": draw(texts),
        "window_start": start,
        "window_end": start + timedelta(days=draw(st.integers(-3, 30))),
        "requested_on": draw(days),
    }


actions: st.SearchStrategy[Action] = st.one_of(
    scopes().map(lambda s: QueryReads(**s)),  # type: ignore[arg-type]
    st.builds(
        lambda s, by: IssueRelease(**s, approved_by=by),
        scopes(),
        st.sampled_from([None, "", "DSO42", "PC100", "INS200"]),
    ),
    st.builds(
        AddHotlistEntry,
        networks=networks,
        purpose=st.sampled_from(PURPOSES),
        legal_basis=st.sampled_from(["", "DPA2018_Part3"]),
        expires_on=st.none() | days,
    ),
    st.builds(
        MatchHotlistRead,
        network=st.sampled_from(NETWORKS),
        purpose=st.sampled_from(PURPOSES),
        legal_basis=st.sampled_from(["", "DPA2018_Part3"]),
        expires_on=days,
    ),
    st.builds(BulkFeed, networks=networks, purpose=st.sampled_from(PURPOSES)),
)
contexts = st.builds(
    PolicyContext,
    book=st.sampled_from([BOOK, WITH_DPIA, WITH_DIRECTION, WITH_BOTH, INNER_REVOKED]),
    requester=st.sampled_from(OFFICERS),
    authoriser=st.none() | st.sampled_from(OFFICERS),
    seriousness=st.sampled_from(list(Seriousness)),
    today=days,
)


@settings(max_examples=400, deadline=None)
@given(actions, contexts)
def test_allowed_iff_no_failing_reason(action: Action, context: PolicyContext) -> None:
    decision = decide(action, context)
    assert decision.reasons
    assert decision.allowed is (not any(not r.passed for r in decision.reasons))
    assert decision.allowed is (not decision.failures)
    assert decide(action, context) == decision  # pure: same question, same answer


@settings(max_examples=400, deadline=None)
@given(
    actions,
    contexts,
    st.sampled_from([i.instrument_id for i in BOOK.instruments]),
    days,
)
def test_revoking_never_turns_a_deny_into_an_allow(
    action: Action, context: PolicyContext, instrument_id: str, revoked_on: date
) -> None:
    before: Decision = decide(action, context)
    after = decide(action, replace(context, book=context.book.revoke(instrument_id, revoked_on)))
    if not before.allowed:
        assert not after.allowed
    if after.allowed:
        assert before.allowed
