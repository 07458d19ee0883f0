"""Equality and disproportionality: indicators per area, compared with ethnic composition.

Every indicator is a rate, numerator over denominator times a scale (cameras per km², PCNs per
1,000 vehicles...), so the rate of a group of areas is the sum of numerators over the sum of
denominators, not an average of rates: a quintile's rate weights its areas by their residents or
vehicles. Associations are Spearman rank correlations (robust to the heavy tails of camera and
read counts) with percentile bootstrap intervals over areas; the wording of each finding follows
the interval, never the point estimate alone.

Pure: arrays in, numbers and sentences out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ringfence.oversight.geography import COMPOSITION, Areas

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Indicator:
    key: str
    label: str
    numerator: str  # a key of the counts mapping
    denominator: str  # an `Areas` attribute: area_km2, population or cars
    scale: float
    per: str  # what the rate is per, in words, for findings


INDICATORS = (
    Indicator("cameras_per_km2", "Cameras per km²", "cameras", "area_km2", 1.0, "km²"),
    Indicator(
        "cameras_per_1000", "Cameras per 1,000 residents", "cameras", "population", 1e3, "resident"
    ),
    Indicator(
        "reads_per_resident",
        "Reads per resident per day",
        "reads_per_day",
        "population",
        1.0,
        "resident",
    ),
    Indicator(
        "vehicles_read_pct",
        "Residents' vehicles read on a typical day (%)",
        "vehicles_read_per_day",
        "cars",
        100.0,
        "vehicle",
    ),
    Indicator(
        "pcns_per_1000_vehicles",
        "PCNs per 1,000 residents' vehicles",
        "pcns",
        "cars",
        1e3,
        "vehicle",
    ),
    Indicator(
        "police_requests_per_1000",
        "Police requests per 1,000 residents",
        "police_requests",
        "population",
        1e3,
        "resident",
    ),
    Indicator(
        "hotlist_hits_per_1000",
        "Hotlist hits per 1,000 residents",
        "hotlist_hits",
        "population",
        1e3,
        "resident",
    ),
)


def denominator(areas: Areas, indicator: Indicator) -> F64:
    value: F64 = getattr(areas, indicator.denominator)
    return value


def rates(areas: Areas, counts: Mapping[str, F64]) -> dict[str, F64]:
    """Each available indicator per area (NaN where the denominator is zero)."""
    out: dict[str, F64] = {}
    for ind in INDICATORS:
        if ind.numerator not in counts:
            continue
        den = denominator(areas, ind)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[ind.key] = np.where(den > 0, counts[ind.numerator] / den * ind.scale, np.nan)
    return out


def average_ranks(values: npt.ArrayLike) -> F64:
    """Ranks 1..n along the last axis, ties sharing their average rank (as scipy's rankdata)."""
    a = np.asarray(values, dtype=np.float64)
    n = a.shape[-1]
    flat = a.reshape(-1, n)
    order = np.argsort(flat, axis=1, kind="stable")
    s = np.take_along_axis(flat, order, axis=1)
    starts = np.ones_like(s, dtype=bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    # a tie group per (row, run of equal values): its mean position is its rank
    group = np.cumsum(starts, axis=1) - 1 + (np.arange(len(flat)) * n)[:, None]
    positions = np.broadcast_to(np.arange(1, n + 1, dtype=np.float64), s.shape)
    with np.errstate(invalid="ignore"):  # unused group numbers are empty; never looked up
        mean = np.bincount(group.ravel(), positions.ravel()) / np.bincount(group.ravel())
    ranks = np.empty_like(flat)
    np.put_along_axis(ranks, order, mean[group], axis=1)
    result: F64 = ranks.reshape(a.shape)
    return result


def _pearson_rows(x: F64, y: F64) -> F64:
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    den = np.sqrt((xc**2).sum(axis=-1) * (yc**2).sum(axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        r: F64 = np.where(den > 0, (xc * yc).sum(axis=-1) / den, np.nan)
    return r


def spearman(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Spearman's rho: Pearson's r of average ranks; NaN if either side is constant."""
    return float(_pearson_rows(average_ranks(x), average_ranks(y)))


@dataclass(frozen=True, slots=True)
class Correlation:
    rho: float
    ci_low: float
    ci_high: float
    n: int


def bootstrap_spearman(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    iterations: int,
    seed: int,
    confidence: float = 0.95,
) -> Correlation:
    """Rho with a percentile bootstrap interval: areas resampled with replacement, all at once.

    Pairs with a missing value are dropped first. Resamples where a side is constant (possible
    with few areas) have no rho and are left out of the interval.
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[keep], ya[keep]
    if len(xa) < 3:
        return Correlation(float("nan"), float("nan"), float("nan"), len(xa))
    idx = resamples(len(xa), iterations=iterations, seed=seed)
    return _interval(
        spearman(xa, ya), average_ranks(xa[idx]), average_ranks(ya[idx]), confidence, len(xa)
    )


def resamples(n: int, *, iterations: int, seed: int) -> npt.NDArray[np.int64]:
    """Bootstrap indices, one resample of n areas per row."""
    return np.random.default_rng(seed).integers(0, n, size=(iterations, n))


def _interval(rho: float, rx: F64, ry: F64, confidence: float, n: int) -> Correlation:
    boot = _pearson_rows(rx, ry)
    boot = boot[np.isfinite(boot)]
    if np.isnan(rho) or len(boot) == 0:
        return Correlation(rho, float("nan"), float("nan"), n)
    tail = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(boot, [tail, 1.0 - tail])
    return Correlation(rho, float(lo), float(hi), n)


@dataclass(frozen=True, slots=True)
class QuintileRatio:
    """The rate in the areas with the highest share of a group over that in the lowest."""

    groups: int
    rate_highest: float
    rate_lowest: float
    ratio: float  # NaN when the lowest group's rate is zero


def group_of(by: npt.ArrayLike, groups: int) -> npt.NDArray[np.int64]:
    """Equal-count groups 0..groups-1 by rank of `by` (ties split by area order)."""
    b = np.asarray(by, dtype=np.float64)
    rank = np.argsort(np.argsort(b, kind="stable"), kind="stable")
    out: npt.NDArray[np.int64] = (rank * groups // max(len(b), 1)).astype(np.int64)
    return out


def quintile_ratio(
    numerator: npt.ArrayLike,
    denominator: npt.ArrayLike,
    by: npt.ArrayLike,
    *,
    groups: int = 5,
    scale: float = 1.0,
) -> QuintileRatio:
    """Pooled rate (sum over sum) of the top group of `by` against the bottom group."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    g = group_of(by, groups)

    def pooled(mask: npt.NDArray[np.bool_]) -> float:
        d = float(den[mask].sum())
        return float(num[mask].sum()) / d * scale if d > 0 else float("nan")

    high, low = pooled(g == groups - 1), pooled(g == 0)
    ratio = high / low if low > 0 else float("nan")
    return QuintileRatio(groups, high, low, ratio)


def _strength(rho: float) -> str:
    r = abs(rho)
    if r < 0.1:
        return "a very weak"
    return "a weak" if r < 0.3 else "a moderate" if r < 0.5 else "a strong"


def finding(
    indicator: Indicator, group: str, level: str, corr: Correlation, ratio: QuintileRatio
) -> str:
    """One plain sentence: what the interval supports, then the quintile ratio as a number."""
    areas = "boroughs" if level == "borough" else "MSOAs"
    # lower-case the first word unless it is an acronym (PCNs)
    label = indicator.label
    if not label[1].isupper():
        label = label[0].lower() + label[1:]
    if corr.n < 3 or np.isnan(corr.rho):
        return f"Not measurable across {areas}: {label} does not vary (or there are no data)."
    if np.isnan(corr.ci_low) or corr.ci_low <= 0.0 <= corr.ci_high:
        head = (
            f"No clear association between {label} and the share of {group} residents across "
            f"{corr.n:,} {areas}"
        )
    else:
        direction = "more" if corr.rho > 0 else "fewer"
        strength = _strength(corr.rho)
        head = (
            f"{strength[0].upper()}{strength[1:]} "
            f"{'positive' if corr.rho > 0 else 'negative'} association: {areas} with a larger "
            f"share of {group} residents tend to have {direction} {label.split(' (')[0]}"
        )
    stats = f" (rho {corr.rho:+.2f}, 95% CI {corr.ci_low:+.2f} to {corr.ci_high:+.2f})"
    part = "fifth" if ratio.groups == 5 else f"1/{ratio.groups}"
    if np.isnan(ratio.ratio):
        tail = f"; the {part} with the lowest share has none, so no ratio is given."
    else:
        tail = (
            f"; the {part} of {areas} with the highest share has {ratio.ratio:.2f} times the rate "
            f"of the {part} with the lowest ({ratio.rate_highest:.3g} vs {ratio.rate_lowest:.3g})."
        )
    return head + stats + tail


@dataclass(frozen=True, slots=True)
class Association:
    level: str
    indicator: str
    composition: str
    correlation: Correlation
    ratio: QuintileRatio
    finding: str


def associations(
    areas: Areas,
    counts: Mapping[str, F64],
    *,
    groups: int,
    iterations: int,
    seed: int,
    confidence: float,
    min_events: float = 0.0,
) -> list[Association]:
    """Every available indicator against every composition measure, at one level.

    An indicator whose numerator totals fewer than `min_events` (say one police request in all
    London) gets no correlation: with almost every area at zero, ties make the bootstrap
    interval look precise when it means nothing.

    All pairs share one set of resamples, so each variable's resampled ranks are computed once
    (the costly step at 1,002 MSOAs) and intervals of different pairs are directly comparable.
    """
    per_area = rates(areas, counts)
    n = len(areas)
    idx = resamples(n, iterations=iterations, seed=seed)
    boot_ranks: dict[str, F64] = {}

    def ranks_of(key: str, values: F64) -> F64:
        if key not in boot_ranks:
            boot_ranks[key] = average_ranks(values[idx])
        return boot_ranks[key]

    out: list[Association] = []
    for ind in INDICATORS:
        if ind.key not in per_area:
            continue
        rate = per_area[ind.key]
        total = float(np.nansum(counts[ind.numerator]))
        for comp, group in COMPOSITION.items():
            share = areas.composition[comp]
            if np.isfinite(rate).all() and np.isfinite(share).all() and n >= 3:
                corr = _interval(
                    spearman(rate, share),
                    ranks_of(ind.key, rate),
                    ranks_of(comp, share),
                    confidence,
                    n,
                )
            else:  # some area has no denominator: resample the complete pairs only
                corr = bootstrap_spearman(
                    rate, share, iterations=iterations, seed=seed, confidence=confidence
                )
            ratio = quintile_ratio(
                counts[ind.numerator],
                denominator(areas, ind),
                share,
                groups=groups,
                scale=ind.scale,
            )
            out.append(
                Association(
                    areas.level,
                    ind.key,
                    comp,
                    corr,
                    ratio,
                    too_few(ind, areas.level, total, min_events)
                    if total < min_events
                    else finding(ind, group, areas.level, corr, ratio),
                )
            )
    return out


def too_few(indicator: Indicator, level: str, total: float, min_events: float) -> str:
    return (
        f"Too few events to judge {indicator.label[0].lower() + indicator.label[1:]} across "
        f"{'boroughs' if level == 'borough' else 'MSOAs'}: {total:g} in all, fewer than the "
        f"{min_events:g} needed (oversight.min_events)."
    )
