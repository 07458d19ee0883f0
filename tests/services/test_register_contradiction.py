"""Misread safety against the register: a charge the cameras' make and type contradict is held.

The danger: a misread that lands exactly on another registered plate. AB12 CDE (a compliant
car) read as AB12 COE (O for D), which is a registered old diesel van, would be charged to the
van's keeper. Cameras with make and model recognition saw a car; the register holds a van.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ringfence.cli.main import app
from ringfence.domain.observations import RegisterCheck
from ringfence.errors import ConfigError
from ringfence.services.cameras import import_cameras
from ringfence.services.charging import (
    evaluate_files,
    import_register_file,
    list_liabilities,
    run_stored,
)
from ringfence.services.ingest import ingest_file
from ringfence.settings import load_settings, packaged_register_check
from ringfence.simulate import simulate
from ringfence.workspace import Workspace
from support import write_reads

DAY = date(2026, 11, 24)  # a Tuesday
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
VEHICLE_COLUMNS = ["vrm", "vehicle_type", "fuel", "euro_standard", "first_registered", "tax_class"]
VEHICLES = [
    # vrm, type, fuel, euro, first registered, tax class, make
    ("AB12CDE", "car", "petrol", "5", "2012-03-01", "standard", "Ford"),  # compliant
    ("AB12COE", "van", "diesel", "4", "2012-03-01", "standard", "Ford"),  # owes ULEZ
    ("LX09ABC", "car", "diesel", "4", "2009-05-01", "standard", "VW"),  # owes ULEZ
    ("LM08MBZ", "car", "diesel", "4", "2008-05-01", "standard", "Mercedes-Benz"),  # owes ULEZ
    ("LT08TAX", "taxi", "diesel", "4", "2008-05-01", "taxi", "LEVC"),  # taxis pay no ULEZ
]


def write_vehicles(path: Path) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*VEHICLE_COLUMNS, "make", "gross_weight_kg"])
        w.writerows([(*v, "3000" if v[1] == "van" else "1500") for v in VEHICLES])
    return path


def reads(
    plate: str, seen: list[tuple[str | None, str | None]], *, hour: int = 8
) -> list[dict[str, object]]:
    """One confident read per (make, type) the camera reported, a minute apart."""
    return [
        {
            "read_id": f"{plate.replace(' ', '')}-{hour}-{i}",
            "camera_id": "C3",
            "captured_at": f"{DAY}T{hour:02d}:{i:02d}:00Z",
            "plate": plate,
            "confidence": 0.93,
            "observed_make": make,
            "observed_type": kind,
        }
        for i, (make, kind) in enumerate(seen)
    ]


def evaluate(
    tmp_path: Path, rows: list[dict[str, object]], **kwargs: object
) -> dict[tuple[str, str], dict[str, object]]:
    evaluation = evaluate_files(
        reads=write_reads(tmp_path / "reads.csv", rows),
        cameras=tmp_path / "cameras.csv",
        vehicles=write_vehicles(tmp_path / "vehicles.csv"),
        **kwargs,  # type: ignore[arg-type]
    )
    return {
        (str(r["vrm"]), str(r["scheme_id"])): r
        for d in evaluation.days
        for r in d.liabilities.to_pylist()
    }


def test_a_misread_onto_a_registered_van_that_cameras_saw_as_a_car_goes_to_review(
    tmp_path: Path, cameras_csv: Path
) -> None:
    got = evaluate(tmp_path, reads("AB12 COE", [("FORD", "car")] * 3))
    held = got[("AB12COE", "ulez")]
    assert (held["status"], held["rule"]) == ("review", "match:register_contradiction")
    assert held["reason"] == (
        "cameras saw a CAR (FORD) in 3 of 3 reads; the register holds a van (FORD): "
        "possible misread or cloned plate"
    )
    assert held["amount_pence"] == 1250  # kept as for other review rows
    assert held["read_ids"] == [f"AB12COE-8-{i}" for i in range(3)]
    # without observations the same reads are charged to the van's keeper
    plain = evaluate(tmp_path, reads("AB12 COE", [(None, None)] * 3))
    assert plain[("AB12COE", "ulez")]["status"] == "unpaid"


@pytest.mark.parametrize(
    ("seen", "status"),
    [
        pytest.param([("VOLKSWAGEN", "car")] * 2, "unpaid", id="agrees"),
        pytest.param([("vw", "phv"), ("V.W.", "taxi")], "unpaid", id="alias-and-class"),
        pytest.param([("HONDA", "motorcycle"), (None, None)], "unpaid", id="too-few"),
        pytest.param([("HONDA", "motorcycle"), ("VW", "car")], "unpaid", id="no-majority"),
        pytest.param([(None, "spaceship")] * 3, "unpaid", id="unknown-class-is-no-observation"),
        pytest.param([("HONDA", "motorcycle")] * 2, "review", id="type-and-make"),
        pytest.param([("FORD", "car")] * 2, "review", id="make-alone"),
        pytest.param([(None, "hgv")] * 2 + [(None, "car")], "review", id="type-alone"),
    ],
)
def test_what_contradicts_the_register(
    tmp_path: Path,
    cameras_csv: Path,
    seen: list[tuple[str | None, str | None]],
    status: str,
) -> None:
    # LX09ABC is a diesel Volkswagen car registered as "VW"
    got = evaluate(tmp_path, reads("LX09ABC", seen))[("LX09ABC", "ulez")]
    assert got["status"] == status, got["reason"]
    assert (got["rule"] == "match:register_contradiction") is (status == "review")


def test_the_reason_names_what_disagreed(tmp_path: Path, cameras_csv: Path) -> None:
    got = evaluate(
        tmp_path,
        [
            *reads("LX09ABC", [("FORD", "car")] * 2),
            *reads("LM08MBZ", [("mercedes", "car"), ("MERC", "car"), ("BMW", "van")], hour=9),
        ],
    )
    assert got[("LX09ABC", "ulez")]["reason"] == (
        "cameras saw a FORD in 2 of 2 reads; the register holds a car (VOLKSWAGEN): "
        "possible misread or cloned plate"
    )
    assert got[("LM08MBZ", "ulez")]["status"] == "unpaid"  # aliases of MERCEDES-BENZ


def test_the_threshold_is_configuration(tmp_path: Path, cameras_csv: Path) -> None:
    rows = reads("LX09ABC", [("HONDA", "motorcycle")] * 2)
    packaged = packaged_register_check()
    assert packaged.min_observed_reads == 2
    stricter = RegisterCheck(
        type_classes=packaged.type_classes,
        make_aliases=packaged.make_aliases,
        min_observed_reads=3,
    )
    assert evaluate(tmp_path, rows)[("LX09ABC", "ulez")]["status"] == "review"
    kept = evaluate(tmp_path, rows, register_check=stricter)[("LX09ABC", "ulez")]
    assert kept["status"] == "unpaid"


def test_payments_and_exemptions_are_not_second_guessed_but_auto_pay_is_held(
    tmp_path: Path, cameras_csv: Path
) -> None:
    payments = tmp_path / "payments.csv"
    payments.write_text(
        f"vrm,scheme,charge_day,amount,paid_at\nLM08MBZ,ulez,{DAY},12.50,{DAY}T20:00:00Z\n"
    )
    autopay = tmp_path / "autopay.csv"
    autopay.write_text(f"account_id,kind,vrm,valid_from,valid_to\nA-1,personal,LX09ABC,{DAY},\n")
    motorcycle = [("HONDA", "motorcycle")] * 2
    got = evaluate(
        tmp_path,
        [
            *reads("LX09ABC", motorcycle),
            *reads("LM08MBZ", motorcycle, hour=9),
            *reads("LT08TAX", motorcycle, hour=10),
        ],
        payments=payments,
        autopay=autopay,
    )
    billed = got[("LX09ABC", "ulez")]
    assert (billed["status"], billed["account_id"]) == ("review", None)  # not billed
    assert got[("LM08MBZ", "ulez")]["status"] == "paid"  # a payment is the keeper's own act
    assert ("LT08TAX", "ulez") not in got or got[("LT08TAX", "ulez")]["status"] == "exempt"


def test_rule_config_must_name_every_vehicle_type() -> None:
    packaged = packaged_register_check()
    classes = dict(packaged.type_classes)
    del classes["phv"]
    with pytest.raises(ValueError, match="phv"):
        RegisterCheck(type_classes=classes, make_aliases={})
    with pytest.raises(ValueError, match="upper case"):
        RegisterCheck(type_classes=packaged.type_classes, make_aliases={"vw": "VOLKSWAGEN"})


def test_an_operator_overrides_the_rule_in_the_data_directory(tmp_path: Path) -> None:
    (tmp_path / "ringfence.toml").write_text(
        "[misread]\nmin_observed_reads = 3\n[misread.make_aliases]\nVAUXHALL = ['OPEL']\n"
    )
    check = load_settings(tmp_path).register_check
    assert check.min_observed_reads == 3
    assert check.make_aliases["OPEL"] == "VAUXHALL" and check.make_aliases["VW"] == "VOLKSWAGEN"
    (tmp_path / "ringfence.toml").write_text("[misread.type_classes]\nvan = ['van', 'lorry']\n")
    with pytest.raises(ConfigError, match=r"\[misread\]"):
        load_settings(tmp_path)


def test_stored_run_holds_the_misread_and_matches_stateless(
    tmp_path: Path, cameras_csv: Path, state_url: str
) -> None:
    ws = Workspace.open(tmp_path / "data", state_url=state_url)
    import_cameras(ws, cameras_csv)
    rows = [
        *reads("AB12COE", [("FORD", "car")] * 3),
        *reads("LX09ABC", [("VW", "car"), (None, None)], hour=9),
    ]
    path = write_reads(tmp_path / "reads.parquet", rows)
    assert ingest_file(ws, path, now=NOW).stored == len(rows)
    import_register_file(ws, "vehicles", write_vehicles(tmp_path / "vehicles.csv"))
    run = run_stored(ws, DAY, now=NOW)
    assert run.by_status == {"review": 1, "unpaid": 1}
    assert run.register_contradictions == 1
    assert run.review_by_rule == {"match:register_contradiction": 1}
    # The rows are saved before the reads are gathered, and the held one is updated after:
    # what is stored is the held decision, with its reason, not the charge first made.
    stored = {(r["status"], r["rule"], r["amount_pence"]): r for r in list_liabilities(ws, DAY)}
    assert set(stored) == {
        ("review", "match:register_contradiction", 1250),
        ("unpaid", "tariff:ulez_car_motorcycle", 1250),
    }
    held = stored["review", "match:register_contradiction", 1250]
    assert held["reason"].startswith("cameras saw a ")
    stateless = evaluate(tmp_path, rows)
    assert stateless[("AB12COE", "ulez")]["rule"] == "match:register_contradiction"
    assert stateless[("LX09ABC", "ulez")]["status"] == "unpaid"


def test_charge_evaluate_command_reads_the_observed_columns(
    tmp_path: Path, cameras_csv: Path
) -> None:
    out = tmp_path / "liabilities.csv"
    result = CliRunner().invoke(
        app,
        [
            "charge",
            "evaluate",
            "--reads",
            str(write_reads(tmp_path / "reads.jsonl", reads("AB12 COE", [("FORD", "car")] * 2))),
            "--cameras",
            str(cameras_csv),
            "--vehicles",
            str(write_vehicles(tmp_path / "vehicles.csv")),
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["by_status"] == {"review": 1}
    with open(out) as fh:
        (row,) = list(csv.DictReader(fh))
    assert (row["vrm"], row["rule"]) == ("AB12COE", "match:register_contradiction")
    assert row["reason"].startswith("cameras saw a CAR (FORD) in 2 of 2 reads")


def test_a_simulated_car_misread_onto_a_registered_van_is_held_end_to_end(
    tmp_path: Path,
) -> None:
    """A simulated day where every read of one car lands on another registered plate (a van
    that owes the ULEZ): MMR cameras saw the car, so the van's keeper is not charged."""
    day = date(2026, 11, 26)
    sim = tmp_path / "sim"
    simulate(sim, day=day, seed=11, scale="tiny")
    reads_table = pq.read_table(sim / f"reads-{day}.parquet")
    truth = pq.read_table(sim / f"truth-{day}.parquet")
    vehicles = pq.read_table(sim / "vehicles.parquet")
    registered = set(vehicles.column("vrm").to_pylist())
    cars = {
        r["vrm"]
        for r in vehicles.select(["vrm", "vehicle_type"]).to_pylist()
        if r["vehicle_type"] == "car"
    }
    true_vrm = truth.column("true_vrm").to_pylist()
    observed: dict[str, int] = {}
    for vrm, seen in zip(true_vrm, reads_table.column("observed_type").to_pylist(), strict=True):
        if vrm in cars and vrm[:2].isalpha() and len(vrm) == 7 and seen is not None:
            observed[vrm] = observed.get(vrm, 0) + 1
    car = max(sorted(observed), key=lambda v: observed[v])  # the most observed car
    van = next(car[:-1] + c for c in "FGHJKLMNPRSTUVWXY" if car[:-1] + c not in registered | {car})
    # every read of the car shows the van's plate
    plates = [
        van if v == car else p
        for v, p in zip(true_vrm, reads_table["plate"].to_pylist(), strict=True)
    ]
    misread = reads_table.set_column(
        reads_table.schema.get_field_index("plate"), "plate", pa.array(plates)
    )
    pq.write_table(misread, tmp_path / "misread.parquet")
    pq.write_table(
        misread.drop_columns(["observed_make", "observed_type"]), tmp_path / "no.parquet"
    )
    extra = pa.Table.from_pylist(
        [
            {
                "vrm": van,
                "vehicle_type": "van",
                "fuel": "diesel",
                "euro_standard": 4,
                "first_registered": date(2008, 11, 1),
                "tax_class": "standard",
                "gross_weight_kg": 3000,
                "make": "Ford",
            }
        ]
    )
    columns = extra.column_names
    register = pa.concat_tables(
        [vehicles.select(columns), extra.cast(vehicles.select(columns).schema)]
    )
    pq.write_table(register, tmp_path / "vehicles.parquet")

    def liability(reads: Path) -> dict[str, object]:
        evaluation = evaluate_files(
            reads=reads,
            cameras=sim / "cameras.csv",
            vehicles=tmp_path / "vehicles.parquet",
            days=[day],
        )
        rows = evaluation.days[0].liabilities.to_pylist()
        (row,) = [r for r in rows if r["vrm"] == van and r["scheme_id"] == "ulez"]
        return row

    assert liability(tmp_path / "no.parquet")["status"] == "unpaid"  # the van's keeper, wrongly
    held = liability(tmp_path / "misread.parquet")
    assert (held["status"], held["rule"]) == ("review", "match:register_contradiction")
    assert "cameras saw a CAR" in str(held["reason"])
    assert "the register holds a van (FORD)" in str(held["reason"])
