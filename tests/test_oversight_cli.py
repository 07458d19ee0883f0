"""`ringfence report equality|unicity` on the tiny workspace: files written, JSON printed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from ringfence.cli.main import app
from ringfence.services.ingest import ingest_file
from ringfence.services.oversight_equality import write_reports
from ringfence.workspace import Workspace
from support import write_reads

runner = CliRunner()


def _ingest(ws: Workspace, tmp_path: Path) -> str:
    now = datetime.now(UTC)
    day = now - timedelta(days=1)
    rows = []
    for i, plate in enumerate(["AB12CDE", "AB12CDE", "LX73ABC", "GF19XYZ", "GF19XYZ"]):
        at = day.replace(hour=8 + i, minute=0, second=0, microsecond=0)
        rows.append(
            {
                "read_id": f"r{i}",
                "camera_id": ["C1", "C2", "C1", "C2", "C3"][i],
                "captured_at": at.isoformat(),
                "plate": plate,
                "confidence": 0.95,
            }
        )
    ingest_file(ws, write_reads(tmp_path / "reads.csv", rows), now=now)
    return ws.reads.days()[0].isoformat()


def test_report_commands_write_json_csv_and_html(ws: Workspace, tmp_path: Path) -> None:
    day = _ingest(ws, tmp_path)
    keepers = tmp_path / "keepers.parquet"
    pq.write_table(
        pa.table({"vrm": ["AB12CDE", "LX73ABC"], "keeper_msoa21cd": ["E02000001", "E02000977"]}),
        keepers,
    )
    out = tmp_path / "reports"
    args = ["--data-dir", str(ws.data_dir), "--out", str(out), "--json"]
    result = runner.invoke(
        app, ["report", "equality", "--day", day, "--keepers", str(keepers), *args]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    paths = {k: Path(v) for k, v in payload["paths"].items()}
    assert all(p.exists() for p in paths.values())
    report = payload["report"]
    assert report["days"] == [day]
    assert "vehicles_read_pct" in report["measured"]
    city = next(b for b in report["boroughs"] if b["code"] == "E09000001")
    assert city["cameras"] == 1 and city["reads_per_day"] == 2  # C1 read twice that day
    assert city["vehicles_read_per_day"] == 1  # AB12CDE's keeper lives in the City
    assert [s["name"] for s in report["scenarios"]] == [
        "cc_lez_2015",
        "+ulez_inner_2021",
        "+ulez_london_2023",
    ]
    html = paths["html"].read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "http://cdn" not in html
    assert "src=" not in html  # nothing fetched
    for svg_file in out.glob("equality-*.svg"):
        ET.parse(svg_file)

    result = runner.invoke(app, ["report", "unicity", "--days", "1", *args])
    assert result.exit_code == 0, result.output
    uni = json.loads(result.stdout)["report"]
    assert uni["grid"] and {r["k"] for r in uni["grid"]} == {1, 2, 3, 4, 5}
    camera_exact_1 = next(
        r for r in uni["grid"] if (r["spatial"], r["temporal"], r["k"]) == ("camera", "exact", 1)
    )
    assert camera_exact_1["traces"] == 3 and camera_exact_1["unicity"] == 1.0


def test_scenario_option_and_unknown_scenario(ws: Workspace, tmp_path: Path) -> None:
    _ingest(ws, tmp_path)
    args = ["--data-dir", str(ws.data_dir), "--out", str(tmp_path / "o"), "--json"]
    ok = runner.invoke(app, ["report", "equality", "--scenario", "cc_lez_2015", *args])
    assert ok.exit_code == 0, ok.output
    assert [s["name"] for s in json.loads(ok.stdout)["report"]["scenarios"]] == ["cc_lez_2015"]
    bad = runner.invoke(app, ["report", "equality", "--scenario", "nope", *args])
    assert bad.exit_code == 2


def test_write_reports_for_the_demo(ws: Workspace, tmp_path: Path) -> None:
    day = _ingest(ws, tmp_path)
    from datetime import date

    paths = write_reports(ws, tmp_path / "demo-reports", days=[date.fromisoformat(day)])
    assert set(paths) == {"equality", "unicity"} and all(p.exists() for p in paths.values())
    events = [e.event for e in ws.audit.entries()]
    assert "unicity-report" in events


def test_hotlist_hits_count_where_the_read_was_on_the_report_days(
    ws: Workspace, tmp_path: Path
) -> None:
    from datetime import date

    from ringfence.services.oversight_equality import hotlist_hits_by_camera
    from ringfence.stores.state import HotlistEntryRow, HotlistHitRow

    day = date.fromisoformat(_ingest(ws, tmp_path))
    at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    with ws.state.session() as s:
        s.add(
            HotlistEntryRow(
                entry_id="E1",
                vrm="AB12CDE",
                subject_index="x",
                status="active",
                force="met",
                officer_id="pc:1",
                officer_rank="constable",
                reason="r",
                purpose="p",
                legal_basis="b",
                case_ref="c",
                warning_markers=[],
                networks=[],
                created_at=at,
                expires_on=day + timedelta(days=7),
            )
        )
        s.flush()
        for i, (camera, when) in enumerate(
            [("C1", at), ("C1", at), ("C2", at), ("C2", at + timedelta(days=3))]
        ):
            s.add(
                HotlistHitRow(
                    hit_id=f"H{i}",
                    entry_id="E1",
                    read_id=f"r{i}",
                    camera_id=camera,
                    network="cc_lez_2015",
                    captured_at=when,
                    confidence=0.9,
                    key_epoch=1,
                    historical=False,
                    matched_at=when,
                    status="pending",
                )
            )
    assert hotlist_hits_by_camera(ws, [day]) == {"C1": 2, "C2": 1}  # the later hit is outside
    result = runner.invoke(
        app,
        [
            "report",
            "equality",
            "--day",
            day.isoformat(),
            "--data-dir",
            str(ws.data_dir),
            "--out",
            str(tmp_path / "h"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    city = next(
        b for b in json.loads(result.stdout)["report"]["boroughs"] if b["code"] == "E09000001"
    )
    assert city["hotlist_hits"] == 2 and city["hotlist_hits_per_1000"] > 0
