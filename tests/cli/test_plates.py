"""`ringfence plates check`, through Typer's CliRunner.

Most tests mount `plates.app` on a small local Typer (the same way main.py mounts it); one test
goes through the real `ringfence` app to prove it is mounted.
"""

from __future__ import annotations

import importlib
import json
from datetime import date
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ringfence.cli import plates

AS_OF = "2026-11-28"
JSON_KEYS = {
    "input",
    "vrm",
    "vrm_class",
    "reason",
    "registered_from",
    "registered_to",
    "memory_tag_region",
    "confusion_key",
}

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer(name="ringfence", no_args_is_help=True)
    app.add_typer(plates.app, name="plates")

    @app.command("noop")
    def noop() -> None:  # a second command keeps "plates" a subcommand, as in main.py
        """Placeholder."""

    return app


def _json(args: list[str]) -> list[dict[str, Any]]:
    result = runner.invoke(_app(), ["plates", "check", *args, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert isinstance(payload, list)
    return payload


def test_json_gives_one_object_per_vrm_with_the_documented_keys() -> None:
    records = _json(["lb73 xyz", "AB?2CDE", "AB-123-CD", "--as-of", AS_OF])
    assert [set(r) for r in records] == [JSON_KEYS] * 3
    assert records[0] == {
        "input": "lb73 xyz",
        "vrm": "LB73XYZ",
        "vrm_class": "current",
        "reason": None,
        "registered_from": "2023-09-01",
        "registered_to": "2024-02-29",
        "memory_tag_region": "London",
        "confusion_key": "L873XY2",
    }
    assert records[1]["vrm_class"] == "invalid"
    assert records[1]["reason"] == "contains characters other than A-Z and 0-9: '?'"
    assert records[1]["registered_from"] is None
    assert (records[2]["vrm"], records[2]["vrm_class"]) == ("AB123CD", "foreign")
    assert records[2]["reason"] == "no UK format matches"


def test_as_of_decides_whether_an_age_identifier_was_issued() -> None:
    before = _json(["AB27CDE", "--as-of", "2027-02-28"])[0]
    after = _json(["AB27CDE", "--as-of", "2027-03-01"])[0]
    assert (before["vrm_class"], before["reason"]) == (
        "invalid",
        "age identifier 27 not issued until 2027-03-01",
    )
    assert (after["vrm_class"], after["registered_from"]) == ("current", "2027-03-01")


def test_as_of_defaults_to_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plates, "_today", lambda: date(2027, 3, 1))
    assert _json(["AB27CDE"])[0]["vrm_class"] == "current"
    monkeypatch.setattr(plates, "_today", lambda: date(2027, 2, 28))
    assert _json(["AB27CDE"])[0]["vrm_class"] == "invalid"


def test_a_bad_as_of_is_a_usage_error() -> None:
    result = runner.invoke(_app(), ["plates", "check", "AB12CDE", "--as-of", "2026-13-01"])
    assert result.exit_code == 2
    assert "is not an ISO date" in result.output


def test_at_least_one_vrm_is_required() -> None:
    result = runner.invoke(_app(), ["plates", "check"])
    assert result.exit_code == 2


def test_table_shows_vrm_class_hint_and_confusion_key() -> None:
    result = runner.invoke(
        _app(),
        ["plates", "check", "lb73 xyz", "Q123 ABC", "[bold]X", "--as-of", AS_OF],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    current = next(line for line in lines if "LB73XYZ" in line)
    for text in ("current", "2023-09-01 to 2024-02-29", "L873XY2", "London"):
        assert text in current
    assert any("Q123ABC" in line and "q_plate" in line for line in lines)
    # A read is shown as text, never interpreted as Rich markup.
    assert any("[BOLD]X" in line and "invalid" in line for line in lines)
    assert "evidence for review" in result.stdout


def test_help_lists_check() -> None:
    result = runner.invoke(_app(), ["plates", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "check" in result.stdout


def test_main_app_mounts_plates() -> None:
    main = importlib.import_module("ringfence.cli.main")
    result = runner.invoke(main.app, ["plates", "check", "AB12CDE", "--as-of", AS_OF, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["vrm_class"] == "current"
