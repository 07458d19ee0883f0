"""`ringfence simulate`: writes the files, `--json` is one parseable document."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import typer
from typer.testing import CliRunner

from ringfence.cli.simulate import simulate_command

app = typer.Typer()
app.command("simulate")(simulate_command)
app.command("noop")(lambda: None)  # two commands, so "simulate" is a subcommand as in main.py
runner = CliRunner()


def test_json_summary_and_files(tmp_path: Path) -> None:
    out = tmp_path / "incoming"
    result = runner.invoke(
        app,
        ["simulate", "--out", str(out), "--day", "2026-11-26", "--scale", "tiny", "--seed", "3",
         "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["scale"] == "tiny"
    assert payload["seed"] == 3
    assert payload["cameras"] > 50
    assert payload["reads"] == sum(payload["reads_by_kind"].values()) > 0
    day = payload["days"][0]
    assert day["day"] == "2026-11-26"
    for name in ("cameras.csv", "vehicles.parquet", "reads-2026-11-26.parquet",
                 "truth-2026-11-26.parquet"):  # fmt: skip
        assert (out / name).is_file(), name
    assert pq.ParquetFile(day["reads_path"]).metadata.num_rows == day["reads"]


def test_default_out_is_the_data_dirs_incoming_and_formats(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["simulate", "--data-dir", str(tmp_path), "--day", "2026-10-25", "--days", "2",
         "--scale", "tiny", "--format", "jsonl"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    incoming = tmp_path / "incoming"
    for day in ("2026-10-25", "2026-10-26"):
        lines = (incoming / f"reads-{day}.jsonl").read_text().splitlines()
        assert lines and json.loads(lines[0])["captured_at"].startswith(day)
        assert (incoming / f"truth-{day}.parquet").is_file()
    assert "reads-2026-10-25.jsonl" in result.output  # the summary table


def test_refusals(tmp_path: Path) -> None:
    bad_day = runner.invoke(app, ["simulate", "--out", str(tmp_path), "--day", "28/11/2026"])
    assert bad_day.exit_code == 2
    bad_scale = runner.invoke(app, ["simulate", "--out", str(tmp_path), "--scale", "enormous"])
    assert bad_scale.exit_code == 2
    assert "unknown scale" in bad_scale.output
    bad_format = runner.invoke(
        app, ["simulate", "--out", str(tmp_path), "--scale", "tiny", "--format", "xml"]
    )
    assert bad_format.exit_code == 2
    assert not list(tmp_path.iterdir())
