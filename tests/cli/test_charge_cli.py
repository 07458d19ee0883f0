"""Charging through the `ringfence` command: register, charge run, liabilities, Auto Pay, bill."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ringfence.cli.main import app
from ringfence.simulate import simulate

runner = CliRunner()


def run(*args: str) -> object:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_charge_a_simulated_day_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RINGFENCE_HOME", str(tmp_path / "home"))
    day = (datetime.now(UTC) - timedelta(days=1)).date()  # the CLI's clock is real
    sim = tmp_path / "sim"
    simulate(sim, day=day, seed=4, scale="tiny")
    run("cameras", "import", str(sim / "cameras.csv"), "--json")
    run("ingest", str(sim / f"reads-{day}.parquet"), "--json")
    assert (
        run("register", "import", "vehicles", str(sim / "vehicles.parquet"), "--json")[
            "rows"  # type: ignore[index]
        ]
        > 1000
    )
    charged = run("charge", "run", "--day", day.isoformat(), "--json")
    assert charged["by_status"]["unpaid"] > 0  # type: ignore[index]
    owing = run(
        "charge",
        "liabilities",
        "--day",
        day.isoformat(),
        "--status",
        "unpaid",
        "--limit",
        "3",
        "--json",
    )
    assert len(owing) == 3 and all(r["status"] == "unpaid" for r in owing)  # type: ignore[arg-type,index]

    # put the first vehicle of the stateless evaluation's unpaid list on Auto Pay
    out = tmp_path / "l.csv"
    summary = run(
        "charge",
        "evaluate",
        "--reads",
        str(sim / f"reads-{day}.parquet"),
        "--cameras",
        str(sim / "cameras.csv"),
        "--vehicles",
        str(sim / "vehicles.parquet"),
        "--out",
        str(out),
        "--refunds-out",
        str(tmp_path / "refunds.csv"),
        "--json",
    )
    assert summary["by_status"] == charged["by_status"]  # type: ignore[index]
    # no payments file: nothing to refund, but the file is written with its header
    assert (tmp_path / "refunds.csv").read_text().splitlines() == [
        "vrm,scheme,charge_day,paid,due,refund,reason"
    ]
    with open(out) as fh:
        vrm = next(r["vrm"] for r in csv.DictReader(fh) if r["status"] == "unpaid")
    accounts = tmp_path / "autopay.csv"
    accounts.write_text(
        f"account_id,kind,vrm,valid_from,valid_to\nA-1,personal,{vrm},{day - timedelta(days=30)},\n"
    )
    run("payments", "autopay", str(accounts), "--json")
    again = run("charge", "run", "--day", day.isoformat(), "--json")
    assert again["by_status"]["unpaid"] < charged["by_status"]["unpaid"]  # type: ignore[index]
    (bill,) = run("payments", "bill", "--month", day.strftime("%Y-%m"), "--json")  # type: ignore[misc]
    assert bill["account_id"] == "A-1" and bill["amount_pence"] > 0
