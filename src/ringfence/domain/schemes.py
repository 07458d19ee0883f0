"""Charging schemes as dated configuration: hours, tariffs, exemptions, discounts, penalties.

Pure: no clock, no environment; the only I/O is `load_scheme_book` reading TOML files (the
packaged ``ringfence/schemes/london/*.toml`` by default, or any directory: London is only the
default). Everything a scheme decides is data; this module has no branch naming a scheme, a
vehicle type or a registration kind.

The scheme file (one per scheme; ``ringfence/schemes/london/ulez.toml`` is the annotated example)
    Top level: ``scheme_id``, ``name``, ``timezone`` (charge days are calendar days there),
    ``calendar = {country, subdiv}`` (bank holidays from the ``holidays`` library; a bank holiday
    is a listed holiday falling Monday-Friday), ``[defaults]`` (any version field), and lists:

    - ``[[versions]]``: ``version_id``, ``zone_id``, ``effective_from``, ``effective_to``
      (half-open; omitted = open), ``hours`` (``[[hours]]`` with ``days`` among mon..sun and
      ``bank_holiday``, and ``windows = [["07:00", "18:00"]]``; ``24:00`` is the next midnight),
      ``closed`` (``from = "12-25"`` with ``through = "MM-DD"`` or
      ``through_bank_holiday_on_or_after = "MM-DD"``, inclusive, and a ``reason``), ``tariffs``,
      ``payment = {pay_ahead_days, pay_after_days}``, ``penalty`` (the field names of
      `ringfence.domain.penalties.PenaltyTerms`, the PCN module's terms; missing ones take its
      London defaults), ``warning_notice_days`` (first contraventions get a warning notice for
      that many days from ``effective_from``). A version's missing fields come from
      ``[defaults]``. Versions may not overlap; a day no version covers is "scheme not in force"
      (None).
    - ``[[standards]]``: the emission standard (see `ringfence.domain.compliance`).
    - ``[[vehicle_exemptions]]``: dated exemptions and grace periods that follow from the register
      (conditions ``vehicle_types``, ``tax_classes``, ``fuels``, ``first_registered_before``,
      ``wheelchair_accessible``, ``min_seats``; all given must hold; a missing fact never
      matches). ``effect`` is ``exempt`` or ``grace`` (exempt until ``effective_to``).
    - ``[[registration_effects]]``: what a registration ``kind`` does, dated: ``exempt``,
      ``grace``, ``discount`` (``percent``, optionally per ``vehicle_types``;
      ``max_vehicles_per_holder``), ``meets_standards`` (treated as compliant, e.g. non-UK
      vehicles registered with evidence), ``reimbursed`` (no effect on the charge).

    Unknown fields, wrong types, overlapping versions and tariffs naming a band no standard
    defines are refused with a `ConfigError` naming the file and the field.

Pricing (`price`): the first step that answers wins
    1. no charging window that day (closed, e.g. 25 December) -> ``not_applicable``,
       ``no_charge_day``;
    2. no tariff for the vehicle type -> ``not_applicable``, ``out_of_scope:vehicle_type``; a
       known gross weight outside every bound -> ``not_applicable``, ``out_of_scope:gross_weight``
       (the ULEZ/LEZ split: 3,500 kg vans, 5,000 kg minibuses);
    3. an emission-based scheme and a compliant vehicle -> ``not_applicable``,
       ``compliance:<rule of the decision>`` (e.g. ``compliance:diesel_car:euro_standard``);
    4. a vehicle exemption (TOML order) -> ``exempt``, ``vehicle:<exemption_id>``;
    5. a registration ``exempt``/``grace`` effect -> ``exempt``, ``registration:<kind>``;
    6. gross weight unknown where a bound decides -> ``review``, ``gross_weight_unknown``;
    7. emission-based: a ``meets_standards`` registration -> ``not_applicable``; compliance
       ``unknown`` -> ``review``, ``compliance:<rule>``;
    8. the first tariff in scope whose ``applies_when`` is ``always`` or the decision's band
       (none -> ``not_applicable``, ``no_tariff``); ``late_amount_pence`` when ``paid_late``;
    9. the largest discount among the vehicle's registrations (first in TOML order on a tie):
       ``amount * (10000 - basis_points) // 10000``, i.e. rounded down to the penny, in the
       payer's favour; rule ``registration:<kind>``. Otherwise rule ``tariff:<tariff_id>``.
       ``chargeable`` always means ``amount_pence > 0``; a 100% discount gives 0 and ``exempt``.

Registrations count only for their scheme and when ``valid_from <= charge_day <= valid_to``
(inclusive, as the interchange file; ``valid_to`` empty = open). Holder limits (Blue Badge: two
vehicles per badge) need all of a day's registrations at once, so they are applied before
pricing by `apply_holder_limits` (Python) or inside `registrations_sql` (SQL): per
(kind, holder_ref), the vehicles registered earliest (then by VRM) keep it. Registrations
without a ``holder_ref`` cannot be counted and are kept.

The SQL form, for the charge engine
    ``price_sql(rules, ...)`` is one SQL expression per (scheme, charge day) giving
    ``STRUCT(amount_pence BIGINT, status VARCHAR, rule VARCHAR)``; the day's rules are inlined as
    literals, so millions of rows cost one scan. Its inputs per row: the register's columns
    (alias ``vehicle``), a compliance struct from `compliance_sql`, a ``VARCHAR[]`` of the
    vehicle's registration kinds from `registrations_sql` (NULL when none), and ``paid_late``.
    ``tests/domain/test_schemes.py`` proves it equal to `price` through DuckDB on generated
    vehicles x days x registrations. Example, for the lead's tables ``register`` (keyed by
    ``vehicle_key``), ``registrations`` and ``evidence``, one scheme and day::

        rules = book.day_rules("ccz", date(2026, 3, 2))
        sql = f'''
        WITH regs AS ({registrations_sql(rules, "registrations")}),
             ev AS ({latest_evidence_sql("evidence", vrm_column="vehicle_key")}),
             assessed AS (
               SELECT v.*, r.kinds,
                      {compliance_sql("ccz", vehicle="v",
                                      evidence_euro_standard="ev.euro_standard")} AS c
               FROM sightings s
               JOIN register v USING (vehicle_key)
               LEFT JOIN ev ON ev.vrm = v.vehicle_key
               LEFT JOIN regs r USING (vehicle_key)
               WHERE s.scheme_id = 'ccz')
        SELECT vehicle_key, p.amount_pence, p.status, p.rule
        FROM (SELECT vehicle_key,
                     {price_sql(rules, vehicle="a", compliance="a.c", kinds="a.kinds")} AS p
              FROM assessed a)
        '''
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from ringfence.domain.compliance import (
    ComplianceDecision,
    ComplianceStatus,
    Standard,
    StandardLevel,
    VehicleFacts,
)
from ringfence.domain.penalties import PenaltyTerms
from ringfence.domain.toml_table import TomlTable
from ringfence.errors import ConfigError, NotFoundError

__all__ = [
    "ALWAYS",
    "DAY_NAMES",
    "Closure",
    "DayRules",
    "Pricing",
    "PricingStatus",
    "Registration",
    "RegistrationEffect",
    "Scheme",
    "SchemeBook",
    "SchemeVersion",
    "Tariff",
    "VehicleExemption",
    "apply_holder_limits",
    "load_scheme_book",
    "price",
    "price_sql",
    "registrations_sql",
]

ALWAYS = "always"
"""``Tariff.applies_when`` for a charge that does not depend on emissions (Congestion Charge)."""
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BANK_HOLIDAY = "bank_holiday"
VEHICLE_EFFECTS = frozenset({"exempt", "grace"})
REGISTRATION_EFFECTS = frozenset({"exempt", "grace", "discount", "meets_standards", "reimbursed"})
FULL_BASIS_POINTS = 10_000
PACKAGED = "ringfence.schemes.london"

_MONTH_DAY = re.compile(r"(\d\d)-(\d\d)")
_CLOCK = re.compile(r"(\d\d):(\d\d)")


class PricingStatus(StrEnum):
    """What `price` concluded for one vehicle, scheme and charge day."""

    CHARGEABLE = "chargeable"
    """A charge is due: ``amount_pence > 0``."""
    EXEMPT = "exempt"
    """It would be due, but an exemption, grace period or 100% discount applies."""
    NOT_APPLICABLE = "not_applicable"
    """Not charged: no charging hours, vehicle out of scope, or it meets the standard."""
    REVIEW = "review"
    """A person must decide: compliance or gross weight unknown."""


# --- Records --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tariff:
    """A daily charge for some vehicle types and gross weights (bounds inclusive, None = open)."""

    tariff_id: str
    vehicle_types: frozenset[str]
    min_gross_weight_kg: int | None
    max_gross_weight_kg: int | None
    applies_when: str
    """``always``, or the compliance band it charges (``non_compliant``, ``below_euro_vi``...)."""
    amount_pence: int
    late_amount_pence: int | None
    """Paid within the days after travel; None when the scheme has no late rate."""

    @property
    def has_weight_bounds(self) -> bool:
        return self.min_gross_weight_kg is not None or self.max_gross_weight_kg is not None

    def fits_weight(self, weight: int) -> bool:
        return (self.min_gross_weight_kg is None or weight >= self.min_gross_weight_kg) and (
            self.max_gross_weight_kg is None or weight <= self.max_gross_weight_kg
        )


@dataclass(frozen=True, slots=True)
class Closure:
    """Days with no charge: from ``start`` (month, day) through an inclusive end, every year."""

    start: tuple[int, int]
    through: tuple[int, int] | None
    through_bank_holiday_on_or_after: tuple[int, int] | None
    """The end is the first bank holiday on or after this month-day (after ``start``)."""
    reason: str


@dataclass(frozen=True, slots=True)
class VehicleExemption:
    """An exemption or grace period that follows from the register, in force on dated days."""

    exemption_id: str
    effect: str
    """``exempt`` or ``grace``."""
    effective_from: date
    effective_to: date | None
    description: str
    vehicle_types: frozenset[str] | None = None
    tax_classes: frozenset[str] | None = None
    fuels: frozenset[str] | None = None
    first_registered_before: date | None = None
    wheelchair_accessible: bool | None = None
    min_seats: int | None = None

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    def matches(self, vehicle: VehicleFacts) -> bool:
        """All the conditions given hold; a missing fact never matches."""
        if self.vehicle_types is not None and vehicle.vehicle_type not in self.vehicle_types:
            return False
        if self.tax_classes is not None and vehicle.tax_class not in self.tax_classes:
            return False
        if self.fuels is not None and vehicle.fuel not in self.fuels:
            return False
        if self.first_registered_before is not None and not (
            vehicle.first_registered is not None
            and vehicle.first_registered < self.first_registered_before
        ):
            return False
        if (
            self.wheelchair_accessible is not None
            and vehicle.wheelchair_accessible is not self.wheelchair_accessible
        ):
            return False
        return self.min_seats is None or (
            vehicle.seats is not None and vehicle.seats >= self.min_seats
        )


@dataclass(frozen=True, slots=True)
class RegistrationEffect:
    """What a registration of ``kind`` does for this scheme, in force on dated days."""

    kind: str
    effect: str
    """``exempt``, ``grace``, ``discount``, ``meets_standards`` or ``reimbursed``."""
    effective_from: date
    effective_to: date | None
    description: str
    basis_points: int = 0
    """Discount in hundredths of a percent (90% = 9000); 0 unless ``discount``."""
    vehicle_types: frozenset[str] | None = None
    max_vehicles_per_holder: int | None = None

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    def applies_to(self, vehicle: VehicleFacts) -> bool:
        return self.vehicle_types is None or vehicle.vehicle_type in self.vehicle_types


@dataclass(frozen=True, slots=True)
class Registration:
    """A vehicle registered with the scheme operator for a discount, exemption or grace period."""

    vrm: str
    kind: str
    """resident, blue_badge, electric, nine_seats, showman, nhs, wav_grace, disabled_grace,
    military, non_uk... Its effect per scheme is data (``registration_effects``)."""
    scheme: str
    valid_from: date
    valid_to: date | None
    """Inclusive, as in the interchange file; None = open-ended."""
    holder_ref: str | None = None
    """Who holds it (e.g. the Blue Badge number): needed to count vehicles per holder."""

    def counts_on(self, scheme_id: str, day: date) -> bool:
        return (
            self.scheme == scheme_id
            and self.valid_from <= day
            and (self.valid_to is None or day <= self.valid_to)
        )


@dataclass(frozen=True, slots=True)
class SchemeVersion:
    """One dated version of a scheme: its zone, hours, tariffs and terms."""

    scheme_id: str
    version_id: str
    zone_id: str
    effective_from: date
    effective_to: date | None
    hours: Mapping[str, tuple[tuple[int, int], ...]]
    """Day name (mon..sun, bank_holiday) -> windows in minutes after local midnight (1440 max)."""
    closures: tuple[Closure, ...]
    tariffs: tuple[Tariff, ...]
    pay_ahead_days: int
    pay_after_days: int
    penalty: PenaltyTerms
    warning_notice_days: int
    """Days from ``effective_from`` during which a first contravention gets a warning notice."""

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


@dataclass(frozen=True, slots=True)
class Scheme:
    """A scheme: its versions and the records that outlive versions (standards, exemptions)."""

    scheme_id: str
    name: str
    timezone: str
    country: str
    subdiv: str | None
    versions: tuple[SchemeVersion, ...]
    standards: tuple[Standard, ...]
    vehicle_exemptions: tuple[VehicleExemption, ...]
    registration_effects: tuple[RegistrationEffect, ...]
    source: str
    """The file it was read from."""


@dataclass(frozen=True, slots=True)
class DayRules:
    """Everything needed to price one scheme on one charge day."""

    scheme_id: str
    version_id: str
    charge_day: date
    windows: tuple[tuple[datetime, datetime], ...]
    """UTC-aware, half-open ``[start, end)``; empty: no charge that day."""
    tariffs: tuple[Tariff, ...]
    pay_from: date
    """The earliest day the charge can be paid in advance."""
    pay_by: date
    """The last day it can be paid (by midnight, local time)."""
    penalty: PenaltyTerms
    in_warning_period: bool
    zone_id: str
    no_charge_reason: str | None = None
    exemptions: tuple[VehicleExemption, ...] = ()
    """The vehicle exemptions in force that day."""
    registration_effects: tuple[RegistrationEffect, ...] = ()
    """The registration effects in force that day."""


@dataclass(frozen=True, slots=True)
class Pricing:
    """What one vehicle owes one scheme for one charge day, with the rule that decided."""

    amount_pence: int
    status: PricingStatus
    rule: str
    reason: str


# --- The book ------------------------------------------------------------------------------------


@cache
def _bank_holidays(country: str, subdiv: str | None) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdiv)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True)
class SchemeBook:
    """Every scheme read from one directory, by id."""

    schemes: Mapping[str, Scheme] = field(default_factory=dict)

    def scheme_ids(self) -> list[str]:
        return sorted(self.schemes)

    def scheme(self, scheme_id: str) -> Scheme:
        try:
            return self.schemes[scheme_id]
        except KeyError:
            known = ", ".join(self.scheme_ids()) or "none"
            raise NotFoundError(f"no scheme {scheme_id!r} (known: {known})") from None

    def standards(self, scheme_id: str) -> tuple[Standard, ...]:
        return self.scheme(scheme_id).standards

    def version_on(self, scheme_id: str, day: date) -> SchemeVersion | None:
        """The version in force on ``day``; None when the scheme is not in force that day."""
        return next((v for v in self.scheme(scheme_id).versions if v.in_force(day)), None)

    def is_bank_holiday(self, scheme_id: str, day: date) -> bool:
        """A holiday of the scheme's calendar falling Monday-Friday."""
        scheme = self.scheme(scheme_id)
        return day.weekday() < 5 and day in _bank_holidays(scheme.country, scheme.subdiv)

    def _closure_reason(self, scheme_id: str, version: SchemeVersion, day: date) -> str | None:
        for closure in version.closures:
            for year in (day.year - 1, day.year):
                start = date(year, *closure.start)
                if day < start:
                    continue
                if closure.through is not None:
                    end = date(year, *closure.through)
                    if end < start:
                        end = date(year + 1, *closure.through)
                else:
                    assert closure.through_bank_holiday_on_or_after is not None
                    anchor = date(year, *closure.through_bank_holiday_on_or_after)
                    if anchor < start:
                        anchor = date(year + 1, *closure.through_bank_holiday_on_or_after)
                    end = self._next_bank_holiday(scheme_id, anchor)
                if day <= end:
                    return closure.reason
        return None

    def _next_bank_holiday(self, scheme_id: str, anchor: date) -> date:
        for offset in range(366):
            if self.is_bank_holiday(scheme_id, candidate := anchor + timedelta(days=offset)):
                return candidate
        raise ConfigError(  # pragma: no cover - every calendar has a holiday a year
            f"{self.scheme(scheme_id).source}: no bank holiday within a year of {anchor}"
        )

    def day_rules(self, scheme_id: str, charge_day: date) -> DayRules | None:
        """The rules for ``charge_day``; None when the scheme is not in force that day."""
        version = self.version_on(scheme_id, charge_day)
        if version is None:
            return None
        scheme = self.scheme(scheme_id)
        reason = self._closure_reason(scheme_id, version, charge_day)
        windows: tuple[tuple[datetime, datetime], ...] = ()
        if reason is None:
            day_name = DAY_NAMES[charge_day.weekday()]
            if BANK_HOLIDAY in version.hours and self.is_bank_holiday(scheme_id, charge_day):
                day_name = BANK_HOLIDAY
            tz = _zone(scheme.timezone)
            windows = tuple(
                (_instant(charge_day, start, tz), _instant(charge_day, end, tz))
                for start, end in version.hours[day_name]
            )
            if not windows:
                reason = f"no charging hours on a {day_name}"
        warning_ends = version.effective_from + timedelta(days=version.warning_notice_days)
        return DayRules(
            scheme_id=scheme_id,
            version_id=version.version_id,
            charge_day=charge_day,
            windows=windows,
            tariffs=version.tariffs,
            pay_from=charge_day - timedelta(days=version.pay_ahead_days),
            pay_by=charge_day + timedelta(days=version.pay_after_days),
            penalty=version.penalty,
            in_warning_period=charge_day < warning_ends,
            zone_id=version.zone_id,
            no_charge_reason=reason,
            exemptions=tuple(e for e in scheme.vehicle_exemptions if e.in_force(charge_day)),
            registration_effects=tuple(
                e for e in scheme.registration_effects if e.in_force(charge_day)
            ),
        )


def _instant(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """Local ``day`` + ``minutes`` (1440 = the next midnight) as a UTC instant.

    Times falling in a clock change's gap or overlap take the earlier offset (``fold=0``).
    """
    local = datetime.combine(day + timedelta(days=minutes // 1440), time(), tzinfo=tz)
    local = local.replace(hour=(minutes % 1440) // 60, minute=minutes % 60)
    return local.astimezone(UTC)


# --- Pricing --------------------------------------------------------------------------------------


def apply_holder_limits(
    registrations: Iterable[Registration], rules: DayRules
) -> list[Registration]:
    """The registrations that count on ``rules.charge_day``, holder limits applied.

    Keeps registrations for ``rules.scheme_id`` valid that day; for a kind with
    ``max_vehicles_per_holder``, only the first N vehicles per (kind, holder_ref), ordered by
    their earliest ``valid_from`` then VRM, keep it. Without ``holder_ref`` nothing is counted.
    """
    valid = [r for r in registrations if r.counts_on(rules.scheme_id, rules.charge_day)]
    limits: dict[str, int] = {}
    for effect in rules.registration_effects:
        if effect.max_vehicles_per_holder is not None:
            limits[effect.kind] = min(
                limits.get(effect.kind, effect.max_vehicles_per_holder),
                effect.max_vehicles_per_holder,
            )
    since: dict[tuple[str, str], dict[str, date]] = {}
    for r in valid:
        if r.kind in limits and r.holder_ref is not None:
            per_vrm = since.setdefault((r.kind, r.holder_ref), {})
            per_vrm[r.vrm] = min(per_vrm.get(r.vrm, r.valid_from), r.valid_from)
    allowed = {
        (kind, holder, vrm)
        for (kind, holder), per_vrm in since.items()
        for vrm, _ in sorted(per_vrm.items(), key=lambda item: (item[1], item[0]))[: limits[kind]]
    }
    return [
        r
        for r in valid
        if not (
            r.kind in limits
            and r.holder_ref is not None
            and (r.kind, r.holder_ref, r.vrm) not in allowed
        )
    ]


def _last_day(effective_to: date | None) -> str:
    if effective_to is None:
        return ""
    return f" (last day {(effective_to - timedelta(days=1)).isoformat()})"


def price(
    rules: DayRules,
    vehicle: VehicleFacts,
    compliance: ComplianceDecision,
    registrations: Sequence[Registration],
    *,
    paid_late: bool = False,
) -> Pricing:
    """What ``vehicle`` owes under ``rules``; the steps are in the module docstring.

    ``compliance`` is `assess` for this scheme (ignored where every tariff is ``always``);
    ``registrations`` are the vehicle's, holder limits already applied (`apply_holder_limits`).
    """
    na, exempt, review = (
        PricingStatus.NOT_APPLICABLE,
        PricingStatus.EXEMPT,
        PricingStatus.REVIEW,
    )
    scheme, what = rules.scheme_id, vehicle.vehicle_type
    if not rules.windows:
        return Pricing(0, na, "no_charge_day", rules.no_charge_reason or "no charging hours")
    by_type = [t for t in rules.tariffs if vehicle.vehicle_type in t.vehicle_types]
    if not by_type:
        return Pricing(0, na, "out_of_scope:vehicle_type", f"{scheme} does not charge a {what}")
    weight = vehicle.gross_weight_kg
    if weight is None:
        in_scope, weight_unknown = by_type, any(t.has_weight_bounds for t in by_type)
    else:
        in_scope, weight_unknown = [t for t in by_type if t.fits_weight(weight)], False
        if not in_scope:
            return Pricing(
                0,
                na,
                "out_of_scope:gross_weight",
                f"{scheme} does not charge a {what} of {weight} kg gross",
            )
    emission_based = any(t.applies_when != ALWAYS for t in in_scope)
    if emission_based and compliance.status is ComplianceStatus.COMPLIANT:
        return Pricing(0, na, f"compliance:{compliance.rule}", compliance.reason)

    for exemption in rules.exemptions:
        if exemption.matches(vehicle):
            kind = "grace period" if exemption.effect == "grace" else "exempt"
            return Pricing(
                0,
                exempt,
                f"vehicle:{exemption.exemption_id}",
                f"{kind}: {exemption.description}{_last_day(exemption.effective_to)}",
            )
    kinds = {
        r.kind
        for r in registrations
        if r.vrm == vehicle.vrm and r.counts_on(scheme, rules.charge_day)
    }
    effects = [e for e in rules.registration_effects if e.kind in kinds and e.applies_to(vehicle)]
    for effect in effects:
        if effect.effect in VEHICLE_EFFECTS:
            kind = "grace period" if effect.effect == "grace" else "exempt"
            return Pricing(
                0,
                exempt,
                f"registration:{effect.kind}",
                f"registered {kind}: {effect.description}{_last_day(effect.effective_to)}",
            )
    if weight_unknown:
        return Pricing(
            0,
            review,
            "gross_weight_unknown",
            f"gross weight of the {what} unknown: it decides whether {scheme} applies",
        )
    if emission_based:
        for effect in effects:
            if effect.effect == "meets_standards":
                return Pricing(0, na, f"registration:{effect.kind}", effect.description)
        if compliance.status is ComplianceStatus.UNKNOWN:
            return Pricing(0, review, f"compliance:{compliance.rule}", compliance.reason)

    tariff = next(
        (t for t in in_scope if t.applies_when in (ALWAYS, compliance.band)),
        None,
    )
    if tariff is None:
        return Pricing(0, na, "no_tariff", f"no {scheme} tariff for a {what} in this band")
    late = paid_late and tariff.late_amount_pence is not None
    base = tariff.late_amount_pence if late and tariff.late_amount_pence else tariff.amount_pence
    when = "paid after the day of travel" if late else "daily charge"
    best: RegistrationEffect | None = None
    for effect in effects:
        if effect.effect == "discount" and (
            best is None or effect.basis_points > best.basis_points
        ):
            best = effect
    if best is None:
        return Pricing(
            base,
            PricingStatus.CHARGEABLE,
            f"tariff:{tariff.tariff_id}",
            f"{scheme} {when} for a {what}: {_pounds(base)}",
        )
    amount = base * (FULL_BASIS_POINTS - best.basis_points) // FULL_BASIS_POINTS
    status = PricingStatus.CHARGEABLE if amount > 0 else exempt
    return Pricing(
        amount,
        status,
        f"registration:{best.kind}",
        f"{scheme} {when} {_pounds(base)} less {best.description} "
        f"({best.basis_points / 100:g}%): {_pounds(amount)}",
    )


def pounds(pence: int) -> str:
    """An amount as the interchange files write it: pounds with two decimals (`12.50`)."""
    return f"{pence // 100}.{pence % 100:02d}"


def _pounds(pence: int) -> str:
    return f"GBP {pounds(pence)}"


# --- SQL ------------------------------------------------------------------------------------------


def _sql_list(values: Iterable[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in sorted(values)) + ")"


def _any(conditions: Iterable[str]) -> str:
    parts = list(dict.fromkeys(conditions))  # without repeats, in order
    return f"coalesce({' OR '.join(f'({c})' for c in parts)}, FALSE)" if parts else "FALSE"


def _out(amount: str, status: str, rule: str) -> str:
    return f"{{'amount_pence': CAST({amount} AS BIGINT), 'status': {status}, 'rule': {rule}}}"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _exemption_sql(e: VehicleExemption, v: str) -> str:
    parts = []
    if e.vehicle_types is not None:
        parts.append(f"{v}.vehicle_type IN {_sql_list(e.vehicle_types)}")
    if e.tax_classes is not None:
        parts.append(f"{v}.tax_class IN {_sql_list(e.tax_classes)}")
    if e.fuels is not None:
        parts.append(f"{v}.fuel IN {_sql_list(e.fuels)}")
    if e.first_registered_before is not None:
        parts.append(f"{v}.first_registered < DATE '{e.first_registered_before.isoformat()}'")
    if e.wheelchair_accessible is not None:
        parts.append(f"{v}.wheelchair_accessible = {str(e.wheelchair_accessible).upper()}")
    if e.min_seats is not None:
        parts.append(f"{v}.seats >= {e.min_seats}")
    return f"coalesce({' AND '.join(parts) or 'TRUE'}, FALSE)"


def price_sql(
    rules: DayRules,
    *,
    vehicle: str = "v",
    compliance: str = "c",
    kinds: str = "kinds",
    paid_late: str = "FALSE",
) -> str:
    """A SQL expression ``STRUCT(amount_pence, status, rule)`` equal to `price` for each row.

    ``vehicle``: alias of a relation with the register's columns. ``compliance``: an expression
    for `compliance_sql`'s struct for this scheme (not read where every tariff is ``always``).
    ``kinds``: a ``VARCHAR[]`` of the vehicle's registration kinds from `registrations_sql`
    (NULL = none). ``paid_late``: a boolean expression.
    """
    v = vehicle
    if not rules.windows:
        return _out("0", "'not_applicable'", "'no_charge_day'")
    status_of = f"coalesce(struct_extract({compliance}, 'status'), '')"
    rule_of = f"('compliance:' || struct_extract({compliance}, 'rule'))"
    band_of = f"struct_extract({compliance}, 'band')"
    weight = f"{v}.gross_weight_kg"
    kind_list = f"coalesce({kinds}, []::VARCHAR[])"

    def of_type(t: Tariff) -> str:
        return f"{v}.vehicle_type IN {_sql_list(t.vehicle_types)}"

    def fits(t: Tariff) -> str:
        bounds = []
        if t.min_gross_weight_kg is not None:
            bounds.append(f"{weight} >= {t.min_gross_weight_kg}")
        if t.max_gross_weight_kg is not None:
            bounds.append(f"{weight} <= {t.max_gross_weight_kg}")
        return " AND ".join(bounds) or "TRUE"

    def in_scope(t: Tariff) -> str:
        if not t.has_weight_bounds:
            return of_type(t)
        return f"{of_type(t)} AND ({weight} IS NULL OR ({fits(t)}))"

    def matched(t: Tariff) -> str:
        band = "" if t.applies_when == ALWAYS else f" AND {band_of} = '{t.applies_when}'"
        return f"coalesce({in_scope(t)}{band}, FALSE)"

    def has(effect: RegistrationEffect) -> str:
        condition = f"list_contains({kind_list}, '{effect.kind}')"
        if effect.vehicle_types is not None:
            condition += f" AND {v}.vehicle_type IN {_sql_list(effect.vehicle_types)}"
        return f"coalesce({condition}, FALSE)"

    tariffs = rules.tariffs
    emission_based = _any(in_scope(t) for t in tariffs if t.applies_when != ALWAYS)
    zero, na = "0", "'not_applicable'"
    whens = [
        (f"NOT {_any(of_type(t) for t in tariffs)}", _out(zero, na, "'out_of_scope:vehicle_type'")),
        (
            f"{weight} IS NOT NULL AND NOT {_any(f'{of_type(t)} AND {fits(t)}' for t in tariffs)}",
            _out(zero, na, "'out_of_scope:gross_weight'"),
        ),
    ]
    if emission_based != "FALSE":
        whens.append((f"{emission_based} AND {status_of} = 'compliant'", _out(zero, na, rule_of)))
    for exemption in rules.exemptions:
        rule = _lit(f"vehicle:{exemption.exemption_id}")
        whens.append((_exemption_sql(exemption, v), _out(zero, "'exempt'", rule)))
    for effect in rules.registration_effects:
        if effect.effect in VEHICLE_EFFECTS:
            rule = _lit(f"registration:{effect.kind}")
            whens.append((has(effect), _out(zero, "'exempt'", rule)))
    bounded = [of_type(t) for t in tariffs if t.has_weight_bounds]
    if bounded:
        whens.append(
            (
                f"{weight} IS NULL AND {_any(bounded)}",
                _out(zero, "'review'", "'gross_weight_unknown'"),
            )
        )
    if emission_based != "FALSE":
        for effect in rules.registration_effects:
            if effect.effect == "meets_standards":
                rule = _lit(f"registration:{effect.kind}")
                whens.append((f"{emission_based} AND {has(effect)}", _out(zero, na, rule)))
        whens.append(
            (f"{emission_based} AND {status_of} = 'unknown'", _out(zero, "'review'", rule_of))
        )
    whens.append((f"NOT {_any(matched(t) for t in tariffs)}", _out(zero, na, "'no_tariff'")))

    def amount(t: Tariff) -> str:
        if t.late_amount_pence is None:
            return str(t.amount_pence)
        return f"(CASE WHEN {paid_late} THEN {t.late_amount_pence} ELSE {t.amount_pence} END)"

    base = "(CASE " + " ".join(f"WHEN {matched(t)} THEN {amount(t)}" for t in tariffs) + " END)"
    tariff_rule = (
        "(CASE "
        + " ".join(f"WHEN {matched(t)} THEN {_lit(f'tariff:{t.tariff_id}')}" for t in tariffs)
        + " END)"
    )
    discounts = sorted(
        (e for e in rules.registration_effects if e.effect == "discount"),
        key=lambda e: -e.basis_points,  # sorted() is stable: TOML order breaks ties
    )
    for effect in discounts:
        keep = FULL_BASIS_POINTS - effect.basis_points
        after = f"(CAST({base} AS BIGINT) * {keep}) // {FULL_BASIS_POINTS}"
        status = f"(CASE WHEN {after} > 0 THEN 'chargeable' ELSE 'exempt' END)"
        whens.append((has(effect), _out(after, status, _lit(f"registration:{effect.kind}"))))
    body = " ".join(f"WHEN {condition} THEN {result}" for condition, result in whens)
    otherwise = _out(base, "'chargeable'", tariff_rule)
    return f"(CASE {body} ELSE {otherwise} END)"


def registrations_sql(
    rules: DayRules,
    table: str = "registrations",
    *,
    vrm_column: str = "vehicle_key",
    scheme_column: str = "scheme_id",
) -> str:
    """A query ``(<vrm_column>, kinds VARCHAR[])``: each vehicle's registrations that count.

    Same as `apply_holder_limits`: for ``rules.scheme_id``, valid on the charge day
    (``valid_to`` NULL = open), holder limits applied. ``table`` has the columns
    ``<vrm_column>, kind, <scheme_column>, valid_from, valid_to, holder_ref`` (the engine's
    ``registrations`` table by default).
    """
    day = f"DATE '{rules.charge_day.isoformat()}'"
    limits: dict[str, int] = {}
    for effect in rules.registration_effects:
        if effect.max_vehicles_per_holder is not None:
            limits[effect.kind] = min(
                limits.get(effect.kind, effect.max_vehicles_per_holder),
                effect.max_vehicles_per_holder,
            )
    over = _any(
        f"kind = '{kind}' AND holder_ref IS NOT NULL AND holder_rank > {limit}"
        for kind, limit in sorted(limits.items())
    )
    return (
        f"SELECT {vrm_column}, list(DISTINCT kind) AS kinds FROM ("
        f"SELECT *, row_number() OVER (PARTITION BY kind, holder_ref ORDER BY since, "
        f"{vrm_column}) AS holder_rank FROM ("
        f"SELECT {vrm_column}, kind, holder_ref, min(valid_from) AS since FROM {table} "
        f"WHERE {scheme_column} = {_lit(rules.scheme_id)} AND valid_from <= {day} "
        f"AND (valid_to IS NULL OR valid_to >= {day}) "
        f"GROUP BY {vrm_column}, kind, holder_ref)) "
        f"WHERE NOT {over} GROUP BY {vrm_column}"
    )


# --- Loading --------------------------------------------------------------------------------------


def load_scheme_book(directory: Path | None = None) -> SchemeBook:
    """Read every ``*.toml`` scheme file in ``directory`` (None: the packaged London schemes).

    Raises `ConfigError` naming the file and the field on anything unusable.
    """
    sources: list[tuple[str, bytes]] = []
    if directory is None:
        root = resources.files(PACKAGED)
        for item in sorted(root.iterdir(), key=lambda i: i.name):
            if item.name.endswith(".toml"):
                sources.append((f"{PACKAGED.replace('.', '/')}/{item.name}", item.read_bytes()))
    else:
        if not directory.is_dir():
            raise ConfigError(f"{directory}: not a directory of scheme files")
        for path in sorted(directory.glob("*.toml")):
            try:
                sources.append((str(path), path.read_bytes()))
            except OSError as exc:
                raise ConfigError(f"{path}: cannot be read: {exc}") from exc
    if not sources:
        raise ConfigError(f"{directory or PACKAGED}: no *.toml scheme files")
    schemes: dict[str, Scheme] = {}
    for name, data in sources:
        try:
            raw = tomllib.loads(data.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{name}: not valid TOML: {exc}") from exc
        scheme = _parse_scheme(raw, name)
        if scheme.scheme_id in schemes:
            other = schemes[scheme.scheme_id].source
            raise ConfigError(f"{name}: scheme_id {scheme.scheme_id!r} is also defined in {other}")
        schemes[scheme.scheme_id] = scheme
    return SchemeBook(MappingProxyType(schemes))


def _month_day(f: TomlTable, key: str) -> tuple[int, int] | None:
    value = f.get(key, str, 'a month-day ("MM-DD")', None)
    if value is None:
        return None
    match = _MONTH_DAY.fullmatch(value)
    try:
        if match is None:
            raise ValueError
        date(2001, int(match[1]), int(match[2]))  # a non-leap year: 02-29 is refused
    except ValueError:
        raise f.fail(key, f'expected a month-day ("MM-DD", not 02-29), got {value!r}') from None
    return int(match[1]), int(match[2])


def _clock(f: TomlTable, key: str, value: Any) -> int:
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    minutes = int(match[1]) * 60 + int(match[2]) if match else -1
    if match is None or int(match[2]) >= 60 or not 0 <= minutes <= 1440:
        raise f.fail(key, f'expected times "HH:MM" from 00:00 to 24:00, got {value!r}')
    return minutes


def _dated(f: TomlTable) -> tuple[date, date | None]:
    start, end = f.day("effective_from"), f.day("effective_to", None)
    if end is not None and end <= start:
        raise f.fail("effective_to", f"must be after effective_from ({start}), got {end}")
    return start, end


def _parse_hours(f: TomlTable, key: str) -> dict[str, tuple[tuple[int, int], ...]]:
    hours: dict[str, tuple[tuple[int, int], ...]] = {}
    for entry in f.tables(key):
        days = entry.get("days", list, "a list of day names")
        windows_raw = entry.get("windows", list, 'a list of ["HH:MM", "HH:MM"] pairs')
        windows: list[tuple[int, int]] = []
        for pair in windows_raw:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise entry.fail("windows", f'expected ["HH:MM", "HH:MM"] pairs, got {pair!r}')
            start, end = _clock(entry, "windows", pair[0]), _clock(entry, "windows", pair[1])
            if start >= end or (windows and start < windows[-1][1]):
                raise entry.fail("windows", "windows must be increasing and not overlap")
            windows.append((start, end))
        for name in days:
            if name not in (*DAY_NAMES, BANK_HOLIDAY):
                raise entry.fail(
                    "days", f"unknown day {name!r}: use {', '.join(DAY_NAMES)}, {BANK_HOLIDAY}"
                )
            if name in hours:
                raise entry.fail("days", f"{name} has hours twice")
            hours[name] = tuple(windows)
        entry.done()
    if missing := [d for d in DAY_NAMES if d not in hours]:
        raise f.fail(key, f"no hours for {', '.join(missing)}")
    return hours


def _parse_closures(f: TomlTable, key: str) -> tuple[Closure, ...]:
    closures = []
    for entry in f.tables(key, []):
        start = _month_day(entry, "from")
        if start is None:
            raise entry.fail("from", "missing")
        through = _month_day(entry, "through")
        holiday = _month_day(entry, "through_bank_holiday_on_or_after")
        if (through is None) == (holiday is None):
            raise entry.fail(
                "through", "give exactly one of through, through_bank_holiday_on_or_after"
            )
        closures.append(Closure(start, through, holiday, entry.text("reason")))
        entry.done()
    return tuple(closures)


def _parse_tariffs(f: TomlTable, key: str, bands: set[str]) -> tuple[Tariff, ...]:
    tariffs = []
    for entry in f.tables(key):
        applies_when = entry.ident("applies_when")
        if applies_when != ALWAYS and applies_when not in bands:
            raise entry.fail(
                "applies_when",
                f"{applies_when!r} is neither {ALWAYS!r} nor a band of the scheme's standards "
                f"({', '.join(sorted(bands)) or 'none'})",
            )
        low = entry.whole("min_gross_weight_kg", None)
        high = entry.whole("max_gross_weight_kg", None)
        if low is not None and high is not None and low > high:
            raise entry.fail("max_gross_weight_kg", f"is below min_gross_weight_kg ({low})")
        tariffs.append(
            Tariff(
                tariff_id=entry.ident("tariff_id"),
                vehicle_types=entry.idents("vehicle_types"),
                min_gross_weight_kg=low,
                max_gross_weight_kg=high,
                applies_when=applies_when,
                amount_pence=entry.whole("amount_pence", minimum=1),
                late_amount_pence=entry.whole("late_amount_pence", None, minimum=1),
            )
        )
        entry.done()
    if not tariffs:
        raise f.fail(key, "a version needs at least one tariff")
    return tuple(tariffs)


def _parse_penalty(f: TomlTable) -> PenaltyTerms:
    """`ringfence.domain.penalties.PenaltyTerms` from its field names; missing ones default."""
    names = {spec.name for spec in dataclasses.fields(PenaltyTerms)}
    values = {name: f.whole(name) for name in sorted(names) if name in f.data}
    f.done()
    try:
        return PenaltyTerms(**values)
    except ConfigError as exc:
        raise ConfigError(f"{f.source}: {f.where}: {exc}") from None


def _parse_version(
    raw: Any, defaults: dict[str, Any], source: str, where: str, scheme_id: str, bands: set[str]
) -> SchemeVersion:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: {where}: expected a table")
    origins = {k: "defaults" for k in defaults} | {k: where for k in raw}
    f = TomlTable({**defaults, **raw}, source, where, origins)
    start, end = _dated(f)
    payment = f.table("payment")
    pay_ahead, pay_after = payment.whole("pay_ahead_days"), payment.whole("pay_after_days")
    payment.done()
    version = SchemeVersion(
        scheme_id=scheme_id,
        version_id=f.ident("version_id"),
        zone_id=f.ident("zone_id"),
        effective_from=start,
        effective_to=end,
        hours=MappingProxyType(_parse_hours(f, "hours")),
        closures=_parse_closures(f, "closed"),
        tariffs=_parse_tariffs(f, "tariffs", bands),
        pay_ahead_days=pay_ahead,
        pay_after_days=pay_after,
        penalty=_parse_penalty(f.table("penalty")),
        warning_notice_days=f.whole("warning_notice_days"),
    )
    f.done()
    return version


def _parse_standards(f: TomlTable) -> tuple[Standard, ...]:
    standards = []
    for entry in f.tables("standards"):
        levels = []
        for level in entry.tables("levels"):
            levels.append(
                StandardLevel(
                    band=level.ident("band"),
                    min_euro=level.whole("min_euro", minimum=1),
                    registered_from=level.day("registered_from"),
                )
            )
            level.done()
        try:
            standard = Standard(
                standard_id=entry.ident("standard_id"),
                vehicle_types=entry.idents("vehicle_types", None),
                fuels=entry.idents("fuels", None),
                levels=tuple(levels),
                description=entry.text("description"),
            )
        except ValueError as exc:
            raise entry.fail("levels", str(exc)) from None
        entry.done()
        standards.append(standard)
    return tuple(standards)


def _parse_exemptions(f: TomlTable) -> tuple[VehicleExemption, ...]:
    exemptions = []
    for entry in f.tables("vehicle_exemptions", []):
        effect = entry.ident("effect")
        if effect not in VEHICLE_EFFECTS:
            raise entry.fail("effect", f"expected one of {sorted(VEHICLE_EFFECTS)}, got {effect!r}")
        start, end = _dated(entry)
        if effect == "grace" and end is None:
            raise entry.fail("effective_to", "a grace period needs an end")
        exemption = VehicleExemption(
            exemption_id=entry.ident("exemption_id"),
            effect=effect,
            effective_from=start,
            effective_to=end,
            description=entry.text("description"),
            vehicle_types=entry.idents("vehicle_types", None),
            tax_classes=entry.idents("tax_classes", None),
            fuels=entry.idents("fuels", None),
            first_registered_before=entry.day("first_registered_before", None),
            wheelchair_accessible=entry.flag("wheelchair_accessible", None),
            min_seats=entry.whole("min_seats", None),
        )
        entry.done()
        exemptions.append(exemption)
    return tuple(exemptions)


def _basis_points(f: TomlTable, key: str) -> int:
    value = f.get(key, (int, float), "a percentage", None)
    if value is None:
        return 0
    try:
        points = Decimal(str(value)) * 100
    except InvalidOperation:  # pragma: no cover - TOML numbers always convert
        raise f.fail(key, f"expected a percentage, got {value!r}") from None
    if points != points.to_integral_value() or not 0 < points <= FULL_BASIS_POINTS:
        raise f.fail(key, f"expected a percentage above 0, at most 100, in 0.01 steps: {value!r}")
    return int(points)


def _parse_effects(f: TomlTable) -> tuple[RegistrationEffect, ...]:
    effects = []
    for entry in f.tables("registration_effects", []):
        effect = entry.ident("effect")
        if effect not in REGISTRATION_EFFECTS:
            raise entry.fail(
                "effect", f"expected one of {sorted(REGISTRATION_EFFECTS)}, got {effect!r}"
            )
        start, end = _dated(entry)
        points = _basis_points(entry, "percent")
        if (effect == "discount") != (points > 0):
            raise entry.fail("percent", "a discount needs a percent; other effects take none")
        if effect == "grace" and end is None:
            raise entry.fail("effective_to", "a grace period needs an end")
        record = RegistrationEffect(
            kind=entry.ident("kind"),
            effect=effect,
            effective_from=start,
            effective_to=end,
            description=entry.text("description"),
            basis_points=points,
            vehicle_types=entry.idents("vehicle_types", None),
            max_vehicles_per_holder=entry.whole("max_vehicles_per_holder", None, minimum=1),
        )
        entry.done()
        effects.append(record)
    return tuple(effects)


def _parse_scheme(raw: dict[str, Any], source: str) -> Scheme:
    f = TomlTable(raw, source, "")
    scheme_id = f.ident("scheme_id")
    timezone = f.text("timezone")
    try:
        _zone(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise f.fail("timezone", f"unknown time zone {timezone!r}") from None
    calendar = f.table("calendar")
    country, subdiv = calendar.text("country"), calendar.text("subdiv", None)
    calendar.done()
    try:
        _bank_holidays(country, subdiv)
    except NotImplementedError:
        raise calendar.fail("country", f"no holiday calendar for {country}/{subdiv}") from None
    standards = _parse_standards(f)
    bands = {level.band for s in standards for level in s.levels}
    defaults = f.get("defaults", dict, "a table", {})
    versions = [
        _parse_version(item, defaults, source, f"versions[{i}]", scheme_id, bands)
        for i, item in enumerate(f.get("versions", list, "a list of tables"))
    ]
    if not versions:
        raise f.fail("versions", "a scheme needs at least one version")
    ordered = sorted(versions, key=lambda v: v.effective_from)
    for earlier, later in itertools.pairwise(ordered):
        if earlier.effective_to is None or earlier.effective_to > later.effective_from:
            raise f.fail(
                "versions",
                f"{earlier.version_id} overlaps {later.version_id} "
                f"(which starts {later.effective_from})",
            )
    scheme = Scheme(
        scheme_id=scheme_id,
        name=f.text("name"),
        timezone=timezone,
        country=country,
        subdiv=subdiv,
        versions=tuple(ordered),
        standards=standards,
        vehicle_exemptions=_parse_exemptions(f),
        registration_effects=_parse_effects(f),
        source=source,
    )
    f.done()
    return scheme
