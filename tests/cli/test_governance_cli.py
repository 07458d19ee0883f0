"""`ringfence instruments` and `ringfence dpia`: the London-wide network becomes shareable only
once a DPIA and a direction are recorded, and a revocation shows at once."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ringfence.cli.main import app
from ringfence.workspace import Workspace

runner = CliRunner()


def _json(ws: Workspace, *args: str) -> object:
    result = runner.invoke(app, [*args, "--data-dir", str(ws.data_dir), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _shared(ws: Workspace, on: str) -> dict[str, bool]:
    rows = _json(ws, "instruments", "coverage", "--on", on)
    assert isinstance(rows, list)
    return {r["network"]: r["shared"] for r in rows}


def test_coverage_follows_recorded_governance(ws: Workspace, tmp_path: Path) -> None:
    assert _shared(ws, "2026-11-28") == {
        "cc_lez_2015": True,
        "ulez_inner_2021": True,
        "ulez_london_2023": False,
    }
    _json(
        ws, "dpia", "record", "--id", "wide", "--version", "1", "--network", "ulez_london_2023",
        "--purpose", "law_enforcement:serious_crime", "--status", "approved",
        "--approved-on", "2026-11-01", "--review-on", "2027-11-01", "--by", "dpo", "--why", "ok",
    )  # fmt: skip
    assert _shared(ws, "2026-11-28")["ulez_london_2023"] is False  # still no direction
    _json(
        ws, "instruments", "direction", "--reference", "MD9999", "--network", "ulez_london_2023",
        "--signed-on", "2026-11-20", "--by", "dso", "--why", "signed",
    )  # fmt: skip
    assert _shared(ws, "2026-11-28")["ulez_london_2023"] is True
    assert _shared(ws, "2026-11-19")["ulez_london_2023"] is False
    _json(ws, "instruments", "revoke", "md2977_cc_lez_inner", "--on", "2026-12-01",
          "--by", "dso", "--why", "revoked")  # fmt: skip
    assert _shared(ws, "2026-12-01") == {
        "cc_lez_2015": False,
        "ulez_inner_2021": False,
        "ulez_london_2023": True,
    }
    listed = _json(ws, "instruments", "list", "--on", "2026-12-02")
    assert isinstance(listed, list)
    status = {i["instrument_id"]: i["status"] for i in listed}
    assert status["md2977_cc_lez_inner"] == "revoked"
    dpias = _json(ws, "dpia", "list")
    assert isinstance(dpias, list) and [d["dpia_id"] for d in dpias] == ["wide"]
    shown = _json(ws, "instruments", "show", "md2977_london_wide", "--on", "2026-11-28")
    assert isinstance(shown, dict)
    assert shown["conditions"]["ulez_london_2023"]["mayoral_direction"] == "MD9999"
