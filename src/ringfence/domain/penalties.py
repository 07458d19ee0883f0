"""Penalty charge notices (PCNs): a pure state machine with dates.

Pure: no I/O, no clock, no environment. Every operation takes the instant (``at``, tz-aware) or
the date (``on``) it happens at, and returns a *new* ``PCN``; nothing is ever changed in place.
Each transition appends one ``PCNEvent`` (who, when, why, the amount due after it) to the PCN's
history, an immutable tuple. An operation the rules forbid raises ``PenaltyError`` naming the
PCN, its state and the rule.

States (``PCNState``) and transitions (``TRANSITIONS``)::

    warning_issued            (launch period: no amount; final)
    issued ──pay──────────────────────────────────────────────────────────────> paid
      │  └─representation──> representation_received ──accept──> cancelled
      │                        └─reject──> rejected ──appeal──> appealed ──allowed──> cancelled
      │                                       │                  ├─refused──> appeal_refused
      │                                       │                  └─withdrawn─> appeal_withdrawn
      └─(unpaid: advance)──> charge_certificate <── issued, rejected, appeal_refused,
                               │                    appeal_withdrawn (unpaid: advance)
                               └─(unpaid: advance)──> order_for_recovery

    Payment settles every live state (all but warning_issued, paid and cancelled).

Rules, with sources. "SI 2001/2313" is the Road User Charging (Enforcement and Adjudication)
(London) Regulations 2001, the regulations under which TfL enforces the Congestion Charge, the
LEZ and the ULEZ. Every number is a field of ``PenaltyTerms``; the defaults (``LONDON_TERMS``)
are London's.

- Who and when. A PCN is served on the registered keeper (SI 2001/2313 reg. 12(2), read on
  legislation.gov.uk) once the charge is unpaid when the scheme required it to be paid (reg.
  12(1)). The scheme says when that is (``charge_payable_until``: TfL's ULEZ and Congestion
  Charge may be paid up to midnight on the third day after travel, per third-party guides; not
  read on a TfL page); ``issue_pcn`` refuses a posting date on or before it.
- Service. A PCN, notice of rejection, adjudicator's decision or charge certificate sent by post
  is taken as served ``service_working_days`` (2) working days after posting. Working days skip
  Saturdays, Sundays and the England and Wales bank holidays of
  ``holidays.country_holidays("GB", subdiv="ENG")`` (which include Christmas Day, Good Friday
  and substitute days; future years are the library's projection). Source: TfL practice as
  shown on a ULEZ PCN posted Thursday 4 June 2026, served Monday 8 June (free traffic legal
  advice forum, ftla.uk, June 2026: a third-hand report of TfL's letter). The statutory text
  giving "second working day" for these regulations was NOT found (the parking regulations and
  the Civil Procedure Rules use the same rule, from memory, not re-checked).
- Amounts. GBP 180 (``amount_pence`` 18000), reduced to GBP 90 (``discount_pence``, the
  *reduced amount*, not the reduction) if paid within 14 days of service (``discount_days``).
  Current ULEZ and Congestion Charge amounts per third-party reports; TfL's tariff page was not
  read. The LEZ's amounts differ (London Tribunals' FAQ): the scheme config supplies them.
- Representations. On the six grounds of SI 2001/2313 reg. 13(3) (``RepresentationGround``),
  within 28 days of service (``representation_days``; TfL may disregard later ones). Source
  for the grounds and their order: London Tribunals, "Grounds of appeal" (RUC), which applies to
  the Congestion Charge, LEZ and ULEZ, and the identical list in SI 2018/574 Sch. 8 para. 6(3)
  (Silvertown Tunnel), both read; the 2001 text of reg. 13(3) itself was not read, so the
  lettering (a)-(f) is taken from those two. R (Walmsley) v Lane, Court of Appeal, 17 November
  2005 ([2005] All ER (D) 238 (Nov), summary read): the adjudicator may consider only these
  grounds, not mitigation. Note the order: (b) is "charge paid", (d) is
  "taken without consent", (f) is "vehicle-hire firm". Late representations raise
  ``PenaltyError``: TfL's discretion to consider them is not modelled.
- Frozen while considered. While a representation is live the amount does not increase and the
  clocks stop (TfL's representation page, congestioncharging.tfl.gov.uk, says enforcement is
  suspended and the amount will not increase until TfL replies). It is frozen at the amount due
  on the day it was received (GBP 90 inside the discount period, GBP 180 after).
- Rejection. A notice of rejection (with reason) is served ``service_working_days`` after it
  is sent. If the representation was received inside the discount period, the discount is
  re-offered for ``rediscount_days`` (14) after service of the rejection (a third-party guide,
  penaltychargenotice.co.uk, says TfL usually allows a further 14 days at the reduced rate after
  rejecting a representation; NOT confirmed on a TfL page). A representation made after the
  discount period gets no discount back: the clock
  was paused, and it had already run out. ``rediscount_days=0`` never re-offers it.
- Appeal. To the Road User Charging Adjudicators (London Tribunals) within 28 days of service
  of the notice of rejection (``appeal_days``; TfL, "Make an appeal", read), and only after a
  rejection. While the appeal is live the PCN is frozen at the amount outstanding when TfL
  hears of the appeal (same TfL page). Allowed: cancelled. Refused: the full
  ``amount_pence`` is due (the discount is lost: my choice, NOT verified) for 28 days from
  service of the decision (SI 2001/2313 reg. 17(2)(c), read). Withdrawn: the full amount for
  14 days after the day of withdrawal (``withdrawal_days``, reg. 17(3), read).
  Extensions of time by the adjudicator (Schedule para. 2(3)) are not modelled.
- Charge certificate. Unpaid at the end of the relevant period: 28 days from service of the PCN
  (no representation), from service of the notice of rejection (no appeal) or of the
  adjudicator's decision (appeal refused) (``certificate_days``, reg. 17(2), read on
  legislation.gov.uk). The penalty increases by the proportion the charging scheme specifies
  (reg. 17(1)); London's is 50% (``certificate_uplift_pct``: GBP 270; per
  third-party guides, the scheme orders were not read). Whole pence, rounded down.
- Order for recovery. Unpaid 14 days after service of the charge certificate
  (``recovery_days``): the increased charge is registered as a debt at the county court's
  Traffic Enforcement Centre. SI 2001/2313 reg. 18 was NOT read; the 14 days are those of the
  identical parking provision (Road Traffic Act 1991 Sch. 6 para. 7, read) and London
  Tribunals' list of notices. Registration carries a court fee which TfL may add
  (``recovery_fee_pence``): default 0 because the fee changes and was not verified; the scheme
  config should set it. Statutory declarations and warrants are not modelled.
- Payment. Settles any live state (including a live representation or appeal, which it ends)
  at the amount due on the day it is received (reg. 2(2): a payment counts when the charging
  authority receives it): discounted, full, frozen, increased, or increased plus fee. Part
  payments are refused (``PenaltyError``): a penalty charge is paid in full or not at all, and
  refusing keeps one amount per PCN; the service layer can hold a part payment and refund it.
  Overpayment settles the PCN and is recorded (the surplus is for the service to refund).
- Warning notices. During a scheme's launch period a warning notice is recorded instead of a
  PCN: no amount, final. A later offence by the same vehicle is a new PCN (``issue_pcn``); the
  scheme config decides whether a warning is due. No source was consulted for this.

Counting days. "Within N days of X" ends on X + N (day X is day 0), and a time-driven
transition falls due the day after. This is TfL's practice for the discount as reported
(served 8 June 2026, discount available until 22 June, ftla.uk above); the regulations' "period
of N days beginning with X" ends a day earlier (X + N - 1). Using the later reading throughout
means Ringfence never raises a charge or closes a window a day early (which a motorist could
challenge); serving a certificate a day late costs nothing.

Time-driven transitions. ``advance(pcn, on)`` applies every transition due by ``on`` (charge
certificate, order for recovery), each recorded at 00:00 Europe/London on the day it fell due,
so running it late gives the same history as running it daily, and it is idempotent. Every
other operation first advances to its own day: a payment on day 40 of an unpaid PCN meets the
charge certificate, not the GBP 180. This assumes the authority sends each notice on the day
it falls due: the service layer must post whatever ``advance`` records, that day.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

from ringfence.domain.vrm import normalise
from ringfence.errors import ConfigError, RingfenceError

__all__ = [
    "FINAL_STATES",
    "FROZEN_STATES",
    "LIVE_STATES",
    "LONDON_TERMS",
    "LONDON_TZ",
    "PCN",
    "REPRESENTATION_GROUNDS",
    "TRANSITIONS",
    "PCNAction",
    "PCNEvent",
    "PCNState",
    "PenaltyError",
    "PenaltyTerms",
    "RepresentationGround",
    "accept_representation",
    "advance",
    "appeal",
    "decide_appeal",
    "is_working_day",
    "issue_pcn",
    "issue_warning",
    "make_representation",
    "record_payment",
    "reject_representation",
    "withdraw_appeal",
    "working_days_after",
]

LONDON_TZ = ZoneInfo("Europe/London")
"""Dates of instants (``at``) are taken in London, as charge days are."""


class PenaltyError(RingfenceError):
    """An operation the PCN rules forbid: names the PCN, its state and the rule broken."""

    def __init__(self, message: str, *, pcn_id: str = "", state: str = "", rule: str = "") -> None:
        super().__init__(message)
        self.pcn_id = pcn_id
        self.state = state
        self.rule = rule


class PCNState(StrEnum):
    """Where a PCN stands. Final states never change again (``FINAL_STATES``)."""

    WARNING_ISSUED = "warning_issued"
    """A warning notice sent instead of a PCN during a launch period: no amount; final."""
    ISSUED = "issued"
    """PCN posted to the keeper; discount, representation and payment clocks running."""
    REPRESENTATION_RECEIVED = "representation_received"
    """A representation is being considered: amount frozen, clocks stopped."""
    REJECTED = "rejected"
    """Notice of rejection sent: appeal window open; discount re-offered if it applied."""
    APPEALED = "appealed"
    """Appeal lodged with the adjudicator: amount frozen, clocks stopped."""
    APPEAL_REFUSED = "appeal_refused"
    """The adjudicator refused the appeal: the full amount is due for 28 days."""
    APPEAL_WITHDRAWN = "appeal_withdrawn"
    """The appellant withdrew the appeal: the full amount is due for 14 days."""
    CHARGE_CERTIFICATE = "charge_certificate"
    """Unpaid after the relevant period: the charge is increased (+50%)."""
    ORDER_FOR_RECOVERY = "order_for_recovery"
    """Unpaid after the certificate: registered as a debt (increased charge plus any fee)."""
    PAID = "paid"
    """Settled in full; final."""
    CANCELLED = "cancelled"
    """Representation accepted or appeal allowed; final."""


_S = PCNState
FINAL_STATES = frozenset({_S.WARNING_ISSUED, _S.PAID, _S.CANCELLED})
"""States nothing can leave: every operation on them raises and ``advance`` returns them as is."""
LIVE_STATES = frozenset(PCNState) - FINAL_STATES
"""States in which an amount is due and payment settles the PCN."""
FROZEN_STATES = frozenset({_S.REPRESENTATION_RECEIVED, _S.APPEALED})
"""States in which the amount is frozen and no clock runs."""


class PCNAction(StrEnum):
    """What happened to a PCN: one per event, kebab-case as audit events are."""

    WARNING_ISSUED = "warning-issued"
    PCN_ISSUED = "pcn-issued"
    PAYMENT_RECEIVED = "payment-received"
    REPRESENTATION_RECEIVED = "representation-received"
    REPRESENTATION_ACCEPTED = "representation-accepted"
    REPRESENTATION_REJECTED = "representation-rejected"
    APPEAL_LODGED = "appeal-lodged"
    APPEAL_ALLOWED = "appeal-allowed"
    APPEAL_REFUSED = "appeal-refused"
    APPEAL_WITHDRAWN = "appeal-withdrawn"
    CHARGE_CERTIFICATE_ISSUED = "charge-certificate-issued"
    ORDER_FOR_RECOVERY_REGISTERED = "order-for-recovery-registered"


_A = PCNAction
TRANSITIONS: Mapping[PCNAction, tuple[frozenset[PCNState], PCNState]] = MappingProxyType(
    {
        _A.PAYMENT_RECEIVED: (LIVE_STATES, _S.PAID),
        _A.REPRESENTATION_RECEIVED: (frozenset({_S.ISSUED}), _S.REPRESENTATION_RECEIVED),
        _A.REPRESENTATION_ACCEPTED: (frozenset({_S.REPRESENTATION_RECEIVED}), _S.CANCELLED),
        _A.REPRESENTATION_REJECTED: (frozenset({_S.REPRESENTATION_RECEIVED}), _S.REJECTED),
        _A.APPEAL_LODGED: (frozenset({_S.REJECTED}), _S.APPEALED),
        _A.APPEAL_ALLOWED: (frozenset({_S.APPEALED}), _S.CANCELLED),
        _A.APPEAL_REFUSED: (frozenset({_S.APPEALED}), _S.APPEAL_REFUSED),
        _A.APPEAL_WITHDRAWN: (frozenset({_S.APPEALED}), _S.APPEAL_WITHDRAWN),
        _A.CHARGE_CERTIFICATE_ISSUED: (
            frozenset({_S.ISSUED, _S.REJECTED, _S.APPEAL_REFUSED, _S.APPEAL_WITHDRAWN}),
            _S.CHARGE_CERTIFICATE,
        ),
        _A.ORDER_FOR_RECOVERY_REGISTERED: (
            frozenset({_S.CHARGE_CERTIFICATE}),
            _S.ORDER_FOR_RECOVERY,
        ),
    }
)
"""Action -> (states it may happen in, state it leads to). Issuing creates a PCN instead."""

_RULES: Mapping[PCNAction, str] = MappingProxyType(
    {
        _A.PAYMENT_RECEIVED: "only a live PCN can be paid (not a warning, paid or cancelled one)",
        _A.REPRESENTATION_RECEIVED: (
            "a representation can be made only against an issued PCN, one at a time, within "
            "the representation period after service (SI 2001/2313 reg. 13)"
        ),
        _A.REPRESENTATION_ACCEPTED: "only a live representation can be accepted",
        _A.REPRESENTATION_REJECTED: "only a live representation can be rejected",
        _A.APPEAL_LODGED: (
            "an appeal lies only against a notice of rejection, within the appeal period after "
            "its service (SI 2001/2313 reg. 16)"
        ),
        _A.APPEAL_ALLOWED: "only a live appeal can be decided",
        _A.APPEAL_REFUSED: "only a live appeal can be decided",
        _A.APPEAL_WITHDRAWN: "only a live appeal can be withdrawn",
        _A.CHARGE_CERTIFICATE_ISSUED: "a charge certificate follows only an unpaid relevant period",
        _A.ORDER_FOR_RECOVERY_REGISTERED: "an order for recovery follows only a charge certificate",
    }
)


class RepresentationGround(StrEnum):
    """The six statutory grounds of SI 2001/2313 reg. 13(3), in the regulation's order."""

    NOT_KEEPER = "not_keeper"
    """(a) the recipient never was the registered keeper, had ceased to be the person liable
    before the date the vehicle was used in the zone, or became the person liable after it."""
    CHARGE_PAID = "charge_paid"
    """(b) the charge was paid at the time and in the manner the scheme required."""
    NO_PENALTY_PAYABLE = "no_penalty_payable"
    """(c) no penalty charge is payable under the scheme (e.g. exempt, discounted, compliant,
    not in the zone, outside its hours)."""
    TAKEN_WITHOUT_CONSENT = "taken_without_consent"
    """(d) the vehicle was used or kept by a person in control of it without the registered
    keeper's consent."""
    EXCEEDS_AMOUNT = "exceeds_amount"
    """(e) the penalty charge exceeded the amount applicable in the circumstances."""
    HIRE_FIRM = "hire_firm"
    """(f) the recipient is a vehicle-hire firm, the vehicle was hired under a hiring agreement
    and the hirer had signed a statement of liability for PCNs during the hire. (Accepting it
    cancels this PCN; a new one may then be issued to the hirer.)"""


REPRESENTATION_GROUNDS: Mapping[str, RepresentationGround] = MappingProxyType(
    dict(zip("abcdef", RepresentationGround, strict=True))
)
"""The regulation's letter for each ground: ``REPRESENTATION_GROUNDS["d"]`` is consent."""

_GROUND_LETTER = {ground: letter for letter, ground in REPRESENTATION_GROUNDS.items()}


@dataclass(frozen=True, slots=True)
class PenaltyTerms:
    """The numbers of a scheme's penalty rules; the defaults are London's (``LONDON_TERMS``).

    Periods are in calendar days unless named working days; "within N days of X" ends on X + N.
    """

    amount_pence: int = 18000
    """The penalty charge (London ULEZ and Congestion Charge: GBP 180)."""
    discount_pence: int = 9000
    """The reduced amount payable within the discount period (GBP 90): not the reduction."""
    discount_days: int = 14
    """Days after service during which the reduced amount is accepted."""
    service_working_days: int = 2
    """Working days after posting on which a posted notice is taken as served."""
    representation_days: int = 28
    """Days after service within which representations must be made."""
    appeal_days: int = 28
    """Days after service of the notice of rejection within which an appeal must be lodged."""
    certificate_days: int = 28
    """Days after service of the PCN, notice of rejection or adjudicator's decision before a
    charge certificate may be served (the relevant period, reg. 17(2))."""
    certificate_uplift_pct: int = 50
    """Increase made by a charge certificate, in per cent of ``amount_pence`` (GBP 270)."""
    recovery_days: int = 14
    """Days after service of the charge certificate before an order for recovery."""
    recovery_fee_pence: int = 0
    """Court fee added when the debt is registered. London: TfL may add the Traffic Enforcement
    Centre's registration fee; 0 here because that fee changes and was not verified."""
    withdrawal_days: int = 14
    """Days after an appeal is withdrawn before a charge certificate (reg. 17(3))."""
    rediscount_days: int = 14
    """Days after service of a notice of rejection during which the discount is re-offered,
    if the representation was made within the discount period; 0: never re-offered."""

    def __post_init__(self) -> None:
        for spec in fields(self):
            name, value = spec.name, getattr(self, spec.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"penalty terms: {name} must be a whole number >= 0: {value!r}")
        if self.discount_pence > self.amount_pence:
            raise ConfigError(
                f"penalty terms: discount_pence {self.discount_pence} exceeds amount_pence "
                f"{self.amount_pence} (it is the reduced amount, not the reduction)"
            )

    @property
    def certificate_amount_pence(self) -> int:
        """The increased charge after a charge certificate (whole pence, rounded down)."""
        return self.amount_pence * (100 + self.certificate_uplift_pct) // 100

    @property
    def recovery_amount_pence(self) -> int:
        """The debt registered by an order for recovery: increased charge plus fee."""
        return self.certificate_amount_pence + self.recovery_fee_pence


LONDON_TERMS = PenaltyTerms()
"""London's penalty terms (ULEZ and Congestion Charge): see the module docstring for sources."""


@dataclass(frozen=True, slots=True)
class PCNEvent:
    """One transition: what, to which state, when, by whom, why, and the amount due after it."""

    action: PCNAction
    state: PCNState
    """The state after the event."""
    at: datetime
    """The instant it happened (tz-aware); time-driven events: 00:00 London on the day due."""
    by: str
    """Who did it: an operator, the keeper, the adjudicator, or ``system`` for ``advance``."""
    why: str
    """Human-readable reason, citing the rule or quoting the ground, statement or reason."""
    amount_due_pence: int
    """The amount due immediately after the event (0 once paid, cancelled or a warning)."""
    paid_pence: int = 0
    """The amount received, for ``payment-received``."""
    ground: RepresentationGround | None = None
    """The statutory ground, for ``representation-received``."""

    def __post_init__(self) -> None:
        _require_aware(self.at)
        if not self.by.strip():
            raise PenaltyError(f"{self.action}: who did it (by) must be given")
        if not self.why.strip():
            raise PenaltyError(f"{self.action}: why must be given")
        if self.amount_due_pence < 0 or self.paid_pence < 0:
            raise PenaltyError(f"{self.action}: amounts cannot be negative")


@dataclass(frozen=True, slots=True)
class PCN:
    """A penalty charge notice (or a warning notice) and everything that has happened to it.

    ``state`` is always the state of the last event of ``history``; ``history`` is never empty.
    """

    pcn_id: str
    vrm: str
    """The normalised VRM."""
    scheme_id: str
    charge_day: date
    """The charge day (Europe/London) of the unpaid charge."""
    keeper_ref: str
    """Opaque reference to the registered keeper (no personal data here)."""
    issued_on: date
    """The date of posting (the date of the notice)."""
    served_on: date
    """The date the notice is taken as served: ``service_working_days`` after posting."""
    terms: PenaltyTerms
    state: PCNState
    history: tuple[PCNEvent, ...]
    evidence_ref: str
    """Opaque reference to the evidence (reads, images) the notice relies on."""

    def __post_init__(self) -> None:
        if not self.history:
            raise PenaltyError(f"PCN {self.pcn_id}: history cannot be empty")
        if self.history[-1].state is not self.state:
            raise PenaltyError(
                f"PCN {self.pcn_id}: state {self.state} is not that of its last event "
                f"({self.history[-1].state})"
            )

    @property
    def is_final(self) -> bool:
        """Paid, cancelled or a warning: it will never change again."""
        return self.state in FINAL_STATES

    @property
    def is_live(self) -> bool:
        """An amount is due and payment would settle it."""
        return self.state in LIVE_STATES

    def amount_due(self, on: date) -> int:
        """Pence due on ``on`` (applying the transitions due by then); 0 if final.

        ``on`` may not be before the day of the last event (the past is in ``history``).
        """
        _not_before_last_event(self, on)
        return _stage(advance(self, on)).amount_on(on)

    def deadlines(self, on: date) -> dict[str, date]:
        """The dates still ahead (or today) on ``on`` for the state the PCN is then in.

        Keys, where they apply: ``discount_until`` (last day at the reduced amount),
        ``representations_until``, ``appeal_until`` (last days to act), ``certificate_on``
        and ``recovery_on`` (the days those transitions fall due). Empty while a
        representation or appeal is live (no clock runs) and once final.
        """
        _not_before_last_event(self, on)
        stage = _stage(advance(self, on))
        found = {
            "discount_until": stage.discount_until,
            "representations_until": stage.representations_until,
            "appeal_until": stage.appeal_until,
        }
        if stage.next_action is _A.CHARGE_CERTIFICATE_ISSUED:
            found["certificate_on"] = stage.next_on
        elif stage.next_action is _A.ORDER_FOR_RECOVERY_REGISTERED:
            found["recovery_on"] = stage.next_on
        return {key: day for key, day in found.items() if day is not None and day >= on}


# --- Working days ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: date) -> bool:
    """Monday to Friday and not an England and Wales bank holiday (``holidays``, GB/ENG)."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def working_days_after(day: date, n: int) -> date:
    """The ``n``-th working day after ``day`` (``day`` itself for 0; ``day`` need not be one).

    Posted Friday 18 December 2026, ``n=2``: Tuesday 22 December. Posted Wednesday 23 December
    2026: Tuesday 29 December (25 and 28 December are bank holidays).
    """
    if n < 0:
        raise ValueError(f"n must be >= 0: {n}")
    current = day
    while n:
        current += timedelta(days=1)
        if is_working_day(current):
            n -= 1
    return current


# --- Stages: what is due, until when, and what happens next ---------------------------------------


@dataclass(frozen=True, slots=True)
class _Stage:
    amount_pence: int
    discount_pence: int | None = None
    discount_until: date | None = None
    representations_until: date | None = None
    appeal_until: date | None = None
    next_action: PCNAction | None = None
    next_on: date | None = None

    def amount_on(self, on: date) -> int:
        if self.discount_pence is not None and self.discount_until is not None:
            return self.discount_pence if on <= self.discount_until else self.amount_pence
        return self.amount_pence


def _day(at: datetime) -> date:
    return at.astimezone(LONDON_TZ).date()


def _days(n: int) -> timedelta:
    return timedelta(days=n)


def _original_discount_until(pcn: PCN) -> date:
    return pcn.served_on + _days(pcn.terms.discount_days)


def _stage(pcn: PCN) -> _Stage:
    """The amounts, deadlines and next time-driven transition of the PCN's current state."""
    t = pcn.terms
    entered = pcn.history[-1]
    day = _day(entered.at)
    cert = _A.CHARGE_CERTIFICATE_ISSUED
    match pcn.state:
        case _S.ISSUED:
            served = pcn.served_on
            return _Stage(
                amount_pence=t.amount_pence,
                discount_pence=t.discount_pence,
                discount_until=_original_discount_until(pcn),
                representations_until=served + _days(t.representation_days),
                next_action=cert,
                next_on=served + _days(t.certificate_days + 1),
            )
        case _S.REJECTED:
            served = working_days_after(day, t.service_working_days)
            representation = next(
                e for e in reversed(pcn.history) if e.action is _A.REPRESENTATION_RECEIVED
            )
            rediscount = t.rediscount_days > 0 and (
                _day(representation.at) <= _original_discount_until(pcn)
            )
            return _Stage(
                amount_pence=t.amount_pence,
                discount_pence=t.discount_pence if rediscount else None,
                discount_until=served + _days(t.rediscount_days) if rediscount else None,
                appeal_until=served + _days(t.appeal_days),
                next_action=cert,
                next_on=served + _days(max(t.appeal_days, t.certificate_days) + 1),
            )
        case _S.APPEAL_REFUSED:
            served = working_days_after(day, t.service_working_days)
            return _Stage(
                amount_pence=t.amount_pence,
                next_action=cert,
                next_on=served + _days(t.certificate_days + 1),
            )
        case _S.APPEAL_WITHDRAWN:
            return _Stage(
                amount_pence=t.amount_pence,
                next_action=cert,
                next_on=day + _days(t.withdrawal_days + 1),
            )
        case _S.CHARGE_CERTIFICATE:
            served = working_days_after(day, t.service_working_days)
            return _Stage(
                amount_pence=t.certificate_amount_pence,
                next_action=_A.ORDER_FOR_RECOVERY_REGISTERED,
                next_on=served + _days(t.recovery_days + 1),
            )
        case _S.ORDER_FOR_RECOVERY:
            return _Stage(amount_pence=t.recovery_amount_pence)
        case _S.REPRESENTATION_RECEIVED | _S.APPEALED:
            return _Stage(amount_pence=entered.amount_due_pence)
        case _:  # final states
            return _Stage(amount_pence=0)


# --- Applying transitions -------------------------------------------------------------------------


def _require_aware(at: datetime) -> None:
    if not isinstance(at, datetime) or at.utcoffset() is None:
        raise PenaltyError(f"instants must be tz-aware datetimes: {at!r}")


def _refuse(pcn: PCN, action: PCNAction, rule: str) -> PenaltyError:
    return PenaltyError(
        f"PCN {pcn.pcn_id} is {pcn.state}: {action} refused: {rule}",
        pcn_id=pcn.pcn_id,
        state=str(pcn.state),
        rule=rule,
    )


def _check_time(pcn: PCN, action: PCNAction, at: datetime) -> None:
    _require_aware(at)
    last = pcn.history[-1].at
    if at < last:
        raise _refuse(
            pcn,
            action,
            f"events are recorded in time order: {at.isoformat()} is before the last event "
            f"({last.isoformat()})",
        )
    if _day(at) < pcn.issued_on:
        raise _refuse(
            pcn, action, f"nothing can happen to a PCN before it is posted ({pcn.issued_on})"
        )


def _apply(
    pcn: PCN,
    action: PCNAction,
    *,
    at: datetime,
    by: str,
    why: str,
    frozen_pence: int | None = None,
    paid_pence: int = 0,
    ground: RepresentationGround | None = None,
) -> PCN:
    """Append one event (checked against ``TRANSITIONS``) and return the new PCN."""
    allowed_from, to = TRANSITIONS[action]
    if pcn.state not in allowed_from:
        raise _refuse(pcn, action, _RULES[action])
    _check_time(pcn, action, at)
    event = PCNEvent(
        action=action,
        state=to,
        at=at,
        by=by,
        why=why,
        amount_due_pence=frozen_pence if frozen_pence is not None else 0,
        paid_pence=paid_pence,
        ground=ground,
    )
    moved = replace(pcn, state=to, history=(*pcn.history, event))
    if frozen_pence is None and to not in FINAL_STATES:
        amount = _stage(moved).amount_on(_day(at))
        moved = replace(moved, history=(*pcn.history, replace(event, amount_due_pence=amount)))
    return moved


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LONDON_TZ)


def _time_driven_why(pcn: PCN, action: PCNAction) -> str:
    t = pcn.terms
    if action is _A.ORDER_FOR_RECOVERY_REGISTERED:
        return (
            f"increased charge unpaid {t.recovery_days} days after service of the charge "
            f"certificate: registered as a debt (SI 2001/2313 reg. 18)"
        )
    after = {
        _S.ISSUED: f"service of the PCN on {pcn.served_on}",
        _S.REJECTED: "service of the notice of rejection, and no appeal",
        _S.APPEAL_REFUSED: "service of the adjudicator's decision refusing the appeal",
        _S.APPEAL_WITHDRAWN: "withdrawal of the appeal",
    }[pcn.state]
    return (
        f"unpaid at the end of the relevant period after {after}: penalty increased by "
        f"{t.certificate_uplift_pct}% (SI 2001/2313 reg. 17)"
    )


def advance(pcn: PCN, on: date, by: str = "system") -> PCN:
    """Apply the time-driven transitions due by ``on`` (charge certificate, order for recovery).

    Each is recorded at 00:00 Europe/London on the day it fell due, so the result does not
    depend on how often this runs. Idempotent; a final, frozen or recovered PCN is returned as is.
    """
    while True:
        stage = _stage(pcn)
        if stage.next_action is None or stage.next_on is None or stage.next_on > on:
            return pcn
        pcn = _apply(
            pcn,
            stage.next_action,
            at=_start_of(stage.next_on),
            by=by,
            why=_time_driven_why(pcn, stage.next_action),
        )


def _advance_to(pcn: PCN, action: PCNAction, at: datetime) -> PCN:
    """Check ``at`` and apply what fell due before it, for an operation happening at ``at``."""
    if pcn.state in FINAL_STATES:
        raise _refuse(pcn, action, f"a {pcn.state} notice is final; {_RULES[action]}")
    # Advancing leads only to charge_certificate or order_for_recovery, where only payment
    # (allowed in every live state) may happen: an action not allowed now never will be.
    if pcn.state not in TRANSITIONS[action][0]:
        raise _refuse(pcn, action, _RULES[action])
    _check_time(pcn, action, at)
    return advance(pcn, _day(at))


def _not_before_last_event(pcn: PCN, on: date) -> None:
    last = _day(pcn.history[-1].at)
    if on < last:
        raise PenaltyError(
            f"PCN {pcn.pcn_id}: {on} is before its last event ({last}); the past is in history",
            pcn_id=pcn.pcn_id,
            state=str(pcn.state),
        )


def _require_text(pcn: PCN, action: PCNAction, what: str, text: str) -> None:
    if not text.strip():
        raise _refuse(pcn, action, f"{what} must be given")


# --- Issuing --------------------------------------------------------------------------------------


def _new(
    *,
    action: PCNAction,
    state: PCNState,
    pcn_id: str,
    vrm: str,
    scheme_id: str,
    charge_day: date,
    charge_payable_until: date,
    keeper_ref: str,
    issued_on: date,
    at: datetime,
    by: str,
    evidence_ref: str,
    terms: PenaltyTerms,
    why: str,
) -> PCN:
    _require_aware(at)
    for name, value in (
        ("pcn_id", pcn_id),
        ("scheme_id", scheme_id),
        ("keeper_ref", keeper_ref),
        ("evidence_ref", evidence_ref),
    ):
        if not value.strip():
            raise PenaltyError(f"{action}: {name} must be given")
    normalised = normalise(vrm)
    if not normalised:
        raise PenaltyError(f"{action} {pcn_id}: the VRM is empty")
    if charge_payable_until < charge_day:
        raise PenaltyError(
            f"{action} {pcn_id}: the charge cannot stop being payable ({charge_payable_until}) "
            f"before its charge day ({charge_day})"
        )
    if issued_on <= charge_payable_until:
        raise PenaltyError(
            f"{action} {pcn_id}: a notice may be posted only after the charge stops being "
            f"payable ({charge_payable_until}); posting date {issued_on}",
            pcn_id=pcn_id,
            rule="SI 2001/2313 reg. 12(1): the charge was not paid by the time required",
        )
    if _day(at) > issued_on:
        raise PenaltyError(
            f"{action} {pcn_id}: recorded on {_day(at)}, after its posting date {issued_on}; "
            "a notice is recorded no later than the day it is posted"
        )
    served_on = working_days_after(issued_on, terms.service_working_days)
    amount = 0 if state in FINAL_STATES else terms.discount_pence
    event = PCNEvent(action=action, state=state, at=at, by=by, why=why, amount_due_pence=amount)
    return PCN(
        pcn_id=pcn_id,
        vrm=normalised,
        scheme_id=scheme_id,
        charge_day=charge_day,
        keeper_ref=keeper_ref,
        issued_on=issued_on,
        served_on=served_on,
        terms=terms,
        state=state,
        history=(event,),
        evidence_ref=evidence_ref,
    )


def issue_pcn(
    *,
    pcn_id: str,
    vrm: str,
    scheme_id: str,
    charge_day: date,
    charge_payable_until: date,
    keeper_ref: str,
    issued_on: date,
    at: datetime,
    by: str,
    evidence_ref: str,
    terms: PenaltyTerms = LONDON_TERMS,
) -> PCN:
    """A PCN to the registered keeper, posted on ``issued_on``, for an unpaid charge.

    ``charge_payable_until`` is the scheme's last day to pay the charge itself; the notice must
    be posted after it. ``at`` (recorded) may not fall after the posting date. The amount due
    after issue is the reduced amount (the discount period has begun).
    """
    served = working_days_after(issued_on, terms.service_working_days)
    why = (
        f"charge for {charge_day} unpaid by {charge_payable_until}: PCN posted {issued_on}, "
        f"served {served} (SI 2001/2313 reg. 12)"
    )
    return _new(
        action=_A.PCN_ISSUED,
        state=_S.ISSUED,
        pcn_id=pcn_id,
        vrm=vrm,
        scheme_id=scheme_id,
        charge_day=charge_day,
        charge_payable_until=charge_payable_until,
        keeper_ref=keeper_ref,
        issued_on=issued_on,
        at=at,
        by=by,
        evidence_ref=evidence_ref,
        terms=terms,
        why=why,
    )


def issue_warning(
    *,
    pcn_id: str,
    vrm: str,
    scheme_id: str,
    charge_day: date,
    charge_payable_until: date,
    keeper_ref: str,
    issued_on: date,
    at: datetime,
    by: str,
    evidence_ref: str,
    terms: PenaltyTerms = LONDON_TERMS,
    reason: str = "scheme launch period: warning notice instead of a PCN",
) -> PCN:
    """A warning notice (launch period) instead of a PCN: no amount; final from the start."""
    return _new(
        action=_A.WARNING_ISSUED,
        state=_S.WARNING_ISSUED,
        pcn_id=pcn_id,
        vrm=vrm,
        scheme_id=scheme_id,
        charge_day=charge_day,
        charge_payable_until=charge_payable_until,
        keeper_ref=keeper_ref,
        issued_on=issued_on,
        at=at,
        by=by,
        evidence_ref=evidence_ref,
        terms=terms,
        why=reason,
    )


# --- Payment --------------------------------------------------------------------------------------


def record_payment(pcn: PCN, amount_pence: int, at: datetime, by: str) -> PCN:
    """Settle a live PCN with a payment received at ``at`` of at least the amount then due.

    Less than the amount due raises ``PenaltyError`` (no part payments). More settles the PCN
    and the event says by how much it was overpaid. A live representation or appeal ends.
    """
    action = _A.PAYMENT_RECEIVED
    current = _advance_to(pcn, action, at)
    if not isinstance(amount_pence, int) or isinstance(amount_pence, bool) or amount_pence <= 0:
        raise _refuse(pcn, action, f"a payment is a whole number of pence > 0: {amount_pence!r}")
    on = _day(at)
    due = _stage(current).amount_on(on)
    if amount_pence < due:
        raise _refuse(
            current,
            action,
            f"part payment refused: {due} pence due on {on}, {amount_pence} offered "
            "(a penalty charge is paid in full)",
        )
    why = f"paid {amount_pence} pence, the amount due on {on} in state {current.state}"
    if amount_pence > due:
        why += f"; overpaid by {amount_pence - due} pence (refundable)"
    if current.state in FROZEN_STATES:
        why += f"; payment ends the live {current.state.replace('_', ' ')}"
    return _apply(current, action, at=at, by=by, why=why, paid_pence=amount_pence)


# --- Representations ------------------------------------------------------------------------------


def make_representation(
    pcn: PCN, ground: RepresentationGround | str, statement: str, at: datetime, by: str
) -> PCN:
    """Record a representation on one of the six statutory grounds, received at ``at``.

    ``ground`` is a ``RepresentationGround``, its value, or the regulation's letter (``"d"``).

    Only against an issued PCN, within ``representation_days`` of service. The amount due that
    day is frozen until a decision.
    """
    action = _A.REPRESENTATION_RECEIVED
    try:
        chosen = REPRESENTATION_GROUNDS.get(ground) or RepresentationGround(ground)
    except ValueError:
        known = ", ".join(f"({k}) {g}" for k, g in REPRESENTATION_GROUNDS.items())
        raise _refuse(
            pcn, action, f"{ground!r} is not a statutory ground (reg. 13(3)): {known}"
        ) from None
    _require_aware(at)
    on = _day(at)
    last_day = pcn.served_on + _days(pcn.terms.representation_days)
    if pcn.state is _S.ISSUED and on > last_day:
        raise _refuse(
            pcn,
            action,
            f"representations must be made within {pcn.terms.representation_days} days of "
            f"service (served {pcn.served_on}, last day {last_day}); received {on}",
        )
    current = _advance_to(pcn, action, at)
    if current.state is not _S.ISSUED:
        raise _refuse(current, action, _RULES[action])
    frozen = _stage(current).amount_on(on)
    letter = _GROUND_LETTER[chosen]
    why = f"representation on ground ({letter}) {chosen}; amount frozen at {frozen} pence"
    if statement.strip():
        why += f"; statement: {statement.strip()}"
    return _apply(current, action, at=at, by=by, why=why, frozen_pence=frozen, ground=chosen)


def accept_representation(pcn: PCN, at: datetime, by: str, reason: str = "") -> PCN:
    """Notice of acceptance: the representation succeeds and the PCN is cancelled."""
    action = _A.REPRESENTATION_ACCEPTED
    current = _advance_to(pcn, action, at)
    ground = _live_ground(current)
    why = "notice of acceptance: PCN cancelled"
    if ground is not None:
        why += f" on ground ({_GROUND_LETTER[ground]}) {ground}"
    if reason.strip():
        why += f"; {reason.strip()}"
    return _apply(current, action, at=at, by=by, why=why)


def reject_representation(pcn: PCN, at: datetime, by: str, reason: str) -> PCN:
    """Notice of rejection, with its reason: the appeal window opens on its service.

    The discount is re-offered for ``rediscount_days`` after service if the representation was
    made within the discount period.
    """
    action = _A.REPRESENTATION_REJECTED
    _require_text(pcn, action, "the reason for rejecting", reason)
    current = _advance_to(pcn, action, at)
    if current.state is not _S.REPRESENTATION_RECEIVED:
        raise _refuse(current, action, _RULES[action])
    served = working_days_after(_day(at), current.terms.service_working_days)
    why = f"notice of rejection (served {served}): {reason.strip()}"
    return _apply(current, action, at=at, by=by, why=why)


def _live_ground(pcn: PCN) -> RepresentationGround | None:
    if pcn.state is not _S.REPRESENTATION_RECEIVED:
        return None
    return pcn.history[-1].ground


# --- Appeals --------------------------------------------------------------------------------------


def appeal(pcn: PCN, at: datetime, by: str, statement: str = "") -> PCN:
    """Appeal to the adjudicator against a notice of rejection, lodged at ``at``.

    Within ``appeal_days`` of service of the notice of rejection. The amount due that day is
    frozen until the appeal is decided or withdrawn.
    """
    action = _A.APPEAL_LODGED
    _require_aware(at)
    on = _day(at)
    if pcn.state is _S.REJECTED:
        appeal_until = _stage(pcn).appeal_until
        if appeal_until is not None and on > appeal_until:
            raise _refuse(
                pcn,
                action,
                f"an appeal must be lodged within {pcn.terms.appeal_days} days of service of "
                f"the notice of rejection (last day {appeal_until}); lodged {on}",
            )
    current = _advance_to(pcn, action, at)
    if current.state is not _S.REJECTED:
        raise _refuse(current, action, _RULES[action])
    frozen = _stage(current).amount_on(on)
    why = f"appeal to the adjudicator lodged; amount frozen at {frozen} pence"
    if statement.strip():
        why += f"; statement: {statement.strip()}"
    return _apply(current, action, at=at, by=by, why=why, frozen_pence=frozen)


def decide_appeal(pcn: PCN, allowed: bool, at: datetime, by: str, reason: str = "") -> PCN:
    """The adjudicator's decision: allowed (cancelled) or refused (full amount due, 28 days)."""
    action = _A.APPEAL_ALLOWED if allowed else _A.APPEAL_REFUSED
    current = _advance_to(pcn, action, at)
    if allowed:
        why = "appeal allowed by the adjudicator: PCN cancelled"
    else:
        served = working_days_after(_day(at), current.terms.service_working_days)
        why = (
            f"appeal refused by the adjudicator (decision served {served}): the penalty "
            f"charge is due within {current.terms.certificate_days} days"
        )
    if reason.strip():
        why += f"; {reason.strip()}"
    return _apply(current, action, at=at, by=by, why=why)


def withdraw_appeal(pcn: PCN, at: datetime, by: str, reason: str = "") -> PCN:
    """The appellant withdraws the appeal: the full amount is due for ``withdrawal_days``."""
    action = _A.APPEAL_WITHDRAWN
    current = _advance_to(pcn, action, at)
    why = (
        f"appeal withdrawn: the penalty charge is due within "
        f"{current.terms.withdrawal_days} days (SI 2001/2313 reg. 17(3))"
    )
    if reason.strip():
        why += f"; {reason.strip()}"
    return _apply(current, action, at=at, by=by, why=why)
