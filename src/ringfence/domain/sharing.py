"""Police access governance as dated data: instruments, DPIAs, directions and the access rules.

Pure: no clock, no environment; the only I/O is `load_governance_book` reading one TOML file (the
packaged ``ringfence/governance/london/instruments.toml`` by default, or any path: London is only
the default). `ringfence.policy.decide` is the one place these records are turned into allow/deny.

The governance file (``ringfence/governance/london/instruments.toml`` is the annotated example)
    - ``[[instruments]]``: the legal instruments (Mayoral decisions, agreements...) that let a
      camera network's data go to a recipient. ``instrument_id`` (unique), ``reference`` (e.g.
      ``MD2977``), ``title``, ``signer``, ``signed_on``, ``effective_from``, ``effective_to``
      (half-open; omitted = open), ``revoked_on`` (omitted = not revoked; in force only before
      it), ``networks``, ``data_classes``, ``recipients``, ``purposes``, ``uses`` (what may be done:
      ``query``, ``release``, ``hotlist``, ``bulk_feed``; default ``query``, ``release``,
      ``hotlist``, so a bulk feed is allowed only when named), ``conditions`` (`CONDITIONS`; all
      must be met on the day, for the network asked). Several entries may share a ``reference``
      when one instrument grants different things to different networks.
    - ``[[dpias]]``: ``dpia_id``, ``version``, ``networks``, ``purposes``, ``status``
      (`DPIA_STATUSES`), ``approved_on`` (required when approved), ``review_on`` (an approved DPIA
      stops counting on this day), ``equality_impact_ref``.
    - ``[[directions]]``: ``reference``, ``issuer`` (``mayor``...), ``networks``, ``signed_on``
      (counts from that day).
    - ``[access]``: ``ranks`` (lowest first), ``legal_bases``, ``purposes``, ``data_classes``,
      ``hotlist_max_days``, and ``[[access.age_bands]]`` (``max_age_days``, ``min_rank``,
      ``seriousness``): data as old as ``max_age_days`` (inclusive; the first band that fits)
      needs an authoriser of ``min_rank`` or above and a case of one of the ``seriousness``
      levels. Older than every band: never.

    Unknown fields, wrong types, unknown networks/purposes/data classes/ranks/conditions and
    duplicate ids are refused with a `ConfigError` naming the file and the field.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from ringfence.domain.toml_table import TomlTable
from ringfence.errors import ConfigError, NotFoundError

__all__ = [
    "CONDITIONS",
    "DEFAULT_USES",
    "DPIA",
    "DPIA_STATUSES",
    "USES",
    "AccessRules",
    "AgeBand",
    "Direction",
    "GovernanceBook",
    "Instrument",
    "Seriousness",
    "load_governance_book",
    "parse_direction",
    "parse_dpia",
    "parse_governance_book",
]

PACKAGED = "ringfence.governance.london"
PACKAGED_FILE = "instruments.toml"

USES = frozenset({"query", "release", "hotlist", "bulk_feed"})
"""What an instrument can allow: read queries, releases, hotlist entries, a bulk feed."""
DEFAULT_USES = frozenset({"query", "release", "hotlist"})
"""An instrument's uses when its entry names none: never ``bulk_feed``."""
CONDITIONS: Mapping[str, str] = {
    "dpia_approved": "an approved DPIA in review covers the network and purpose",
    "mayoral_direction": "a direction issued by the mayor covers the network",
}
"""Conditions an instrument may carry, each met per network on a given day."""
DPIA_STATUSES = frozenset({"draft", "approved", "expired", "withdrawn"})

_IDENT = re.compile(r"[a-z0-9_]+")
_CODE = re.compile(r"[a-z0-9_]+(?::[a-z0-9_]+)*")
_LEGAL_BASIS = re.compile(r"[A-Za-z0-9_]+")
_ISSUER_OF = {"mayoral_direction": "mayor"}


class Seriousness(StrEnum):
    """How serious the case behind an access request is (the age bands name these)."""

    STANDARD = "standard"
    SERIOUS = "serious"
    MAJOR = "major"
    COUNTER_TERRORISM = "counter_terrorism"


# --- Records --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Instrument:
    """A legal instrument letting some networks' data go to recipients, for purposes, dated."""

    instrument_id: str
    reference: str
    """As published, e.g. ``MD2977``."""
    title: str
    signer: str
    signed_on: date
    effective_from: date
    effective_to: date | None
    networks: frozenset[str]
    data_classes: frozenset[str]
    recipients: frozenset[str]
    purposes: frozenset[str]
    uses: frozenset[str] = DEFAULT_USES
    conditions: frozenset[str] = frozenset()
    revoked_on: date | None = None

    def is_effective(self, day: date) -> bool:
        """Within ``[effective_from, effective_to)``, revoked or not."""
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    def is_revoked(self, day: date) -> bool:
        return self.revoked_on is not None and day >= self.revoked_on

    def in_force(self, day: date) -> bool:
        return self.is_effective(day) and not self.is_revoked(day)


@dataclass(frozen=True, slots=True)
class DPIA:
    """A data protection impact assessment of sharing some networks for some purposes."""

    dpia_id: str
    version: str
    networks: frozenset[str]
    purposes: frozenset[str]
    status: str
    """``draft``, ``approved``, ``expired`` or ``withdrawn``."""
    approved_on: date | None
    review_on: date | None
    """An approved DPIA stops counting on this day until reviewed (a new version recorded)."""
    equality_impact_ref: str | None = None

    def is_approved(self, day: date) -> bool:
        return (
            self.status == "approved"
            and self.approved_on is not None
            and self.approved_on <= day
            and (self.review_on is None or day < self.review_on)
        )

    def covers(self, network: str, purpose: str) -> bool:
        return network in self.networks and purpose in self.purposes


@dataclass(frozen=True, slots=True)
class Direction:
    """A direction (e.g. a Mayoral direction) to share some networks, counting from signature."""

    reference: str
    issuer: str
    networks: frozenset[str]
    signed_on: date

    def covers(self, network: str, day: date) -> bool:
        return network in self.networks and self.signed_on <= day


@dataclass(frozen=True, slots=True)
class AgeBand:
    """Data up to ``max_age_days`` old needs ``min_rank`` and a case of ``seriousness``."""

    max_age_days: int
    min_rank: str
    seriousness: frozenset[Seriousness]


@dataclass(frozen=True, slots=True)
class AccessRules:
    """The rules every access request is held to, besides the instruments."""

    ranks: tuple[str, ...]
    """Lowest first."""
    age_bands: tuple[AgeBand, ...]
    """Youngest first; older than the last: never."""
    legal_bases: frozenset[str]
    purposes: frozenset[str]
    data_classes: frozenset[str]
    hotlist_max_days: int

    def rank_order(self, rank: str) -> int | None:
        """Position of ``rank`` (0 = lowest); None when not a known rank."""
        return self.ranks.index(rank) if rank in self.ranks else None

    def band_for(self, age_days: int) -> AgeBand | None:
        """The first band data ``age_days`` old fits; None: too old for any."""
        return next((b for b in self.age_bands if age_days <= b.max_age_days), None)


@dataclass(frozen=True, slots=True)
class GovernanceBook:
    """Every instrument, DPIA and direction recorded, and the access rules, from one file."""

    instruments: tuple[Instrument, ...]
    dpias: tuple[DPIA, ...]
    directions: tuple[Direction, ...]
    rules: AccessRules
    source: str

    @property
    def networks(self) -> frozenset[str]:
        """Every network an instrument names."""
        return frozenset(n for i in self.instruments for n in i.networks)

    def instrument(self, instrument_id: str) -> Instrument:
        found = next((i for i in self.instruments if i.instrument_id == instrument_id), None)
        if found is None:
            known = ", ".join(i.instrument_id for i in self.instruments) or "none"
            raise NotFoundError(f"no instrument {instrument_id!r} (known: {known})")
        return found

    def approved_dpia(self, network: str, purpose: str, day: date) -> DPIA | None:
        """The approved DPIA (latest approval first) covering ``network`` and ``purpose``."""
        found = [d for d in self.dpias if d.covers(network, purpose) and d.is_approved(day)]
        return max(found, key=lambda d: (d.approved_on or day, d.dpia_id), default=None)

    def direction(self, issuer: str, network: str, day: date) -> Direction | None:
        """The earliest direction by ``issuer`` covering ``network`` on ``day``."""
        found = [d for d in self.directions if d.issuer == issuer and d.covers(network, day)]
        return min(found, key=lambda d: (d.signed_on, d.reference), default=None)

    def condition_met(self, condition: str, network: str, purpose: str, day: date) -> str | None:
        """The id of the record meeting ``condition`` for ``network`` on ``day``; None: unmet."""
        if condition == "dpia_approved":
            dpia = self.approved_dpia(network, purpose, day)
            return None if dpia is None else f"{dpia.dpia_id} v{dpia.version}"
        issuer = _ISSUER_OF.get(condition)
        if issuer is None:
            return None
        direction = self.direction(issuer, network, day)
        return None if direction is None else direction.reference

    # Recording is pure: each returns a new book (a service stores and audits it).
    def with_dpia(self, dpia: DPIA) -> GovernanceBook:
        return dataclasses.replace(self, dpias=(*self.dpias, dpia))

    def with_direction(self, direction: Direction) -> GovernanceBook:
        return dataclasses.replace(self, directions=(*self.directions, direction))

    def revoke(self, instrument_id: str, on: date) -> GovernanceBook:
        """The book with ``instrument_id`` revoked from ``on`` (an earlier revocation stands)."""
        target = self.instrument(instrument_id)
        when = on if target.revoked_on is None else min(on, target.revoked_on)
        return dataclasses.replace(
            self,
            instruments=tuple(
                dataclasses.replace(i, revoked_on=when) if i is target else i
                for i in self.instruments
            ),
        )


# --- Loading --------------------------------------------------------------------------------------


def load_governance_book(path: Path | None = None) -> GovernanceBook:
    """Read a governance file (None: the packaged London ``instruments.toml``).

    Raises `ConfigError` naming the file and the field on anything unusable.
    """
    if path is None:
        source = f"{PACKAGED.replace('.', '/')}/{PACKAGED_FILE}"
        data = resources.files(PACKAGED).joinpath(PACKAGED_FILE).read_bytes()
    else:
        source = str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read: {exc}") from exc
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    return parse_governance_book(raw, source)


def parse_governance_book(raw: Mapping[str, Any], source: str) -> GovernanceBook:
    """Build a book from parsed TOML; ``source`` names the file in errors."""
    f = TomlTable(dict(raw), source, "")
    rules = _parse_rules(f.table("access"))
    instruments = tuple(_parse_instrument(i, rules) for i in f.tables("instruments"))
    if not instruments:
        raise f.fail("instruments", "at least one instrument is needed")
    _unique(f, "instruments", [i.instrument_id for i in instruments])
    networks = frozenset(n for i in instruments for n in i.networks)
    dpias = tuple(_parse_dpia(d, rules, networks) for d in f.tables("dpias", []))
    _unique(f, "dpias", [(d.dpia_id, d.version) for d in dpias])
    directions = tuple(_parse_direction(d, networks) for d in f.tables("directions", []))
    _unique(f, "directions", [d.reference for d in directions])
    f.done()
    return GovernanceBook(instruments, dpias, directions, rules, source)


def _unique(f: TomlTable, key: str, ids: list[Any]) -> None:
    seen: set[Any] = set()
    for value in ids:
        if value in seen:
            raise f.fail(key, f"duplicate id {value!r}")
        seen.add(value)


def _codes(f: TomlTable, key: str, allowed: frozenset[str] | None, default: Any = ...) -> Any:
    """A non-empty list of ``a_b:c_d`` codes, each in ``allowed`` when given."""
    values = f.get(key, list, "a list of codes", default)
    if values is default:
        return default
    if not values or not all(isinstance(v, str) and _CODE.fullmatch(v) for v in values):
        raise f.fail(key, f"expected a non-empty list of codes (a-z, 0-9, _, :), got {values!r}")
    if allowed is not None and (unknown := sorted(set(values) - allowed)):
        raise f.fail(key, f"unknown {unknown[0]!r} (known: {', '.join(sorted(allowed))})")
    return frozenset(values)


def _dated(f: TomlTable) -> tuple[date, date | None]:
    start, end = f.day("effective_from"), f.day("effective_to", None)
    if end is not None and end <= start:
        raise f.fail("effective_to", f"must be after effective_from ({start}), got {end}")
    return start, end


def _parse_rules(f: TomlTable) -> AccessRules:
    ranks = f.get("ranks", list, "a list of ranks, lowest first")
    if not ranks or not all(isinstance(r, str) and _IDENT.fullmatch(r) for r in ranks):
        raise f.fail("ranks", f"expected a non-empty list of identifiers, got {ranks!r}")
    if len(set(ranks)) != len(ranks):
        raise f.fail("ranks", "a rank is listed twice")
    bands: list[AgeBand] = []
    for band in f.tables("age_bands"):
        min_rank = band.ident("min_rank")
        if min_rank not in ranks:
            raise band.fail("min_rank", f"unknown rank {min_rank!r}")
        levels = _codes(band, "seriousness", frozenset(Seriousness))
        bands.append(
            AgeBand(
                max_age_days=band.whole("max_age_days"),
                min_rank=min_rank,
                seriousness=frozenset(Seriousness(s) for s in levels),
            )
        )
        band.done()
    if not bands:
        raise f.fail("age_bands", "at least one age band is needed")
    ages = [b.max_age_days for b in bands]
    if ages != sorted(set(ages)):
        raise f.fail("age_bands", f"max_age_days must increase, got {ages}")
    rules = AccessRules(
        ranks=tuple(ranks),
        age_bands=tuple(bands),
        legal_bases=_legal_bases(f),
        purposes=_codes(f, "purposes", None),
        data_classes=f.idents("data_classes"),
        hotlist_max_days=f.whole("hotlist_max_days", minimum=1),
    )
    f.done()
    return rules


def _legal_bases(f: TomlTable) -> frozenset[str]:
    values = f.get("legal_bases", list, "a list of legal bases")
    if not values or not all(isinstance(v, str) and _LEGAL_BASIS.fullmatch(v) for v in values):
        raise f.fail(
            "legal_bases", f"expected a non-empty list of names (A-Z, a-z, 0-9, _), got {values!r}"
        )
    return frozenset(values)


def _parse_instrument(f: TomlTable, rules: AccessRules) -> Instrument:
    start, end = _dated(f)
    signed_on = f.day("signed_on")
    if signed_on > start:
        raise f.fail("signed_on", f"must be on or before effective_from ({start})")
    revoked_on = f.day("revoked_on", None)
    if revoked_on is not None and revoked_on < signed_on:
        raise f.fail("revoked_on", f"must be on or after signed_on ({signed_on})")
    instrument = Instrument(
        instrument_id=f.ident("instrument_id"),
        reference=f.text("reference"),
        title=f.text("title"),
        signer=f.text("signer"),
        signed_on=signed_on,
        effective_from=start,
        effective_to=end,
        networks=f.idents("networks"),
        data_classes=_codes(f, "data_classes", rules.data_classes),
        recipients=f.idents("recipients"),
        purposes=_codes(f, "purposes", rules.purposes),
        uses=_codes(f, "uses", USES, DEFAULT_USES),
        conditions=_codes(f, "conditions", frozenset(CONDITIONS), frozenset()),
        revoked_on=revoked_on,
    )
    f.done()
    return instrument


def _parse_dpia(f: TomlTable, rules: AccessRules, networks: frozenset[str]) -> DPIA:
    status = f.ident("status")
    if status not in DPIA_STATUSES:
        raise f.fail("status", f"expected one of {', '.join(sorted(DPIA_STATUSES))}")
    approved_on, review_on = f.day("approved_on", None), f.day("review_on", None)
    if status == "approved" and approved_on is None:
        raise f.fail("approved_on", "missing (required for an approved DPIA)")
    if approved_on is not None and review_on is not None and review_on <= approved_on:
        raise f.fail("review_on", f"must be after approved_on ({approved_on})")
    dpia = DPIA(
        dpia_id=f.text("dpia_id"),
        version=f.text("version"),
        networks=_codes(f, "networks", networks),
        purposes=_codes(f, "purposes", rules.purposes),
        status=status,
        approved_on=approved_on,
        review_on=review_on,
        equality_impact_ref=f.text("equality_impact_ref", None),
    )
    f.done()
    return dpia


def _parse_direction(f: TomlTable, networks: frozenset[str]) -> Direction:
    direction = Direction(
        reference=f.text("reference"),
        issuer=f.ident("issuer"),
        networks=_codes(f, "networks", networks),
        signed_on=f.day("signed_on"),
    )
    f.done()
    return direction


def parse_dpia(raw: Mapping[str, Any], book: GovernanceBook, source: str) -> DPIA:
    """One DPIA as recorded later than the file (``raw`` as in a ``[[dpias]]`` table), checked
    against the book's networks and purposes."""
    return _parse_dpia(TomlTable(dict(raw), source, ""), book.rules, book.networks)


def parse_direction(raw: Mapping[str, Any], book: GovernanceBook, source: str) -> Direction:
    """One direction as recorded later than the file (``raw`` as in a ``[[directions]]`` table)."""
    return _parse_direction(TomlTable(dict(raw), source, ""), book.networks)
