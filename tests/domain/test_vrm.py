"""Tests for ringfence.domain.vrm: every class, every rule, the age hints, confusion and SQL."""

from __future__ import annotations

import functools
import itertools
import random
import re
import string
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.domain.vrm import (
    CONFUSION_GROUPS,
    CURRENT_FORMAT_START,
    MEMORY_TAG_REGIONS,
    NORTHERN_IRELAND_CODES,
    PREFIX_YEAR_LETTERS,
    SEPARATORS,
    SUFFIX_YEAR_LETTERS,
    WHITESPACE,
    VRMClass,
    VRMInfo,
    classify,
    confusion_key,
    current_format_candidates,
    normalise,
    registration_period,
    sql_patterns,
    year_letter_period,
)

AS_OF = date(2026, 11, 28)
FAR_FUTURE = date(2060, 12, 31)
ALNUM = string.ascii_uppercase + string.digits
C = VRMClass

# --- normalise ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ab12 cde", "AB12CDE"),
        ("  AB-12.CDE  ", "AB12CDE"),
        ("ab\t12\ncde", "AB12CDE"),
        ("AB\u201312\u2014CDE", "AB12CDE"),  # en and em dashes
        ("AB12\u00a0CDE", "AB12CDE"),  # no-break space
        ("AB\u300012\x0bCDE", "AB12CDE"),  # ideographic space, vertical tab
        ("A_B,1:2;C/D'E", "AB12CDE"),
        ("AB12?DE", "AB12?DE"),  # '?' is an unreadable character: kept
        ("ab*12", "AB*12"),  # so is '*'
        ("stra\u00dfe", "STRA\u00dfE"),  # not "STRASSE": no invented letters
        ("", ""),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_whitespace_table_is_exactly_str_isspace() -> None:
    """Engines strip ``SEPARATORS`` by table; the table must be what Python calls whitespace."""
    assert {chr(i) for i in range(0x110000) if chr(i).isspace()} == WHITESPACE
    assert WHITESPACE <= SEPARATORS
    assert SEPARATORS.isdisjoint(ALNUM + "?*")


@given(st.text(max_size=20))
def test_normalise_is_idempotent_and_strips_whitespace(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert not any(c.isspace() for c in once)
    assert not any(c in string.ascii_lowercase for c in once)


# --- classify: one row per class and per rule ------------------------------------------------

Row = tuple[str, VRMClass, str | None]

CLASSIFY_CASES: list[Row] = [
    # current
    ("AB12 CDE", C.CURRENT, None),
    ("ab51abc", C.CURRENT, None),
    ("LB76 XYZ", C.CURRENT, None),  # September 2026 is live on AS_OF
    ("AB12ZZZ", C.CURRENT, None),  # Z is used in the random letters
    ("IB12CDE", C.INVALID, "memory tag IB contains I: I, Q and Z are not used in tags"),
    ("AQ12CDE", C.INVALID, "memory tag AQ contains Q: I, Q and Z are not used in tags"),
    ("AZ12CDE", C.INVALID, "memory tag AZ contains Z: I, Q and Z are not used in tags"),
    ("ZA12CDE", C.INVALID, "memory tag ZA contains Z: I, Q and Z are not used in tags"),
    ("TA12CDE", C.INVALID, "memory tag first letter T is not a DVLA region"),
    ("UA12CDE", C.INVALID, "memory tag first letter U is not a DVLA region"),
    ("XA12CDE", C.INVALID, "memory tag first letter X is not a DVLA region"),
    ("JA12CDE", C.INVALID, "memory tag first letter J is not a DVLA region"),
    ("AB01CDE", C.INVALID, "age identifier 01 was never issued"),
    ("AB27CDE", C.INVALID, "age identifier 27 not issued until 2027-03-01"),
    ("AB77CDE", C.INVALID, "age identifier 77 not issued until 2027-09-01"),
    ("AB00CDE", C.INVALID, "age identifier 00 not issued until 2050-09-01"),
    ("AB12CIE", C.INVALID, "random letters CIE contain I: I and Q are not used"),
    ("AB12CDQ", C.INVALID, "random letters CDQ contain Q: I and Q are not used"),
    # prefix
    ("A123 BCD", C.PREFIX, None),
    ("P1ABC", C.PREFIX, None),
    ("Y999XYW", C.PREFIX, None),
    ("I123BCD", C.INVALID, "prefix year letter I was never used: I, O, Q, U, Z are not"),
    ("O123BCD", C.INVALID, "prefix year letter O was never used: I, O, Q, U, Z are not"),
    ("U123BCD", C.INVALID, "prefix year letter U was never used: I, O, Q, U, Z are not"),
    ("Z123BCD", C.INVALID, "prefix year letter Z was never used: I, O, Q, U, Z are not"),
    ("A012BCD", C.INVALID, "prefix number 012 has a leading zero"),
    ("A123BCI", C.INVALID, "prefix letters BCI contain I: I, Q and Z are not used"),
    ("A123QCD", C.INVALID, "prefix letters QCD contain Q: I, Q and Z are not used"),
    ("A123BZD", C.INVALID, "prefix letters BZD contain Z: I, Q and Z are not used"),
    # suffix
    ("ABC 123D", C.SUFFIX, None),
    ("XYW1Y", C.SUFFIX, None),
    ("ABC123I", C.INVALID, "suffix year letter I was never used: I, O, Q, U, Z are not"),
    ("ABC123O", C.INVALID, "suffix year letter O was never used: I, O, Q, U, Z are not"),
    ("ABC123Q", C.INVALID, "suffix year letter Q was never used: I, O, Q, U, Z are not"),
    ("ABC123U", C.INVALID, "suffix year letter U was never used: I, O, Q, U, Z are not"),
    ("ABC123Z", C.INVALID, "suffix year letter Z was never used: I, O, Q, U, Z are not"),
    ("ABC012D", C.INVALID, "suffix number 012 has a leading zero"),
    ("AZC123D", C.INVALID, "suffix letters AZC contain Z: I, Q and Z are not used"),
    # Q plates
    ("Q123 ABC", C.Q_PLATE, None),
    ("Q1ABC", C.Q_PLATE, None),
    ("Q012ABC", C.INVALID, "Q plate number 012 has a leading zero"),
    ("Q123ABZ", C.INVALID, "Q plate letters ABZ contain Z: I, Q and Z are not used"),
    # dateless (Great Britain)
    ("A 1", C.DATELESS, None),
    ("AB 1234", C.DATELESS, None),
    ("ABC 123", C.DATELESS, None),
    ("1 A", C.DATELESS, None),
    ("1234 AB", C.DATELESS, None),
    ("123 ABC", C.DATELESS, None),
    # Northern Ireland
    ("ABZ 1234", C.NORTHERN_IRELAND, None),
    ("AZ 1", C.NORTHERN_IRELAND, None),
    ("IA 1", C.NORTHERN_IRELAND, None),
    ("OIL 9999", C.NORTHERN_IRELAND, None),
    ("1 IA", C.NORTHERN_IRELAND, None),
    ("1234 ABZ", C.NORTHERN_IRELAND, None),
    # diplomatic
    ("123 D 456", C.DIPLOMATIC, None),
    ("900X400", C.DIPLOMATIC, None),
    # foreign: 2-10 of A-Z/0-9 that no UK rule accepts
    ("AB-123-CD", C.FOREIGN, "no UK format matches"),  # French SIV
    ("WA12345", C.FOREIGN, "no UK format matches"),
    ("BMW1234", C.FOREIGN, "no UK format matches"),  # LLL DDDD is Northern Ireland only
    ("1234BCD", C.FOREIGN, "no UK format matches"),  # DDDD LLL likewise (a Spanish plate)
    ("ZV1234", C.FOREIGN, "no UK format matches"),  # ZV: Republic of Ireland code
    ("QAZ123", C.FOREIGN, "no UK format matches"),  # Q is no NI serial letter
    ("ABZ0123", C.FOREIGN, "no UK format matches"),
    ("AB0123", C.FOREIGN, "no UK format matches"),
    ("QA123", C.FOREIGN, "no UK format matches"),
    ("123A456", C.FOREIGN, "no UK format matches"),
    ("A1234BCD", C.FOREIGN, "no UK format matches"),
    ("ABCDEFGHIJ", C.FOREIGN, "no UK format matches"),
    ("12", C.FOREIGN, "no UK format matches"),
    # invalid: not a mark at all
    ("", C.INVALID, "empty after normalising"),
    (" - . ", C.INVALID, "empty after normalising"),
    ("A", C.INVALID, "a single character is not a registration mark"),
    ("7", C.INVALID, "a single character is not a registration mark"),
    ("ABCDEFGHIJK", C.INVALID, "11 characters: longer than any mark (10)"),
    ("AB?2CDE", C.INVALID, "contains characters other than A-Z and 0-9: '?'"),
    ("A?12*DE", C.INVALID, "contains characters other than A-Z and 0-9: '*', '?'"),
    ("AB12CD\u00e9", C.INVALID, "contains characters other than A-Z and 0-9: '\u00e9'"),
]


@pytest.mark.parametrize(("text", "vrm_class", "reason"), CLASSIFY_CASES)
def test_classify(text: str, vrm_class: VRMClass, reason: str | None) -> None:
    info = classify(text, as_of=AS_OF)
    assert info.vrm == normalise(text)
    assert (info.vrm_class, info.reason) == (vrm_class, reason)
    if vrm_class in (C.FOREIGN, C.INVALID):
        assert (info.registered_from, info.registered_to, info.memory_tag_region) == (None,) * 3


def test_classify_current_fills_every_hint() -> None:
    assert classify("lb73 xyz", as_of=AS_OF) == VRMInfo(
        vrm="LB73XYZ",
        vrm_class=C.CURRENT,
        registered_from=date(2023, 9, 1),
        registered_to=date(2024, 2, 29),
        memory_tag_region="London",
        age_identifier="73",
    )


@pytest.mark.parametrize(
    ("text", "year_letter", "registered_from", "registered_to"),
    [
        ("A123BCD", "A", date(1983, 8, 1), date(1984, 7, 31)),
        ("R1ABC", "R", date(1997, 8, 1), date(1998, 7, 31)),
        ("S1ABC", "S", date(1998, 8, 1), date(1999, 2, 28)),
        ("T1ABC", "T", date(1999, 3, 1), date(1999, 8, 31)),
        ("V1ABC", "V", date(1999, 9, 1), date(2000, 2, 29)),  # leap year
        ("Y1ABC", "Y", date(2001, 3, 1), date(2001, 8, 31)),
        ("ABC1A", "A", date(1963, 1, 1), date(1963, 12, 31)),
        ("ABC1E", "E", date(1967, 1, 1), date(1967, 7, 31)),
        ("ABC1F", "F", date(1967, 8, 1), date(1968, 7, 31)),
        ("ABC1Y", "Y", date(1982, 8, 1), date(1983, 7, 31)),
    ],
)
def test_year_letters_give_a_period_hint(
    text: str, year_letter: str, registered_from: date, registered_to: date
) -> None:
    info = classify(text, as_of=AS_OF)
    assert info.age_identifier == year_letter
    assert (info.registered_from, info.registered_to) == (registered_from, registered_to)
    assert info.memory_tag_region is None


@pytest.mark.parametrize(
    ("text", "as_of", "vrm_class", "reason"),
    [
        ("AB26CDE", date(2026, 2, 28), C.INVALID, "age identifier 26 not issued until 2026-03-01"),
        ("AB26CDE", date(2026, 3, 1), C.CURRENT, None),
        ("AB76CDE", date(2026, 8, 31), C.INVALID, "age identifier 76 not issued until 2026-09-01"),
        ("AB76CDE", date(2026, 9, 1), C.CURRENT, None),
        ("AB51CDE", date(2001, 8, 31), C.INVALID, "age identifier 51 not issued until 2001-09-01"),
        ("AB51CDE", date(2001, 9, 1), C.CURRENT, None),
        ("AB00CDE", date(2050, 9, 1), C.CURRENT, None),
        (
            "R123ABC",
            date(1997, 7, 31),
            C.INVALID,
            "prefix year letter R not issued until 1997-08-01",
        ),
        ("R123ABC", date(1997, 8, 1), C.PREFIX, None),
        (
            "ABC123A",
            date(1962, 12, 31),
            C.INVALID,
            "suffix year letter A not issued until 1963-01-01",
        ),
        ("ABC123A", date(1963, 1, 1), C.SUFFIX, None),
    ],
)
def test_as_of_decides_what_has_been_issued(
    text: str, as_of: date, vrm_class: VRMClass, reason: str | None
) -> None:
    info = classify(text, as_of=as_of)
    assert (info.vrm_class, info.reason) == (vrm_class, reason)


def test_every_memory_tag_region_letter_is_accepted_and_named() -> None:
    for letter, region in MEMORY_TAG_REGIONS.items():
        info = classify(f"{letter}A12ABC", as_of=AS_OF)
        assert (info.vrm_class, info.memory_tag_region) == (C.CURRENT, region)
    assert classify("LA12ABC", as_of=AS_OF).memory_tag_region == "London"
    assert set(MEMORY_TAG_REGIONS).isdisjoint("IQZ")


def test_every_northern_ireland_code_contains_i_or_z() -> None:
    for code in NORTHERN_IRELAND_CODES:
        assert len(code) == 2 and set(code) & {"I", "Z"}
        for mark in (f"{code}1", f"A{code}1234", f"9{code}", f"1234Y{code}"):
            assert classify(mark, as_of=AS_OF).vrm_class is C.NORTHERN_IRELAND, mark
            assert _sql_class(mark, AS_OF) is C.NORTHERN_IRELAND, mark


# --- age identifiers and registration periods --------------------------------------------------


@pytest.mark.parametrize(
    ("age_identifier", "period"),
    [
        ("73", (date(2023, 9, 1), date(2024, 2, 29))),
        ("24", (date(2024, 3, 1), date(2024, 8, 31))),
        ("51", (date(2001, 9, 1), date(2002, 2, 28))),
        ("02", (date(2002, 3, 1), date(2002, 8, 31))),
        ("53", (date(2003, 9, 1), date(2004, 2, 29))),  # leap year
        ("99", (date(2049, 9, 1), date(2050, 2, 28))),
        ("50", (date(2050, 3, 1), date(2050, 8, 31))),
        ("00", (date(2050, 9, 1), date(2051, 2, 28))),
        ("01", None),
        ("7", None),
        ("123", None),
        ("AB", None),
        ("\u0663\u0663", None),  # Arabic-Indic digits are digits to str.isdigit, not to DVLA
    ],
)
def test_registration_period(age_identifier: str, period: tuple[date, date] | None) -> None:
    assert registration_period(age_identifier) == period


def test_periods_tile_time_from_suffix_a_to_age_identifier_00() -> None:
    """Suffix, prefix and current periods follow each other without a gap or an overlap."""
    current = (registration_period(f"{n:02d}") for n in range(100))
    periods = sorted(
        [*SUFFIX_YEAR_LETTERS.values(), *PREFIX_YEAR_LETTERS.values()]
        + [p for p in current if p is not None]
    )
    assert periods[0][0] == date(1963, 1, 1)
    assert periods[-1] == (date(2050, 9, 1), date(2051, 2, 28))
    for (_, end), (start, _) in itertools.pairwise(periods):
        assert start == end + timedelta(days=1)
    assert registration_period("51") == (CURRENT_FORMAT_START, date(2002, 2, 28))
    assert PREFIX_YEAR_LETTERS["Y"][1] + timedelta(days=1) == CURRENT_FORMAT_START


def test_year_letter_tables_skip_i_o_q_u_z() -> None:
    for table in (SUFFIX_YEAR_LETTERS, PREFIX_YEAR_LETTERS):
        assert "".join(table) == "ABCDEFGHJKLMNPRSTVWXY"
    assert year_letter_period("S", C.PREFIX) == (date(1998, 8, 1), date(1999, 2, 28))
    assert year_letter_period("S", C.SUFFIX) == (date(1977, 8, 1), date(1978, 7, 31))
    assert year_letter_period("S", C.CURRENT) is None
    assert year_letter_period("O", C.PREFIX) is None


# --- confusion key ------------------------------------------------------------------------------


def _group(char: str) -> frozenset[str]:
    return next((g for g in CONFUSION_GROUPS if char in g), frozenset(char))


def test_confusion_groups_are_disjoint_with_one_digit_each() -> None:
    seen: set[str] = set()
    for group in CONFUSION_GROUPS:
        assert seen.isdisjoint(group)
        seen |= group
        assert len(group & set(string.digits)) == 1


def test_confusion_key_examples() -> None:
    assert confusion_key("AB12CDE") == "A81260E"
    assert confusion_key("ab12 cde") == confusion_key("A812C0E") == confusion_key("AB1ZGQE")
    assert confusion_key("AB12CDE") != confusion_key("AB12CDF")  # E/F are not confused
    assert confusion_key("AB?2CDE") == "A8?260E"  # unreadable characters stay unreadable


def test_confusion_key_only_merges_confusable_characters() -> None:
    for a, b in itertools.product(ALNUM, repeat=2):
        same = a == b or b in _group(a)
        assert (confusion_key(a) == confusion_key(b)) is same, (a, b)


@given(st.text(max_size=12))
def test_confusion_key_is_idempotent(text: str) -> None:
    key = confusion_key(text)
    assert confusion_key(key) == key
    assert len(key) == len(normalise(text))


@st.composite
def _confused_pair(draw: st.DrawFn) -> tuple[str, str]:
    """A string and a copy with any number of characters swapped within their group."""
    original = draw(st.text(alphabet=ALNUM, min_size=1, max_size=10))
    swaps = [draw(st.sampled_from(sorted(_group(c)))) for c in original]
    keep = draw(st.lists(st.booleans(), min_size=len(original), max_size=len(original)))
    confused = "".join(c if k else s for c, s, k in zip(original, swaps, keep, strict=True))
    return original, confused


@given(_confused_pair())
def test_confusion_key_equal_for_any_confusions(pair: tuple[str, str]) -> None:
    original, confused = pair
    assert confusion_key(original) == confusion_key(confused)


# --- current-format candidates ------------------------------------------------------------------


@pytest.mark.parametrize(
    "read", ["A812CDE", "AB12C0E", "AB1ZCDE", "A8I2C0E", "AB12CDE", "ab 12 cde"]
)
def test_candidates_recover_the_true_vrm(read: str) -> None:
    candidates = current_format_candidates(read, as_of=AS_OF)
    assert "AB12CDE" in candidates
    assert candidates == sorted(set(candidates))
    for candidate in candidates:
        assert classify(candidate, as_of=AS_OF).vrm_class is C.CURRENT
        assert confusion_key(candidate) == confusion_key(read)


def test_candidates_are_exact_for_a_small_case() -> None:
    # 8 -> B (position 2), 0 -> O/D/Q (position 6; Q is never a random letter), S -> 5.
    assert current_format_candidates("A8S2C0E", as_of=AS_OF) == [
        "AB52CDE",
        "AB52COE",
        "AB52GDE",
        "AB52GOE",
    ]


@pytest.mark.parametrize(
    "read",
    ["AB12CD", "AB12CDEF", "AB?2CDE", "ABA2CDE", "AB12CD4", "1112CDE", ""],
)
def test_candidates_empty_when_no_current_mark_is_reachable(read: str) -> None:
    assert current_format_candidates(read, as_of=AS_OF) == []


def test_candidates_respect_as_of() -> None:
    assert "AB25CDE" not in current_format_candidates("AB2SCDE", as_of=date(2025, 2, 28))
    assert "AB25CDE" in current_format_candidates("AB2SCDE", as_of=date(2025, 3, 1))
    # 0 and 1 in digit positions can only stay 0 and 1: the one reachable mark is never issued.
    assert current_format_candidates("AB01CDE", as_of=AS_OF) == []


# --- strategies: valid marks of every class -----------------------------------------------------

_gb = st.sampled_from(sorted(set(string.ascii_uppercase) - set("IQZ")))


def _number(max_digits: int) -> st.SearchStrategy[str]:
    return st.integers(1, 10**max_digits - 1).map(str)


def _letters(alphabet: st.SearchStrategy[str], size: int) -> st.SearchStrategy[str]:
    return st.lists(alphabet, min_size=size, max_size=size).map("".join)


def _join(*parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map("".join)


_ni_letters = _join(
    st.sampled_from(["", *"ABCDEFGHIJKLMNOPRSTUVWXY"]),
    st.sampled_from(sorted(NORTHERN_IRELAND_CODES)),
)
VALID_BY_CLASS: dict[VRMClass, st.SearchStrategy[str]] = {
    C.CURRENT: _join(
        st.sampled_from(sorted(MEMORY_TAG_REGIONS)),
        st.sampled_from(sorted(set(string.ascii_uppercase) - set("IQZ"))),
        st.sampled_from([f"{n:02d}" for n in range(100) if n != 1]),
        _letters(st.sampled_from(sorted(set(string.ascii_uppercase) - set("IQ"))), 3),
    ),
    C.PREFIX: _join(st.sampled_from(sorted(PREFIX_YEAR_LETTERS)), _number(3), _letters(_gb, 3)),
    C.SUFFIX: _join(_letters(_gb, 3), _number(3), st.sampled_from(sorted(SUFFIX_YEAR_LETTERS))),
    C.Q_PLATE: _join(st.just("Q"), _number(3), _letters(_gb, 3)),
    C.DATELESS: st.one_of(
        _join(st.integers(1, 2).flatmap(lambda n: _letters(_gb, n)), _number(4)),
        _join(_letters(_gb, 3), _number(3)),
        _join(_number(4), st.integers(1, 2).flatmap(lambda n: _letters(_gb, n))),
        _join(_number(3), _letters(_gb, 3)),
    ),
    C.NORTHERN_IRELAND: st.one_of(_join(_ni_letters, _number(4)), _join(_number(4), _ni_letters)),
    C.DIPLOMATIC: _join(
        _letters(st.sampled_from(string.digits), 3),
        st.sampled_from("DX"),
        _letters(st.sampled_from(string.digits), 3),
    ),
}
valid_marks: st.SearchStrategy[str] = st.one_of(*VALID_BY_CLASS.values())


@st.composite
def _near_misses(draw: st.DrawFn) -> str:
    """A valid mark with one character replaced, inserted or deleted."""
    mark = draw(valid_marks)
    at = draw(st.integers(0, len(mark)))
    char = draw(st.sampled_from(ALNUM))
    edit = draw(st.sampled_from(["replace", "insert", "delete"]))
    if edit == "insert":
        return mark[:at] + char + mark[at:]
    if edit == "delete":
        return mark[:at] + mark[at + 1 :]
    return mark[:at] + char + mark[at + 1 :]


_class_and_mark = st.sampled_from(list(VALID_BY_CLASS)).flatmap(
    lambda c: st.tuples(st.just(c), VALID_BY_CLASS[c])
)


@given(_class_and_mark)
@settings(max_examples=1000)
def test_generated_valid_marks_classify_as_their_class(pair: tuple[VRMClass, str]) -> None:
    vrm_class, mark = pair
    info = classify(mark, as_of=FAR_FUTURE)
    assert (info.vrm_class, info.reason) == (vrm_class, None)


# --- SQL patterns agree with classify -----------------------------------------------------------


@functools.cache
def _compiled(as_of: date) -> tuple[tuple[VRMClass, re.Pattern[str]], ...]:
    return tuple((c, re.compile(p)) for c, p in sql_patterns(as_of))


def _sql_class(vrm: str, as_of: date) -> VRMClass:
    return next(c for c, pattern in _compiled(as_of) if pattern.fullmatch(vrm))


@pytest.mark.parametrize("as_of", [date(1950, 1, 1), date(1990, 1, 1), AS_OF, FAR_FUTURE])
def test_sql_patterns_are_anchored_re2_and_end_with_a_catch_all(as_of: date) -> None:
    patterns = sql_patterns(as_of)
    for _, pattern in patterns:
        assert pattern.startswith("^") and pattern.endswith("$")
        assert not re.search(r"\(\?[=!<]", pattern), "RE2 has no lookaround"
        assert not re.search(r"\\[1-9]", pattern), "RE2 has no backreferences"
        re.compile(pattern)
    assert patterns[-1] == (C.INVALID, "^(?s:.*)$")
    assert len({p for _, p in patterns}) == len(patterns)


def test_sql_patterns_before_1963_hold_no_dated_class() -> None:
    classes = {c for c, _ in sql_patterns(date(1962, 12, 31))}
    assert classes.isdisjoint({C.CURRENT, C.PREFIX, C.SUFFIX})


@pytest.mark.parametrize(("text", "vrm_class", "reason"), CLASSIFY_CASES)
def test_sql_patterns_agree_on_the_table(
    text: str, vrm_class: VRMClass, reason: str | None
) -> None:
    assert _sql_class(normalise(text), AS_OF) is vrm_class


@st.composite
def _shaped(draw: st.DrawFn) -> str:
    """Alternating runs of 1-4 letters and digits: the space in which UK layouts differ."""
    runs = draw(st.integers(1, 3))
    is_digit = draw(st.booleans())
    out = ""
    for _ in range(runs):
        alphabet = string.digits if is_digit else string.ascii_uppercase
        out += "".join(draw(st.lists(st.sampled_from(alphabet), min_size=1, max_size=4)))
        is_digit = not is_digit
    return out


_dates = st.dates(min_value=date(1950, 1, 1), max_value=FAR_FUTURE)
_vrms = st.one_of(
    st.text(alphabet=ALNUM, min_size=1, max_size=10),
    st.text(max_size=12).map(normalise),
    _shaped(),
    valid_marks,
    _near_misses(),
)


@given(vrm=_vrms, as_of=_dates)
@settings(max_examples=3000)
def test_sql_patterns_agree_with_classify(vrm: str, as_of: date) -> None:
    assert _sql_class(vrm, as_of) is classify(vrm, as_of=as_of).vrm_class


@pytest.mark.parametrize("as_of", [date(1975, 6, 1), AS_OF])
def test_sql_patterns_agree_on_every_string_of_up_to_three_characters(as_of: date) -> None:
    for length in (0, 1, 2, 3):
        for chars in itertools.product(ALNUM, repeat=length):
            vrm = "".join(chars)
            assert _sql_class(vrm, as_of) is classify(vrm, as_of=as_of).vrm_class, vrm


def _every_shape_sample(fills: int) -> list[str]:
    """Seeded fills of every shape of up to three alternating letter/digit runs of 1-4 chars."""
    rng = random.Random(1903)  # the Motor Car Act
    pools = {False: string.ascii_uppercase, True: string.digits}
    sample = []
    for runs in (1, 2, 3):
        for lengths in itertools.product(range(1, 5), repeat=runs):
            for first_is_digit in (False, True):
                kinds = [(first_is_digit + i) % 2 == 1 for i in range(runs)]
                for _ in range(fills):
                    sample.append(
                        "".join(
                            "".join(rng.choices(pools[kind], k=n))
                            for kind, n in zip(kinds, lengths, strict=True)
                        )
                    )
    return sample


@pytest.mark.parametrize("as_of", [date(1975, 6, 1), date(1999, 1, 1), AS_OF])
def test_sql_patterns_agree_on_every_layout_shape(as_of: date) -> None:
    for vrm in _every_shape_sample(fills=300):
        assert _sql_class(vrm, as_of) is classify(vrm, as_of=as_of).vrm_class, vrm


def _duckdb_sample() -> list[str]:
    rng = random.Random(20261128)
    sample = [normalise(text) for text, _, _ in CLASSIFY_CASES]
    sample += ["".join(rng.choices(ALNUM, k=rng.randint(1, 10))) for _ in range(3000)]
    shapes = ["LLDDLLL", "LDDDLLL", "LLLDDDL", "LLLDDDD", "DDDDLLL", "DDDLDDD", "LLDDDD"]
    for shape in shapes * 300:
        pool = {"L": string.ascii_uppercase, "D": string.digits}
        sample.append("".join(rng.choice(pool[kind]) for kind in shape))
    return [*sample, "A?", "?", "AB12C*E", "\u00e9\u00e9", "AB12CD\u00c9"]


@pytest.mark.parametrize("as_of", [date(1990, 1, 1), AS_OF])
def test_sql_patterns_agree_with_classify_in_duckdb(as_of: date) -> None:
    duckdb = pytest.importorskip("duckdb")
    sample = _duckdb_sample()
    whens = " ".join(
        f"WHEN regexp_full_match(vrm, '{pattern.replace(chr(39), chr(39) * 2)}') THEN '{c}'"
        for c, pattern in sql_patterns(as_of)
    )
    rows = (
        duckdb.connect()
        .execute(
            f"SELECT vrm, CASE {whens} END FROM (SELECT unnest(?::VARCHAR[]) AS vrm)", [sample]
        )
        .fetchall()
    )
    assert len(rows) == len(sample)
    mismatches = [
        (vrm, got, classify(vrm, as_of=as_of).vrm_class.value)
        for vrm, got in rows
        if got != classify(vrm, as_of=as_of).vrm_class.value
    ]
    assert mismatches == []
