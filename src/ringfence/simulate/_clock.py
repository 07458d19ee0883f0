"""The charge day on the clock: a Europe/London calendar date, 23, 24 or 25 hours long.

Times inside the simulator are *elapsed* milliseconds since local midnight, so a clock-change day
needs no special case: its 5-minute bins are weighted by the wall-clock hour each one shows, which
makes the spring-forward day skip 01:00-02:00 and the autumn day see that hour twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import holidays
import numpy as np

from ringfence.simulate._types import F64, I64

LONDON_TZ = ZoneInfo("Europe/London")
BIN_MS = 5 * 60 * 1000

#: Relative traffic by wall-clock hour (0..23), per profile family and kind of day.
HOURLY: dict[tuple[str, bool], tuple[float, ...]] = {
    # commuting: cars and motorcycles
    ("commute", False): (
        0.5,
        0.3,
        0.2,
        0.2,
        0.4,
        1.2,
        3.2,
        6.5,
        8.5,
        6.5,
        5.0,
        4.8,
        4.9,
        5.0,
        5.4,
        6.5,
        7.8,
        8.4,
        7.0,
        5.0,
        3.6,
        2.8,
        2.0,
        1.1,
    ),
    # goods and coaches: early start, flat middle of the day, night deliveries
    ("commercial", False): (
        1.2,
        0.9,
        0.8,
        0.9,
        1.5,
        3.0,
        5.2,
        6.8,
        7.2,
        7.5,
        7.5,
        7.2,
        6.8,
        6.8,
        6.6,
        6.2,
        5.6,
        4.8,
        3.6,
        2.6,
        2.0,
        1.7,
        1.5,
        1.3,
    ),
    # taxis, private hire and buses: all day and into the night
    ("service", False): (
        2.8,
        2.0,
        1.4,
        1.0,
        1.0,
        1.8,
        3.4,
        5.4,
        6.4,
        5.8,
        5.2,
        5.2,
        5.4,
        5.4,
        5.4,
        5.8,
        6.4,
        6.8,
        6.6,
        6.0,
        5.6,
        5.2,
        4.6,
        3.6,
    ),
    ("commute", True): (
        1.0,
        0.7,
        0.5,
        0.3,
        0.3,
        0.5,
        1.0,
        2.0,
        3.6,
        5.2,
        6.6,
        7.4,
        7.6,
        7.4,
        7.2,
        7.0,
        6.6,
        6.0,
        5.2,
        4.2,
        3.4,
        2.8,
        2.2,
        1.6,
    ),
    ("commercial", True): (
        0.9,
        0.7,
        0.6,
        0.6,
        0.8,
        1.4,
        2.4,
        3.6,
        4.6,
        5.4,
        5.8,
        5.8,
        5.6,
        5.2,
        4.8,
        4.2,
        3.6,
        3.0,
        2.4,
        1.9,
        1.6,
        1.4,
        1.2,
        1.0,
    ),
    ("service", True): (
        4.0,
        3.4,
        2.6,
        1.8,
        1.2,
        1.2,
        1.8,
        2.8,
        3.8,
        4.8,
        5.6,
        6.0,
        6.2,
        6.2,
        6.0,
        6.0,
        6.2,
        6.4,
        6.6,
        6.6,
        6.4,
        6.0,
        5.6,
        4.8,
    ),
}
PROFILE_FAMILIES = ("commute", "commercial", "service")


def _london_holidays(year: int) -> set[dt.date]:
    return set(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


@dataclass(frozen=True)
class ChargeDay:
    """One Europe/London calendar date and how its elapsed time maps to instants."""

    day: dt.date
    start_utc_ms: int  # local midnight, as milliseconds since the Unix epoch
    length_ms: int  # 23, 24 or 25 hours
    offset_before_ms: int  # UTC offset at the start of the day
    offset_after_ms: int  # UTC offset after the clock change (same as before on most days)
    change_at_ms: int  # elapsed ms at which the offset changes (= length_ms if it does not)
    is_quiet: bool  # weekend or bank holiday in England

    @classmethod
    def of(cls, day: dt.date) -> ChargeDay:
        start = dt.datetime.combine(day, dt.time(0), tzinfo=LONDON_TZ)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=LONDON_TZ)
        start_ms = round(start.timestamp() * 1000)
        length = round(end.timestamp() * 1000) - start_ms
        before = start.utcoffset()
        after = end.utcoffset()
        assert before is not None and after is not None
        change = length
        if before != after:
            # search the hour boundaries for the change (it falls at 01:00 UTC)
            for h in range(1, length // 3_600_000 + 1):
                at = dt.datetime.fromtimestamp((start_ms + h * 3_600_000) / 1000, LONDON_TZ)
                if at.utcoffset() == after:
                    change = h * 3_600_000
                    break
        quiet = day.weekday() >= 5 or day in _london_holidays(day.year)
        return cls(
            day=day,
            start_utc_ms=start_ms,
            length_ms=length,
            offset_before_ms=round(before.total_seconds() * 1000),
            offset_after_ms=round(after.total_seconds() * 1000),
            change_at_ms=change,
            is_quiet=quiet,
        )

    @property
    def end_utc_ms(self) -> int:
        return self.start_utc_ms + self.length_ms

    def offset_ms(self, elapsed_ms: I64) -> I64:
        """UTC offset in force at each elapsed time."""
        result: I64 = np.where(
            elapsed_ms < self.change_at_ms, self.offset_before_ms, self.offset_after_ms
        ).astype(np.int64)
        return result

    def wall_hours(self, elapsed_ms: I64 | F64) -> F64:
        """Wall-clock hour (0 <= h < 24, fractional) shown at each elapsed time."""
        e = np.asarray(elapsed_ms, dtype=np.float64)
        shift = np.where(e < self.change_at_ms, 0, self.offset_after_ms - self.offset_before_ms)
        result: F64 = ((e + shift) / 3_600_000.0) % 24.0
        return result

    def bin_weights(self, family: str) -> F64:
        """Traffic weight of each 5-minute elapsed bin for a profile family."""
        mids = (np.arange(self.length_ms // BIN_MS) * BIN_MS + BIN_MS / 2).astype(np.float64)
        hours = self.wall_hours(mids)
        table = np.asarray(HOURLY[(family, self.is_quiet)])
        # interpolate between hour centres, wrapping round midnight
        xs = np.arange(25) + 0.5
        ys = np.concatenate([table, table[:1]])
        h = np.where(hours < 0.5, hours + 24.0, hours)
        result: F64 = np.interp(
            h, np.concatenate([[0.5 - 1.0], xs]), np.concatenate([[table[-1]], ys])
        )
        return result

    def sample_elapsed(self, rng: np.random.Generator, family: I64, n: int) -> I64:
        """Elapsed ms for n departures, each from its profile family's daily curve."""
        out = np.empty(n, dtype=np.int64)
        for f, name in enumerate(PROFILE_FAMILIES):
            m = family == f
            k = int(m.sum())
            if not k:
                continue
            w = self.bin_weights(name)
            cum = np.cumsum(w)
            b = np.searchsorted(cum, rng.random(k) * cum[-1], side="right")
            out[m] = b * BIN_MS + (rng.random(k) * BIN_MS).astype(np.int64)
        return out
