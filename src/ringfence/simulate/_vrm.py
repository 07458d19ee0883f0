"""Vectorised generation of registration marks that follow DVLA rules.

A VRM is held as a row of a uint8 matrix (ASCII, left-aligned, zero-padded) plus its length, so
millions can be made, deduplicated and misread without a Python loop per mark.

Formats (class names as in `ringfence.domain.vrm`):

- `current` (from 1 September 2001): `AB12 CDE`. Memory tag: a region letter (A B C D E F G H K L
  M N O P R S V W Y) and a local-office letter (not I, Q or Z); age identifier `YY` for March to
  August, `YY + 50` for September to February; three random letters (not I or Q).
- `prefix` (August 1983 to August 2001): `A123 BCD`, the prefix letter giving the year
  (A = Aug 1983 ... P = Aug 1996, R, S = Aug 1998, T = Mar 1999, V, W, X, Y = Mar 2001).
- `suffix` (1963 to July 1983): `ABC 123D`, the suffix letter giving the year.
- `dateless` (before 1963, or a cherished mark on any vehicle): `ABC 123`, `12 AB`.
- `northern_ireland`: three letters whose last two contain I or Z, then up to four digits
  (`ABZ 1234`), dateless.
- `foreign`: non-UK formats (French/Italian `AB123CD`, Polish `WA12345`, Belgian `1ABC234`,
  Dutch `12ABC3`, Irish `191D12345`).
"""

from __future__ import annotations

import numpy as np

from ringfence.simulate._types import I64, U8, Bool

WIDTH = 10
VRM_CLASSES = ("current", "prefix", "suffix", "dateless", "northern_ireland", "foreign")
CURRENT, PREFIX, SUFFIX, DATELESS, NI, FOREIGN = range(6)

LETTERS_NO_IQ = np.frombuffer(b"ABCDEFGHJKLMNOPRSTUVWXYZ", dtype=np.uint8)
LETTERS_NO_IQZ = np.frombuffer(b"ABCDEFGHJKLMNOPRSTUVWXY", dtype=np.uint8)
REGION_LETTERS = np.frombuffer(b"ABCDEFGHKLMNOPRSVWY", dtype=np.uint8)
DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)
NI_CODES = np.frombuffer(
    b"AZBZCZDZEZFZGZHZIAIBIGIJILIWJIJZKZLZMZNZOIOZPZRZSZTZUIUZVZWZXIXZYZ", dtype=np.uint8
).reshape(-1, 2)

CURRENT_START = np.datetime64("2001-09-01")
PREFIX_START = np.datetime64("1983-08-01")
SUFFIX_START = np.datetime64("1963-01-01")

#: (first day, letter) of each prefix-format year letter.
PREFIX_LETTERS: tuple[tuple[str, str], ...] = (
    *((f"{1983 + i}-08-01", ch) for i, ch in enumerate("ABCDEFGHJKLMNPR")),
    ("1998-08-01", "S"),
    ("1999-03-01", "T"),
    ("1999-09-01", "V"),
    ("2000-03-01", "W"),
    ("2000-09-01", "X"),
    ("2001-03-01", "Y"),
)
#: (first day, letter) of each suffix-format year letter.
SUFFIX_LETTERS: tuple[tuple[str, str], ...] = (
    ("1963-01-01", "A"),
    ("1964-01-01", "B"),
    ("1965-01-01", "C"),
    ("1966-01-01", "D"),
    ("1967-01-01", "E"),
    *((f"{1967 + i}-08-01", ch) for i, ch in enumerate("FGHJKLMNPRSTVWXY")),
)


def _starts(table: tuple[tuple[str, str], ...]) -> tuple[np.ndarray, U8]:
    days = np.array([np.datetime64(d, "D") for d, _ in table])
    letters = np.frombuffer("".join(ch for _, ch in table).encode(), dtype=np.uint8)
    return days, letters


def age_identifier(first_registered: np.ndarray) -> I64:
    """Current-format age identifier (two digits) for dates from 1 September 2001."""
    d = first_registered.astype("datetime64[D]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = (d.astype("datetime64[M]").astype(np.int64) % 12) + 1
    ident = np.where(
        month >= 9, year % 100 + 50, np.where(month >= 3, year % 100, (year - 1) % 100 + 50)
    )
    return ident.astype(np.int64)


def _pick(rng: np.random.Generator, alphabet: U8, shape: tuple[int, ...]) -> U8:
    out: U8 = alphabet[rng.integers(0, len(alphabet), shape)]
    return out


def _number(rng: np.random.Generator, n: int, lo: int, hi: int) -> tuple[U8, I64]:
    """Numbers without leading zeros, log-uniform-ish in [lo, hi], as digit rows + lengths."""
    ndig_max = len(str(hi))
    # pick the digit count first so short numbers (cherished-looking) are not too rare
    ndig = rng.integers(len(str(lo)), ndig_max + 1, n)
    lo_k = np.maximum(lo, 10 ** (ndig - 1))
    hi_k = np.minimum(hi, 10**ndig - 1)
    k = lo_k + (rng.random(n) * (hi_k - lo_k + 1)).astype(np.int64)
    cols = np.arange(ndig_max)
    power = ndig[:, None] - 1 - cols[None, :]
    digits = (k[:, None] // (10 ** np.maximum(power, 0))) % 10
    out: U8 = np.where(power >= 0, DIGITS[digits], 0).astype(np.uint8)
    return out, ndig.astype(np.int64)


def _fixed(block: U8) -> tuple[U8, I64]:
    return block, np.full(block.shape[0], block.shape[1], dtype=np.int64)


def _assemble(parts: list[tuple[U8, I64]]) -> tuple[U8, I64]:
    """Concatenate variable-length parts row by row into a WIDTH-wide matrix."""
    n = parts[0][0].shape[0]
    out = np.zeros((n, WIDTH), dtype=np.uint8)
    pos = np.zeros(n, dtype=np.int64)
    rows = np.arange(n)
    for chars, lens in parts:
        for j in range(chars.shape[1]):
            m = j < lens
            out[rows[m], pos[m] + j] = chars[m, j]
        pos = pos + lens
    return out, pos


def _current(rng: np.random.Generator, dates: np.ndarray, london: Bool) -> tuple[U8, I64, I64]:
    n = len(dates)
    region = np.where(
        london & (rng.random(n) < 0.35), ord("L"), _pick(rng, REGION_LETTERS, (n,))
    ).astype(np.uint8)
    office = _pick(rng, LETTERS_NO_IQZ, (n,))
    ident = age_identifier(dates)
    age = DIGITS[np.column_stack([ident // 10, ident % 10])]
    rand = _pick(rng, LETTERS_NO_IQ, (n, 3))
    chars, lens = _assemble([_fixed(np.column_stack([region, office])), _fixed(age), _fixed(rand)])
    return chars, lens, np.full(n, 4, dtype=np.int64)


def _year_letter(table: tuple[tuple[str, str], ...], dates: np.ndarray) -> U8:
    starts, letters = _starts(table)
    idx = np.searchsorted(starts, dates.astype("datetime64[D]"), side="right") - 1
    out: U8 = letters[np.clip(idx, 0, len(letters) - 1)]
    return out


def _prefix(rng: np.random.Generator, dates: np.ndarray) -> tuple[U8, I64, I64]:
    n = len(dates)
    year = _year_letter(PREFIX_LETTERS, dates)[:, None]
    num, nd = _number(rng, n, 1, 999)
    letters = _pick(rng, LETTERS_NO_IQZ, (n, 3))
    chars, lens = _assemble([_fixed(year), (num, nd), _fixed(letters)])
    return chars, lens, 1 + nd


def _suffix(rng: np.random.Generator, dates: np.ndarray) -> tuple[U8, I64, I64]:
    n = len(dates)
    letters = _pick(rng, LETTERS_NO_IQZ, (n, 3))
    num, nd = _number(rng, n, 1, 999)
    year = _year_letter(SUFFIX_LETTERS, dates)[:, None]
    chars, lens = _assemble([_fixed(letters), (num, nd), _fixed(year)])
    return chars, lens, np.full(n, 3, dtype=np.int64)


def _dateless(rng: np.random.Generator, n: int) -> tuple[U8, I64, I64]:
    n_letters = rng.choice(np.array([1, 2, 3]), n, p=[0.15, 0.3, 0.55])
    letters = _pick(rng, LETTERS_NO_IQZ, (n, 3))
    num4, nd4 = _number(rng, n, 1, 9999)
    num3, nd3 = _number(rng, n, 1, 999)
    # with three letters at most three digits (four would look like Northern Ireland)
    num = np.where((n_letters == 3)[:, None], np.pad(num3, ((0, 0), (0, 1))), num4)
    nd = np.where(n_letters == 3, nd3, nd4)
    letters_first = rng.random(n) < 0.7
    a, la = _assemble([(letters, n_letters), (num, nd)])
    b, lb = _assemble([(num, nd), (letters, n_letters)])
    chars = np.where(letters_first[:, None], a, b)
    space = np.where(letters_first, n_letters, nd)
    return chars.astype(np.uint8), np.where(letters_first, la, lb), space.astype(np.int64)


def _northern_ireland(rng: np.random.Generator, n: int) -> tuple[U8, I64, I64]:
    first = _pick(rng, LETTERS_NO_IQZ, (n, 1))
    code = NI_CODES[rng.integers(0, len(NI_CODES), n)]
    num, nd = _number(rng, n, 1, 9999)
    chars, lens = _assemble([_fixed(np.column_stack([first, code])), (num, nd)])
    return chars, lens, np.full(n, 3, dtype=np.int64)


def _foreign(rng: np.random.Generator, n: int) -> tuple[U8, I64, I64]:
    # patterns: L letter, D digit; weights favour French and Irish vehicles
    patterns = ("LLDDDLL", "LLDDDDD", "DLLLDDD", "DDLLLD", "DDDLDDDDD", "DDLLDDD")
    weights = np.array([0.35, 0.15, 0.1, 0.1, 0.15, 0.15])
    which = rng.choice(len(patterns), n, p=weights)
    chars = np.zeros((n, WIDTH), dtype=np.uint8)
    lens = np.zeros(n, dtype=np.int64)
    for i, pat in enumerate(patterns):
        m = which == i
        k = int(m.sum())
        block = np.empty((k, len(pat)), dtype=np.uint8)
        for j, kind in enumerate(pat):
            if kind == "L":
                block[:, j] = _pick(rng, LETTERS_NO_IQ, (k,))
            else:
                block[:, j] = _pick(rng, DIGITS, (k,))
        if pat == "DDDLDDDDD":  # Irish: year, half, county, serial
            block[:, 0:2] = DIGITS[np.stack([np.full(k, 1), rng.integers(3, 10, k)], axis=1)]
            block[:, 2] = DIGITS[rng.integers(1, 3, k)]
            block[:, 3] = np.frombuffer(b"DCGLKW", dtype=np.uint8)[rng.integers(0, 6, k)]
            block[:, 4] = DIGITS[rng.integers(1, 10, k)]
        if pat.startswith("D"):
            block[:, 0] = DIGITS[rng.integers(1, 10, k)]
        chars[m, : len(pat)] = block
        lens[m] = len(pat)
    return chars, lens, np.zeros(n, dtype=np.int64)


def generate(
    rng: np.random.Generator, vrm_class: I64, first_registered: np.ndarray, london: Bool
) -> tuple[U8, I64, I64]:
    """VRMs for the intended classes: (chars (n, WIDTH), length, space position (0 = none))."""
    n = len(vrm_class)
    chars = np.zeros((n, WIDTH), dtype=np.uint8)
    lens = np.zeros(n, dtype=np.int64)
    space = np.zeros(n, dtype=np.int64)
    for cls in range(len(VRM_CLASSES)):
        idx = np.flatnonzero(vrm_class == cls)
        if len(idx) == 0:
            continue
        if cls == CURRENT:
            c, ln, sp = _current(rng, first_registered[idx], london[idx])
        elif cls == PREFIX:
            c, ln, sp = _prefix(rng, first_registered[idx])
        elif cls == SUFFIX:
            c, ln, sp = _suffix(rng, first_registered[idx])
        elif cls == DATELESS:
            c, ln, sp = _dateless(rng, len(idx))
        elif cls == NI:
            c, ln, sp = _northern_ireland(rng, len(idx))
        else:
            c, ln, sp = _foreign(rng, len(idx))
        chars[idx], lens[idx], space[idx] = c, ln, sp
    return chars, lens, space


def generate_unique(
    rng: np.random.Generator, vrm_class: I64, first_registered: np.ndarray, london: Bool
) -> tuple[U8, I64, I64]:
    """As `generate`, redrawing duplicates until every VRM is unique."""
    chars, lens, space = generate(rng, vrm_class, first_registered, london)
    for _ in range(50):
        keys = np.ascontiguousarray(chars).view(f"S{WIDTH}").ravel()
        _, first = np.unique(keys, return_index=True)
        dup = np.ones(len(keys), dtype=np.bool_)
        dup[first] = False
        if not dup.any():
            return chars, lens, space
        idx = np.flatnonzero(dup)
        c, ln, sp = generate(rng, vrm_class[idx], first_registered[idx], london[idx])
        chars[idx], lens[idx], space[idx] = c, ln, sp
    raise RuntimeError("could not make unique VRMs")  # pragma: no cover


def spaced(chars: U8, lens: I64, space: I64) -> tuple[U8, I64]:
    """Insert a space at each row's space position (0 = leave as is)."""
    n = chars.shape[0]
    cols = np.arange(WIDTH + 1)[None, :]
    has = space > 0
    pos = np.where(has, space, WIDTH + 1)[:, None]
    src = np.where(cols < pos, cols, cols - 1)
    padded = np.concatenate([chars, np.zeros((n, 1), dtype=np.uint8)], axis=1)
    out = np.take_along_axis(padded, np.clip(src, 0, WIDTH), axis=1)
    out[cols == pos] = ord(" ")
    out = np.where(cols < (lens + has)[:, None], out, 0).astype(np.uint8)
    return out, lens + has


__all__ = ["VRM_CLASSES", "generate_unique", "spaced"]
