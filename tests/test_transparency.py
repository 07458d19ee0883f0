"""Transparency core: tables counted from a synthetic audit log, DP accuracy, the budget ledger.

The synthetic log is appended through `AuditLog` itself (hash-chained, as the lead's services will
write it), with the events and attrs the lead is adding; expected counts are worked out by hand
in the comments.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ringfence.audit import AuditLog, Entry
from ringfence.oversight.charts import bar_chart
from ringfence.oversight.privacy import (
    BudgetExceededError,
    LedgerEntry,
    Noise,
    check_budget,
    ledger,
    privatise,
    spent_by_day,
)
from ringfence.oversight.transparency import (
    OTHER,
    Public,
    aggregate,
    hotlist_table,
    spec,
)

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
IN = datetime(2026, 11, 10, 9, tzinfo=UTC)
BEFORE = datetime(2026, 10, 20, 9, tzinfo=UTC)
AFTER = datetime(2026, 12, 2, 9, tzinfo=UTC)
MET, CITY = "metropolitan_police", "city_of_london_police"
SERIOUS = "law_enforcement:serious_crime"
CRIME = "law_enforcement:crime_prevention_detection"


def _submitted(kind: str, purpose: str, force: str, borough: str) -> dict[str, str]:
    return {
        "kind": kind,
        "purpose": purpose,
        "legal_basis": "DPA2018_Part3",
        "force": force,
        "seriousness": "serious",
        "networks": "cc_lez_2015",
        "borough": borough,
    }


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    audit = AuditLog(tmp_path / "audit")

    def add(event: str, at: datetime = IN, **kw: object) -> None:
        audit.append(event, actor="test", at=at, subject=kw.pop("subject", "s"), why="t", **kw)  # type: ignore[arg-type]

    # Reads: two batches in the period, one before it (not counted).
    add("reads-ingested", counts={"received": 10, "stored": 7, "duplicates": 2, "quarantined": 1})
    add("reads-ingested", counts={"received": 5, "stored": 5, "duplicates": 0, "quarantined": 0})
    add("reads-ingested", BEFORE, counts={"received": 99, "stored": 99})
    purge = {"rule": "reads-charging", "purpose": "charging", "target": "reads"}
    add("reads-deleted", counts={"deleted": 30, "held_back": 2}, attrs=purge)
    add("reads-deleted", counts={"deleted": 12, "held_back": 0}, attrs=purge)
    key = {"rule": "keys-crypto-shred", "purpose": "charging", "target": "key"}
    add("key-destroyed", counts={"deleted": 1, "held_back": 0}, attrs=key)
    # Police: three submissions in the period (two met, one city), one after it.
    add("request-submitted", attrs=_submitted("vehicle_history", SERIOUS, MET, "E09000001"))
    add(
        "request-submitted",
        attrs=_submitted("location", CRIME, MET, "E09000001;E09000007;E09000033;E09000021"),
    )
    add("request-submitted", attrs=_submitted("vehicle_history", SERIOUS, CITY, ""))
    add("request-submitted", AFTER, attrs=_submitted("location", SERIOUS, MET, "E09000001"))
    decided = {"kind": "vehicle_history", "purpose": SERIOUS, "legal_basis": "DPA2018_Part3"}
    add(
        "request-decided",
        attrs={
            **decided,
            "force": MET,
            "step": "authorise",
            "outcome": "authorised",
            "reasons": "",
        },
    )
    add(
        "request-decided",
        attrs={**decided, "force": MET, "step": "review", "outcome": "narrowed", "reasons": ""},
    )
    add(
        "request-decided",
        attrs={
            **decided,
            "force": CITY,
            "step": "submit",
            "outcome": "refused",
            "reasons": "age:too_old;instrument:purpose",
        },
    )
    add("request-withdrawn", attrs={**decided, "force": CITY})
    add(
        "release-issued",
        counts={"reads": 40, "vehicles": 2},
        attrs={**decided, "force": MET, "networks": "cc_lez_2015", "data_classes": "vrm_text"},
        digest="a" * 64,
    )
    # Hotlist: one added before the period, two in it, one expiry of 1 entry, one removal.
    add("hotlist-entry-added", BEFORE, attrs={"force": MET, "reason": "stolen"})
    add("hotlist-entry-added", attrs={"force": MET, "reason": "stolen"})
    add("hotlist-entry-added", attrs={"force": CITY, "reason": "wanted"})
    add("hotlist-entry-refused", attrs={"force": MET, "reasons": "hotlist:expiry_too_long"})
    add("hotlist-entry-expired", counts={"entries": 1})
    add("hotlist-entry-removed")
    hit = {"network": "cc_lez_2015", "force": MET}
    add("hotlist-hit", counts={"hits": 1}, attrs={**hit, "borough": "E09000001"})
    add(
        "hotlist-hit",
        counts={"hits": 4},
        attrs={**hit, "borough": "E09000001", "historical": "yes"},
    )
    add(
        "hotlist-hit-reviewed", attrs={"outcome": "confirmed", "borough": "E09000001", "force": MET}
    )
    add("hotlist-hit-reviewed", attrs={"outcome": "misread", "borough": "E09000001", "force": MET})
    add("governance-changed", attrs={"change": "dpia-recorded", "ref": "DPIA-7"})
    return audit


@pytest.fixture
def entries(log: AuditLog) -> list[Entry]:
    return list(log.entries())


def _cells(entries: list[Entry], name: str) -> dict[tuple[str, ...], int]:
    return aggregate(entries, spec(name), START, END).cells


def test_reads_and_retention_counted_from_the_log_in_the_period(entries: list[Entry]) -> None:
    # 10+5 received, 7+5 stored, 2 duplicates, 1 quarantined; the October batch is outside.
    assert _cells(entries, "reads_ingested") == {
        ("received",): 15,
        ("stored",): 12,
        ("duplicates",): 2,
        ("quarantined",): 1,
    }
    assert _cells(entries, "records_purged") == {
        ("reads-deleted", "reads-charging", "charging", "deleted"): 42,
        ("reads-deleted", "reads-charging", "charging", "held_back"): 2,
        ("key-destroyed", "keys-crypto-shred", "charging", "deleted"): 1,
        ("key-destroyed", "keys-crypto-shred", "charging", "held_back"): 0,
    }
    assert _cells(entries, "key_destructions") == {("keys-crypto-shred",): 1}


def test_police_requests_by_type_force_borough_and_outcome(entries: list[Entry]) -> None:
    assert _cells(entries, "requests_by_kind") == {("vehicle_history",): 2, ("location",): 1}
    assert _cells(entries, "requests_by_force") == {(MET,): 2, (CITY,): 1}
    # Boroughs are ";"-joined: the location request counts once in each of its four.
    assert _cells(entries, "requests_by_borough") == {
        ("E09000001",): 2,
        ("E09000007",): 1,
        ("E09000033",): 1,
        ("E09000021",): 1,
        ("unknown",): 1,
    }
    assert _cells(entries, "request_outcomes") == {
        ("authorise", "authorised"): 1,
        ("review", "narrowed"): 1,
        ("submit", "refused"): 1,
        ("withdraw", "withdrawn"): 1,
    }
    assert _cells(entries, "request_outcomes_by_force") == {
        (MET, "authorised"): 1,
        (MET, "narrowed"): 1,
        (CITY, "refused"): 1,
        (CITY, "withdrawn"): 1,
    }
    # Allowed decisions carry no reasons (counted as unknown); the refusal names two.
    reasons = _cells(entries, "refusal_reasons")
    assert reasons[("age:too_old",)] == 1 and reasons[("instrument:purpose",)] == 1
    assert _cells(entries, "releases") == {("events",): 1, ("reads",): 40, ("vehicles",): 2}


def test_hotlist_size_additions_hits_and_reviews(entries: list[Entry]) -> None:
    # Size: 1 before; +2 added, -1 expired, -1 removed in the period = 1 at the end.
    assert hotlist_table(entries, START, END).cells == {
        ("size_at_start",): 1,
        ("added",): 2,
        ("refused",): 1,
        ("expired",): 1,
        ("removed",): 1,
        ("size_at_end",): 1,
    }
    assert _cells(entries, "hotlist_hits_by_borough") == {("E09000001",): 5}
    # the first hit predates the attr: counted as unknown, not guessed
    assert _cells(entries, "hotlist_hits_by_kind") == {("unknown",): 1, ("yes",): 4}
    assert _cells(entries, "hotlist_hit_reviews") == {("confirmed",): 1, ("misread",): 1}
    assert _cells(entries, "governance_changes") == {("dpia-recorded", "DPIA-7"): 1}


def test_public_counting_uses_the_public_domain_and_bounds_each_event(
    entries: list[Entry],
) -> None:
    public = Public({"borough": ["E09000001", "E09000007", "E09000021", "E09000999"]}, bound=3)
    cells = aggregate(entries, spec("requests_by_borough"), START, END, public=public).cells
    # Every public borough has a cell, zero or not, plus `other`; E09000033 and the empty scope
    # fall in `other`. The four-borough request is truncated to its first three (sorted:
    # E09000001, E09000007, E09000021; its E09000033 is dropped by the bound).
    assert cells == {
        ("E09000001",): 2,
        ("E09000007",): 1,
        ("E09000021",): 1,
        ("E09000999",): 0,
        (OTHER,): 1,
    }
    # Bound 1 clamps the 4-hit entry to 1: one event moves the table by at most 1.
    hits = aggregate(
        entries,
        spec("hotlist_hits_by_borough"),
        START,
        END,
        public=Public({"borough": ["E09000001"]}, bound=1),
    ).cells
    assert hits == {("E09000001",): 2, (OTHER,): 0}


def test_a_dimension_without_a_public_domain_cannot_be_published(entries: list[Entry]) -> None:
    with pytest.raises(ValueError, match="no public domain"):
        aggregate(entries, spec("requests_by_force"), START, END, public=Public({}, bound=1))


# -- differential privacy --------------------------------------------------------------------
DRAWS = 2000


@pytest.mark.parametrize(
    ("epsilon", "sensitivity", "alpha"), [("0.1", 1, 0.05), ("0.5", 3, 0.05), ("1.0", 1, 0.1)]
)
def test_noisy_counts_stay_within_the_stated_accuracy(
    epsilon: str, sensitivity: int, alpha: float
) -> None:
    noise = Noise(Decimal(epsilon), sensitivity, alpha)
    # Counts far from zero, so publishing negatives as 0 cannot help the coverage: this
    # measures the mechanism and OpenDP's stated accuracy alone.
    exact = [200, 1000, 5000, 20000]
    within = total = 0
    for _ in range(DRAWS // len(exact)):
        for true, noisy in zip(exact, privatise(exact, noise), strict=True):
            total += 1
            within += abs(noisy - true) <= noise.accuracy
    share = within / total
    # At least 1 - alpha within the bound, less 4 binomial standard errors of sampling slack
    # (a false failure about once in 30,000 runs).
    slack = 4 * (alpha * (1 - alpha) / total) ** 0.5
    assert share >= 1 - alpha - slack, (share, noise.accuracy)
    # ...and the bound is not vacuous: the noise is really there at this scale.
    assert within < total


def test_the_stated_accuracy_follows_the_scale() -> None:
    # Scale = sensitivity / epsilon: ten times the epsilon, a tenth of the error (about).
    wide, narrow = Noise(Decimal("0.1"), 1, 0.05), Noise(Decimal("1.0"), 1, 0.05)
    assert wide.accuracy > 5 * narrow.accuracy > 0
    assert Noise(Decimal("0.1"), 3, 0.05).accuracy > 2 * wide.accuracy


def test_noise_is_never_negative_and_varies() -> None:
    drawn = [privatise([0, 0, 0], Noise(Decimal("0.2"), 1, 0.05)) for _ in range(200)]
    assert min(v for d in drawn for v in d) == 0
    assert len({tuple(d) for d in drawn}) > 10


# -- the budget ledger -----------------------------------------------------------------------
def _dp_entries(tmp_path: Path, releases: list[tuple[str, str]]) -> Iterator[Entry]:
    audit = AuditLog(tmp_path / "ledger")
    for i, (period, eps) in enumerate(releases):
        audit.append(
            "dp-release",
            actor="test",
            at=IN + timedelta(hours=i),
            subject=f"TR-{i}",
            why="t",
            counts={"cells": 10},
            attrs={"epsilon": eps, "tables": "a;b", "period": period},
        )
    return audit.entries()


def test_budget_accounting_refuses_a_release_past_the_budget(tmp_path: Path) -> None:
    releases = ledger(
        _dp_entries(
            tmp_path, [("2026-11-01..2026-11-30", "1.4"), ("2026-11-15..2026-12-15", "1.4")]
        )
    )
    assert [r.release_id for r in releases] == ["TR-0", "TR-1"]
    budget = Decimal("3.0")
    # 15-30 Nov have borne 2.8: another 0.2 fits exactly, 0.3 does not.
    assert check_budget(releases, date(2026, 11, 20), date(2026, 11, 20), Decimal("0.2"), budget)
    with pytest.raises(BudgetExceededError, match=r"2\.8"):
        check_budget(releases, date(2026, 11, 20), date(2026, 11, 20), Decimal("0.3"), budget)
    # Early November bore only the first release; December only the second: both fit 1.6.
    check_budget(releases, date(2026, 11, 1), date(2026, 11, 14), Decimal("1.6"), budget)
    check_budget(releases, date(2026, 12, 1), date(2026, 12, 31), Decimal("1.6"), budget)
    # A period touching the busy fortnight by one day is refused.
    with pytest.raises(BudgetExceededError):
        check_budget(releases, date(2026, 11, 1), date(2026, 11, 15), Decimal("1.6"), budget)
    by_day = spent_by_day(releases, date(2026, 11, 14), date(2026, 11, 16))
    assert list(by_day.values()) == [Decimal("1.4"), Decimal("2.8"), Decimal("2.8")]


def test_decimal_epsilons_add_up_exactly() -> None:
    # Ten releases of 0.1 are exactly 1.0: a float ledger would refuse the tenth at budget 1.0.
    day = date(2026, 11, 1)
    releases = [LedgerEntry(f"R{i}", IN, day, day, Decimal("0.1"), ("t",), 1) for i in range(9)]
    check_budget(releases, day, day, Decimal("0.1"), Decimal("1.0"))


# -- charts ----------------------------------------------------------------------------------
def test_bar_chart_escapes_labels_and_scales_bars() -> None:
    svg = bar_chart("A <b> & c", ["<script>", "b"], [10, 5], error=2)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    widths = [
        float(line.split('width="')[1].split('"')[0])
        for line in svg.splitlines()
        if line.startswith('<rect x="360"')
    ]
    assert widths[0] == pytest.approx(2 * widths[1], abs=0.2)  # drawn to 0.1 px
    assert "10 ±2" in svg


# -- rules are data ----------------------------------------------------------------------------
_PERSONAL = ("request-", "release-issued", "hotlist-entry-added", "hotlist-entry-refused")


def test_every_small_cell_police_and_hotlist_table_is_protected_by_default(
    tmp_path: Path,
) -> None:
    # A table breaking police or hotlist events down by any dimension has small cells: the
    # packaged defaults must publish it only with noise.
    from ringfence.oversight.transparency import TABLES
    from ringfence.settings import load_settings

    rules = load_settings(tmp_path).transparency
    small = {
        t.name
        for t in TABLES
        if t.dims
        and (
            any(e.startswith(_PERSONAL) for e in t.events)
            or any(e.startswith("hotlist-hit") for e in t.events)
        )
    }
    assert small and {t for t in small if rules.rule(t) is None} == set()
    assert sum(p.epsilon for p in rules.protected) <= rules.budget_epsilon


def test_transparency_settings_are_checked(tmp_path: Path) -> None:
    from ringfence.errors import ConfigError
    from ringfence.settings import load_settings

    local = tmp_path / "ringfence.toml"
    local.write_text("[transparency.protected]\nrequests_by_kind = { epsilon = -1 }\n")
    with pytest.raises(ConfigError, match="positive"):
        load_settings(tmp_path)
    local.write_text("[transparency]\nalpha = 1.5\n")
    with pytest.raises(ConfigError, match="alpha"):
        load_settings(tmp_path)
    local.write_text("[transparency.protected]\nrequests_by_kind = { epsilon = 0.5, bound = 2 }\n")
    rule = load_settings(tmp_path).transparency.rule("requests_by_kind")
    assert rule is not None and (rule.epsilon, rule.bound) == (Decimal("0.5"), 2)
