"""The synthetic DVLA-like register: columns, uniqueness, compliance, DVLA-rule VRMs."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pyarrow as pa
import pytest

from ringfence.domain.vrm import classify
from ringfence.simulate import _vrm
from ringfence.simulate.vehicles import (
    FUELS,
    TAX_CLASSES,
    VAN,
    VEHICLE_TYPES,
    VehicleRegister,
    build_register,
)
from simulate.tiny_london import TinyDay
from support import VEHICLE_COLUMNS

AS_OF = dt.date(2026, 11, 26)
COLUMNS = [*VEHICLE_COLUMNS, "keeper_postcode_district", "keeper_msoa21cd"]


@pytest.fixture(scope="module")
def register() -> VehicleRegister:
    return build_register(3, AS_OF, 40_000, 8_000)


def test_columns_and_values(tiny: TinyDay) -> None:
    vehicles: pa.Table = tiny.vehicles
    assert vehicles.column_names == COLUMNS
    assert set(vehicles["vehicle_type"].to_pylist()) <= set(VEHICLE_TYPES)
    assert set(vehicles["fuel"].to_pylist()) <= set(FUELS)
    assert set(vehicles["tax_class"].to_pylist()) <= set(TAX_CLASSES)
    euro = [e for e in vehicles["euro_standard"].to_pylist() if e is not None]
    assert euro and min(euro) >= 1 and max(euro) <= 7
    assert vehicles["euro_standard"].null_count > 0
    vrm = vehicles["vrm"].to_pylist()
    assert all(v == v.upper() and " " not in v for v in vrm)
    assert len(set(vrm)) == len(vrm)
    assert max(vehicles["first_registered"].to_pylist()) <= tiny.day
    msoa = vehicles["keeper_msoa21cd"].to_pylist()
    district = vehicles["keeper_postcode_district"].to_pylist()
    assert [m is None for m in msoa] == [d is None for d in district]
    outside = sum(m is None for m in msoa) / len(msoa)
    assert 0.1 < outside < 0.2
    assert all(m.startswith("E02") for m in msoa if m is not None)


def test_vrms_unique_at_size(register: VehicleRegister) -> None:
    vrm = register.vrm_strings().to_pylist()
    assert len(set(vrm)) == len(vrm) == len(register)


def test_compliance_share(register: VehicleRegister) -> None:
    ok = register.compliant()
    assert 0.93 <= ok.mean() <= 0.97
    vans = register.vehicle_type == VAN
    assert ok[vans].mean() < ok[~vans].mean() - 0.03
    assert ok[register.fuel == FUELS.index("electric")].all()


def test_realistic_mix(register: VehicleRegister) -> None:
    types = Counter(np.asarray(VEHICLE_TYPES)[register.vehicle_type].tolist())
    assert types["car"] / len(register) > 0.7
    assert {"van", "motorcycle", "hgv", "taxi", "phv", "bus"} <= set(types)
    ages = (np.datetime64(AS_OF) - register.first_registered).astype(np.int64) / 365.25
    assert 5 < ages.mean() < 11
    tax = np.asarray(TAX_CLASSES)[register.tax_class]
    assert {"standard", "electric", "disabled", "historic"} <= set(tax.tolist())
    assert (ages[tax == "historic"] >= 40).all()
    taxis = register.vehicle_type == VEHICLE_TYPES.index("taxi")
    assert register.wheelchair_accessible[taxis].all()
    lorries = register.vehicle_type == VEHICLE_TYPES.index("hgv")
    assert (register.gross_weight_kg[lorries] >= 7_500).all()


def test_every_vrm_class_is_made(register: VehicleRegister) -> None:
    made = Counter(np.asarray(_vrm.VRM_CLASSES)[register.vrm_class].tolist())
    assert set(made) == set(_vrm.VRM_CLASSES)
    assert made["current"] / len(register) > 0.9
    foreign = register.vrm_class == _vrm.FOREIGN
    assert register.is_external[foreign].all()


def test_vrms_classify_as_intended_and_dates_agree(register: VehicleRegister) -> None:
    vrm = register.vrm_strings().to_pylist()
    regd = register.first_registered.astype("datetime64[D]").tolist()
    wrong = []
    for v, cls, first in zip(vrm, register.vrm_class.tolist(), regd, strict=True):
        info = classify(v, as_of=AS_OF)
        if info.vrm_class.value != _vrm.VRM_CLASSES[cls]:
            wrong.append((v, _vrm.VRM_CLASSES[cls], info.vrm_class.value, info.reason))
            continue
        if info.vrm_class.value in ("current", "prefix", "suffix") and not (
            # suffix A was issued from 1963 by some offices only: a loose hint
            info.registered_from is not None
            and info.registered_to is not None
            and info.registered_from <= first <= info.registered_to
        ):
            wrong.append((v, str(first), info.registered_from, info.registered_to))
    assert not wrong, wrong[:10]


def test_current_format_memory_tags() -> None:
    rng = np.random.default_rng(0)
    dates = np.array(
        ["2001-09-01", "2002-02-28", "2002-03-01", "2025-09-01"], dtype="datetime64[D]"
    )
    chars, lens, space = _vrm.generate_unique(
        rng, np.zeros(4, dtype=np.int64), dates, np.ones(4, dtype=np.bool_)
    )
    marks = [bytes(c[:n]).decode() for c, n in zip(chars, lens, strict=True)]
    assert [m[2:4] for m in marks] == ["51", "51", "02", "75"]
    assert all(m[0] in "ABCDEFGHKLMNOPRSVWY" and m[1] not in "IQZ" for m in marks)
    assert all(not set(m[4:]) & set("IQ") for m in marks)
    assert space.tolist() == [4, 4, 4, 4]
