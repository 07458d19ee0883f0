"""Differential privacy for published counts, and the budget they spend. Pure: no I/O.

Noise: OpenDP's discrete Laplace mechanism (``make_laplace`` over a vector of 64-bit integers
with the L1 distance), at scale ``sensitivity / epsilon``. OpenDP's privacy map checks that the
measurement really is epsilon-DP for that sensitivity before any noise is drawn, and its
``discrete_laplacian_scale_to_accuracy`` gives the stated accuracy: with probability at least
``1 - alpha`` a noisy cell is within (strictly less than) ``accuracy`` of the exact count. Noisy
counts below zero are published as zero: post-processing, which costs no privacy, and which can
only bring a count of something that happened closer to the truth.

Budget: the unit of privacy is one audited event, and every event falls on one day. A public
report over a period spends its epsilon on every day of that period, so the loss a day bears is
the sum over every public report covering it (sequential composition; reports on disjoint periods
compose in parallel). ``check_budget`` refuses a release that would take any day of its period
past the configured total. The ledger is read from the audit log's ``dp-release`` entries, so it
is as tamper-evident as the log and needs no table of its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

import opendp.prelude as dp

from ringfence.errors import RingfenceError

__all__ = [
    "DP_RELEASE_EVENT",
    "BudgetExceededError",
    "LedgerEntry",
    "Noise",
    "check_budget",
    "format_period",
    "ledger",
    "parse_period",
    "privatise",
    "spent_by_day",
    "spent_over",
]

DP_RELEASE_EVENT = "dp-release"
"""The audit event recording one public DP release (attrs epsilon, tables, period)."""

# OpenDP refuses to run any mechanism unless "contrib" is enabled: the discrete Laplace is
# proven (proof documents linked from its docs) but carries that flag in 0.16.
dp.enable_features("contrib")


class BudgetExceededError(RingfenceError):
    """A public release would take some day of its period past the privacy budget."""


@dataclass(frozen=True, slots=True)
class Noise:
    """How one table is protected: epsilon for the whole table at an L1 sensitivity."""

    epsilon: Decimal
    sensitivity: int
    alpha: float

    @property
    def scale(self) -> float:
        # A billionth above sensitivity/epsilon: float rounding could otherwise leave the
        # privacy map a hair over epsilon, and OpenDP (rightly) would not certify it.
        return self.sensitivity / float(self.epsilon) * (1 + 1e-9)

    @property
    def accuracy(self) -> int:
        """Whole-count bound: P(|noisy - exact| <= accuracy) >= 1 - alpha (OpenDP's figure,
        floored: errors are integers, so floor keeps the coverage)."""
        bound = float(dp.discrete_laplacian_scale_to_accuracy(self.scale, self.alpha))
        return math.floor(bound)


def _mechanism(noise: Noise) -> dp.Measurement:
    space = dp.vector_domain(dp.atom_domain(T="i64")), dp.l1_distance(T="i64")
    measurement = dp.m.make_laplace(*space, scale=noise.scale)
    # The privacy map is the proof obligation: refuse a mechanism weaker than claimed.
    if not measurement.check(noise.sensitivity, float(noise.epsilon)):
        raise RingfenceError(
            f"OpenDP cannot show the mechanism is {noise.epsilon}-DP at sensitivity "
            f"{noise.sensitivity}"
        )
    return measurement


def privatise(exact: Sequence[int], noise: Noise) -> list[int]:
    """One draw of noisy counts for ``exact`` (every cell of one table), never below zero."""
    if not exact:
        return []
    drawn: list[int] = _mechanism(noise)([int(v) for v in exact])
    return [max(0, int(v)) for v in drawn]


# -- the budget ledger -----------------------------------------------------------------------
class _Fact(Protocol):
    @property
    def event(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def subject(self) -> str: ...
    @property
    def attrs(self) -> dict[str, str]: ...
    @property
    def counts(self) -> dict[str, int]: ...


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One public release: when, which days it covers (inclusive), its epsilon and tables."""

    release_id: str
    at: datetime
    start: date
    end: date
    epsilon: Decimal
    tables: tuple[str, ...]
    cells: int

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


def parse_period(text: str) -> tuple[date, date]:
    """``2026-11-01..2026-11-30`` -> (first day, last day)."""
    first, _, last = text.partition("..")
    return date.fromisoformat(first), date.fromisoformat(last)


def format_period(start: date, end: date) -> str:
    return f"{start.isoformat()}..{end.isoformat()}"


def ledger(entries: Iterable[_Fact]) -> list[LedgerEntry]:
    """The releases recorded as ``dp-release`` audit entries, in log order."""
    found: list[LedgerEntry] = []
    for e in entries:
        if e.event != DP_RELEASE_EVENT:
            continue
        start, end = parse_period(e.attrs["period"])
        found.append(
            LedgerEntry(
                release_id=e.subject,
                at=e.at,
                start=start,
                end=end,
                epsilon=Decimal(e.attrs["epsilon"]),
                tables=tuple(t for t in e.attrs.get("tables", "").split(";") if t),
                cells=e.counts.get("cells", 0),
            )
        )
    return found


def _days(start: date, end: date) -> Iterable[date]:
    for n in range((end - start).days + 1):
        yield start + timedelta(days=n)


def spent_by_day(releases: Sequence[LedgerEntry], start: date, end: date) -> dict[date, Decimal]:
    """The epsilon each day of [start, end] has borne so far."""
    return {
        day: sum((r.epsilon for r in releases if r.covers(day)), Decimal(0))
        for day in _days(start, end)
    }


def spent_over(releases: Sequence[LedgerEntry], start: date, end: date) -> Decimal:
    """The most any day of [start, end] has borne: what limits the next release on it."""
    return max(spent_by_day(releases, start, end).values(), default=Decimal(0))


def check_budget(
    releases: Sequence[LedgerEntry], start: date, end: date, epsilon: Decimal, budget: Decimal
) -> Decimal:
    """Raise BudgetExceededError unless every day of the period can bear ``epsilon`` more.

    Returns what the period's most-spent day has borne before this release.
    """
    if end < start:
        raise RingfenceError(f"the period ends ({end}) before it starts ({start})")
    used = spent_over(releases, start, end)
    if used + epsilon > budget:
        raise BudgetExceededError(
            f"a public release over {format_period(start, end)} needs epsilon {epsilon}, but "
            f"some day of it has already borne {used} of the budget {budget} (left: "
            f"{max(budget - used, Decimal(0))}); publish the internal report instead, or wait "
            "for a period not yet reported"
        )
    return used
