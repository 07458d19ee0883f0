"""A synthetic DVLA-like vehicle register.

London keepers live in an MSOA drawn in proportion to its Census 2021 cars and vans
(`cars_vans_min`); vehicles kept outside London (commuters, hauliers, coaches, foreign visitors)
enter through a gateway and have no keeper MSOA or postcode district.

Each vehicle is first drawn as ULEZ/LEZ *compliant or not* with a probability per vehicle type (the
`compliant` column of `TYPE_PROFILES`), then given a fuel, a first-registration date and a Euro
standard consistent with that: petrol Euro 4 (from 2006), diesel Euro 6 (from September 2015
for cars, 2016 for vans), motorcycles Euro 3 (from July 2007), heavy vehicles Euro VI (from 2014);
electric vehicles always comply. Euro standards are missing for many older vehicles (as in the
real register); `is_ulez_compliant` then falls back on the registration date, as TfL's checker
does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ringfence.simulate import _vrm
from ringfence.simulate._geo import load_london
from ringfence.simulate._postcodes import POSTCODE_DISTRICTS
from ringfence.simulate._traffic import TrafficNetwork, build_traffic_network
from ringfence.simulate._types import F64, I64, U8, Bool

VEHICLE_TYPES = ("car", "van", "minibus", "motorcycle", "hgv", "bus", "coach", "taxi", "phv")
CAR, VAN, MINIBUS, MOTORCYCLE, HGV, BUS, COACH, TAXI, PHV = range(9)
FUELS = ("petrol", "diesel", "electric", "hybrid_petrol", "hybrid_diesel", "other")
PETROL, DIESEL, ELECTRIC, HYBRID_PETROL, HYBRID_DIESEL, OTHER = range(6)
TAX_CLASSES = ("standard", "disabled", "historic", "electric", "showman", "military")
STANDARD, DISABLED, HISTORIC, TAX_ELECTRIC, SHOWMAN, MILITARY = range(6)
HEAVY = (HGV, BUS, COACH)

#: Full-scale register: vehicles kept in London and vehicles from outside that come in.
FULL_LONDON_VEHICLES = 2_200_000
FULL_EXTERNAL_VEHICLES = 400_000


@dataclass(frozen=True)
class TypeProfile:
    """What a vehicle type looks like in the register (shares are per London / external fleet)."""

    london_share: float
    external_share: float
    fuel: tuple[float, float, float, float, float, float]  # in FUELS order
    compliant: float  # probability of ULEZ (light) / LEZ Euro VI (heavy) compliance, London
    compliant_external: float
    age_shape: float  # gamma distribution of age in years
    age_scale: float
    weight_kg: tuple[int, int]  # gross weight range
    seats: tuple[int, ...]  # choices
    wheelchair: float  # share wheelchair accessible
    foreign_external: float  # share of external vehicles with a non-UK VRM
    makes: tuple[str, ...]


TYPE_PROFILES: dict[int, TypeProfile] = {
    CAR: TypeProfile(
        0.835,
        0.63,
        (0.54, 0.25, 0.08, 0.11, 0.01, 0.01),
        0.97,
        0.94,
        2.0,
        4.0,
        (1_400, 2_600),
        (5, 5, 5, 5, 4, 7, 2),
        0.005,
        0.03,
        (
            "Ford",
            "Vauxhall",
            "Volkswagen",
            "BMW",
            "Mercedes-Benz",
            "Toyota",
            "Audi",
            "Nissan",
            "Kia",
            "Hyundai",
            "Peugeot",
            "Renault",
            "Honda",
            "Skoda",
            "MINI",
            "Land Rover",
            "Volvo",
            "Fiat",
            "Citroen",
            "SEAT",
        ),
    ),
    VAN: TypeProfile(
        0.085,
        0.17,
        (0.03, 0.90, 0.06, 0.0, 0.0, 0.01),
        0.88,
        0.85,
        2.0,
        3.5,
        (2_000, 3_500),
        (2, 3, 3),
        0.002,
        0.02,
        (
            "Ford",
            "Mercedes-Benz",
            "Volkswagen",
            "Vauxhall",
            "Citroen",
            "Peugeot",
            "Renault",
            "Toyota",
            "Nissan",
        ),
    ),
    MINIBUS: TypeProfile(
        0.003,
        0.01,
        (0.03, 0.92, 0.05, 0.0, 0.0, 0.0),
        0.90,
        0.85,
        2.0,
        4.0,
        (3_500, 5_000),
        (9, 12, 14, 16, 17),
        0.4,
        0.0,
        ("Ford", "Mercedes-Benz", "Renault", "Volkswagen", "Peugeot"),
    ),
    MOTORCYCLE: TypeProfile(
        0.035,
        0.02,
        (0.96, 0.0, 0.04, 0.0, 0.0, 0.0),
        0.95,
        0.93,
        1.8,
        5.0,
        (250, 500),
        (1, 2, 2),
        0.0,
        0.03,
        ("Honda", "Yamaha", "Suzuki", "Kawasaki", "BMW", "Triumph", "Piaggio", "Vespa"),
    ),
    HGV: TypeProfile(
        0.004,
        0.15,
        (0.0, 0.97, 0.01, 0.0, 0.0, 0.02),
        0.93,
        0.92,
        2.0,
        3.0,
        (7_500, 44_000),
        (2, 3),
        0.0,
        0.25,
        ("DAF", "Scania", "Volvo", "Mercedes-Benz", "MAN", "Iveco", "Renault Trucks"),
    ),
    BUS: TypeProfile(
        0.004,
        0.0,
        (0.0, 0.25, 0.30, 0.0, 0.45, 0.0),
        0.995,
        0.99,
        3.0,
        2.0,
        (18_000, 19_500),
        (60, 70, 87, 90),
        1.0,
        0.0,
        ("Alexander Dennis", "Wright", "Volvo", "BYD", "Scania"),
    ),
    COACH: TypeProfile(
        0.001,
        0.02,
        (0.0, 0.98, 0.02, 0.0, 0.0, 0.0),
        0.85,
        0.85,
        2.2,
        4.5,
        (18_000, 19_500),
        (49, 53, 57),
        0.1,
        0.15,
        ("Volvo", "Scania", "Mercedes-Benz", "Irizar", "Van Hool", "Setra"),
    ),
    TAXI: TypeProfile(
        0.006,
        0.0,
        (0.0, 0.45, 0.0, 0.55, 0.0, 0.0),
        0.99,
        0.99,
        2.5,
        2.5,
        (2_500, 2_600),
        (7,),
        1.0,
        0.0,
        ("LEVC", "London Taxis International", "Mercedes-Benz"),
    ),
    PHV: TypeProfile(
        0.031,
        0.01,
        (0.08, 0.04, 0.30, 0.55, 0.03, 0.0),
        0.995,
        0.99,
        2.5,
        1.6,
        (1_900, 2_500),
        (5, 5, 7),
        0.03,
        0.0,
        ("Toyota", "Kia", "Hyundai", "Tesla", "Mercedes-Benz", "Skoda", "Ford"),
    ),
}
ELECTRIC_CAR_MAKES = ("Tesla", "Nissan", "Kia", "Hyundai", "Volkswagen", "MG", "BMW", "Polestar")

#: First day a vehicle of each family is presumed compliant when its Euro standard is missing.
PETROL_FROM = np.datetime64("2006-01-01")
DIESEL_CAR_FROM = np.datetime64("2015-09-01")
DIESEL_VAN_FROM = np.datetime64("2016-09-01")
MOTORCYCLE_FROM = np.datetime64("2007-07-01")
HEAVY_FROM = np.datetime64("2014-01-01")

#: First registration dates from which each Euro standard applies (1..6).
EURO_LIGHT = np.array(
    ["1993-01-01", "1997-01-01", "2001-01-01", "2006-01-01", "2011-01-01", "2015-09-01"],
    dtype="datetime64[D]",
)
EURO_VAN = np.array(
    ["1994-10-01", "1998-01-01", "2002-01-01", "2007-01-01", "2012-01-01", "2016-09-01"],
    dtype="datetime64[D]",
)
EURO_MOTORCYCLE = np.array(
    ["1999-07-01", "2004-01-01", "2007-01-01", "2017-01-01", "2021-01-01", "2099-01-01"],
    dtype="datetime64[D]",
)
EURO_HEAVY = np.array(
    ["1993-01-01", "1996-10-01", "2001-10-01", "2006-10-01", "2009-10-01", "2014-01-01"],
    dtype="datetime64[D]",
)

#: Shares of the register that carry a cherished dateless mark or a Northern Ireland mark.
CHERISHED_SHARE = 0.012
NI_SHARE_LONDON = 0.003
NI_SHARE_EXTERNAL = 0.02
#: Share of cars and motorcycles that are classics (40 to 65 years old).
CLASSIC_SHARE = 0.004
DISABLED_SHARE = 0.025


@dataclass(frozen=True)
class VehicleRegister:
    """The register, arrays aligned by vehicle index, plus simulation-only truth."""

    vrm_chars: U8  # (n, WIDTH) ASCII, zero padded
    vrm_len: I64
    vrm_space: I64  # where a vendor would put the space, 0 = none
    vrm_class: I64  # intended class, index into VRM_CLASSES
    vehicle_type: I64
    fuel: I64
    euro_standard: I64  # 0 = missing
    first_registered: Any  # datetime64[D]
    tax_class: I64
    gross_weight_kg: I64
    seats: I64
    wheelchair_accessible: Bool
    make: Any  # object array of str
    postcode_district: Any  # object array of str or None
    home_msoa: I64  # -1 outside London
    home_node: I64  # traffic zone or gateway node
    is_external: Bool

    def __len__(self) -> int:
        return len(self.vrm_len)

    def vrm_strings(self) -> pa.StringArray:
        return strings_from_chars(self.vrm_chars, self.vrm_len)

    def vrm_spaced_strings(self) -> pa.StringArray:
        chars, lens = _vrm.spaced(self.vrm_chars, self.vrm_len, self.vrm_space)
        return strings_from_chars(chars, lens)

    def compliant(self) -> Bool:
        return is_ulez_compliant(
            self.vehicle_type, self.fuel, self.euro_standard, self.first_registered
        )

    def to_table(self) -> pa.Table:
        """The `vehicles.parquet` table of docs/formats.md."""
        london = load_london()
        msoa = np.array([*london.msoa_codes, None], dtype=object)
        euro = pa.array(self.euro_standard.astype(np.int8), mask=self.euro_standard == 0)
        return pa.table(
            {
                "vrm": self.vrm_strings(),
                "vehicle_type": _codes(VEHICLE_TYPES, self.vehicle_type),
                "fuel": _codes(FUELS, self.fuel),
                "euro_standard": euro,
                "first_registered": pa.array(self.first_registered.astype("datetime64[D]")),
                "tax_class": _codes(TAX_CLASSES, self.tax_class),
                "gross_weight_kg": pa.array(self.gross_weight_kg.astype(np.int32)),
                "seats": pa.array(self.seats.astype(np.int16)),
                "wheelchair_accessible": pa.array(self.wheelchair_accessible),
                "make": pa.array(self.make, pa.string()),
                "keeper_postcode_district": pa.array(self.postcode_district, pa.string()),
                "keeper_msoa21cd": pa.array(msoa[self.home_msoa], pa.string()),
            }
        )


def _codes(names: tuple[str, ...], codes: I64) -> pa.Array:
    return pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(np.int8)), pa.array(names, pa.string())
    ).cast(pa.string())


def strings_from_chars(chars: U8, lens: I64) -> pa.StringArray:
    """A pyarrow string array from zero-padded ASCII rows, without a Python loop."""
    width = chars.shape[1]
    mask = np.arange(width)[None, :] < lens[:, None]
    data = np.ascontiguousarray(chars[mask])
    offsets = np.zeros(len(lens) + 1, dtype=np.int32)
    np.cumsum(lens, out=offsets[1:])
    arr = pa.StringArray.from_buffers(len(lens), pa.py_buffer(offsets), pa.py_buffer(data))
    return arr


def compliance_from(
    vehicle_type: I64, fuel: I64
) -> Any:  # datetime64[D] array: presumed-compliant-from date, NaT for electric
    out = np.full(len(vehicle_type), PETROL_FROM, dtype="datetime64[D]")
    diesel_like = (fuel == DIESEL) | (fuel == HYBRID_DIESEL)
    out[diesel_like] = DIESEL_CAR_FROM
    out[diesel_like & np.isin(vehicle_type, (VAN, MINIBUS))] = DIESEL_VAN_FROM
    out[vehicle_type == MOTORCYCLE] = MOTORCYCLE_FROM
    out[np.isin(vehicle_type, HEAVY)] = HEAVY_FROM
    out[fuel == ELECTRIC] = np.datetime64("NaT")
    return out


def required_euro(vehicle_type: I64, fuel: I64) -> I64:
    """Euro standard needed for the ULEZ (light vehicles) or LEZ (heavy vehicles); 0 = none."""
    diesel_like = (fuel == DIESEL) | (fuel == HYBRID_DIESEL)
    req = np.where(diesel_like, 6, 4)
    req = np.where(vehicle_type == MOTORCYCLE, 3, req)
    req = np.where(np.isin(vehicle_type, HEAVY), 6, req)
    result: I64 = np.where(fuel == ELECTRIC, 0, req).astype(np.int64)
    return result


def is_ulez_compliant(
    vehicle_type: I64, fuel: I64, euro_standard: I64, first_registered: Any
) -> Bool:
    """ULEZ standards (LEZ Euro VI for heavy vehicles); a missing Euro standard falls back on the
    first-registration date. Exemptions (historic, disabled tax class...) are not considered."""
    req = required_euro(vehicle_type, fuel)
    by_euro = euro_standard >= req
    since = compliance_from(vehicle_type, fuel)
    by_date = ~np.isnat(since) & (first_registered >= since)
    result: Bool = (fuel == ELECTRIC) | np.where(euro_standard > 0, by_euro, by_date)
    return result


def _euro_by_date(vehicle_type: I64, dates: Any) -> I64:
    out = np.zeros(len(dates), dtype=np.int64)
    for table, mask in (
        (EURO_LIGHT, ~np.isin(vehicle_type, (VAN, MINIBUS, MOTORCYCLE, *HEAVY))),
        (EURO_VAN, np.isin(vehicle_type, (VAN, MINIBUS))),
        (EURO_MOTORCYCLE, vehicle_type == MOTORCYCLE),
        (EURO_HEAVY, np.isin(vehicle_type, HEAVY)),
    ):
        out[mask] = np.searchsorted(table, dates[mask], side="right")
    return out


def _choice_by_group(
    rng: np.random.Generator, group: I64, table: dict[int, Any], n_choices: int
) -> I64:
    out = np.zeros(len(group), dtype=np.int64)
    for g, p in table.items():
        m = group == g
        if m.any():
            probs = np.asarray(p, dtype=np.float64)
            out[m] = rng.choice(n_choices, int(m.sum()), p=probs / probs.sum())
    return out


def _ages(rng: np.random.Generator, vtype: I64, compliant: Bool, limit_days: F64) -> F64:
    """Ages in days: compliant ones younger than `limit_days`, the others older."""
    n = len(vtype)
    shape = np.array([TYPE_PROFILES[t].age_shape for t in range(9)])[vtype]
    scale = np.array([TYPE_PROFILES[t].age_scale for t in range(9)])[vtype] * 365.25
    age = rng.gamma(shape, scale)
    bad = compliant & (age > limit_days)
    for _ in range(12):
        if not bad.any():
            break
        age[bad] = rng.gamma(shape[bad], scale[bad])
        bad = compliant & (age > limit_days)
    age[bad] = rng.random(int(bad.sum())) * limit_days[bad]
    old = ~compliant
    age[old] = limit_days[old] + 30 + rng.exponential(3.0 * 365.25, int(old.sum()))
    age = np.minimum(age, 35 * 365.25)
    return np.maximum(age, rng.random(n) * 20.0)


def build_register(seed: int, as_of: dt.date, n_london: int, n_external: int) -> VehicleRegister:
    """A register of `n_london` London-kept and `n_external` visiting vehicles, as of a day."""
    london = load_london()
    traffic: TrafficNetwork = build_traffic_network()
    rng = np.random.default_rng([seed, 0x7E41C1E])
    n = n_london + n_external
    external = np.zeros(n, dtype=np.bool_)
    external[n_london:] = True

    london_p = np.array([TYPE_PROFILES[t].london_share for t in range(9)])
    ext_p = np.array([TYPE_PROFILES[t].external_share for t in range(9)])
    vtype = np.concatenate(
        [
            rng.choice(9, n_london, p=london_p / london_p.sum()),
            rng.choice(9, n_external, p=ext_p / ext_p.sum()),
        ]
    ).astype(np.int64)

    cars = london.msoa_cars.astype(np.float64)
    home_msoa = np.full(n, -1, dtype=np.int64)
    home_msoa[:n_london] = rng.choice(len(cars), n_london, p=cars / cars.sum())
    home_node = np.empty(n, dtype=np.int64)
    home_node[:n_london] = traffic.msoa_zone[home_msoa[:n_london]]
    gw_w = traffic.node_weight[traffic.n_zones :]
    home_node[n_london:] = traffic.n_zones + rng.choice(len(gw_w), n_external, p=gw_w / gw_w.sum())

    fuel = _choice_by_group(rng, vtype, {t: TYPE_PROFILES[t].fuel for t in range(9)}, 6)
    target = np.where(
        external,
        np.array([TYPE_PROFILES[t].compliant_external for t in range(9)])[vtype],
        np.array([TYPE_PROFILES[t].compliant for t in range(9)])[vtype],
    )
    compliant = rng.random(n) < target
    # a non-compliant vehicle burns petrol or diesel
    light = np.isin(vtype, (CAR, TAXI, PHV))
    redo = ~compliant & ~np.isin(fuel, (PETROL, DIESEL))
    fuel[redo] = np.where(light[redo] & (rng.random(int(redo.sum())) < 0.4), PETROL, DIESEL)
    fuel[~compliant & (vtype == MOTORCYCLE)] = PETROL
    compliant |= fuel == ELECTRIC

    today = np.datetime64(as_of, "D")
    since = compliance_from(vtype, fuel)
    limit = np.where(np.isnat(since), 40 * 365.25, (today - since).astype(np.float64))
    limit = np.maximum(limit, 1.0)
    age = _ages(rng, vtype, compliant, limit)
    classic = np.isin(vtype, (CAR, MOTORCYCLE)) & (rng.random(n) < CLASSIC_SHARE)
    age[classic] = rng.uniform(40, 65, int(classic.sum())) * 365.25
    first_registered = today - np.floor(age).astype("timedelta64[D]")

    # Euro standard: type approval runs ahead of the mandatory dates by up to a year
    early = rng.uniform(0, 365, n).astype("timedelta64[D]")
    euro = _euro_by_date(vtype, first_registered + early)
    req = required_euro(vtype, fuel)
    compliant_now = compliant & ~classic
    euro = np.where(compliant_now & (req > 0), np.maximum(euro, req), euro)
    euro = np.where(~compliant_now & (req > 0), np.minimum(euro, req - 1), euro)
    ev = fuel == ELECTRIC
    euro = np.where(ev, np.where(rng.random(n) < 0.2, 6, 0), euro)
    before_date = ~np.isnat(since) & (first_registered < since)
    missing_p = np.where(
        first_registered < np.datetime64("2001-01-01"),
        0.5,
        np.where(first_registered < np.datetime64("2006-01-01"), 0.12, 0.02),
    )
    # a missing standard must not flip compliance through the date fall-back
    may_miss = ~(compliant_now & before_date)
    euro = np.where(may_miss & (rng.random(n) < missing_p), 0, euro)
    euro = np.where(euro > 0, np.clip(euro, 1, 7), 0).astype(np.int64)

    # registration marks
    vrm_class = np.where(
        first_registered >= _vrm.CURRENT_START,
        _vrm.CURRENT,
        np.where(
            first_registered >= _vrm.PREFIX_START,
            _vrm.PREFIX,
            np.where(first_registered >= _vrm.SUFFIX_START, _vrm.SUFFIX, _vrm.DATELESS),
        ),
    ).astype(np.int64)
    vrm_class[rng.random(n) < CHERISHED_SHARE] = _vrm.DATELESS
    ni = rng.random(n) < np.where(external, NI_SHARE_EXTERNAL, NI_SHARE_LONDON)
    vrm_class[ni] = _vrm.NI
    foreign_p = np.array([TYPE_PROFILES[t].foreign_external for t in range(9)])[vtype]
    vrm_class[external & (rng.random(n) < foreign_p)] = _vrm.FOREIGN
    chars, lens, space = _vrm.generate_unique(rng, vrm_class, first_registered, ~external)

    # tax class
    tax = np.full(n, STANDARD, dtype=np.int64)
    tax[ev] = TAX_ELECTRIC
    disabled = np.isin(vtype, (CAR, VAN, MOTORCYCLE)) & ~external & (rng.random(n) < DISABLED_SHARE)
    tax[disabled] = DISABLED
    forty = np.datetime64(f"{as_of.year - 40}-01-01")
    tax[(first_registered < forty) & (rng.random(n) < 0.85)] = HISTORIC
    tax[(vtype == HGV) & (rng.random(n) < 0.005)] = SHOWMAN
    tax[np.isin(vtype, (HGV, VAN)) & (rng.random(n) < 0.0005)] = MILITARY
    tax[vrm_class == _vrm.FOREIGN] = STANDARD

    lo = np.array([TYPE_PROFILES[t].weight_kg[0] for t in range(9)])[vtype]
    hi = np.array([TYPE_PROFILES[t].weight_kg[1] for t in range(9)])[vtype]
    weight = lo + (rng.random(n) * (hi - lo)).astype(np.int64)
    weight = np.where(
        vtype == HGV,
        np.array([7_500, 12_000, 18_000, 26_000, 32_000, 44_000])[rng.integers(0, 6, n)],
        weight,
    )
    weight = (np.round(weight / 10) * 10).astype(np.int64)
    seats = np.zeros(n, dtype=np.int64)
    make = np.empty(n, dtype=object)
    for t in range(9):
        m = vtype == t
        k = int(m.sum())
        if not k:
            continue
        prof = TYPE_PROFILES[t]
        seats[m] = np.asarray(prof.seats)[rng.integers(0, len(prof.seats), k)]
        mk = np.asarray(prof.makes, dtype=object)
        # Zipf-like popularity: the first makes in each list are the commonest
        w = 1.0 / np.arange(1, len(mk) + 1) ** 0.8
        make[m] = mk[rng.choice(len(mk), k, p=w / w.sum())]
    ev_car = ev & (vtype == CAR)
    ev_makes = np.asarray(ELECTRIC_CAR_MAKES, dtype=object)
    make[ev_car] = ev_makes[rng.integers(0, len(ev_makes), int(ev_car.sum()))]
    wheelchair_p = np.array([TYPE_PROFILES[t].wheelchair for t in range(9)])[vtype]
    wheelchair = rng.random(n) < wheelchair_p

    district = np.full(n, None, dtype=object)
    for b, gss in enumerate(london.borough_gss):
        m = ~external & (london.msoa_borough[np.maximum(home_msoa, 0)] == b)
        opts = np.asarray(POSTCODE_DISTRICTS[gss], dtype=object)
        district[m] = opts[rng.integers(0, len(opts), int(m.sum()))]

    return VehicleRegister(
        vrm_chars=chars,
        vrm_len=lens,
        vrm_space=space,
        vrm_class=vrm_class,
        vehicle_type=vtype,
        fuel=fuel,
        euro_standard=euro,
        first_registered=first_registered,
        tax_class=tax,
        gross_weight_kg=weight,
        seats=seats,
        wheelchair_accessible=wheelchair,
        make=make,
        postcode_district=district,
        home_msoa=home_msoa,
        home_node=home_node,
        is_external=external,
    )
