"""Vehicle compliance with a scheme's emission standard: compliant, non-compliant, or unknown.

Pure: no I/O, no clock. The standards are data (``[[standards]]`` in each scheme's TOML, read by
`ringfence.domain.schemes.load_scheme_book`); ``standards=None`` means the packaged London ones.

How `assess` decides (the first step that answers wins)
    1. The first `Standard` whose ``vehicle_types`` and ``fuels`` match the vehicle applies. None
       matches: ``unknown``, rule ``no_standard`` (e.g. fuel ``other``, or the Congestion Charge,
       which sets no standard). A standard with no levels (``zero_emission``: electric) is met.
    2. The Euro standard: the latest `Evidence` for the VRM if any (latest ``recorded_at``; on a
       tie, the lowest Euro standard, the conservative reading), else the register's
       ``euro_standard``. Meeting every level: ``compliant``; otherwise ``non_compliant`` in the
       *band* of the least strict level failed (LEZ: Euro V fails only Euro VI, band
       ``below_euro_vi``, GBP 100; Euro III fails Euro IV too, band ``below_euro_iv``, GBP 300).
       Rule ``<standard>:evidence`` or ``<standard>:euro_standard``; evidence names who recorded
       it and when.
    3. No Euro standard: the first-registration date. On or after the strictest level's
       ``registered_from``: ``compliant`` (rule ``<standard>:registration_date``). Before it:
       ``unknown`` (same rule): older vehicles that meet the standard exist, so the date alone
       never makes a vehicle non-compliant; the reason says which evidence would settle it. No
       date either: ``unknown``, rule ``<standard>:no_data``.

``unknown`` is a state of its own: the charge engine sends it to review, never to a charge.

The SQL form
    ``compliance_sql(scheme_id)`` is a SQL ``CASE`` over the vehicle register's columns giving a
    ``STRUCT(status VARCHAR, rule VARCHAR, band VARCHAR)`` equal to ``assess`` (proved through
    DuckDB by ``tests/domain/test_compliance.py``). Evidence joins as an override column: pass
    ``evidence_euro_standard="ev.euro_standard"`` and join ``latest_evidence_sql()``::

        SELECT v.vrm, {compliance_sql('ulez', vehicle='v',
                                      evidence_euro_standard='ev.euro_standard')} AS c
        FROM register v LEFT JOIN ({latest_evidence_sql('evidence')}) ev ON ev.vrm = v.vrm

    then ``c.status``, ``c.rule``, ``c.band``. Reasons are not computed in SQL (they are for
    people: call ``assess`` for the rows a person looks at).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import cache

__all__ = [
    "EVIDENCE_KINDS",
    "FUELS",
    "VEHICLE_TYPES",
    "ComplianceDecision",
    "ComplianceStatus",
    "Evidence",
    "Standard",
    "StandardLevel",
    "VehicleFacts",
    "assess",
    "compliance_sql",
    "latest_evidence",
    "latest_evidence_sql",
]

VEHICLE_TYPES = ("car", "van", "minibus", "motorcycle", "hgv", "bus", "coach", "taxi", "phv")
"""The register's vehicle types (docs/formats.md)."""
FUELS = ("petrol", "diesel", "electric", "hybrid_petrol", "hybrid_diesel", "other")
"""The register's fuels (docs/formats.md)."""
EVIDENCE_KINDS = frozenset({"certificate_of_conformity", "v5c", "manufacturer_letter"})
"""Documents that can settle a vehicle's Euro standard."""

_IDENT = re.compile(r"[a-z0-9_]+")


class ComplianceStatus(StrEnum):
    """Whether a vehicle meets a scheme's emission standard. ``unknown`` is never non-compliant."""

    COMPLIANT = "compliant"
    NON_COMPLIANT = "non_compliant"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class VehicleFacts:
    """One row of the vehicle register (the interchange ``vehicles`` columns)."""

    vrm: str
    vehicle_type: str
    """car, van, minibus, motorcycle, hgv, bus, coach, taxi or phv."""
    fuel: str
    """petrol, diesel, electric, hybrid_petrol, hybrid_diesel or other."""
    euro_standard: int | None
    first_registered: date | None
    tax_class: str
    gross_weight_kg: int | None
    seats: int | None
    wheelchair_accessible: bool
    make: str | None


@dataclass(frozen=True, slots=True)
class Evidence:
    """A document showing a vehicle's Euro standard, recorded by an operator."""

    vrm: str
    kind: str
    """certificate_of_conformity, v5c or manufacturer_letter."""
    euro_standard: int
    recorded_by: str
    recorded_at: datetime

    def __post_init__(self) -> None:
        if self.kind not in EVIDENCE_KINDS:
            raise ValueError(f"evidence kind {self.kind!r} is not one of {sorted(EVIDENCE_KINDS)}")
        if self.recorded_at.tzinfo is None:
            raise ValueError("recorded_at must be timezone-aware")


@dataclass(frozen=True, slots=True)
class ComplianceDecision:
    """The outcome of `assess`: status, the machine id of the rule that decided, and why."""

    status: ComplianceStatus
    rule: str
    reason: str
    band: str | None = None
    """For ``non_compliant``: the tariff condition it falls in (``non_compliant`` for the ULEZ;
    ``below_euro_vi`` or ``below_euro_iv`` for the LEZ). None otherwise."""


@dataclass(frozen=True, slots=True)
class StandardLevel:
    """One bar of a standard. Failing it (and no less strict one) puts a vehicle in ``band``."""

    band: str
    min_euro: int
    registered_from: date
    """First registration on or after this date: presumed to meet the level without Euro data."""


@dataclass(frozen=True, slots=True)
class Standard:
    """An emission standard for some vehicle types and fuels (None: any)."""

    standard_id: str
    vehicle_types: frozenset[str] | None
    fuels: frozenset[str] | None
    levels: tuple[StandardLevel, ...]
    """Strictest first; empty means always met (zero emission)."""
    description: str

    def __post_init__(self) -> None:
        names = [self.standard_id, *(lv.band for lv in self.levels)]
        names += sorted(self.vehicle_types or ()) + sorted(self.fuels or ())
        if bad := [n for n in names if not _IDENT.fullmatch(n)]:
            raise ValueError(f"standard {self.standard_id!r}: not a lower-case identifier: {bad}")
        for stricter, looser in zip(self.levels, self.levels[1:], strict=False):
            if not (
                stricter.min_euro > looser.min_euro
                and stricter.registered_from > looser.registered_from
            ):
                raise ValueError(
                    f"standard {self.standard_id!r}: levels must be strictest first "
                    "(min_euro and registered_from both decreasing)"
                )

    def matches(self, vehicle: VehicleFacts) -> bool:
        return (self.vehicle_types is None or vehicle.vehicle_type in self.vehicle_types) and (
            self.fuels is None or vehicle.fuel in self.fuels
        )


@cache
def _packaged_standards(scheme_id: str) -> tuple[Standard, ...]:
    # Imported here: schemes.py imports this module for VehicleFacts and ComplianceDecision.
    from ringfence.domain.schemes import load_scheme_book

    return load_scheme_book().standards(scheme_id)


def latest_evidence(evidence: Sequence[Evidence], vrm: str) -> Evidence | None:
    """The evidence that counts for ``vrm``: latest ``recorded_at``; ties go to the lowest Euro."""
    mine = [e for e in evidence if e.vrm == vrm]
    return max(mine, key=lambda e: (e.recorded_at, -e.euro_standard), default=None)


def _euro_label(euro: int) -> str:
    return f"Euro {euro}"


def assess(
    vehicle: VehicleFacts,
    scheme_id: str,
    *,
    evidence: Sequence[Evidence] = (),
    standards: Sequence[Standard] | None = None,
) -> ComplianceDecision:
    """Does ``vehicle`` meet ``scheme_id``'s emission standard? See the module docstring."""
    table = _packaged_standards(scheme_id) if standards is None else tuple(standards)
    what = f"{vehicle.fuel} {vehicle.vehicle_type}"
    std = next((s for s in table if s.matches(vehicle)), None)
    if std is None:
        return ComplianceDecision(
            ComplianceStatus.UNKNOWN,
            "no_standard",
            f"{scheme_id} sets no emission standard for a {what}: compliance cannot be assessed",
        )
    if not std.levels:
        return ComplianceDecision(
            ComplianceStatus.COMPLIANT, std.standard_id, f"{what}: {std.description}"
        )

    latest = latest_evidence(evidence, vehicle.vrm)
    if latest is not None:
        euro: int | None = latest.euro_standard
        how = "evidence"
        source = (
            f"{_euro_label(latest.euro_standard)} on a {latest.kind.replace('_', ' ')} "
            f"recorded by {latest.recorded_by} at {latest.recorded_at.isoformat()}"
        )
    else:
        euro = vehicle.euro_standard
        how = "euro_standard"
        source = f"{_euro_label(euro)} in the register" if euro is not None else ""
    rule_prefix = std.standard_id

    if euro is not None:
        failed = [lv for lv in std.levels if euro < lv.min_euro]
        rule = f"{rule_prefix}:{how}"
        if not failed:
            return ComplianceDecision(
                ComplianceStatus.COMPLIANT, rule, f"{what}, {source}: meets {std.description}"
            )
        band = failed[-1].band
        return ComplianceDecision(
            ComplianceStatus.NON_COMPLIANT,
            rule,
            f"{what}, {source}: below {_euro_label(failed[-1].min_euro)} ({std.description})",
            band=band,
        )

    strictest = std.levels[0]
    settle = (
        "a certificate of conformity, V5C entry or manufacturer's letter stating its Euro "
        f"standard would settle it ({_euro_label(strictest.min_euro)} or better: compliant)"
    )
    registered = vehicle.first_registered
    if registered is None:
        return ComplianceDecision(
            ComplianceStatus.UNKNOWN,
            f"{rule_prefix}:no_data",
            f"{what} with no Euro standard and no first-registration date: {settle}",
        )
    rule = f"{rule_prefix}:registration_date"
    if registered >= strictest.registered_from:
        return ComplianceDecision(
            ComplianceStatus.COMPLIANT,
            rule,
            f"{what} first registered {registered.isoformat()}, on or after "
            f"{strictest.registered_from.isoformat()}: presumed to meet {std.description}",
        )
    met = [lv for lv in std.levels[1:] if registered >= lv.registered_from]
    partial = f" (presumed to meet {_euro_label(met[0].min_euro)} by that date)" if met else ""
    return ComplianceDecision(
        ComplianceStatus.UNKNOWN,
        rule,
        f"{what} first registered {registered.isoformat()}, before "
        f"{strictest.registered_from.isoformat()}, with no Euro standard recorded{partial}: "
        f"{settle}",
    )


# --- SQL ------------------------------------------------------------------------------------------


def _sql_list(values: frozenset[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in sorted(values)) + ")"


def _sql_struct(status: ComplianceStatus, rule: str, band: str | None = None) -> str:
    band_sql = f"'{band}'" if band is not None else "NULL::VARCHAR"
    return f"{{'status': '{status.value}', 'rule': '{rule}', 'band': {band_sql}}}"


def _by_euro_sql(std: Standard, euro: str, how: str) -> list[str]:
    rule = f"{std.standard_id}:{how}"
    compliant = _sql_struct(ComplianceStatus.COMPLIANT, rule)
    whens = [f"WHEN {euro} >= {std.levels[0].min_euro} THEN {compliant}"]
    for failed, looser in zip(std.levels, std.levels[1:], strict=False):
        nc = _sql_struct(ComplianceStatus.NON_COMPLIANT, rule, failed.band)
        whens.append(f"WHEN {euro} >= {looser.min_euro} THEN {nc}")
    last = _sql_struct(ComplianceStatus.NON_COMPLIANT, rule, std.levels[-1].band)
    return [f"WHEN {euro} IS NOT NULL THEN (CASE {' '.join(whens)} ELSE {last} END)"]


def _standard_sql(std: Standard, vehicle: str, evidence_euro: str | None) -> str:
    if not std.levels:
        return _sql_struct(ComplianceStatus.COMPLIANT, std.standard_id)
    whens: list[str] = []
    if evidence_euro is not None:
        whens += _by_euro_sql(std, evidence_euro, "evidence")
    whens += _by_euro_sql(std, f"{vehicle}.euro_standard", "euro_standard")
    registered = f"{vehicle}.first_registered"
    no_data = _sql_struct(ComplianceStatus.UNKNOWN, f"{std.standard_id}:no_data")
    by_date = f"{std.standard_id}:registration_date"
    since = std.levels[0].registered_from.isoformat()
    whens.append(f"WHEN {registered} IS NULL THEN {no_data}")
    whens.append(
        f"WHEN {registered} >= DATE '{since}' "
        f"THEN {_sql_struct(ComplianceStatus.COMPLIANT, by_date)}"
    )
    return f"(CASE {' '.join(whens)} ELSE {_sql_struct(ComplianceStatus.UNKNOWN, by_date)} END)"


def compliance_sql(
    scheme_id: str,
    *,
    standards: Sequence[Standard] | None = None,
    vehicle: str = "v",
    evidence_euro_standard: str | None = None,
) -> str:
    """A SQL expression: ``STRUCT(status, rule, band)`` equal to `assess` for each register row.

    ``vehicle`` is the alias of a relation with the register's columns (``vehicle_type``,
    ``fuel``, ``euro_standard``, ``first_registered``). ``evidence_euro_standard`` is an optional
    column expression holding the latest evidence's Euro standard (NULL: none), as given by
    ``latest_evidence_sql``.
    """
    table = _packaged_standards(scheme_id) if standards is None else tuple(standards)
    whens: list[str] = []
    for std in table:
        conditions = []
        if std.vehicle_types is not None:
            conditions.append(f"{vehicle}.vehicle_type IN {_sql_list(std.vehicle_types)}")
        if std.fuels is not None:
            conditions.append(f"{vehicle}.fuel IN {_sql_list(std.fuels)}")
        condition = " AND ".join(conditions) or "TRUE"
        whens.append(f"WHEN {condition} THEN {_standard_sql(std, vehicle, evidence_euro_standard)}")
    otherwise = _sql_struct(ComplianceStatus.UNKNOWN, "no_standard")
    if not whens:
        return otherwise
    return f"(CASE {' '.join(whens)} ELSE {otherwise} END)"


def latest_evidence_sql(table: str = "evidence", *, vrm_column: str = "vrm") -> str:
    """A query ``(vrm, euro_standard)``: the evidence that counts per VRM, as `latest_evidence`.

    ``table`` has the `Evidence` columns; ``vrm_column`` names its VRM (or vehicle key) column,
    returned as ``vrm``.
    """
    return (
        f"SELECT {vrm_column} AS vrm, "
        "first(euro_standard ORDER BY recorded_at DESC, euro_standard ASC) AS euro_standard "
        f"FROM {table} GROUP BY {vrm_column}"
    )
