"""Reads and truth: the contract of docs/formats.md, the charge-day clock, and ANPR realism."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from ringfence.domain.vrm import normalise
from ringfence.simulate import ReadModel, simulate
from ringfence.simulate.reads import (
    CAMERA_CLASS,
    CONFUSION_PAIRS,
    READS_SCHEMA,
    TRUTH_SCHEMA,
    cloned_plates,
    mmr_cameras,
)
from ringfence.simulate.vehicles import VEHICLE_TYPES
from simulate.tiny_london import SEED, TinyDay, load

LONDON = ZoneInfo("Europe/London")
PAIRS = {frozenset(p) for p in CONFUSION_PAIRS}
COMPASS = {"N", "NE", "E", "SE", "S", "SW", "W", "NW"}


def _rows(table: pa.Table) -> list[dict[str, object]]:
    return table.to_pylist()


def test_schemas(tiny: TinyDay) -> None:
    assert tiny.reads.schema.remove_metadata() == READS_SCHEMA
    assert tiny.truth.schema.remove_metadata() == TRUTH_SCHEMA
    assert tiny.reads["read_id"].to_pylist() == tiny.truth["read_id"].to_pylist()
    ids = tiny.reads["read_id"].to_pylist()
    assert len(set(ids)) == len(ids)
    assert tiny.reads.num_rows > 10_000


def test_every_read_is_at_a_known_camera(tiny: TinyDay) -> None:
    cameras = {r["camera_id"]: r for r in _rows(tiny.cameras)}
    day = tiny.day
    for r in tiny.joined():
        cam = cameras[r["camera_id"]]
        assert r["image_ref"] == f"img://{r['camera_id']}/{r['read_id']}"
        in_service = cam["commissioned_on"] <= day and (
            cam["decommissioned_on"] is None or cam["decommissioned_on"] > day
        )
        assert in_service or r["kind"] == "junk"
        if r["direction"] in ("in", "out"):
            assert cam["site_kind"] == "cordon"
        else:
            assert r["direction"] in COMPASS
        assert 1 <= r["lane"] <= 3


def test_kind_shares_are_near_their_parameters(tiny: TinyDay) -> None:
    model = ReadModel()
    kinds = tiny.truth["kind"].to_pylist()
    passes = kinds.count("genuine") + kinds.count("misread")
    assert kinds.count("misread") / passes == pytest.approx(model.misread_rate, abs=0.008)
    assert kinds.count("queue_duplicate") / passes == pytest.approx(
        model.queue_duplicate_rate, abs=0.006
    )
    assert kinds.count("junk") / passes == pytest.approx(model.junk_rate, abs=0.003)
    assert dict(tiny.summary.reads_by_kind) == {
        k: kinds.count(k) for k in ("genuine", "misread", "queue_duplicate", "junk")
    }


def test_misreads_are_confusion_swaps(tiny: TinyDay) -> None:
    misreads = [r for r in tiny.joined() if r["kind"] == "misread"]
    assert misreads
    for r in misreads:
        read, true = normalise(str(r["plate"])), str(r["true_vrm"])
        assert len(read) == len(true)
        diffs = [(a, b) for a, b in zip(read, true, strict=True) if a != b]
        assert 1 <= len(diffs) <= 2, (read, true)
        assert all(frozenset(d) in PAIRS for d in diffs), (read, true)
        assert r["confidence"] < 0.9


def test_genuine_reads_show_the_vrm(tiny: TinyDay) -> None:
    genuine = [r for r in tiny.joined() if r["kind"] == "genuine"]
    # a vehicle shows its own plate, or a clone the plate of the vehicle it copies
    vrms = tiny.vehicles["vrm"].to_pylist()
    index = {v: i for i, v in enumerate(vrms)}
    plate_of = cloned_plates(len(vrms), SEED, ReadModel().clone_rate)
    shown = [vrms[plate_of[index[r["true_vrm"]]]] for r in genuine]
    assert [normalise(str(r["plate"])) for r in genuine] == shown
    spaced = sum(" " in str(r["plate"]) for r in genuine) / len(genuine)
    assert 0.05 < spaced < 0.6  # some vendors write the space
    conf = np.array([r["confidence"] for r in genuine])
    assert ((conf >= 0.6) & (conf <= 0.99)).all()
    assert ((conf >= 0.85) & (conf <= 0.99)).mean() > 0.9
    vehicles = set(tiny.vehicles["vrm"].to_pylist())
    assert {r["true_vrm"] for r in genuine} <= vehicles


def test_queue_duplicates_follow_a_read_of_the_same_pass(tiny: TinyDay) -> None:
    rows = tiny.joined()
    seen = defaultdict(list)
    for r in rows:
        if r["kind"] in ("genuine", "misread"):
            seen[(r["trip_id"], r["camera_id"], r["plate"])].append(r["captured_at"])
    dups = [r for r in rows if r["kind"] == "queue_duplicate"]
    assert dups
    for r in dups:
        before = seen[(r["trip_id"], r["camera_id"], r["plate"])]
        gaps = [(r["captured_at"] - t).total_seconds() for t in before]
        assert any(0 < g <= 8.5 for g in gaps), r


def test_junk_reads(tiny: TinyDay) -> None:
    junk = [r for r in tiny.joined() if r["kind"] == "junk"]
    assert junk
    assert all(r["true_vrm"] is None and r["trip_id"] is None for r in junk)
    plates = [str(r["plate"]) for r in junk]
    assert any(p == "" for p in plates)
    assert any("?" in p for p in plates)
    others = [r for r in tiny.joined() if r["kind"] != "junk"]
    assert all(r["true_vrm"] and r["trip_id"] is not None for r in others)


def test_rush_hours_and_visitors(tiny: TinyDay) -> None:
    hours = np.array([t.astimezone(LONDON).hour for t in tiny.reads["captured_at"].to_pylist()])
    peak = np.isin(hours, [7, 8, 9, 16, 17, 18]).sum() / 6
    night = np.isin(hours, [1, 2, 3, 4]).sum() / 4
    assert peak > 5 * night
    outside = {
        v for v, m in zip(
            tiny.vehicles["vrm"].to_pylist(), tiny.vehicles["keeper_msoa21cd"].to_pylist(),
            strict=True,
        ) if m is None
    }  # fmt: skip
    trips = {(r["true_vrm"], r["trip_id"]) for r in tiny.joined() if r["trip_id"] is not None}
    share = sum(v in outside for v, _ in trips) / len(trips)
    assert 0.1 < share < 0.3


def test_faulty_rows_for_quarantine(tmp_path: Path) -> None:
    model = ReadModel(faulty_decommissioned_rate=0.003, faulty_confidence_rate=0.003)
    s = simulate(tmp_path, day=dt.date(2026, 11, 26), seed=2, scale="tiny", model=model)
    reads = pq.read_table(s.reads_paths[0]).to_pylist()
    truth = pq.read_table(s.truth_paths[0]).to_pylist()
    cameras = {r["camera_id"]: r for r in pacsv.read_csv(s.cameras_path).to_pylist()}
    gone = [
        r for r in reads
        if (d := cameras[r["camera_id"]]["decommissioned_on"]) is not None
        and d <= dt.date(2026, 11, 26)
    ]  # fmt: skip
    bad_confidence = [r for r in reads if not 0.0 <= r["confidence"] <= 1.0]
    assert len(gone) > 10
    assert len(bad_confidence) > 10
    kind = {t["read_id"]: t["kind"] for t in truth}
    assert {kind[r["read_id"]] for r in gone + bad_confidence} == {"junk"}


@pytest.mark.parametrize(
    ("day", "hours"), [(dt.date(2026, 3, 29), 23), (dt.date(2026, 10, 25), 25)]
)
def test_captured_at_inside_the_charge_day_on_clock_changes(
    tmp_path: Path, day: dt.date, hours: int
) -> None:
    parquet = simulate(tmp_path / "p", day=day, seed=4, scale="tiny")
    csv = simulate(tmp_path / "c", day=day, seed=4, scale="tiny", reads_format="csv")
    jsonl = simulate(tmp_path / "j", day=day, seed=4, scale="tiny", reads_format="jsonl")
    table = pq.read_table(parquet.reads_paths[0])
    instants = table["captured_at"].to_pylist()
    assert all(t.tzinfo is not None for t in instants)
    local = [t.astimezone(LONDON) for t in instants]
    assert {t.date() for t in local} == {day}
    start = dt.datetime.combine(day, dt.time(0), tzinfo=LONDON)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=LONDON)
    assert end.timestamp() - start.timestamp() == hours * 3600
    assert all(start <= t < end for t in instants)
    local_hours = {(t.hour, t.utcoffset()) for t in local}
    if hours == 23:  # 01:00-02:00 does not exist
        assert not any(h == 1 for h, _ in local_hours)
    else:  # 01:00-02:00 happens twice, in BST and then in GMT
        assert (1, dt.timedelta(hours=1)) in local_hours
        assert (1, dt.timedelta(0)) in local_hours

    # the CSV and JSON Lines files hold the same reads, as local times with their offset
    text = pacsv.read_csv(
        csv.reads_paths[0],
        convert_options=pacsv.ConvertOptions(column_types={"captured_at": pa.string()}),
    )
    lines = [json.loads(line) for line in jsonl.reads_paths[0].read_text().splitlines()]
    assert text["read_id"].to_pylist() == table["read_id"].to_pylist()
    assert [r["read_id"] for r in lines] == table["read_id"].to_pylist()
    for source in (text["captured_at"].to_pylist(), [r["captured_at"] for r in lines]):
        assert all(s[-6] in "+-" and s[-3] == ":" for s in source)
        parsed = [dt.datetime.fromisoformat(s) for s in source]
        assert parsed == instants
        assert all(p.utcoffset() == t.utcoffset() for p, t in zip(parsed, local, strict=True))
    assert [r["plate"] for r in lines] == table["plate"].to_pylist()
    assert [r["confidence"] for r in lines] == table["confidence"].to_pylist()
    assert [r["lane"] for r in lines] == table["lane"].to_pylist()
    assert [r["direction"] for r in lines] == table["direction"].to_pylist()
    assert text["plate"].to_pylist() == table["plate"].to_pylist()
    for column in ("observed_make", "observed_type"):
        assert [r[column] for r in lines] == table[column].to_pylist()
        # CSV has no null: an empty field is no observation
        assert [v or None for v in text[column].to_pylist()] == table[column].to_pylist()


def test_plates_are_printable(tiny: TinyDay) -> None:
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ?")
    assert all(set(str(p)) <= allowed for p in tiny.reads["plate"].to_pylist())


def test_mmr_cameras_report_the_true_vehicle_even_when_the_plate_is_misread(
    tiny: TinyDay,
) -> None:
    model = ReadModel()
    camera_ids = tuple(str(c) for c in tiny.cameras["camera_id"].to_pylist())
    capable = dict(zip(camera_ids, mmr_cameras(camera_ids, model.mmr_camera_share), strict=True))
    assert sum(capable.values()) / len(capable) == pytest.approx(model.mmr_camera_share, abs=0.1)
    vehicles = {
        r["vrm"]: (r["make"], r["vehicle_type"])
        for r in tiny.vehicles.select(["vrm", "make", "vehicle_type"]).to_pylist()
    }
    class_of = {VEHICLE_TYPES[t]: c for t, c in CAMERA_CLASS.items()}
    at_mmr = observed = right = misread_right = 0
    for r in tiny.joined():
        seen = (r["observed_make"], r["observed_type"])
        if r["kind"] == "junk" or not capable[str(r["camera_id"])]:
            assert seen == (None, None)
            continue
        at_mmr += 1
        if seen == (None, None):
            continue
        observed += 1
        make, vehicle_type = vehicles[r["true_vrm"]]
        assert r["observed_make"] == str(make).upper()
        if r["observed_type"] == class_of[vehicle_type]:
            right += 1
            misread_right += r["kind"] == "misread"
    assert 1 - observed / at_mmr == pytest.approx(model.mmr_error_rate / 2, abs=0.006)
    assert 1 - right / observed == pytest.approx(model.mmr_error_rate / 2, abs=0.006)
    assert misread_right > 0  # a misread plate, the true vehicle's class
    # taxis and private hire vehicles look like cars, coaches like buses
    assert set(tiny.reads["observed_type"].drop_null().to_pylist()) <= {
        "car",
        "van",
        "bus",
        "motorcycle",
        "hgv",
    }


def test_cloned_plates_are_other_vehicles_plates_fixed_per_seed() -> None:
    plate_of = cloned_plates(10_000, seed=3, rate=0.01)
    clones = np.flatnonzero(plate_of != np.arange(10_000))
    assert len(clones) == 100
    assert (plate_of >= 0).all() and (plate_of < 10_000).all()
    assert (cloned_plates(10_000, seed=3, rate=0.01) == plate_of).all()  # same vehicles daily
    assert not (cloned_plates(10_000, seed=4, rate=0.01) == plate_of).all()
    assert (cloned_plates(10_000, seed=3, rate=0.0) == np.arange(10_000)).all()


def test_a_clone_shows_another_registered_plate_and_mmr_sees_the_real_vehicle(
    tmp_path: Path,
) -> None:
    model = ReadModel(clone_rate=0.05)
    s = simulate(tmp_path, day=dt.date(2026, 11, 26), seed=2, scale="tiny", model=model)
    day = load(s)
    vehicles = {
        r["vrm"]: (str(r["make"]).upper(), r["vehicle_type"])
        for r in day.vehicles.select(["vrm", "make", "vehicle_type"]).to_pylist()
    }
    cloned = [
        r for r in day.joined()
        if r["kind"] == "genuine" and normalise(str(r["plate"])) != r["true_vrm"]
    ]  # fmt: skip
    assert cloned, "a 5% clone rate shows some cloned plates"
    # the plate is another registered vehicle's, read cleanly; the truth is the real vehicle
    assert all(normalise(str(r["plate"])) in vehicles for r in cloned)
    assert all(r["observed_make"] in (None, vehicles[str(r["true_vrm"])][0]) for r in cloned)
