"""Tests for ringfence.domain.penalties: dates, amounts, every transition, every refusal.

Dates were worked out by hand from the England and Wales bank holidays that
``holidays.country_holidays("GB", subdiv="ENG")`` lists (25 and 28 December 2026; 1 January,
26 and 29 March, 27 and 28 December 2027) and are asserted as literal dates. The base PCN is
posted on Friday 18 December 2026 and served on Tuesday 22 December; ``day(n)`` is n days after
service.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.domain.penalties import (
    FINAL_STATES,
    FROZEN_STATES,
    LIVE_STATES,
    LONDON_TERMS,
    LONDON_TZ,
    PCN,
    REPRESENTATION_GROUNDS,
    TRANSITIONS,
    PCNAction,
    PCNState,
    PenaltyError,
    PenaltyTerms,
    RepresentationGround,
    accept_representation,
    advance,
    appeal,
    decide_appeal,
    is_working_day,
    issue_pcn,
    issue_warning,
    make_representation,
    record_payment,
    reject_representation,
    withdraw_appeal,
)
from ringfence.domain.penalties import working_days_after as wda
from ringfence.errors import ConfigError, RingfenceError

A = PCNAction
S = PCNState
G = RepresentationGround

CHARGE_DAY = date(2026, 12, 14)
PAYABLE_UNTIL = date(2026, 12, 17)
POSTED = date(2026, 12, 18)
SERVED = date(2026, 12, 22)


def day(n: int) -> date:
    """n days after service of the base PCN."""
    return SERVED + timedelta(days=n)


def at(on: date, hour: int = 10) -> datetime:
    return datetime.combine(on, time(hour), tzinfo=LONDON_TZ)


def new_pcn(
    terms: PenaltyTerms = LONDON_TERMS, issued_on: date = POSTED, pcn_id: str = "TZ0001"
) -> PCN:
    """A PCN posted on ``issued_on`` for a charge day four days before it."""
    return issue_pcn(
        pcn_id=pcn_id,
        vrm="ab12 cde",
        scheme_id="ulez",
        charge_day=issued_on - timedelta(days=4),
        charge_payable_until=issued_on - timedelta(days=1),
        keeper_ref="keeper-1",
        issued_on=issued_on,
        at=at(issued_on, 8),
        by="tfl-enforcement",
        evidence_ref="reads:42",
        terms=terms,
    )


def new_warning() -> PCN:
    return issue_warning(
        pcn_id="WN0001",
        vrm="AB12CDE",
        scheme_id="ulez",
        charge_day=CHARGE_DAY,
        charge_payable_until=PAYABLE_UNTIL,
        keeper_ref="keeper-1",
        issued_on=POSTED,
        at=at(POSTED, 8),
        by="tfl-enforcement",
        evidence_ref="reads:42",
    )


def represented(on: date = day(13)) -> PCN:
    return make_representation(new_pcn(), G.NO_PENALTY_PAYABLE, "compliant", at(on), "keeper")


# Representation on Monday 4 January 2027 (day 13, inside the discount period); rejected Monday
# 11 January, served Wednesday 13 January: discount again until 27 January, appeal until
# 10 February, charge certificate on 11 February.
REJECTED_ON = date(2027, 1, 11)
REJECTION_SERVED = date(2027, 1, 13)


def rejected(rep_on: date = day(13), on: date = REJECTED_ON) -> PCN:
    return reject_representation(
        represented(rep_on), at(on), "caseworker", "vehicle is not compliant"
    )


def appealed(on: date = date(2027, 1, 20), rep_on: date = day(13)) -> PCN:
    return appeal(rejected(rep_on), at(on), "keeper", "my car meets Euro 6")


# --- Working days ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("posted", "n", "served"),
    [
        (date(2026, 12, 18), 2, date(2026, 12, 22)),  # Fri -> Tue
        (date(2026, 12, 23), 2, date(2026, 12, 29)),  # Thu 24; 25 Christmas, 28 Boxing Day sub
        (date(2026, 12, 24), 2, date(2026, 12, 30)),  # Tue 29, Wed 30
        (date(2026, 12, 31), 2, date(2027, 1, 5)),  # 1 January is a bank holiday
        (date(2027, 12, 23), 2, date(2027, 12, 29)),  # Fri 24; 27 and 28 December substitutes
        (date(2027, 3, 25), 2, date(2027, 3, 31)),  # Good Friday 26, Easter Monday 29 March
        (date(2026, 5, 22), 1, date(2026, 5, 26)),  # spring bank holiday 25 May 2026
        (date(2026, 6, 6), 2, date(2026, 6, 9)),  # posted on a Saturday: Mon, Tue
        (date(2026, 6, 4), 2, date(2026, 6, 8)),  # the real ULEZ PCN (ftla.uk, June 2026)
        (date(2026, 12, 18), 0, date(2026, 12, 18)),
        (date(2026, 12, 26), 0, date(2026, 12, 26)),  # 0: the day itself, working or not
    ],
)
def test_working_days_after(posted: date, n: int, served: date) -> None:
    assert wda(posted, n) == served


def test_working_days_after_refuses_negative() -> None:
    with pytest.raises(ValueError):
        wda(POSTED, -1)


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2026, 12, 24), True),
        (date(2026, 12, 25), False),
        (date(2026, 12, 26), False),
        (date(2026, 12, 28), False),
        (date(2027, 3, 26), False),
        (date(2027, 3, 29), False),
        (date(2027, 3, 30), True),
    ],
)
def test_is_working_day(on: date, expected: bool) -> None:
    assert is_working_day(on) is expected


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    n=st.integers(min_value=1, max_value=30),
)
@settings(max_examples=500, deadline=None)
def test_working_days_after_agrees_with_numpy(start: date, n: int) -> None:
    """numpy's business-day calendar with the same bank holidays is an independent oracle."""
    import holidays

    years = range(start.year, start.year + 2)
    bank = sorted(holidays.country_holidays("GB", subdiv="ENG", years=years).keys())
    expected = np.busday_offset(start, n, roll="backward", holidays=bank)
    assert wda(start, n) == expected.astype(object)


# --- Issue, service and the terms ----------------------------------------------------------------


def test_issue_records_the_notice() -> None:
    pcn = new_pcn()
    assert (pcn.state, pcn.vrm, pcn.issued_on, pcn.served_on) == (
        S.ISSUED,
        "AB12CDE",
        POSTED,
        SERVED,
    )
    assert pcn.is_live and not pcn.is_final
    (event,) = pcn.history
    assert (event.action, event.state, event.by, event.amount_due_pence) == (
        A.PCN_ISSUED,
        S.ISSUED,
        "tfl-enforcement",
        9000,
    )
    assert "2026-12-14" in event.why and "2026-12-22" in event.why


def test_real_ulez_pcn_dates() -> None:
    """Posted Thu 4 June 2026, served Mon 8 June; TfL's letter: discount until 22 June."""
    pcn = new_pcn(issued_on=date(2026, 6, 4))
    assert pcn.served_on == date(2026, 6, 8)
    assert pcn.deadlines(date(2026, 6, 4)) == {
        "discount_until": date(2026, 6, 22),
        "representations_until": date(2026, 7, 6),
        "certificate_on": date(2026, 7, 7),
    }


def test_service_working_days_is_a_parameter() -> None:
    pcn = new_pcn(terms=PenaltyTerms(service_working_days=5))
    # Mon 21, Tue 22, Wed 23, Thu 24 December; 25 and 28 are bank holidays; Tue 29 is the 5th
    assert pcn.served_on == date(2026, 12, 29)
    assert new_pcn(terms=PenaltyTerms(service_working_days=0)).served_on == POSTED


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"issued_on": PAYABLE_UNTIL}, "only after the charge stops being payable"),
        ({"issued_on": CHARGE_DAY}, "only after the charge stops being payable"),
        ({"charge_payable_until": date(2026, 12, 13)}, "before its charge day"),
        ({"at": at(date(2026, 12, 19))}, "after its posting date"),
        ({"at": datetime(2026, 12, 18, 8)}, "tz-aware"),
        ({"vrm": " - "}, "VRM is empty"),
        ({"keeper_ref": " "}, "keeper_ref must be given"),
        ({"by": ""}, "who did it"),
    ],
)
def test_issue_refusals(changes: dict[str, object], message: str) -> None:
    kwargs: dict[str, object] = {
        "pcn_id": "TZ0001",
        "vrm": "AB12CDE",
        "scheme_id": "ulez",
        "charge_day": CHARGE_DAY,
        "charge_payable_until": PAYABLE_UNTIL,
        "keeper_ref": "keeper-1",
        "issued_on": POSTED,
        "at": at(POSTED, 8),
        "by": "tfl",
        "evidence_ref": "reads:42",
    }
    kwargs.update(changes)
    with pytest.raises(PenaltyError, match=message):
        issue_pcn(**kwargs)  # type: ignore[arg-type]


def test_london_terms_are_the_documented_defaults() -> None:
    t = LONDON_TERMS
    assert (t.amount_pence, t.discount_pence, t.certificate_amount_pence) == (18000, 9000, 27000)
    assert (t.discount_days, t.representation_days, t.appeal_days, t.certificate_days) == (
        14,
        28,
        28,
        28,
    )
    assert (t.service_working_days, t.recovery_days, t.recovery_fee_pence) == (2, 14, 0)
    assert (t.withdrawal_days, t.rediscount_days, t.recovery_amount_pence) == (14, 14, 27000)


def test_uplift_rounds_down_to_whole_pence() -> None:
    assert PenaltyTerms(amount_pence=333, discount_pence=166).certificate_amount_pence == 499


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_pence": -1},
        {"discount_days": -14},
        {"discount_pence": 18001},
        {"certificate_uplift_pct": 1.5},
        {"recovery_fee_pence": True},
    ],
)
def test_terms_refuse_nonsense(changes: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        PenaltyTerms(**changes)  # type: ignore[arg-type]


def test_penalty_error_is_a_ringfence_error() -> None:
    assert issubclass(PenaltyError, RingfenceError)


# --- Amounts and the clock ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "amount", "state"),
    [
        (POSTED, 9000, S.ISSUED),
        (day(0), 9000, S.ISSUED),
        (day(14), 9000, S.ISSUED),  # last day of the discount: 5 January 2027
        (day(15), 18000, S.ISSUED),
        (day(28), 18000, S.ISSUED),  # 19 January 2027: still no certificate
        (day(29), 27000, S.CHARGE_CERTIFICATE),  # 20 January 2027, served Fri 22 January
        (date(2027, 2, 5), 27000, S.CHARGE_CERTIFICATE),  # 14 days after 22 January
        (date(2027, 2, 6), 27000, S.ORDER_FOR_RECOVERY),
        (date(2030, 1, 1), 27000, S.ORDER_FOR_RECOVERY),
    ],
)
def test_amount_and_state_over_time(on: date, amount: int, state: PCNState) -> None:
    pcn = new_pcn()
    assert pcn.amount_due(on) == amount
    assert advance(pcn, on).state is state
    assert pcn.state is S.ISSUED  # the original is untouched


def test_recovery_fee_is_added_by_the_order() -> None:
    pcn = new_pcn(terms=PenaltyTerms(recovery_fee_pence=900))
    assert pcn.amount_due(date(2027, 2, 5)) == 27000
    assert pcn.amount_due(date(2027, 2, 6)) == 27900


def test_other_amounts_from_terms() -> None:
    lez = PenaltyTerms(amount_pence=100000, discount_pence=50000)
    pcn = new_pcn(terms=lez)
    assert [pcn.amount_due(d) for d in (day(14), day(15), day(29))] == [50000, 100000, 150000]


def test_advance_records_each_transition_on_the_day_it_fell_due() -> None:
    pcn = advance(new_pcn(), date(2027, 6, 1))
    assert [(e.action, e.at, e.by, e.amount_due_pence) for e in pcn.history[1:]] == [
        (A.CHARGE_CERTIFICATE_ISSUED, at(date(2027, 1, 20), 0), "system", 27000),
        (A.ORDER_FOR_RECOVERY_REGISTERED, at(date(2027, 2, 6), 0), "system", 27000),
    ]
    assert "reg. 17" in pcn.history[1].why and "2026-12-22" in pcn.history[1].why
    assert "reg. 18" in pcn.history[2].why
    assert advance(pcn, date(2027, 6, 1)) == pcn
    assert advance(new_pcn(), date(2027, 1, 19)) == new_pcn()


def test_deadlines_in_each_stage() -> None:
    pcn = new_pcn()
    assert pcn.deadlines(day(15)) == {
        "representations_until": day(28),
        "certificate_on": day(29),
    }
    assert pcn.deadlines(day(29)) == {"recovery_on": date(2027, 2, 6)}
    assert pcn.deadlines(date(2027, 2, 6)) == {}
    assert represented().deadlines(date(2027, 6, 1)) == {}
    assert rejected().deadlines(REJECTED_ON) == {
        "discount_until": date(2027, 1, 27),
        "appeal_until": date(2027, 2, 10),
        "certificate_on": date(2027, 2, 11),
    }


def test_amount_due_refuses_dates_before_the_last_event() -> None:
    pcn = rejected()
    with pytest.raises(PenaltyError, match="before its last event"):
        pcn.amount_due(day(0))
    with pytest.raises(PenaltyError, match="before its last event"):
        pcn.deadlines(day(0))


# --- Payment in every state -----------------------------------------------------------------------


def _refused(pcn: PCN) -> PCN:
    return decide_appeal(pcn, False, at(date(2027, 3, 1)), "adjudicator", "not compliant")


@pytest.mark.parametrize(
    ("make", "on", "due", "state_before"),
    [
        (new_pcn, day(14), 9000, S.ISSUED),
        (new_pcn, day(15), 18000, S.ISSUED),
        (new_pcn, day(30), 27000, S.CHARGE_CERTIFICATE),
        (new_pcn, date(2027, 3, 1), 27000, S.ORDER_FOR_RECOVERY),
        (lambda: represented(day(13)), date(2027, 3, 1), 9000, S.REPRESENTATION_RECEIVED),
        (lambda: represented(day(20)), date(2027, 3, 1), 18000, S.REPRESENTATION_RECEIVED),
        (rejected, date(2027, 1, 27), 9000, S.REJECTED),  # discount re-offered
        (rejected, date(2027, 1, 28), 18000, S.REJECTED),
        (lambda: rejected(day(20), date(2027, 1, 18)), date(2027, 1, 19), 18000, S.REJECTED),
        (appealed, date(2027, 6, 1), 9000, S.APPEALED),  # frozen at the re-offered discount
        (lambda: appealed(date(2027, 1, 28)), date(2027, 6, 1), 18000, S.APPEALED),
        (lambda: _refused(appealed()), date(2027, 3, 31), 18000, S.APPEAL_REFUSED),
        (lambda: _refused(appealed()), date(2027, 4, 1), 27000, S.CHARGE_CERTIFICATE),
        (
            lambda: withdraw_appeal(appealed(), at(date(2027, 3, 1)), "keeper"),
            date(2027, 3, 15),
            18000,
            S.APPEAL_WITHDRAWN,
        ),
        (
            lambda: withdraw_appeal(appealed(), at(date(2027, 3, 1)), "keeper"),
            date(2027, 3, 16),
            27000,
            S.CHARGE_CERTIFICATE,
        ),
    ],
)
def test_payment_in_each_state(
    make: Callable[[], PCN], on: date, due: int, state_before: PCNState
) -> None:
    pcn = make()
    assert pcn.amount_due(on) == due
    assert advance(pcn, on).state is state_before
    with pytest.raises(PenaltyError, match=f"part payment refused: {due} pence due"):
        record_payment(pcn, due - 1, at(on), "keeper")
    paid = record_payment(pcn, due, at(on), "keeper")
    assert paid.state is S.PAID and paid.is_final
    last = paid.history[-1]
    assert (last.action, last.paid_pence, last.amount_due_pence, last.by) == (
        A.PAYMENT_RECEIVED,
        due,
        0,
        "keeper",
    )
    assert f"state {state_before}" in last.why
    assert paid.amount_due(on) == 0


def test_payment_meets_the_certificate_it_fell_due_for() -> None:
    paid = record_payment(new_pcn(), 27000, at(day(30)), "keeper")
    assert [e.action for e in paid.history] == [
        A.PCN_ISSUED,
        A.CHARGE_CERTIFICATE_ISSUED,
        A.PAYMENT_RECEIVED,
    ]


def test_overpayment_settles_and_is_recorded() -> None:
    paid = record_payment(new_pcn(), 18000, at(day(3)), "keeper")
    assert paid.state is S.PAID
    assert "overpaid by 9000 pence" in paid.history[-1].why


def test_payment_during_an_appeal_ends_it() -> None:
    paid = record_payment(appealed(), 9000, at(date(2027, 2, 1)), "keeper")
    assert "ends the live appealed" in paid.history[-1].why


@pytest.mark.parametrize("amount", [0, -9000, True, 9000.0])
def test_payment_must_be_whole_positive_pence(amount: object) -> None:
    with pytest.raises(PenaltyError, match="whole number of pence"):
        record_payment(new_pcn(), amount, at(day(1)), "keeper")  # type: ignore[arg-type]


# --- Representations ------------------------------------------------------------------------------


def test_representation_on_the_last_day_and_a_day_late() -> None:
    on_time = make_representation(new_pcn(), G.NOT_KEEPER, "sold it", at(day(28), 23), "keeper")
    assert on_time.state is S.REPRESENTATION_RECEIVED
    with pytest.raises(PenaltyError) as late:
        make_representation(new_pcn(), G.NOT_KEEPER, "sold it", at(day(29)), "keeper")
    assert late.value.state == "issued" and "within 28 days of service" in str(late.value)
    assert "2027-01-19" in str(late.value)


def test_representation_freezes_the_amount_and_stops_the_clock() -> None:
    pcn = represented(day(13))
    assert pcn.history[-1].amount_due_pence == 9000
    assert pcn.amount_due(date(2028, 1, 1)) == 9000
    assert advance(pcn, date(2028, 1, 1)) == pcn
    late = represented(day(20))
    assert late.history[-1].amount_due_pence == 18000


def test_representation_records_ground_and_statement() -> None:
    pcn = make_representation(new_pcn(), "d", "car was stolen", at(day(2)), "keeper")
    event = pcn.history[-1]
    assert event.ground is G.TAKEN_WITHOUT_CONSENT
    assert "(d) taken_without_consent" in event.why and "car was stolen" in event.why


def test_representation_grounds_are_the_regulations_letters() -> None:
    assert {k: g.value for k, g in REPRESENTATION_GROUNDS.items()} == {
        "a": "not_keeper",
        "b": "charge_paid",
        "c": "no_penalty_payable",
        "d": "taken_without_consent",
        "e": "exceeds_amount",
        "f": "hire_firm",
    }


def test_representation_needs_a_statutory_ground() -> None:
    with pytest.raises(PenaltyError, match="not a statutory ground"):
        make_representation(new_pcn(), "mitigation", "I forgot", at(day(2)), "keeper")


def test_acceptance_cancels() -> None:
    pcn = accept_representation(represented(), at(date(2027, 1, 8)), "caseworker", "exempt")
    assert pcn.state is S.CANCELLED and pcn.amount_due(date(2027, 1, 8)) == 0
    assert "(c) no_penalty_payable" in pcn.history[-1].why and "exempt" in pcn.history[-1].why


def test_rejection_needs_a_reason() -> None:
    with pytest.raises(PenaltyError, match="reason for rejecting must be given"):
        reject_representation(represented(), at(REJECTED_ON), "caseworker", "  ")


def test_no_discount_again_when_represented_after_the_discount_period() -> None:
    pcn = rejected(day(20), date(2027, 1, 18))  # served Wed 20 January
    assert pcn.deadlines(date(2027, 1, 18)) == {
        "appeal_until": date(2027, 2, 17),
        "certificate_on": date(2027, 2, 18),
    }
    assert pcn.amount_due(date(2027, 1, 18)) == 18000


def test_no_discount_again_when_terms_say_so() -> None:
    pcn = new_pcn(terms=PenaltyTerms(rediscount_days=0))
    pcn = make_representation(pcn, G.CHARGE_PAID, "", at(day(2)), "keeper")
    pcn = reject_representation(pcn, at(REJECTED_ON), "caseworker", "no payment found")
    assert pcn.amount_due(REJECTED_ON) == 18000


def test_unappealed_rejection_leads_to_a_certificate() -> None:
    pcn = rejected()
    assert advance(pcn, date(2027, 2, 10)).state is S.REJECTED
    assert advance(pcn, date(2027, 2, 11)).state is S.CHARGE_CERTIFICATE
    assert "notice of rejection" in advance(pcn, date(2027, 2, 11)).history[-1].why


# --- Appeals -------------------------------------------------------------------------------------


def test_appeal_on_the_last_day_and_a_day_late() -> None:
    assert appeal(rejected(), at(date(2027, 2, 10), 23), "keeper").state is S.APPEALED
    with pytest.raises(PenaltyError) as late:
        appeal(rejected(), at(date(2027, 2, 11)), "keeper")
    assert late.value.state == "rejected" and "within 28 days of service" in str(late.value)


def test_appeal_freezes_the_amount() -> None:
    pcn = appealed(date(2027, 1, 20))
    assert pcn.history[-1].amount_due_pence == 9000
    for on in (date(2027, 1, 28), date(2027, 2, 11), date(2028, 1, 1)):
        assert pcn.amount_due(on) == 9000
    assert advance(pcn, date(2028, 1, 1)) == pcn
    assert pcn.deadlines(date(2027, 3, 1)) == {}


def test_appeal_allowed_cancels() -> None:
    pcn = decide_appeal(appealed(), True, at(date(2027, 3, 1)), "adjudicator")
    assert pcn.state is S.CANCELLED and pcn.amount_due(date(2027, 3, 1)) == 0


def test_appeal_refused_gives_28_days_from_service_of_the_decision() -> None:
    pcn = _refused(appealed())  # decided Mon 1 March 2027, served Wed 3 March
    assert pcn.state is S.APPEAL_REFUSED
    assert pcn.deadlines(date(2027, 3, 1)) == {"certificate_on": date(2027, 4, 1)}
    assert pcn.history[-1].amount_due_pence == 18000
    # certificate Thu 1 April, served Mon 5 April (Fri 2 April working; 26/29 March were Easter)
    assert advance(pcn, date(2027, 4, 1)).deadlines(date(2027, 4, 1)) == {
        "recovery_on": date(2027, 4, 20)
    }


def test_appeal_withdrawn_gives_14_days_from_withdrawal() -> None:
    pcn = withdraw_appeal(appealed(), at(date(2027, 3, 1)), "keeper", "changed my mind")
    assert pcn.state is S.APPEAL_WITHDRAWN
    assert pcn.deadlines(date(2027, 3, 1)) == {"certificate_on": date(2027, 3, 16)}
    assert "reg. 17(3)" in pcn.history[-1].why and "changed my mind" in pcn.history[-1].why


# --- Warning notices ------------------------------------------------------------------------------


def test_warning_notice() -> None:
    warning = new_warning()
    assert warning.state is S.WARNING_ISSUED and warning.is_final and not warning.is_live
    assert warning.amount_due(date(2030, 1, 1)) == 0
    assert warning.deadlines(POSTED) == {}
    assert advance(warning, date(2030, 1, 1)) == warning
    (event,) = warning.history
    assert (event.action, event.amount_due_pence) == (A.WARNING_ISSUED, 0)
    assert "launch period" in event.why


# --- Refusals -------------------------------------------------------------------------------------

_LATER = at(date(2027, 3, 1))
_OPERATIONS: dict[str, Callable[[PCN], PCN]] = {
    "pay": lambda p: record_payment(p, 100000, _LATER, "keeper"),
    "represent": lambda p: make_representation(p, G.CHARGE_PAID, "", at(day(28)), "keeper"),
    "accept": lambda p: accept_representation(p, _LATER, "caseworker"),
    "reject": lambda p: reject_representation(p, _LATER, "caseworker", "no"),
    "appeal": lambda p: appeal(p, at(date(2027, 1, 20)), "keeper"),
    "allow": lambda p: decide_appeal(p, True, _LATER, "adjudicator"),
    "refuse": lambda p: decide_appeal(p, False, _LATER, "adjudicator"),
    "withdraw": lambda p: withdraw_appeal(p, _LATER, "keeper"),
}


@pytest.mark.parametrize(
    ("make", "operation", "state", "rule"),
    [
        (new_pcn, "appeal", "issued", "only against a notice of rejection"),
        (new_pcn, "accept", "issued", "only a live representation can be accepted"),
        (new_pcn, "reject", "issued", "only a live representation can be rejected"),
        (new_pcn, "allow", "issued", "only a live appeal can be decided"),
        (new_pcn, "withdraw", "issued", "only a live appeal can be withdrawn"),
        (represented, "represent", "representation_received", "one at a time"),
        (represented, "appeal", "representation_received", "only against a notice of rejection"),
        (rejected, "represent", "rejected", "only against an issued PCN"),
        (rejected, "refuse", "rejected", "only a live appeal"),
        (appealed, "appeal", "appealed", "only against a notice of rejection"),
        (new_warning, "pay", "warning_issued", "final"),
        (new_warning, "represent", "warning_issued", "final"),
        (lambda: accept_representation(represented(), _LATER, "cw"), "pay", "cancelled", "final"),
        (lambda: record_payment(new_pcn(), 9000, at(day(1)), "k"), "pay", "paid", "final"),
        (lambda: record_payment(new_pcn(), 9000, at(day(1)), "k"), "represent", "paid", "final"),
    ],
)
def test_illegal_transitions_name_state_and_rule(
    make: Callable[[], PCN], operation: str, state: str, rule: str
) -> None:
    pcn = make()
    with pytest.raises(PenaltyError) as refused:
        _OPERATIONS[operation](pcn)
    assert refused.value.state == state and rule in refused.value.rule
    assert f"is {state}" in str(refused.value) and rule in str(refused.value)


def test_events_must_be_in_time_order() -> None:
    pcn = represented(day(13))
    with pytest.raises(PenaltyError, match="time order"):
        reject_representation(pcn, at(day(13), 9), "caseworker", "no")


def test_naive_instants_are_refused() -> None:
    with pytest.raises(PenaltyError, match="tz-aware"):
        record_payment(new_pcn(), 9000, datetime(2026, 12, 23, 10), "keeper")


def test_pcn_state_must_match_its_history() -> None:
    with pytest.raises(PenaltyError, match="not that of its last event"):
        dataclasses.replace(new_pcn(), state=S.PAID)
    with pytest.raises(PenaltyError, match="history cannot be empty"):
        dataclasses.replace(new_pcn(), history=())


def test_transition_table_shape() -> None:
    sources: set[PCNState] = set()
    for allowed_from, _ in TRANSITIONS.values():
        sources |= allowed_from
    targets = {to for _, to in TRANSITIONS.values()}
    assert not sources & FINAL_STATES  # nothing leaves a final state
    assert targets | {S.ISSUED, S.WARNING_ISSUED} == set(PCNState)  # every state reachable
    assert FROZEN_STATES <= LIVE_STATES
    assert set(PCNState) == LIVE_STATES | FINAL_STATES


# --- History --------------------------------------------------------------------------------------


def test_history_records_who_when_why_and_amount_for_every_step() -> None:
    pcn = new_pcn()
    pcn = make_representation(pcn, "c", "my car is Euro 6", at(day(13)), "keeper")
    pcn = reject_representation(pcn, at(REJECTED_ON), "caseworker-7", "DVLA: Euro 4 diesel")
    pcn = appeal(pcn, at(date(2027, 1, 28)), "keeper", "see the V5C")
    pcn = decide_appeal(pcn, False, at(date(2027, 3, 1)), "adjudicator-3", "Euro 4")
    pcn = record_payment(pcn, 27000, at(date(2027, 4, 6)), "keeper")
    rows = [(e.action, e.state, e.by, e.at, e.amount_due_pence) for e in pcn.history]
    assert rows == [
        (A.PCN_ISSUED, S.ISSUED, "tfl-enforcement", at(POSTED, 8), 9000),
        (A.REPRESENTATION_RECEIVED, S.REPRESENTATION_RECEIVED, "keeper", at(day(13)), 9000),
        (A.REPRESENTATION_REJECTED, S.REJECTED, "caseworker-7", at(REJECTED_ON), 9000),
        (A.APPEAL_LODGED, S.APPEALED, "keeper", at(date(2027, 1, 28)), 18000),
        (A.APPEAL_REFUSED, S.APPEAL_REFUSED, "adjudicator-3", at(date(2027, 3, 1)), 18000),
        (
            A.CHARGE_CERTIFICATE_ISSUED,
            S.CHARGE_CERTIFICATE,
            "system",
            at(date(2027, 4, 1), 0),
            27000,
        ),
        (A.PAYMENT_RECEIVED, S.PAID, "keeper", at(date(2027, 4, 6)), 0),
    ]
    whys = [e.why for e in pcn.history]
    assert "(c) no_penalty_payable" in whys[1] and "Euro 6" in whys[1]
    assert "DVLA: Euro 4 diesel" in whys[2] and "2027-01-13" in whys[2]
    assert "frozen at 18000" in whys[3] and "see the V5C" in whys[3]
    assert "refused" in whys[4] and "2027-03-03" in whys[4]
    assert "appeal" in whys[5] and "50%" in whys[5]
    assert "27000" in whys[6]


def test_operations_return_new_pcns_and_leave_the_old_alone() -> None:
    before = new_pcn()
    after = make_representation(before, "a", "", at(day(1)), "keeper")
    assert len(before.history) == 1 and before.state is S.ISSUED
    assert after.history[:1] == before.history
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.state = S.PAID  # type: ignore[misc]


# --- Properties -----------------------------------------------------------------------------------

_OP_NAMES = (
    "pay",
    "pay_due",
    "represent",
    "accept",
    "reject",
    "appeal",
    "allow",
    "refuse",
    "withdraw",
    "advance",
)
_PLAUSIBLE: dict[PCNState, tuple[str, ...]] = {
    S.ISSUED: ("represent", "represent", "advance", "pay_due", "pay"),
    S.REPRESENTATION_RECEIVED: ("reject", "reject", "accept", "pay_due"),
    S.REJECTED: ("appeal", "appeal", "advance", "pay_due", "pay"),
    S.APPEALED: ("refuse", "withdraw", "allow", "pay_due"),
}
"""Operations likely to succeed in a state, so that random runs reach every state."""

Step = tuple[bool, int, int, int, str]
_steps = st.lists(
    st.tuples(
        st.booleans(),  # any operation (mostly illegal), or one plausible in the state
        st.integers(min_value=0, max_value=100),  # which one
        st.integers(min_value=0, max_value=24 * 20),  # hours after the previous step
        st.integers(min_value=1, max_value=40000),  # an amount to offer
        st.sampled_from(sorted(REPRESENTATION_GROUNDS)),
    ),
    max_size=12,
)
_SEEDS: dict[str, Callable[[], PCN]] = {
    "issued": new_pcn,
    "warning": new_warning,
    "represented": represented,
    "rejected": rejected,
    "appealed": appealed,
    "refused": lambda: _refused(appealed()),
    "withdrawn": lambda: withdraw_appeal(appealed(), at(date(2027, 3, 1)), "keeper"),
    "certificate": lambda: advance(new_pcn(), day(29)),
    "recovery": lambda: advance(new_pcn(), date(2027, 2, 6)),
    "paid": lambda: record_payment(new_pcn(), 9000, at(day(1)), "keeper"),
    "cancelled": lambda: accept_representation(represented(), at(date(2027, 1, 8)), "cw"),
}
"""PCNs in every state, to start random runs from."""
_starts = st.sampled_from(sorted(_SEEDS))


def _step(pcn: PCN, name: str, when: datetime, amount: int, ground: str) -> PCN:
    on = when.astimezone(LONDON_TZ).date()
    match name:
        case "pay":
            return record_payment(pcn, amount, when, "keeper")
        case "pay_due":
            return record_payment(pcn, pcn.amount_due(on), when, "keeper")
        case "represent":
            return make_representation(pcn, ground, "statement", when, "keeper")
        case "accept":
            return accept_representation(pcn, when, "caseworker")
        case "reject":
            return reject_representation(pcn, when, "caseworker", "reason")
        case "appeal":
            return appeal(pcn, when, "keeper")
        case "allow" | "refuse":
            return decide_appeal(pcn, name == "allow", when, "adjudicator")
        case "withdraw":
            return withdraw_appeal(pcn, when, "keeper")
        case _:
            return advance(pcn, on)


def _run(start: str, steps: list[Step]) -> list[tuple[PCN, datetime]]:
    pcn = _SEEDS[start]()
    when = pcn.history[-1].at + timedelta(hours=1)
    seen = [(pcn, when)]
    for any_op, index, hours, amount, ground in steps:
        names = _OP_NAMES if any_op else _PLAUSIBLE.get(pcn.state, ("pay_due", "advance"))
        when += timedelta(hours=hours)
        with contextlib.suppress(PenaltyError):
            pcn = _step(pcn, names[index % len(names)], when, amount, ground)
        seen.append((pcn, when))
    return seen


def test_random_runs_reach_every_state() -> None:
    """Guard for the properties below: their runs must visit every state."""
    reached: set[PCNState] = set()

    @given(start=_starts, steps=_steps)
    @settings(max_examples=300, deadline=None, database=None, derandomize=True)
    def visit(start: str, steps: list[Step]) -> None:
        reached.update(pcn.state for pcn, _ in _run(start, steps))

    visit()
    assert reached == set(PCNState)


@given(start=_starts, steps=_steps)
@settings(max_examples=400, deadline=None)
def test_properties_of_any_sequence(start: str, steps: list[Step]) -> None:
    seen = _run(start, steps)
    for (before, _), (after, _) in itertools.pairwise(seen):
        # history only grows, and only at its end
        assert after.history[: len(before.history)] == before.history
        assert len(after.history) >= len(before.history)
        # a final PCN never changes again
        if before.is_final:
            assert after == before
    for pcn, when in seen:
        on = when.astimezone(LONDON_TZ).date()
        assert pcn.state is pcn.history[-1].state
        assert all(e.amount_due_pence >= 0 for e in pcn.history)
        assert [e.at for e in pcn.history] == sorted(e.at for e in pcn.history)
        for later in (on, on + timedelta(days=20), on + timedelta(days=400)):
            assert pcn.amount_due(later) >= 0
        if pcn.state in FROZEN_STATES:
            assert pcn.amount_due(on + timedelta(days=400)) == pcn.history[-1].amount_due_pence
        if pcn.is_final:
            assert pcn.amount_due(on) == 0


@given(start=_starts, steps=_steps, gap=st.integers(0, 200), more=st.integers(0, 200))
@settings(max_examples=300, deadline=None)
def test_advance_is_idempotent_and_path_independent(
    start: str, steps: list[Step], gap: int, more: int
) -> None:
    pcn, when = _run(start, steps)[-1]
    first = when.astimezone(LONDON_TZ).date() + timedelta(days=gap)
    second = first + timedelta(days=more)
    once = advance(pcn, first)
    assert advance(once, first) == once
    assert advance(once, second) == advance(pcn, second)
    assert pcn.amount_due(second) == advance(pcn, second).amount_due(second)


@given(start=_starts, steps=_steps)
@settings(max_examples=300, deadline=None)
def test_final_pcns_refuse_every_operation(start: str, steps: list[Step]) -> None:
    pcn, when = _run(start, [*steps, (False, 0, 1, 1, "a")])[-1]
    if not pcn.is_final:
        return
    later = when + timedelta(days=3)
    assert advance(pcn, later.date() + timedelta(days=1000)) == pcn
    for name in _OP_NAMES:
        if name == "advance":
            continue
        with pytest.raises(PenaltyError, match="final"):
            _step(pcn, name, later, 100000, "a")
