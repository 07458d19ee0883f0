"""Governance as dated data: London's history loads, in-force logic at its boundaries, and the
loader's errors name the file and the field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ringfence.domain.sharing import (
    DPIA,
    Direction,
    Instrument,
    Seriousness,
    load_governance_book,
)
from ringfence.errors import ConfigError, NotFoundError

BOOK = load_governance_book()
PACKAGED = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "ringfence"
    / "governance"
    / "london"
    / "instruments.toml"
)


# --- London's history -----------------------------------------------------------------------------


def test_london_history_loads() -> None:
    by_id = {i.instrument_id: i for i in BOOK.instruments}
    assert sorted(by_id) == ["md2977_cc_lez_inner", "md2977_london_wide", "md_2015_cc_lez"]
    assert BOOK.networks == {"cc_lez_2015", "ulez_inner_2021", "ulez_london_2023"}
    first = by_id["md_2015_cc_lez"]
    assert first.networks == {"cc_lez_2015"}
    assert first.data_classes == {"vrm_text"}
    assert first.revoked_on == date(2022, 5, 16)
    inner = by_id["md2977_cc_lez_inner"]
    assert inner.reference == "MD2977"
    assert inner.networks == {"cc_lez_2015", "ulez_inner_2021"}
    assert inner.data_classes == {"vrm_text", "contextual_images"}
    wide = by_id["md2977_london_wide"]
    assert wide.networks == {"ulez_london_2023"}
    assert wide.conditions == {"dpia_approved", "mayoral_direction"}
    # Nothing recorded yet: the London-wide network is not shared.
    assert BOOK.dpias == () and BOOK.directions == ()
    # Case-by-case access only: no London instrument allows a bulk feed.
    assert all("bulk_feed" not in i.uses for i in BOOK.instruments)
    assert all(i.recipients == {"metropolitan_police"} for i in BOOK.instruments)


def test_london_access_rules() -> None:
    rules = BOOK.rules
    order = rules.rank_order
    assert order("constable") < order("sergeant") < order("inspector")  # type: ignore[operator]
    assert order("inspector") < order("chief_inspector") < order("superintendent")  # type: ignore[operator]
    assert order("superintendent") < order("chief_superintendent")  # type: ignore[operator]
    assert order("general") is None
    assert "DPA2018_Part3" in rules.legal_bases
    assert rules.hotlist_max_days == 28
    assert [b.max_age_days for b in rules.age_bands] == [90, 365]
    assert rules.band_for(0) == rules.band_for(90) == rules.age_bands[0]
    assert rules.band_for(91) == rules.band_for(365) == rules.age_bands[1]
    assert rules.age_bands[1].min_rank == "superintendent"
    assert Seriousness.STANDARD not in rules.age_bands[1].seriousness
    assert rules.band_for(366) is None


# --- In force, at the boundaries ------------------------------------------------------------------


def _instrument(**changes: object) -> Instrument:
    base = {
        "instrument_id": "t",
        "reference": "T1",
        "title": "test",
        "signer": "someone",
        "signed_on": date(2024, 1, 1),
        "effective_from": date(2024, 1, 10),
        "effective_to": date(2024, 2, 10),
        "networks": frozenset({"n"}),
        "data_classes": frozenset({"vrm_text"}),
        "recipients": frozenset({"r"}),
        "purposes": frozenset({"p"}),
    }
    return Instrument(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 1, 9), False),  # before effective_from
        (date(2024, 1, 10), True),  # effective_from is in force
        (date(2024, 2, 9), True),  # last day
        (date(2024, 2, 10), False),  # effective_to is not (half-open)
    ],
)
def test_instrument_in_force_is_half_open(day: date, expected: bool) -> None:
    assert _instrument().in_force(day) is expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [(date(2024, 1, 19), True), (date(2024, 1, 20), False), (date(2024, 2, 1), False)],
)
def test_revoked_instrument_stops_on_its_revocation_day(day: date, expected: bool) -> None:
    instrument = _instrument(revoked_on=date(2024, 1, 20))
    assert instrument.in_force(day) is expected
    assert instrument.is_effective(day)  # revocation is separate from the dated window


def test_london_2015_decision_boundaries() -> None:
    first = BOOK.instrument("md_2015_cc_lez")
    assert not first.in_force(date(2015, 5, 21))
    assert first.in_force(date(2015, 5, 22))
    assert first.in_force(date(2022, 5, 15))
    assert not first.in_force(date(2022, 5, 16))
    assert BOOK.instrument("md2977_cc_lez_inner").in_force(date(2022, 5, 16))
    assert not BOOK.instrument("md2977_london_wide").in_force(date(2023, 8, 28))
    assert BOOK.instrument("md2977_london_wide").in_force(date(2023, 8, 29))


def test_revoke_returns_a_new_book_and_keeps_an_earlier_revocation() -> None:
    revoked = BOOK.revoke("md2977_cc_lez_inner", date(2026, 6, 1))
    assert revoked.instrument("md2977_cc_lez_inner").revoked_on == date(2026, 6, 1)
    assert BOOK.instrument("md2977_cc_lez_inner").revoked_on is None
    again = BOOK.revoke("md_2015_cc_lez", date(2030, 1, 1))
    assert again.instrument("md_2015_cc_lez").revoked_on == date(2022, 5, 16)
    with pytest.raises(NotFoundError, match="no instrument 'nope'"):
        BOOK.revoke("nope", date(2026, 1, 1))


def _dpia(**changes: object) -> DPIA:
    base = {
        "dpia_id": "d",
        "version": "1.0",
        "networks": frozenset({"ulez_london_2023"}),
        "purposes": frozenset({"law_enforcement:serious_crime"}),
        "status": "approved",
        "approved_on": date(2026, 1, 5),
        "review_on": date(2027, 1, 5),
    }
    return DPIA(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dpia", "day", "expected"),
    [
        (_dpia(), date(2026, 1, 4), False),
        (_dpia(), date(2026, 1, 5), True),
        (_dpia(), date(2027, 1, 4), True),
        (_dpia(), date(2027, 1, 5), False),  # due for review: stops counting
        (_dpia(review_on=None), date(2040, 1, 1), True),
        (_dpia(status="draft"), date(2026, 6, 1), False),
        (_dpia(status="withdrawn"), date(2026, 6, 1), False),
        (_dpia(status="expired"), date(2026, 6, 1), False),
    ],
)
def test_dpia_approval_boundaries(dpia: DPIA, day: date, expected: bool) -> None:
    assert dpia.is_approved(day) is expected
    book = BOOK.with_dpia(dpia)
    met = book.condition_met(
        "dpia_approved", "ulez_london_2023", "law_enforcement:serious_crime", day
    )
    assert (met == "d v1.0") is expected


def test_dpia_must_cover_network_and_purpose() -> None:
    book = BOOK.with_dpia(_dpia())
    day = date(2026, 6, 1)
    assert book.approved_dpia("ulez_london_2023", "law_enforcement:serious_crime", day)
    assert not book.approved_dpia("ulez_inner_2021", "law_enforcement:serious_crime", day)
    assert not book.approved_dpia("ulez_london_2023", "law_enforcement:missing_persons", day)


def test_direction_counts_from_its_signing_day_and_only_from_its_issuer() -> None:
    direction = Direction("MD-X", "mayor", frozenset({"ulez_london_2023"}), date(2026, 2, 1))
    book = BOOK.with_direction(direction)
    met = book.condition_met
    assert met("mayoral_direction", "ulez_london_2023", "p", date(2026, 1, 31)) is None
    assert met("mayoral_direction", "ulez_london_2023", "p", date(2026, 2, 1)) == "MD-X"
    assert met("mayoral_direction", "ulez_inner_2021", "p", date(2026, 2, 1)) is None
    other = BOOK.with_direction(
        Direction("C-1", "commissioner", direction.networks, date(2026, 2, 1))
    )
    assert (
        other.condition_met("mayoral_direction", "ulez_london_2023", "p", date(2026, 3, 1)) is None
    )


# --- Loader errors name the file and the field ----------------------------------------------------

TEXT = PACKAGED.read_text()
FIRST_ID = 'instrument_id = "md_2015_cc_lez"'
DPIA_BLOCK = """
[[dpias]]
dpia_id = "x"
version = "1"
networks = ["ulez_london_2023"]
purposes = ["law_enforcement:serious_crime"]
status = "approved"
"""


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (
            'data_classes = ["vrm_text"]',
            'data_classes = ["vrm_text", "thermal"]',
            "instruments[0].data_classes: unknown 'thermal'",
        ),
        (FIRST_ID, FIRST_ID + '\ncolour = "red"', "instruments[0].colour: unknown field"),
        (
            FIRST_ID,
            FIRST_ID + "\neffective_to = 2015-01-02",
            "instruments[0].effective_to: must be after effective_from",
        ),
        (
            "signed_on = 2022-05-16\neffective_from = 2022-05-16",
            'signed_on = "2022-05-16"\neffective_from = 2022-05-16',
            "instruments[1].signed_on: expected a date",
        ),
        (
            'conditions = ["dpia_approved", "mayoral_direction"]',
            'conditions = ["dpia_approved", "coin_toss"]',
            "instruments[2].conditions: unknown 'coin_toss'",
        ),
        (
            FIRST_ID,
            FIRST_ID + '\nuses = ["telepathy"]',
            "instruments[0].uses: unknown 'telepathy'",
        ),
        (
            'instrument_id = "md2977_london_wide"',
            'instrument_id = "md2977_cc_lez_inner"',
            "instruments: duplicate id 'md2977_cc_lez_inner'",
        ),
        ('min_rank = "inspector"', 'min_rank = "general"', "access.age_bands[0].min_rank"),
        (
            'seriousness = ["serious", "major", "counter_terrorism"]',
            'seriousness = ["serious", "grave"]',
            "access.age_bands[1].seriousness: unknown 'grave'",
        ),
        ("max_age_days = 365", "max_age_days = 60", "access.age_bands: max_age_days must increase"),
        (
            "hotlist_max_days = 28",
            "hotlist_max_days = 0",
            "access.hotlist_max_days: must be at least 1",
        ),
        (
            'legal_bases = ["DPA2018_Part3", "DPA2018_Part4"]',
            "legal_bases = []",
            "access.legal_bases: expected a non-empty list",
        ),
        ("hotlist_max_days = 28", "", "access.hotlist_max_days: missing"),
        (
            "# No [[dpias]]",
            DPIA_BLOCK + "# No [[dpias]]",
            "dpias[0].approved_on: missing (required for an approved DPIA)",
        ),
        (
            "# No [[dpias]]",
            DPIA_BLOCK.replace("ulez_london_2023", "ulez_mars_2030")
            + "approved_on = 2026-01-01\n# No [[dpias]]",
            "dpias[0].networks: unknown 'ulez_mars_2030'",
        ),
        (
            "# No [[dpias]]",
            DPIA_BLOCK.replace('"approved"', '"pending"') + "# No [[dpias]]",
            "dpias[0].status: expected one of",
        ),
        (
            "# No [[dpias]]",
            '[[directions]]\nreference = "D"\nissuer = "mayor"\nnetworks = ["nowhere"]\n'
            "signed_on = 2026-01-01\n# No [[dpias]]",
            "directions[0].networks: unknown 'nowhere'",
        ),
    ],
)
def test_loader_errors_name_file_and_field(tmp_path: Path, old: str, new: str, field: str) -> None:
    assert old in TEXT
    path = tmp_path / "instruments.toml"
    path.write_text(TEXT.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_governance_book(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert field in str(caught.value)


def test_loader_refuses_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_governance_book(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("instruments = [")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        load_governance_book(bad)
    empty = tmp_path / "empty.toml"
    empty.write_text(TEXT.split("[[instruments]]")[0])
    with pytest.raises(ConfigError, match=r"empty\.toml: instruments: missing"):
        load_governance_book(empty)


def test_packaged_file_is_the_default() -> None:
    assert load_governance_book(PACKAGED).instruments == BOOK.instruments
    assert BOOK.source == "ringfence/governance/london/instruments.toml"
