"""`ringfence hotlist` and `ringfence subject-access` from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from ringfence.cli.main import app
from ringfence.workspace import Workspace
from support import write_reads

runner = CliRunner()


def _json(ws: Workspace, *args: str) -> object:
    result = runner.invoke(app, [*args, "--data-dir", str(ws.data_dir), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_add_match_review_and_subject_access(ws: Workspace, tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    entry = _json(
        ws, "hotlist", "add", "ab12cde", "--officer", "pc:1", "--rank", "constable",
        "--force", "metropolitan_police", "--reason", "stolen", "--purpose",
        "law_enforcement:serious_crime", "--legal-basis", "DPA2018_Part3", "--case-ref", "C-1",
        "--network", "cc_lez_2015", "--expires-on", (now + timedelta(days=3)).date().isoformat(),
        "--marker", "violence",
    )  # fmt: skip
    assert isinstance(entry, dict) and entry["vrm"] == "AB12CDE"
    reads = write_reads(
        tmp_path / "r.csv",
        [
            {
                "read_id": "x1",
                "camera_id": "C1",
                "captured_at": (now + timedelta(seconds=90)).isoformat(),
                "plate": "AB12CDE",
                "confidence": 0.9,
            }
        ],
    )
    result = runner.invoke(app, ["ingest", str(reads), "--data-dir", str(ws.data_dir), "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["hotlist_hits"]) == 1
    hits = _json(ws, "hotlist", "hits", "--status", "pending")
    assert isinstance(hits, list) and len(hits) == 1
    card = _json(ws, "hotlist", "card", hits[0]["hit_id"])
    assert isinstance(card, dict) and card["warning_markers"] == ["violence"]
    reviewed = _json(
        ws, "hotlist", "review", hits[0]["hit_id"], "--outcome", "confirmed", "--by", "op:1",
        "--note", "image matches",
    )  # fmt: skip
    assert isinstance(reviewed, dict) and reviewed["status"] == "confirmed"
    report = _json(ws, "subject-access", "AB12CDE", "--by", "dpo:1")
    assert isinstance(report, dict)
    assert report["read_count"] == 1 and report["delayed_notice"] is True
    _json(ws, "hotlist", "remove", entry["entry_id"], "--by", "pc:1", "--why", "found")
    assert _json(ws, "hotlist", "list", "--status", "active") == []
