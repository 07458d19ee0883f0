"""UK vehicle registration marks (VRMs): normalise, classify, confusion-collapse.

Pure: no I/O, no clock, no environment. Anything that depends on the date (which age identifiers
and year letters have been issued yet) takes ``as_of`` explicitly.

Normalising
    Remove ``SEPARATORS``: whitespace (exactly what ``str.isspace`` accepts, listed) and hyphen
    and dash variants, dot, comma, underscore, colon, semicolon, slash, backslash, quotes, middle
    dot and bullet; then upper-case ASCII letters only. Both are explicit tables so that a SQL
    engine can do exactly the same. Every other character is kept, so the ``?`` and ``*`` that
    cameras emit for unreadable characters survive and make the read ``invalid``. Non-ASCII
    letters are not upper-cased (``"ß".upper()`` is ``"SS"``, which would invent a VRM).

Layouts (the permitted layouts of The Road Vehicles (Display of Registration Marks) Regulations
2001, SI 2001/561, Schedule 3 Part 1 Table A, legislation.gov.uk), with L a letter and D a digit:

    ==========================  ================  ============================================
    class                       layout            rules (a UK-shaped mark breaking one is ...)
    ==========================  ================  ============================================
    current (Sep 2001-)         LL DD LLL         memory tag, age identifier, random letters
    diplomatic (1979-)          DDD D DDD,        any digits; D diplomats, X accredited
                                DDD X DDD         non-diplomatic staff
    q_plate (1983-)             Q D{1,3} LLL      number 1-999; letters without I, Q, Z
    prefix (Aug 1983-Aug 2001)  L D{1,3} LLL      year letter; number 1-999; no I, Q, Z
    suffix (1963-Jul 1983)      LLL D{1,3} L      year letter; number 1-999; no I, Q, Z
    northern_ireland            [L]CC D{1,4},     CC a Northern Ireland code (contains I or Z);
                                D{1,4} [L]CC      serial letter A-Y except Q; number 1-9999
    dateless (GB, pre-1963)     L{1,2} D{1,4},    letters without I, Q, Z; number without a
                                LLL D{1,3},       leading zero
                                D{1,4} L{1,2},
                                D{1,3} LLL
    ==========================  ================  ============================================

    ... ``invalid`` (with the rule as reason) for the dated layouts: current, prefix, Q and suffix
    (a string of that shape that breaks a rule is most likely a misread). The dateless and
    Northern Ireland layouts are shared with many foreign and Irish plates, so a string of that
    shape that breaks their rules is ``foreign``.

Current format (DVLA leaflet INF104 "Vehicle registration numbers and number plates")
    - Memory tag: two letters; the first is the region (``MEMORY_TAG_REGIONS``), the second the
      DVLA office. I, Q and Z are not used in memory tags.
    - Age identifier: March-August: the year's last two digits (``02`` March 2002 ... ``50``
      March 2050); September-February: that plus 50 (``51`` September 2001 ... ``99`` September
      2049; ``00`` September 2050). ``01`` was never issued. New identifiers go live on 1 March
      and 1 September; one not live by ``as_of`` is invalid. The half-year is a hint only: a mark
      can be transferred to an older vehicle (never a newer one).
    - Random letters: three letters, never I or Q (Z is used).

Prefix and suffix year letters (Wikipedia, "Vehicle registration plates of the United Kingdom")
    I, O, Q, U and Z were never year letters (Q is the Q plate). Suffix letters changed on
    1 January (A 1963 ... D 1966, E January-July 1967), then on 1 August (F August 1967 ... Y
    August 1982-July 1983). Prefix letters changed on 1 August (A August 1983 ... R August
    1997-July 1998), then half-yearly (S August 1998-February 1999, T March 1999, V September
    1999, W March 2000, X September 2000, Y March 2001-August 2001). Suffix A was adopted from
    February 1963 and only by some offices, so its window (all of 1963) is a loose hint. GB serial
    letters never use I, Q or Z (I and Z were Ireland's; Q is reserved).

Q plates (DVLA leaflet INF26: vehicles whose age or identity is in doubt, e.g. kit cars, get "a
'Q' prefix registration number") carry no date. Their letter rule (no I, Q, Z) is assumed to be
that of prefix marks: no DVLA source found states it.

Northern Ireland (Wikipedia, "Vehicle registration plates of Northern Ireland"): two-letter
county codes containing I or Z (``NORTHERN_IRELAND_CODES``), ``CC 1234`` from 1904, reversed
``1234 CC`` from 1958, ``ACC 1234`` with a serial letter (A-Y except Q) from 1966; layout
``1234 ACC`` is permitted by SI 2001/561. XZ (Armagh) is from memory of that article and was not
confirmed by a second source.

Diplomatic (Wikipedia, "Vehicle registration plates of the United Kingdom"): since 1979, three
digits (the mission), D or X, three digits (serial).

Foreign or invalid
    Empty, one character, more than 10 characters, or any character outside A-Z/0-9 after
    normalising: ``invalid``. Otherwise (2-10 of A-Z/0-9) no UK layout accepts it: ``foreign``.

Confusion key (``CONFUSION_GROUPS``): Genetec's ALPR matcher's default OCR-equivalent
characters (0/O/D/Q, 1/I, 2/Z, 5/S, 8/B, 6/G), with C joined to G as the issue asks. Each group
collapses to its digit. Equal keys, and ``current_format_candidates``, are *evidence for
review* that two reads may be one vehicle: never, on their own, a basis for a charge or an alert.

``sql_patterns(as_of)`` gives the same classification as ordered RE2 regular expressions for
DuckDB's ``regexp_full_match``; ``tests/domain/test_vrm.py`` proves the agreement.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "CONFUSION_GROUPS",
    "CURRENT_FORMAT_START",
    "MEMORY_TAG_REGIONS",
    "NORTHERN_IRELAND_CODES",
    "PREFIX_YEAR_LETTERS",
    "SEPARATORS",
    "SUFFIX_YEAR_LETTERS",
    "WHITESPACE",
    "VRMClass",
    "VRMInfo",
    "classify",
    "confusion_key",
    "current_format_candidates",
    "normalise",
    "registration_period",
    "sql_patterns",
    "year_letter_period",
]


class VRMClass(StrEnum):
    """The format class of a normalised VRM."""

    CURRENT = "current"
    PREFIX = "prefix"
    SUFFIX = "suffix"
    DATELESS = "dateless"
    NORTHERN_IRELAND = "northern_ireland"
    Q_PLATE = "q_plate"
    DIPLOMATIC = "diplomatic"
    FOREIGN = "foreign"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class VRMInfo:
    """What the characters of a VRM say about it. Dates and region are hints, never evidence."""

    vrm: str
    """The normalised VRM."""
    vrm_class: VRMClass
    reason: str | None = None
    """Why the VRM is foreign or invalid (human-readable); None otherwise."""
    registered_from: date | None = None
    """First day of the registration period its age identifier or year letter was issued in."""
    registered_to: date | None = None
    """Last day (inclusive) of that period."""
    memory_tag_region: str | None = None
    """Current format only: the region of the memory tag's first letter (e.g. L: London)."""
    age_identifier: str | None = None
    """The two digits of a current mark, or the year letter of a prefix or suffix mark."""


# --- Data tables ------------------------------------------------------------------------------

LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
DIGITS = frozenset("0123456789")
VRM_ALPHABET = LETTERS | DIGITS
MAX_LENGTH = 10

WHITESPACE = frozenset(
    "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Exactly the characters for which ``str.isspace()`` is true, listed so engines can match them."""

SEPARATORS = WHITESPACE | frozenset(
    "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212_.,:;/\\'\"`\u2018\u2019\u00b7\u2022"
)
"""Every character ``normalise`` removes. ``?`` and ``*`` are deliberately absent."""

_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")

CURRENT_FORMAT_START = date(2001, 9, 1)

MEMORY_TAG_REGIONS: Mapping[str, str] = MappingProxyType(
    {
        "A": "Anglia",
        "B": "Birmingham",
        "C": "Cymru",
        "D": "Deeside to Shrewsbury",
        "E": "Essex",
        "F": "Forest and Fens",
        "G": "Garden of England",
        "H": "Hampshire and Dorset",
        "K": "Luton and Northampton",
        "L": "London",
        "M": "Manchester and Merseyside",
        "N": "North",
        "O": "Oxford",
        "P": "Preston",
        "R": "Reading",
        "S": "Scotland",
        "V": "Severn Valley",
        "W": "West of England",
        "Y": "Yorkshire",
    }
)
"""First letter of a current-format memory tag -> DVLA region (INF104)."""

MEMORY_TAG_EXCLUDED = frozenset("IQZ")
RANDOM_LETTERS_EXCLUDED = frozenset("IQ")
GB_SERIAL_EXCLUDED = frozenset("IQZ")
"""Letters never used in GB prefix, suffix, Q and dateless letter groups."""


def _half_year(start: date) -> tuple[date, date]:
    if start.month == 3:
        return start, date(start.year, 8, 31)
    return start, date(start.year + 1, 3, 1) - timedelta(days=1)


def _year_letters(
    letters: str, first: tuple[int, int], months: int = 12
) -> dict[str, tuple[date, date]]:
    """Consecutive periods of ``months`` months, one per letter, from (year, month)."""
    out: dict[str, tuple[date, date]] = {}
    year, month = first
    for letter in letters:
        start = date(year, month, 1)
        month += months
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
        out[letter] = (start, date(year, month, 1) - timedelta(days=1))
    return out


SUFFIX_YEAR_LETTERS: Mapping[str, tuple[date, date]] = MappingProxyType(
    {
        **_year_letters("ABCD", (1963, 1)),
        "E": (date(1967, 1, 1), date(1967, 7, 31)),
        **_year_letters("FGHJKLMNPRSTVWXY", (1967, 8)),
    }
)
"""Suffix year letter -> registration period (inclusive)."""

PREFIX_YEAR_LETTERS: Mapping[str, tuple[date, date]] = MappingProxyType(
    {
        **_year_letters("ABCDEFGHJKLMNPR", (1983, 8)),
        "S": (date(1998, 8, 1), date(1999, 2, 28)),
        **_year_letters("TVWXY", (1999, 3), months=6),
    }
)
"""Prefix year letter -> registration period (inclusive)."""

NEVER_YEAR_LETTERS = frozenset("IOQUZ")

NORTHERN_IRELAND_CODES: Mapping[str, str] = MappingProxyType(
    {
        "AZ": "Belfast",
        "BZ": "Down",
        "CZ": "Belfast",
        "DZ": "Antrim",
        "EZ": "Belfast",
        "FZ": "Belfast",
        "GZ": "Belfast",
        "HZ": "Tyrone",
        "IA": "Antrim",
        "IB": "Armagh",
        "IG": "Fermanagh",
        "IJ": "Down",
        "IL": "Fermanagh",
        "IW": "Londonderry (county)",
        "JI": "Tyrone",
        "JZ": "Down",
        "KZ": "Antrim",
        "LZ": "Armagh",
        "MZ": "Belfast",
        "NZ": "Londonderry (county)",
        "OI": "Belfast",
        "OZ": "Belfast",
        "PZ": "Belfast",
        "RZ": "Antrim",
        "SZ": "Down",
        "TZ": "Belfast",
        "UI": "Londonderry (city)",
        "UZ": "Belfast",
        "VZ": "Tyrone",
        "WZ": "Belfast",
        "XI": "Belfast",
        "XZ": "Armagh",
        "YZ": "Londonderry (county)",
    }
)
"""Northern Ireland two-letter codes -> county or city."""

NORTHERN_IRELAND_SERIAL_LETTERS = frozenset("ABCDEFGHIJKLMNOPRSTUVWXY")
"""The optional letter before a Northern Ireland code: A-Y except Q."""

DIPLOMATIC_LETTERS = frozenset("DX")

CONFUSION_GROUPS: tuple[frozenset[str], ...] = (
    frozenset("0ODQ"),
    frozenset("1I"),
    frozenset("2Z"),
    frozenset("5S"),
    frozenset("6GC"),
    frozenset("8B"),
)
"""Characters ANPR engines confuse. Disjoint; each group holds exactly one digit."""


def _build_confusion_maps() -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    canonical: dict[str, str] = {}
    group_of: dict[str, frozenset[str]] = {}
    for group in CONFUSION_GROUPS:
        (digit,) = group & DIGITS
        for char in group:
            if char in canonical:  # pragma: no cover - guards the table above
                raise ValueError(f"{char!r} is in two confusion groups")
            canonical[char] = digit
            group_of[char] = group
    return canonical, group_of


_CONFUSION_CANONICAL, _CONFUSION_GROUP_OF = _build_confusion_maps()

CURRENT_DIGIT_POSITIONS = (2, 3)


# --- Normalising and age identifiers ------------------------------------------------------------


def normalise(text: str) -> str:
    """Drop ``SEPARATORS`` (whitespace and punctuation) and upper-case ASCII letters only."""
    return "".join(c for c in text if c not in SEPARATORS).translate(_ASCII_UPPER)


def registration_period(age_identifier: str) -> tuple[date, date] | None:
    """The half-year (inclusive) in which a current-format age identifier is issued.

    ``"73"`` -> 2023-09-01..2024-02-29; ``"24"`` -> 2024-03-01..2024-08-31; ``"01"`` and
    anything that is not two ASCII digits -> None.
    """
    if len(age_identifier) != 2 or not set(age_identifier) <= DIGITS:
        return None
    number = int(age_identifier)
    if number == 1:
        return None
    if number == 0:
        return _half_year(date(2050, 9, 1))
    if number <= 50:
        return _half_year(date(2000 + number, 3, 1))
    return _half_year(date(2000 + number - 50, 9, 1))


def year_letter_period(letter: str, vrm_class: VRMClass) -> tuple[date, date] | None:
    """The registration period (inclusive) of a prefix or suffix year letter, else None."""
    if vrm_class is VRMClass.PREFIX:
        return PREFIX_YEAR_LETTERS.get(letter)
    if vrm_class is VRMClass.SUFFIX:
        return SUFFIX_YEAR_LETTERS.get(letter)
    return None


def _issued_age_identifiers(as_of: date) -> list[str]:
    ids = (f"{n:02d}" for n in range(100))
    return [i for i in ids if (p := registration_period(i)) is not None and p[0] <= as_of]


def _issued_year_letters(table: Mapping[str, tuple[date, date]], as_of: date) -> list[str]:
    return [letter for letter, (start, _) in table.items() if start <= as_of]


# --- Classifying --------------------------------------------------------------------------------


def _runs(vrm: str) -> list[tuple[bool, str]]:
    """Split into maximal runs of digits or letters: "AB12CDE" -> [(F, AB), (T, 12), (F, CDE)]."""
    return [(is_digit, "".join(g)) for is_digit, g in itertools.groupby(vrm, str.isdigit)]


def _first_in(chars: Iterable[str], excluded: frozenset[str]) -> str | None:
    return next((c for c in chars if c in excluded), None)


def _invalid(vrm: str, reason: str) -> VRMInfo:
    return VRMInfo(vrm=vrm, vrm_class=VRMClass.INVALID, reason=reason)


def _foreign(vrm: str) -> VRMInfo:
    return VRMInfo(vrm=vrm, vrm_class=VRMClass.FOREIGN, reason="no UK format matches")


def _classify_current(vrm: str, as_of: date) -> VRMInfo:
    tag, age_id, random = vrm[:2], vrm[2:4], vrm[4:]
    if (bad := _first_in(tag, MEMORY_TAG_EXCLUDED)) is not None:
        return _invalid(vrm, f"memory tag {tag} contains {bad}: I, Q and Z are not used in tags")
    if (region := MEMORY_TAG_REGIONS.get(tag[0])) is None:
        return _invalid(vrm, f"memory tag first letter {tag[0]} is not a DVLA region")
    period = registration_period(age_id)
    if period is None:
        return _invalid(vrm, f"age identifier {age_id} was never issued")
    if period[0] > as_of:
        return _invalid(vrm, f"age identifier {age_id} not issued until {period[0].isoformat()}")
    if (bad := _first_in(random, RANDOM_LETTERS_EXCLUDED)) is not None:
        return _invalid(vrm, f"random letters {random} contain {bad}: I and Q are not used")
    return VRMInfo(
        vrm=vrm,
        vrm_class=VRMClass.CURRENT,
        registered_from=period[0],
        registered_to=period[1],
        memory_tag_region=region,
        age_identifier=age_id,
    )


def _serial_problem(number: str, letters: str, mark: str) -> str | None:
    if number.startswith("0"):
        return f"{mark} number {number} has a leading zero"
    if (bad := _first_in(letters, GB_SERIAL_EXCLUDED)) is not None:
        return f"{mark} letters {letters} contain {bad}: I, Q and Z are not used"
    return None


def _classify_dated(
    vrm: str, year_letter: str, number: str, letters: str, vrm_class: VRMClass, as_of: date
) -> VRMInfo:
    """Prefix (``A123BCD``) or suffix (``ABC123D``) marks."""
    mark = vrm_class.value
    if year_letter in NEVER_YEAR_LETTERS:
        return _invalid(
            vrm, f"{mark} year letter {year_letter} was never used: I, O, Q, U, Z are not"
        )
    if (problem := _serial_problem(number, letters, mark)) is not None:
        return _invalid(vrm, problem)
    period = year_letter_period(year_letter, vrm_class)
    if period is None:  # pragma: no cover - every other letter is in the tables
        raise AssertionError(year_letter)
    if period[0] > as_of:
        return _invalid(
            vrm, f"{mark} year letter {year_letter} not issued until {period[0].isoformat()}"
        )
    return VRMInfo(
        vrm=vrm,
        vrm_class=vrm_class,
        registered_from=period[0],
        registered_to=period[1],
        age_identifier=year_letter,
    )


def _is_northern_ireland(letters: str, number: str) -> bool:
    if number.startswith("0") or len(letters) not in (2, 3):
        return False
    if len(letters) == 3 and letters[0] not in NORTHERN_IRELAND_SERIAL_LETTERS:
        return False
    return letters[-2:] in NORTHERN_IRELAND_CODES


def _is_gb_dateless(letters: str, number: str) -> bool:
    if number.startswith("0") or _first_in(letters, GB_SERIAL_EXCLUDED) is not None:
        return False
    return len(letters) <= 2 or len(number) <= 3


def _classify_dateless(vrm: str, letters: str, number: str) -> VRMInfo:
    if _is_northern_ireland(letters, number):
        return VRMInfo(vrm=vrm, vrm_class=VRMClass.NORTHERN_IRELAND)
    if _is_gb_dateless(letters, number):
        return VRMInfo(vrm=vrm, vrm_class=VRMClass.DATELESS)
    return _foreign(vrm)


def classify(text: str, *, as_of: date) -> VRMInfo:
    """Normalise ``text`` and say which UK format it is, or why it is foreign or invalid.

    ``as_of`` decides which age identifiers and year letters had been issued.
    """
    vrm = normalise(text)
    if not vrm:
        return _invalid(vrm, "empty after normalising")
    if bad := sorted(set(vrm) - VRM_ALPHABET):
        shown = ", ".join(repr(c) for c in bad)
        return _invalid(vrm, f"contains characters other than A-Z and 0-9: {shown}")
    if len(vrm) == 1:
        return _invalid(vrm, "a single character is not a registration mark")
    if len(vrm) > MAX_LENGTH:
        return _invalid(vrm, f"{len(vrm)} characters: longer than any mark ({MAX_LENGTH})")

    runs = _runs(vrm)
    parts = [run for _, run in runs]
    shape = "".join(("D" if is_digit else "L") + str(len(run)) for is_digit, run in runs)
    if shape == "L2D2L3":
        return _classify_current(vrm, as_of)
    if shape == "D3L1D3":
        if parts[1] in DIPLOMATIC_LETTERS:
            return VRMInfo(vrm=vrm, vrm_class=VRMClass.DIPLOMATIC)
        return _foreign(vrm)
    if shape in ("L1D1L3", "L1D2L3", "L1D3L3"):
        letter, number, letters = parts
        if letter == "Q":
            if (problem := _serial_problem(number, letters, "Q plate")) is not None:
                return _invalid(vrm, problem)
            return VRMInfo(vrm=vrm, vrm_class=VRMClass.Q_PLATE)
        return _classify_dated(vrm, letter, number, letters, VRMClass.PREFIX, as_of)
    if shape in ("L3D1L1", "L3D2L1", "L3D3L1"):
        letters, number, letter = parts
        return _classify_dated(vrm, letter, number, letters, VRMClass.SUFFIX, as_of)
    if re.fullmatch("L[1-3]D[1-4]", shape):
        return _classify_dateless(vrm, letters=parts[0], number=parts[1])
    if re.fullmatch("D[1-4]L[1-3]", shape):
        return _classify_dateless(vrm, letters=parts[1], number=parts[0])
    return _foreign(vrm)


# --- Confusion key and candidates ----------------------------------------------------------------


def confusion_key(vrm: str) -> str:
    """Collapse each confusable group (``CONFUSION_GROUPS``) to its digit; normalises first.

    Idempotent; equal for any two strings that differ only by confusions. A shared key is
    evidence for review, never a basis for a charge or an alert on its own.
    """
    return "".join(_CONFUSION_CANONICAL.get(c, c) for c in normalise(vrm))


def current_format_candidates(vrm: str, *, as_of: date) -> list[str]:
    """Valid current-format VRMs a 7-character read may be a misread of (sorted).

    Each position may become any character of its confusion group of the right kind (letters
    at positions 1-2 and 5-7, digits at 3-4), so a digit read in a letter position becomes a
    letter and vice versa. Includes the read itself if valid. Evidence for review only.
    """
    read = normalise(vrm)
    if len(read) != 7:
        return []
    options: list[list[str]] = []
    for position, char in enumerate(read):
        kind = DIGITS if position in CURRENT_DIGIT_POSITIONS else LETTERS
        group = _CONFUSION_GROUP_OF.get(char, frozenset({char}))
        choices = sorted(group & kind)
        if not choices:
            return []
        options.append(choices)
    found = {"".join(chars) for chars in itertools.product(*options)}
    return sorted(c for c in found if classify(c, as_of=as_of).vrm_class is VRMClass.CURRENT)


# --- SQL (RE2) patterns ---------------------------------------------------------------------------


def _char_class(chars: Iterable[str]) -> str:
    """An RE2 character class listing ``chars`` (sorted, ASCII letters and digits only)."""
    chosen = sorted(set(chars))
    if not chosen or not all(c in VRM_ALPHABET for c in chosen):
        raise ValueError(f"cannot build a character class from {chosen!r}")
    return "[" + "".join(chosen) + "]"


def _alternation(options: Iterable[str]) -> str:
    return "(?:" + "|".join(re.escape(o) for o in sorted(options)) + ")"


def sql_patterns(as_of: date) -> list[tuple[VRMClass, str]]:
    """Ordered (class, RE2 pattern) pairs over a *normalised* VRM; the first full match wins.

    For every string ``normalise`` can return, the first matching pattern's class equals
    ``classify(vrm, as_of=as_of).vrm_class``; the last pattern matches everything. Patterns use
    no lookaround and no backreference, so DuckDB's ``regexp_full_match`` can run them.
    """
    gb = _char_class(LETTERS - GB_SERIAL_EXCLUDED)
    number_1_999 = "[1-9][0-9]{0,2}"
    number_1_9999 = "[1-9][0-9]{0,3}"
    patterns: list[tuple[VRMClass, str]] = []

    age_ids = _issued_age_identifiers(as_of)
    if age_ids:
        region = _char_class(MEMORY_TAG_REGIONS)
        office = _char_class(LETTERS - MEMORY_TAG_EXCLUDED)
        random = _char_class(LETTERS - RANDOM_LETTERS_EXCLUDED)
        patterns.append(
            (VRMClass.CURRENT, f"^{region}{office}{_alternation(age_ids)}{random}{{3}}$")
        )
    patterns.append((VRMClass.INVALID, "^[A-Z]{2}[0-9]{2}[A-Z]{3}$"))

    diplomatic = _char_class(DIPLOMATIC_LETTERS)
    patterns.append((VRMClass.DIPLOMATIC, f"^[0-9]{{3}}{diplomatic}[0-9]{{3}}$"))

    patterns.append((VRMClass.Q_PLATE, f"^Q{number_1_999}{gb}{{3}}$"))
    if prefix_letters := _issued_year_letters(PREFIX_YEAR_LETTERS, as_of):
        patterns.append(
            (VRMClass.PREFIX, f"^{_char_class(prefix_letters)}{number_1_999}{gb}{{3}}$")
        )
    patterns.append((VRMClass.INVALID, "^[A-Z][0-9]{1,3}[A-Z]{3}$"))
    if suffix_letters := _issued_year_letters(SUFFIX_YEAR_LETTERS, as_of):
        patterns.append(
            (VRMClass.SUFFIX, f"^{gb}{{3}}{number_1_999}{_char_class(suffix_letters)}$")
        )
    patterns.append((VRMClass.INVALID, "^[A-Z]{3}[0-9]{1,3}[A-Z]$"))

    ni_letters = f"{_char_class(NORTHERN_IRELAND_SERIAL_LETTERS)}?"
    ni_letters += _alternation(NORTHERN_IRELAND_CODES)
    patterns.append((VRMClass.NORTHERN_IRELAND, f"^{ni_letters}{number_1_9999}$"))
    patterns.append((VRMClass.NORTHERN_IRELAND, f"^{number_1_9999}{ni_letters}$"))
    patterns.append(
        (VRMClass.DATELESS, f"^(?:{gb}{{1,2}}{number_1_9999}|{gb}{{3}}{number_1_999})$")
    )
    patterns.append(
        (VRMClass.DATELESS, f"^(?:{number_1_9999}{gb}{{1,2}}|{number_1_999}{gb}{{3}})$")
    )
    patterns.append((VRMClass.FOREIGN, f"^[A-Z0-9]{{2,{MAX_LENGTH}}}$"))
    patterns.append((VRMClass.INVALID, "^(?s:.*)$"))
    return patterns
