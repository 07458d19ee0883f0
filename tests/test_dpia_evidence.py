"""The DPIA evidence pack: a proposal parsed and checked, volumes measured from the store, the
policy point's answer today, before/after equality and unicity, written as Markdown and HTML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ringfence.cli.main import app
from ringfence.errors import ConfigError
from ringfence.services.dpia_evidence import build_evidence, load_proposal, write_evidence
from ringfence.services.ingest import ingest_file
from ringfence.workspace import Workspace
from support import write_reads

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def _reads(ws: Workspace, tmp: Path) -> None:
    rows = [
        {
            "read_id": f"r{i}-{camera}",
            "camera_id": camera,
            "captured_at": (NOW - timedelta(hours=3, minutes=i)).isoformat(),
            "plate": plate,
            "confidence": 0.95,
        }
        for i, plate in enumerate(["AB12CDE", "BD51SMR", "YX70ABC"])
        for camera in ("C1", "C2", "C3")
    ]
    ingest_file(ws, write_reads(tmp / "r.csv", rows), now=NOW)


def test_packaged_proposal_and_bad_ones(tmp_path: Path) -> None:
    proposal = load_proposal("london_wide_sharing")
    assert proposal.add_networks == ("ulez_london_2023",) and proposal.risks
    bad = tmp_path / "bad.toml"
    text = (
        'proposal_id = "x"\ntitle = "t"\ndescription = "d"\nrecipient = "metropolitan_police"\n'
        'purposes = ["p"]\nadd_networks = ["n"]\ndata_classes = ["vrm_text"]\n'
        'necessity_questions = ["q"]\n[[risks]]\nname = "r"\ndescription = "d"\n'
        'likelihood = 4\nseverity = 1\nmeasures = ["m"]\n'
    )
    bad.write_text(text)
    with pytest.raises(ConfigError, match="1 to 3"):
        load_proposal(str(bad))
    bad.write_text(text.replace("likelihood = 4", "likelihood = 2") + "colour = 'red'\n")
    with pytest.raises(ConfigError, match="unknown field"):
        load_proposal(str(bad))
    with pytest.raises(ConfigError, match="no proposal"):
        load_proposal("nothing_like_it")


def test_evidence_measures_the_store_and_the_policy(ws: Workspace, tmp_path: Path) -> None:
    _reads(ws, tmp_path)
    evidence = build_evidence(ws, load_proposal("london_wide_sharing"), days=None, now=NOW)
    assert evidence["before_networks"] == ["cc_lez_2015", "ulez_inner_2021"]
    assert evidence["after_networks"] == ["cc_lez_2015", "ulez_inner_2021", "ulez_london_2023"]
    volumes = {v["network"]: v for v in evidence["volumes"]}
    assert volumes["ulez_london_2023"]["reads"] == 3 and volumes["cc_lez_2015"]["vehicles"] == 3
    wide = [c for c in evidence["coverage"] if c["network"] == "ulez_london_2023"]
    assert wide and not any(c["shared"] for c in wide)
    assert {"condition:dpia_approved", "condition:mayoral_direction"} <= set(wide[0]["failures"])
    scenarios = {r["scenario"] for r in evidence["exposure"]}
    assert scenarios == {"before", "after"}
    everyone = {r["scenario"]: r for r in evidence["exposure"] if r["group"] == "All residents"}
    assert everyone["after"]["covered"] >= everyone["before"]["covered"]
    # unicity is measured on the reads each side could be given: more networks, more points
    before = {(r["spatial"], r["temporal"], r["k"]): r for r in evidence["unicity"]["before"]}
    after = {(r["spatial"], r["temporal"], r["k"]): r for r in evidence["unicity"]["after"]}
    key = ("camera", "exact", 1)
    assert after[key]["traces"] == before[key]["traces"] == 3


def test_pack_is_written_self_contained_and_audited(ws: Workspace, tmp_path: Path) -> None:
    _reads(ws, tmp_path)
    paths = write_evidence(ws, load_proposal("london_wide_sharing"), tmp_path / "out", now=NOW)
    page = paths["html"].read_text()
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "not a decision" in page and "Re-identification" in page
    assert paths["markdown"].read_text().startswith("# DPIA evidence: ")
    assert [e.event for e in ws.audit.entries()][-1] == "dpia-evidence"
    result = CliRunner().invoke(
        app, ["dpia", "evidence", "--data-dir", str(ws.data_dir), "--out", str(tmp_path / "c")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "c" / "dpia-evidence-london_wide_sharing.html").exists()


def test_report_all_writes_every_report_and_an_index(ws: Workspace, tmp_path: Path) -> None:
    _reads(ws, tmp_path)
    out = tmp_path / "reports"
    result = CliRunner().invoke(
        app,
        ["report", "all", "--from", "2026-11-27", "--to", "2026-11-28", "--out", str(out),
         "--data-dir", str(ws.data_dir), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    index = out / "index.html"
    page = index.read_text()
    links = [part.split("'")[0] for part in page.split("href='")[1:]]
    assert len(links) == 4  # equality, unicity, DPIA evidence, internal transparency
    for link in links:
        assert (out / link).exists(), link
    assert "transparency/internal/" in page and "<script" not in page
