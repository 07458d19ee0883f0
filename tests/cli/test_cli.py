"""The `ringfence` command end to end through Typer's runner, reading its --json output."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ringfence.cli.main import app
from support import write_reads

runner = CliRunner()

READS = [
    {
        "read_id": "a",
        "camera_id": "C1",
        "captured_at": "2026-11-27T08:00:00Z",
        "plate": "AB12 CDE",
        "confidence": 0.97,
    },
    {
        "read_id": "b",
        "camera_id": "C2",
        "captured_at": "2026-11-27T09:00:00Z",
        "plate": "AB12CDE",
        "confidence": 0.93,
    },
    {
        "read_id": "c",
        "camera_id": "C9",
        "captured_at": "2026-11-27T09:00:00Z",
        "plate": "LX73ABC",
        "confidence": 0.93,
    },
]


def run(*args: str, ok: bool = True) -> object:
    result = runner.invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout) if "--json" in args else result.stdout
    return result


@pytest.fixture
def data(tmp_path: Path, cameras_csv: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("RINGFENCE_HOME", str(home))  # the documented way to pick a data dir
    registered = run("cameras", "import", str(cameras_csv), "--json")
    assert registered["cameras"] == 4  # type: ignore[index]
    return home


def _recent(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    # The CLI uses the real clock: move the reads to yesterday so they are neither future nor old.
    from datetime import UTC, datetime, timedelta

    day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    return [{**r, "captured_at": day + str(r["captured_at"])[10:]} for r in rows]


def test_ingest_then_query_then_retention(data: Path, tmp_path: Path) -> None:
    reads = write_reads(tmp_path / "reads.csv", _recent(READS))
    report = run("ingest", str(reads), "--json")
    assert report == {**report, "received": 3, "stored": 2, "quarantined": 1, "reconciles": True}
    assert report["quarantine_by_reason"] == {"unknown_camera": 1}  # type: ignore[index]

    day = report["charge_days"][0]  # type: ignore[index]
    history = run("reads", "history", "ab12cde", "--from", day, "--to", "2100-01-01", "--json")
    assert [r["read_id"] for r in history["reads"]] == ["a", "b"]  # type: ignore[index]
    assert "AB12CDE" not in json.dumps(history)

    at = run("reads", "at", "C2", "--from", day, "--to", "2100-01-01", "--json")
    assert [r["read_id"] for r in at] == ["b"]  # type: ignore[union-attr]
    counts = run("reads", "counts", "--by", "camera", "--json")
    assert counts == [{"camera": "C1", "reads": 1}, {"camera": "C2", "reads": 1}]
    summary = run("reads", "summary", "--json")
    assert summary["reads"] == 2 and summary["quarantined"] == 1  # type: ignore[index]

    shown = run("reads", "quarantine", "--json")
    assert shown[0]["reason"] == "unknown_camera"  # type: ignore[index]
    assert shown[0]["original"] is None  # type: ignore[index]  # sealed unless revealed
    revealed = run("reads", "quarantine", "--reveal", "--json")
    assert revealed[0]["original"]["plate"] == "LX73ABC"  # type: ignore[index]

    hold = run("retention", "hold", "--reason", "case 7", "--by", "dpo", "--read-id", "a", "--json")
    assert hold["reads"] == 1  # type: ignore[index]
    far = "2100-01-01"
    receipts = run("retention", "run", "--as-of", far, "--json")
    assert {r["target"] for r in receipts} >= {"reads", "quarantine"}  # type: ignore[union-attr]
    left = run("reads", "summary", "--json")
    assert left["reads"] == 1  # type: ignore[index]
    assert len(run("retention", "receipts", "--json")) == len(receipts)  # type: ignore[arg-type]


def test_keys_list_verify_destroy(data: Path, tmp_path: Path) -> None:
    run("ingest", str(write_reads(tmp_path / "r.jsonl", _recent(READS))), "--json")
    listed = run("keys", "list", "--json")
    (epoch,) = listed["epochs"]  # type: ignore[index]
    assert listed["rotation_days"] == 28  # type: ignore[index]
    assert run("keys", "verify", "--json") == [
        {"epoch": epoch["epoch"], "ok": True, "state": "live"}
    ]
    key_file = data / "keys" / f"epoch-{epoch['epoch']:05d}.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    os.chmod(key_file, 0o640)
    bad = run("keys", "verify", "--json", ok=False)
    assert bad.exit_code == 1 and "readable by others" in bad.stdout  # type: ignore[attr-defined]
    os.chmod(key_file, 0o600)

    refused = run("keys", "destroy", str(epoch["epoch"]), "--reason", "test", ok=False)
    assert refused.exit_code == 1  # type: ignore[attr-defined]  # no --yes, no confirmation
    done = run("keys", "destroy", str(epoch["epoch"]), "--reason", "DPO", "--yes", "--json")
    assert done["target"] == "key"  # type: ignore[index]
    gone = run(
        "reads", "history", "AB12CDE", "--from", "2020-01-01", "--to", "2100-01-01", "--json"
    )
    assert gone["reads"] == [] and gone["epochs_destroyed"] == [epoch["epoch"]]  # type: ignore[index]


def test_clear_errors_not_tracebacks(data: Path, tmp_path: Path) -> None:
    missing = run("ingest", str(tmp_path / "nope.csv"), ok=False)
    assert missing.exit_code == 2 and "no such file" in missing.output  # type: ignore[attr-defined]
    naive = run(
        "reads", "history", "AB12CDE", "--from", "2026-01-01T00:00", "--to", "2026-01-02", ok=False
    )
    assert naive.exit_code == 2 and "offset" in naive.output  # type: ignore[attr-defined]
    bad_cameras = tmp_path / "bad.csv"
    bad_cameras.write_text("camera_id,lat,lon,network,enforces\nX,999,0,n,ulez\n")
    refused = run("cameras", "import", str(bad_cameras), ok=False)
    assert refused.exit_code == 2 and "lat/lon" in refused.output  # type: ignore[attr-defined]


def test_personal_data_steps_are_audited_and_tampering_is_found(data: Path, tmp_path: Path) -> None:
    run("ingest", str(write_reads(tmp_path / "reads.csv", _recent(READS))), "--json")
    run("reads", "quarantine", "--reveal", "--json")
    (epoch,) = run("keys", "list", "--json")["epochs"]  # type: ignore[index]
    run("keys", "destroy", str(epoch["epoch"]), "--reason", "DPO", "--yes", "--json")
    entries = run("audit", "list", "--json")
    events = [e["event"] for e in entries]  # type: ignore[union-attr]
    assert events == [
        "configuration-changed",  # the data directory's first use
        "reads-ingested",
        "quarantine-revealed",
        "key-destroyed",
    ]
    assert all(e["actor"].startswith("cli:") for e in entries[1:])  # type: ignore[index]
    assert "LX73ABC" not in json.dumps(entries) and "AB12CDE" not in json.dumps(entries)

    key = tmp_path / "audit.key"
    public = run("audit", "keygen", "--key", str(key), "--json")["public_key"]  # type: ignore[index]
    held = tmp_path / "held-checkpoint.json"
    run("audit", "checkpoint", "--key", str(key), "--export", str(held), "--json")
    intact = run("audit", "verify", "--public-key", public, "--held", str(held), "--json")
    assert intact["ok"] is True and intact["entries"] == 4  # type: ignore[index]

    log = data / "audit" / "log.jsonl"
    blob = bytearray(log.read_bytes())
    at = blob.index(b"key-destroyed")
    blob[at] = ord("K")  # one byte of the fourth line
    log.write_bytes(bytes(blob))
    tampered = run(
        "audit", "verify", "--public-key", public, "--held", str(held), "--json", ok=False
    )
    assert tampered.exit_code == 1  # type: ignore[attr-defined]
    report = json.loads(tampered.stdout)  # type: ignore[attr-defined]
    assert report["ok"] is False and any(p["line"] == 4 for p in report["problems"])


def test_rule_ids_are_printed_as_written_not_as_emoji() -> None:
    from ringfence.cli._common import console, out

    rule = "compliance:motorcycle:registration_date"
    for printer in (out, console):
        with printer.capture() as captured:
            printer.print(rule)
        assert rule in captured.get()
