"""Police access requests and releases: vehicle histories, end to end, on SQLite and PostgreSQL.

A tiny store (cameras C1-C3: one per network) holds reads of a few VRMs over a week; requests
go through submission, authorisation, review and release, and every release is checked against
the approved scope read by read.
"""

from __future__ import annotations

import json
import random
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ringfence.audit import verify
from ringfence.domain.sharing import DPIA, Direction, GovernanceBook, load_governance_book
from ringfence.errors import InputError, StateError
from ringfence.policy import Officer
from ringfence.services import requests
from ringfence.services.ingest import ingest_file
from ringfence.stores.state import AccessRequestRow, ReleaseRow
from ringfence.workspace import Workspace
from support import write_reads

LONDON = ZoneInfo("Europe/London")
INGEST_AT = datetime(2026, 11, 28, 6, tzinfo=UTC)
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
TODAY = date(2026, 11, 28)
SUSPECT, OTHER = "AB12CDE", "BD51SMR"
NETWORK_OF = {"C1": "cc_lez_2015", "C2": "ulez_inner_2021", "C3": "ulez_london_2023"}
COVERED = ["cc_lez_2015", "ulez_inner_2021"]
REQUESTER = Officer("pc:1001", "constable", "metropolitan_police")
INSPECTOR = Officer("insp:2001", "inspector", "metropolitan_police")
SUPERINTENDENT = Officer("supt:3001", "superintendent", "metropolitan_police")
DSO = "dso:4001"
PURPOSE = "law_enforcement:serious_crime"


def _reads() -> list[dict[str, object]]:
    """Reads of SUSPECT and OTHER at C1-C3, twice a day (07:00 and 23:30 London), 20-27 Nov."""
    rows: list[dict[str, object]] = []
    for offset in range(8):
        day = date(2026, 11, 20) + timedelta(days=offset)
        for vrm in (SUSPECT, OTHER):
            for camera in NETWORK_OF:
                for hour, minute in ((7, 0), (23, 30)):
                    at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)
                    read_id = f"{vrm}-{camera}-{day:%m%d}-{hour:02d}"
                    rows.append(
                        {
                            "read_id": read_id,
                            "camera_id": camera,
                            "captured_at": at.astimezone(UTC).isoformat(),
                            "plate": vrm,
                            "confidence": 0.97,
                            "direction": "in",
                            "lane": 1,
                            "image_ref": f"img://{camera}/{read_id}",
                        }
                    )
    return rows


READS = {str(r["read_id"]): r for r in _reads()}


@pytest.fixture
def store(ws_any: Workspace, tmp_path: Path) -> Workspace:
    report = ingest_file(ws_any, write_reads(tmp_path / "reads.csv", _reads()), now=INGEST_AT)
    assert report.stored == len(READS), (
        report.received,
        report.duplicates,
        report.quarantine_by_reason,
    )
    return ws_any


def _london_wide_book() -> GovernanceBook:
    return (
        load_governance_book()
        .with_dpia(
            DPIA(
                dpia_id="tfl_mps_anpr_london_wide",
                version="1.0",
                networks=frozenset({"ulez_london_2023"}),
                purposes=frozenset({PURPOSE}),
                status="approved",
                approved_on=date(2026, 1, 5),
                review_on=date(2027, 1, 5),
            )
        )
        .with_direction(
            Direction(
                reference="MD9999",
                issuer="mayor",
                networks=frozenset({"ulez_london_2023"}),
                signed_on=date(2026, 2, 1),
            )
        )
    )


def _submit(
    ws: Workspace,
    *,
    networks: list[str] = COVERED,
    data_classes: tuple[str, ...] = ("vrm_text",),
    start: date = date(2026, 11, 21),
    end: date = date(2026, 11, 25),
    seriousness: str = "serious",
    book: GovernanceBook | None = None,
    vrms: tuple[str, ...] = (SUSPECT,),
) -> requests.Outcome:
    return requests.submit(
        ws,
        requester=REQUESTER,
        purpose=PURPOSE,
        legal_basis="DPA2018_Part3",
        case_ref="OP-TEST-1",
        seriousness=seriousness,
        necessity="The suspect vehicle's movements corroborate a witness account.",
        vrms=list(vrms),
        networks=networks,
        data_classes=data_classes,
        window_start=start,
        window_end=end,
        now=NOW,
        book=book,
    )


def _to_approved(ws: Workspace, book: GovernanceBook | None = None, **kw: object) -> str:
    out = _submit(ws, book=book, **kw)  # type: ignore[arg-type]
    assert out.status == "submitted", out.failure_codes
    assert out.failure_codes == {"authoriser:missing"}
    assert requests.authorise(ws, out.request_id, INSPECTOR, NOW, book=book).status == "authorised"
    reviewed = requests.review(
        ws, out.request_id, "approve", by=DSO, reason="proportionate", now=NOW, book=book
    )
    assert reviewed.status == "approved", reviewed.failure_codes
    return out.request_id


def _release_file(rel: requests.Release) -> dict[str, object]:
    data: dict[str, object] = json.loads(rel.path.read_text())
    return data


def _check_within_scope(payload: dict[str, object], rel: requests.Release, vrms: set[str]) -> None:
    """Every released read is a stored read of an asked VRM, in the window, on a network."""
    start = datetime.combine(rel.window_start, datetime.min.time(), tzinfo=LONDON)
    end = datetime.combine(rel.window_end + timedelta(days=1), datetime.min.time(), tzinfo=LONDON)
    reads = payload["reads"]
    assert isinstance(reads, list)
    for read in reads:
        source = READS[read["read_id"]]
        assert read["vrm"] == source["plate"] and read["vrm"] in vrms
        assert read["camera_id"] == source["camera_id"]
        assert NETWORK_OF[read["camera_id"]] in rel.networks
        at = datetime.fromisoformat(read["captured_at"])
        assert start <= at < end
        assert ("image_ref" in read) == ("contextual_images" in rel.data_classes)
        assert set(read) <= {
            "vrm",
            "read_id",
            "captured_at",
            "camera_id",
            "lat",
            "lon",
            "image_ref",
        }
    expected = {
        rid
        for rid, r in READS.items()
        if r["plate"] in vrms
        and NETWORK_OF[str(r["camera_id"])] in rel.networks
        and start <= datetime.fromisoformat(str(r["captured_at"])) < end
    }
    assert {r["read_id"] for r in reads} == expected


def test_happy_path_releases_only_the_approved_scope(store: Workspace) -> None:
    request_id = _to_approved(store)
    rel = requests.release(store, request_id, by="operator:test", now=NOW)
    payload = _release_file(rel)
    _check_within_scope(payload, rel, {SUSPECT})
    # 5 days x 2 covered cameras x 2 reads a day, all of SUSPECT, none of OTHER or C3
    assert rel.read_count == 20 and rel.vrm_count == 1
    assert all("image_ref" not in r for r in payload["reads"])  # type: ignore[union-attr]
    assert stat.S_IMODE(rel.path.stat().st_mode) == 0o600
    assert rel.path.parent == store.data_dir / "releases"
    import hashlib

    assert hashlib.sha256(rel.path.read_bytes()).hexdigest() == rel.sha256
    assert rel.expires_at == NOW + timedelta(days=28)
    with store.state.session() as s:
        row = s.scalars(select(ReleaseRow).where(ReleaseRow.request_id == request_id)).one()
        assert (row.sha256, row.read_count, row.vrm_count) == (rel.sha256, 20, 1)
        assert s.get(AccessRequestRow, request_id).status == "released"  # type: ignore[union-attr]
    shown = requests.show(store, request_id)
    assert shown["status"] == "released"
    assert [d["step"] for d in shown["decisions"]] == [  # type: ignore[attr-defined]
        "submitted",
        "authorise",
        "review",
        "release",
    ]
    assert [r["request_id"] for r in requests.list_requests(store)] == [request_id]
    with pytest.raises(StateError, match="released"):
        requests.release(store, request_id, by="operator:test", now=NOW)
    events = [e.event for e in store.audit.entries()]
    for event in ("request-submitted", "request-decided", "release-issued"):
        assert event in events
    issued = next(e for e in store.audit.entries() if e.event == "release-issued")
    assert issued.digest == rel.sha256 and issued.counts["reads"] == 20
    assert SUSPECT not in (store.data_dir / "audit" / "log.jsonl").read_text()
    assert verify(store.data_dir / "audit").ok


def test_images_are_released_only_when_approved(store: Workspace) -> None:
    request_id = _to_approved(store, data_classes=("vrm_text", "contextual_images"))
    rel = requests.release(store, request_id, by="operator:test", now=NOW)
    payload = _release_file(rel)
    _check_within_scope(payload, rel, {SUSPECT})
    assert all(str(r["image_ref"]).startswith("img://") for r in payload["reads"])  # type: ignore[union-attr]


def test_london_wide_network_refused_without_dpia_and_direction(store: Workspace) -> None:
    out = _submit(store, networks=["ulez_london_2023"])
    assert out.status == "refused"
    assert {"condition:dpia_approved", "condition:mayoral_direction"} <= out.failure_codes
    shown = requests.show(store, out.request_id)
    codes = {r["code"] for r in shown["decisions"][0]["reasons"]}  # type: ignore[index]
    assert "condition:dpia_approved" in codes
    with pytest.raises(StateError, match="refused"):
        requests.authorise(store, out.request_id, INSPECTOR, NOW)
    assert any(e.event == "request-decided" for e in store.audit.entries())


def test_london_wide_network_approved_with_dpia_and_direction(store: Workspace) -> None:
    book = _london_wide_book()
    request_id = _to_approved(store, book=book, networks=["ulez_london_2023"])
    rel = requests.release(store, request_id, by="operator:test", now=NOW, book=book)
    payload = _release_file(rel)
    _check_within_scope(payload, rel, {SUSPECT})
    assert rel.read_count == 10
    assert {r["camera_id"] for r in payload["reads"]} == {"C3"}  # type: ignore[union-attr]
    # the packaged book (no DPIA, no direction) stops the same release
    other = _to_approved(store, book=book, networks=["ulez_london_2023"])
    with pytest.raises(requests.AccessRefusedError) as refused:
        requests.release(store, other, by="operator:test", now=NOW)
    assert "condition:dpia_approved" in refused.value.decision.failure_codes


def test_old_data_needs_a_superintendent(store: Workspace) -> None:
    old = dict(start=date(2026, 7, 1), end=date(2026, 7, 10))  # 150 days old
    out = _submit(store, **old)  # type: ignore[arg-type]
    assert out.status == "submitted"
    refused = requests.authorise(store, out.request_id, INSPECTOR, NOW)
    assert refused.status == "refused"
    assert "age:rank_too_low" in refused.failure_codes
    again = _submit(store, **old)  # type: ignore[arg-type]
    assert requests.authorise(store, again.request_id, SUPERINTENDENT, NOW).status == "authorised"
    # and never for a standard case, whoever authorises
    standard = _submit(store, seriousness="standard", **old)  # type: ignore[arg-type]
    assert standard.status == "refused" and "age:seriousness" in standard.failure_codes


def test_requester_cannot_authorise_their_own_request(store: Workspace) -> None:
    out = _submit(store)
    self_auth = Officer(REQUESTER.officer_id, "inspector", "metropolitan_police")
    refused = requests.authorise(store, out.request_id, self_auth, NOW)
    assert refused.status == "refused"
    assert "authoriser:is_requester" in refused.failure_codes


def test_reviewer_must_be_independent(store: Workspace) -> None:
    out = _submit(store)
    requests.authorise(store, out.request_id, INSPECTOR, NOW)
    reviewed = requests.review(
        store, out.request_id, "approve", by=INSPECTOR.officer_id, reason="ok", now=NOW
    )
    assert reviewed.status == "refused"
    assert "release:approver_not_independent" in reviewed.failure_codes


def test_narrowing_only_shrinks_and_the_release_respects_it(store: Workspace) -> None:
    out = _submit(store, data_classes=("vrm_text", "contextual_images"))
    requests.authorise(store, out.request_id, INSPECTOR, NOW)
    for bad in (
        {"networks": ["ulez_london_2023"]},
        {"window_start": date(2026, 11, 20)},
        {"window_end": date(2026, 11, 26)},
        {"networks": COVERED},
    ):
        with pytest.raises(InputError):
            requests.review(store, out.request_id, "narrow", by=DSO, reason="r", now=NOW, **bad)  # type: ignore[arg-type]
    narrowed = requests.review(
        store,
        out.request_id,
        "narrow",
        by=DSO,
        reason="one network, two days, no images",
        now=NOW,
        networks=["cc_lez_2015"],
        window_start=date(2026, 11, 22),
        window_end=date(2026, 11, 23),
        data_classes=["vrm_text"],
    )
    assert narrowed.status == "narrowed"
    rel = requests.release(store, out.request_id, by="operator:test", now=NOW)
    assert rel.networks == ["cc_lez_2015"] and rel.data_classes == ["vrm_text"]
    payload = _release_file(rel)
    _check_within_scope(payload, rel, {SUSPECT})
    assert rel.read_count == 4


def test_refusal_on_review(store: Workspace) -> None:
    out = _submit(store)
    requests.authorise(store, out.request_id, INSPECTOR, NOW)
    refused = requests.review(store, out.request_id, "refuse", by=DSO, reason="fishing", now=NOW)
    assert refused.status == "refused"
    with pytest.raises(StateError):
        requests.release(store, out.request_id, by="operator:test", now=NOW)


def test_revoking_the_instrument_after_approval_stops_the_release(store: Workspace) -> None:
    request_id = _to_approved(store, networks=["ulez_inner_2021"])
    revoked = load_governance_book().revoke("md2977_cc_lez_inner", TODAY)
    with pytest.raises(requests.AccessRefusedError) as refused:
        requests.release(store, request_id, by="operator:test", now=NOW, book=revoked)
    assert "instrument:revoked" in refused.value.decision.failure_codes
    assert requests.show(store, request_id)["status"] == "refused"
    with store.state.session() as s:
        assert s.scalars(select(ReleaseRow)).all() == []
    assert not (store.data_dir / "releases").exists() or not any(
        (store.data_dir / "releases").iterdir()
    )
    assert verify(store.data_dir / "audit").ok


def test_no_release_ever_leaves_the_approved_scope(store: Workspace) -> None:
    """Property-style: random scopes, narrowings and data classes; every release is checked."""
    rng = random.Random(4)
    days = [date(2026, 11, 20) + timedelta(days=i) for i in range(8)]
    book = _london_wide_book()
    networks = sorted(NETWORK_OF.values())
    for _ in range(12):
        asked = rng.sample(networks, rng.randint(1, 3))
        classes = ("vrm_text", "contextual_images") if rng.random() < 0.5 else ("vrm_text",)
        first, last = sorted(rng.sample(days, 2))
        vrms = tuple(rng.sample([SUSPECT, OTHER], rng.randint(1, 2)))
        out = _submit(
            store,
            networks=asked,
            data_classes=classes,
            start=first,
            end=last,
            book=book,
            vrms=vrms,
        )
        requests.authorise(store, out.request_id, INSPECTOR, NOW, book=book)
        narrow: dict[str, object] = {}
        if len(asked) > 1 and rng.random() < 0.5:
            narrow["networks"] = asked[:-1]
        if last > first and rng.random() < 0.5:
            narrow["window_start"] = first + timedelta(days=1)
        if len(classes) > 1 and rng.random() < 0.5:
            narrow["data_classes"] = ["vrm_text"]
        requests.review(
            store,
            out.request_id,
            "narrow" if narrow else "approve",
            by=DSO,
            reason="checked",
            now=NOW,
            book=book,
            **narrow,  # type: ignore[arg-type]
        )
        rel = requests.release(store, out.request_id, by="operator:test", now=NOW, book=book)
        assert set(rel.networks) <= set(asked)
        assert first <= rel.window_start <= rel.window_end <= last
        assert set(rel.data_classes) <= set(classes)
        _check_within_scope(_release_file(rel), rel, set(vrms))
    assert verify(store.data_dir / "audit").ok


def test_cli_submit_authorise_review_release_show_list(ws: Workspace, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ringfence.cli.requests import app

    ingest_file(ws, write_reads(tmp_path / "reads.csv", _reads()), now=INGEST_AT)
    ws.close()
    run = CliRunner()
    common = ["--data-dir", str(ws.data_dir), "--json", "--at", NOW.isoformat()]

    def call(*args: str) -> dict[str, object]:
        result = run.invoke(app, [*args, *common])
        assert result.exit_code == 0, result.output
        data: dict[str, object] = json.loads(result.stdout)
        return data

    submitted = call(
        "submit",
        "--officer",
        REQUESTER.officer_id,
        "--rank",
        "constable",
        "--force",
        "metropolitan_police",
        "--purpose",
        PURPOSE,
        "--legal-basis",
        "DPA2018_Part3",
        "--case-ref",
        "OP-CLI",
        "--seriousness",
        "serious",
        "--necessity",
        "corroboration",
        "--vrm",
        "ab12 cde",
        "--network",
        "cc_lez_2015",
        "--from",
        "2026-11-21",
        "--to",
        "2026-11-22",
    )
    request_id = str(submitted["request_id"])
    assert submitted["status"] == "submitted"
    assert (
        call("authorise", request_id, "--officer", "insp:1", "--rank", "inspector")["status"]
        == "authorised"
    )
    assert (
        call("review", request_id, "--decision", "approve", "--by", DSO, "--reason", "fine")[
            "status"
        ]
        == "approved"
    )
    released = call("release", request_id, "--by", "operator:cli")
    assert released["read_count"] == 4
    shown = run.invoke(app, ["show", request_id, "--data-dir", str(ws.data_dir), "--json"])
    assert json.loads(shown.stdout)["status"] == "released"
    listed = run.invoke(app, ["list", "--data-dir", str(ws.data_dir), "--json"])
    assert [r["request_id"] for r in json.loads(listed.stdout)] == [request_id]
    refused = run.invoke(app, ["release", request_id, "--by", "x", *common])
    assert refused.exit_code == 2


# --- Location queries, withdrawal, expiry, crash safety, disclosure log ---------------------------


def _location(
    ws: Workspace,
    *,
    cameras: tuple[str, ...] = (),
    boroughs: tuple[str, ...] = (),
    networks: list[str] = COVERED,
) -> str:
    out = requests.submit(
        ws,
        requester=REQUESTER,
        purpose=PURPOSE,
        legal_basis="DPA2018_Part3",
        case_ref="OP-LOC-1",
        seriousness="serious",
        necessity="Vehicles passing the scene in the ten minutes after the robbery.",
        cameras=list(cameras),
        boroughs=list(boroughs),
        networks=networks,
        data_classes=("vrm_text",),
        window_start=date(2026, 11, 22),
        window_end=date(2026, 11, 22),
        now=NOW,
        kind="location",
    )
    assert out.status == "submitted", out.failure_codes
    requests.authorise(ws, out.request_id, INSPECTOR, NOW)
    assert requests.review(ws, out.request_id, "approve", by=DSO, reason="ok", now=NOW).status == (
        "approved"
    )
    return out.request_id


def test_location_query_releases_every_vehicle_at_the_place_and_only_there(
    store: Workspace,
) -> None:
    # C1 by camera id, C2 through its borough; C3 (London-wide network) is not asked for.
    request_id = _location(store, cameras=("C1",), boroughs=("E09000007",))
    rel = requests.release(store, request_id, by="operator:test", now=NOW)
    payload = _release_file(rel)
    reads = payload["reads"]
    assert isinstance(reads, list)
    assert {r["camera_id"] for r in reads} == {"C1", "C2"}
    assert {r["vrm"] for r in reads} == {SUSPECT, OTHER}
    # 2 vehicles x 2 cameras x 2 reads on the one day asked
    assert rel.read_count == 8 and rel.vrm_count == 2
    _check_within_scope(payload, rel, {SUSPECT, OTHER})
    recovered = [e for e in store.audit.entries() if e.event == "vault-recovered"]
    assert recovered and recovered[-1].subject == request_id
    submitted = next(e for e in store.audit.entries() if e.event == "request-submitted")
    assert submitted.attrs["kind"] == "location" and submitted.attrs["borough"] == "E09000007"


def test_location_query_needs_a_place_and_names_no_vrms(store: Workspace) -> None:
    with pytest.raises(InputError, match="cameras or boroughs"):
        _location(store)
    with pytest.raises(InputError, match="unknown cameras"):
        _location(store, cameras=("C99",))
    with pytest.raises(InputError, match="no cameras in borough"):
        _location(store, boroughs=("E09000999",))


def test_withdrawal_only_by_the_requester_and_before_release(store: Workspace) -> None:
    out = _submit(store)
    with pytest.raises(InputError, match="only the requesting officer"):
        requests.withdraw(store, out.request_id, by=DSO, reason="x", now=NOW)
    done = requests.withdraw(
        store, out.request_id, by=REQUESTER.officer_id, reason="suspect charged", now=NOW
    )
    assert done.status == "withdrawn"
    with pytest.raises(StateError, match="withdrawn"):
        requests.authorise(store, out.request_id, INSPECTOR, NOW)
    released = _to_approved(store)
    requests.release(store, released, by="operator:test", now=NOW)
    with pytest.raises(StateError, match="released"):
        requests.withdraw(store, released, by=REQUESTER.officer_id, reason="late", now=NOW)
    event = next(e for e in store.audit.entries() if e.event == "request-withdrawn")
    assert event.attrs["outcome"] == "withdrawn" and event.attrs["force"] == REQUESTER.force


def test_expiry_deletes_the_file_and_keeps_the_record(store: Workspace) -> None:
    rel = requests.release(store, _to_approved(store), by="operator:test", now=NOW, expiry_days=7)
    assert requests.expire_releases(store, NOW + timedelta(days=6)) == []
    assert rel.path.exists()
    assert requests.expire_releases(store, NOW + timedelta(days=7)) == [rel.release_id]
    assert not rel.path.exists()
    shown = requests.show(store, rel.request_id)
    assert shown["releases"][0]["expired_at"] is not None  # type: ignore[index]
    assert requests.expire_releases(store, NOW + timedelta(days=8)) == []
    expired = [e for e in store.audit.entries() if e.event == "release-expired"]
    assert len(expired) == 1 and expired[0].counts == {"files": 1}


def test_disclosure_log_names_subjects_by_keyed_digest(store: Workspace) -> None:
    from ringfence.stores.state import ReleaseSubjectRow

    rel = requests.release(store, _to_approved(store), by="operator:test", now=NOW)
    with store.state.session() as s:
        rows = s.scalars(select(ReleaseSubjectRow)).all()
        assert [(r.release_id, r.reads) for r in rows] == [(rel.release_id, 20)]
        assert rows[0].subject_index == store.keys.subject_index([SUSPECT])[0]
        assert SUSPECT not in rows[0].subject_index
    # the index is keyed: not the plain SHA-256 of the VRM
    import hashlib

    assert store.keys.subject_index([SUSPECT])[0] != hashlib.sha256(SUSPECT.encode()).hexdigest()


def test_pending_release_files_are_published_or_deleted_after_a_crash(store: Workspace) -> None:
    directory = store.data_dir / "releases"
    rel = requests.release(store, _to_approved(store), by="operator:test", now=NOW)
    # A crash after the commit, before the rename: the file is still under its pending name.
    pending = directory / f".{rel.release_id}.json.tmp"
    rel.path.rename(pending)
    # A crash before the commit: a pending file no release row knows.
    orphan = directory / ".REL-20261128-ORPHAN0000.json.tmp"
    orphan.write_text("{}")
    assert requests.settle_release_files(store) == (1, 1)
    assert rel.path.exists() and not pending.exists() and not orphan.exists()
    import hashlib

    assert hashlib.sha256(rel.path.read_bytes()).hexdigest() == rel.sha256


def test_a_bulk_feed_is_refused_by_londons_instruments(store: Workspace) -> None:
    out = requests.submit(
        store,
        requester=REQUESTER,
        purpose=PURPOSE,
        legal_basis="DPA2018_Part3",
        case_ref="FEED-1",
        seriousness="serious",
        necessity="A continuous feed for the force's ANPR system.",
        networks=COVERED,
        data_classes=("vrm_text",),
        window_start=TODAY,
        window_end=TODAY,
        now=NOW,
        kind="bulk_feed",
    )
    assert out.status == "refused"
    assert out.failure_codes == {"instrument:use"}
    decided = [e for e in store.audit.entries() if e.event == "request-decided"]
    assert decided[-1].attrs["kind"] == "bulk_feed" and decided[-1].attrs["outcome"] == "refused"
