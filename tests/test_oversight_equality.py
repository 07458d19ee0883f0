"""Indicators, Spearman with bootstrap intervals, quintile ratios and findings, by hand."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from ringfence.oversight.equality import (
    INDICATORS,
    associations,
    average_ranks,
    bootstrap_spearman,
    finding,
    group_of,
    quintile_ratio,
    rates,
    spearman,
)
from ringfence.oversight.geography import COMPOSITION, ETHNIC_GROUPS, Areas, load_areas


def square(x: float, y: float) -> shapely.Polygon:
    return shapely.box(x, y, x + 1, y + 1)


def tiny_areas(n: int = 3) -> Areas:
    """n unit squares in a row, with residents, cars and composition chosen for easy sums."""
    share = np.linspace(10.0, 90.0, n)
    return Areas(
        level="msoa",
        codes=tuple(f"A{i}" for i in range(n)),
        names=tuple(f"Area {i}" for i in range(n)),
        parent=("B",) * n,
        geometry=np.array([square(float(i), 0.0) for i in range(n)], dtype=object),
        area_km2=np.full(n, 2.0),
        population=np.arange(1, n + 1, dtype=np.float64) * 1000,
        cars=np.full(n, 500.0),
        composition={c: share for c in COMPOSITION},
        ethnic={label: np.full(n, 100.0) for label, _ in ETHNIC_GROUPS},
    )


def test_each_indicator_is_its_numerator_over_its_denominator() -> None:
    a = tiny_areas()
    counts = {
        "cameras": np.array([4.0, 0.0, 6.0]),
        "reads_per_day": np.array([100.0, 500.0, 3000.0]),
        "vehicles_read_per_day": np.array([50.0, 100.0, 250.0]),
        "pcns": np.array([1.0, 2.0, 5.0]),
        "police_requests": np.array([0.0, 2.0, 3.0]),
        "hotlist_hits": np.array([3.0, 0.0, 0.0]),
    }
    r = rates(a, counts)
    assert r["cameras_per_km2"].tolist() == [2.0, 0.0, 3.0]  # / 2 km²
    assert r["cameras_per_1000"].tolist() == [4.0, 0.0, 2.0]  # / 1, 2, 3 thousand residents
    assert r["reads_per_resident"].tolist() == [0.1, 0.25, 1.0]
    assert r["vehicles_read_pct"].tolist() == [10.0, 20.0, 50.0]  # of 500 cars
    assert r["pcns_per_1000_vehicles"].tolist() == [2.0, 4.0, 10.0]
    assert r["police_requests_per_1000"].tolist() == [0.0, 1.0, 1.0]
    assert r["hotlist_hits_per_1000"].tolist() == [3.0, 0.0, 0.0]
    assert len(r) == len(INDICATORS)


def test_an_indicator_without_its_numerator_is_not_measured_rather_than_zero() -> None:
    r = rates(tiny_areas(), {"cameras": np.array([1.0, 1.0, 1.0])})
    assert set(r) == {"cameras_per_km2", "cameras_per_1000"}


def test_average_ranks_share_ties_like_rankdata() -> None:
    assert average_ranks([10, 30, 20, 20]).tolist() == [1.0, 4.0, 2.5, 2.5]
    rows = average_ranks(np.array([[3, 1, 2], [5, 5, 5]]))
    assert rows.tolist() == [[3.0, 1.0, 2.0], [2.0, 2.0, 2.0]]


def test_spearman_matches_the_textbook_formula() -> None:
    # no ties: rho = 1 - 6 sum(d^2) / (n (n^2 - 1)); d = (1, 1, 1, 1, 0) gives 1 - 24/120
    assert spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)
    assert spearman([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)
    assert np.isnan(spearman([1, 2, 3], [5, 5, 5]))


def test_bootstrap_interval_is_degenerate_for_a_perfect_rank_relation() -> None:
    x = np.arange(50.0)
    c = bootstrap_spearman(x, x**3, iterations=200, seed=1)
    assert (c.rho, c.ci_low, c.ci_high, c.n) == (1.0, 1.0, 1.0, 50)


def test_bootstrap_interval_covers_zero_for_independent_data_and_not_for_dependent() -> None:
    rng = np.random.default_rng(7)
    x, noise, other = rng.normal(size=(3, 400))
    unrelated = bootstrap_spearman(x, other, iterations=500, seed=3)
    assert unrelated.ci_low < 0 < unrelated.ci_high
    related = bootstrap_spearman(x, x + noise, iterations=500, seed=3)
    # population rho for y = x + N(0,1) is (6/pi) asin(r/2) with r = 1/sqrt(2): 0.6829
    assert related.ci_low < 0.6829 < related.ci_high
    assert related.ci_low > 0.5


def test_bootstrap_is_repeatable_for_a_seed() -> None:
    x = np.arange(30.0)
    y = np.sin(x)
    assert bootstrap_spearman(x, y, iterations=100, seed=5) == bootstrap_spearman(
        x, y, iterations=100, seed=5
    )


def test_groups_are_equal_count_by_rank() -> None:
    assert group_of([50, 10, 40, 20, 30, 60, 90, 80, 70, 100], 5).tolist() == [
        2,
        0,
        1,
        0,
        1,
        2,
        4,
        3,
        3,
        4,
    ]


def test_quintile_ratio_pools_numerators_and_denominators() -> None:
    by = np.arange(10.0)  # groups of two: (0, 1) lowest ... (8, 9) highest
    num = np.array([1, 3, 0, 0, 0, 0, 0, 0, 10, 14], dtype=float)
    den = np.array([100, 100, 1, 1, 1, 1, 1, 1, 100, 300], dtype=float)
    q = quintile_ratio(num, den, by, groups=5, scale=1000)
    assert q.rate_lowest == pytest.approx(4 / 200 * 1000)
    assert q.rate_highest == pytest.approx(24 / 400 * 1000)
    assert q.ratio == pytest.approx(3.0)
    none_low = quintile_ratio([0, 0, 5, 5], [1, 1, 1, 1], [1, 2, 3, 4], groups=2)
    assert np.isnan(none_low.ratio)


def test_findings_follow_the_interval() -> None:
    a = tiny_areas(40)
    share = a.composition["pct_black"]
    strong = associations(
        a,
        {"cameras": share * 2},
        groups=5,
        iterations=200,
        seed=1,
        confidence=0.95,
    )
    assert strong[0].finding.startswith("A strong positive association")
    rng = np.random.default_rng(11)
    noise = associations(
        a,
        {"cameras": rng.permutation(share)},
        groups=5,
        iterations=400,
        seed=1,
        confidence=0.95,
    )
    for f in noise:
        if f.correlation.ci_low <= 0 <= f.correlation.ci_high:
            assert f.finding.startswith("No clear association")
        else:
            assert "association:" in f.finding
    flat = associations(
        a, {"cameras": np.ones(40)}, groups=5, iterations=50, seed=1, confidence=0.95
    )
    assert flat[0].finding.startswith("Not measurable")


def test_finding_keeps_acronyms() -> None:
    from ringfence.oversight.equality import Correlation, QuintileRatio

    pcn = next(i for i in INDICATORS if i.key == "pcns_per_1000_vehicles")
    text = finding(
        pcn, "Black", "borough", Correlation(0.1, -0.2, 0.4, 33), QuintileRatio(5, 2, 1, 2)
    )
    assert "between PCNs per 1,000" in text and "2.00 times" in text


def test_census_areas_load_and_locate_points() -> None:
    boroughs = load_areas("borough")
    assert len(boroughs) == 33 and boroughs.population.sum() == pytest.approx(8_799_710)
    msoa = load_areas("msoa")
    assert len(msoa) == 1002
    # Guildhall is in the City; a point on the Thames goes to the nearest borough
    where = boroughs.locate([-0.0916, -0.1100], [51.5155, 51.5080])
    assert boroughs.codes[where[0]] == "E09000001"
    assert where[1] >= 0


def test_exposure_counts_each_groups_residents_in_the_masked_areas() -> None:
    from ringfence.services.oversight_equality import exposure

    a = tiny_areas(4)
    a.ethnic["Black"][:] = [100.0, 300.0, 0.0, 600.0]
    covered = np.array([True, False, False, True])
    ringed = np.array([False, True, False, False])
    rows = {r["group"]: r for r in exposure(a, covered, covered | ringed, ringed)}
    black = rows["Black"]
    assert (black["residents"], black["covered"], black["ringed"]) == (1000, 700, 300)
    assert black["covered_share"] == pytest.approx(0.7) and black["ringed_share"] == 0.3
    assert rows["All residents"]["covered"] == 1000 + 4000  # populations 1..4 thousand


def test_each_ring_is_listed_with_its_residents_and_composition() -> None:
    from ringfence.services.oversight_equality import ring_demographics

    a = tiny_areas(4)  # populations 1..4 thousand; every group 100 per area by default
    a.ethnic["Black"][:] = [0.0, 900.0, 0.0, 0.0]
    a.ethnic["White British"][:] = [1000.0, 100.0, 3000.0, 4000.0]
    boroughs = tiny_areas(1)
    boroughs = Areas(**{**boroughs.__dict__, "codes": ("B",), "names": ("Borough B",)})
    cell = np.array([0, 0, 1, -1])
    ringed = np.array([True, True, False, False])  # cell 1 is enclosed but too large
    rings = ring_demographics(a, boroughs, cell, ringed)
    assert len(rings) == 1
    ring = rings[0]
    assert (ring["residents"], ring["msoas"], ring["boroughs"]) == (3000, 2, ["Borough B"])
    assert ring["pct_black"] == 30.0  # 900 of 3,000
    assert ring["pct_not_white_british"] == pytest.approx(100 * (1 - 1100 / 3000), abs=0.05)
    assert "Black" in ring["over_represented"]  # London: 900 of 10,000


def test_an_indicator_with_too_few_events_is_not_judged() -> None:
    a = tiny_areas(40)
    one_request = np.zeros(40)
    one_request[-1] = 1.0  # one request, in the most diverse area
    found = associations(
        a,
        {"police_requests": one_request},
        groups=5,
        iterations=200,
        seed=1,
        confidence=0.95,
        min_events=30,
    )
    assert all(f.finding.startswith("Too few events to judge police requests") for f in found)
    judged = associations(
        a, {"police_requests": one_request}, groups=5, iterations=200, seed=1, confidence=0.95
    )
    assert not judged[0].finding.startswith("Too few")
