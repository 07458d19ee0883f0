"""Key epochs, key-file safety, the vault, and crypto-shredding — on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import os
import stat
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from ringfence.errors import KeyDestroyedError, KeyError_
from ringfence.services.ingest import ingest_file
from ringfence.services.reads import vrm_history
from ringfence.services.retention import destroy_epoch
from ringfence.stores.keys import KeyRing
from ringfence.workspace import Workspace
from support import write_reads


def test_epochs_follow_the_rotation_period(ws_any: Workspace, now: datetime) -> None:
    ring = ws_any.keys
    days = [date(2026, 11, 1) + timedelta(days=i) for i in range(60)]
    epochs = ring.ensure_epochs(days, now=now)
    distinct = sorted({e.epoch for e in epochs.values()})
    assert len(distinct) in (3, 4)  # 60 days over 28-day epochs
    for e in ring.epochs():
        assert (e.ends_on - e.starts_on).days == 28
        assert (e.starts_on - ring.anchor).days % 28 == 0
    # asking again creates nothing new
    assert ring.ensure_epochs(days, now=now) == epochs


def test_changed_rotation_period_never_overlaps(ws_any: Workspace, now: datetime) -> None:
    ws_any.keys.ensure_epochs([date(2026, 11, 10)], now=now)
    weekly = KeyRing(ws_any.keys.keys_dir, ws_any.state, rotation_days=7, anchor=date(2000, 1, 3))
    weekly.ensure_epochs([date(2026, 11, 1) + timedelta(days=i) for i in range(70)], now=now)
    spans = sorted((e.starts_on, e.ends_on) for e in weekly.epochs())
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start
    covered = {d for s, e in spans for d in (s + timedelta(days=i) for i in range((e - s).days))}
    assert all(date(2026, 11, 1) + timedelta(days=i) in covered for i in range(70))


def test_key_files_are_owner_only_and_checked(ws: Workspace, now: datetime) -> None:
    epoch = ws.keys.ensure_epochs([date(2026, 11, 27)], now=now)[date(2026, 11, 27)]
    path = ws.keys.keys_dir / f"epoch-{epoch.epoch:05d}.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(ws.keys.keys_dir.stat().st_mode) == 0o700
    os.chmod(path, 0o644)
    fresh = KeyRing(ws.keys.keys_dir, ws.state, rotation_days=28, anchor=ws.keys.anchor)
    with pytest.raises(KeyError_, match="readable by others"):
        fresh.keys(epoch.epoch)
    os.chmod(path, 0o600)
    path.write_bytes(os.urandom(32))  # a swapped key file must not be used silently
    with pytest.raises(KeyError_, match="fingerprint"):
        fresh.keys(epoch.epoch)


def test_pseudonyms_differ_between_epochs(ws: Workspace, now: datetime) -> None:
    a, b = date(2026, 10, 1), date(2026, 11, 27)
    epochs = ws.keys.ensure_epochs([a, b], now=now)
    assert epochs[a].epoch != epochs[b].epoch
    pa_ = ws.keys.keys(epochs[a].epoch).pseudonymise(["AB12CDE"])
    pb_ = ws.keys.keys(epochs[b].epoch).pseudonymise(["AB12CDE"])
    assert pa_ != pb_ and len(pa_[0]) == 16


def test_destroying_an_epoch_makes_its_reads_unlinkable(
    ws_any: Workspace, tmp_path: Path, now: datetime
) -> None:
    rows = [
        {
            "read_id": "a",
            "camera_id": "C1",
            "captured_at": "2026-11-27T08:00:00Z",
            "plate": "AB12CDE",
            "confidence": 0.9,
        },
    ]
    ingest_file(ws_any, write_reads(tmp_path / "r.csv", rows), now=now)
    window = (now - timedelta(days=2), now)
    assert vrm_history(ws_any, "AB12CDE", *window).reads.num_rows == 1
    (epoch,) = ws_any.keys.epochs()
    keys = ws_any.keys.keys(epoch.epoch)
    pseudonym = keys.pseudonymise(["AB12CDE"])[0]

    receipt = destroy_epoch(ws_any, epoch.epoch, reason="DPO decision 2026-11-28", now=now)
    assert receipt.deleted == 1 and receipt.target == "key"
    assert not (ws_any.keys.keys_dir / f"epoch-{epoch.epoch:05d}.key").exists()
    assert ws_any.vault.files(epoch.epoch) == []
    with pytest.raises(KeyDestroyedError):
        ws_any.keys.keys(epoch.epoch)
    after = vrm_history(ws_any, "AB12CDE", *window)
    assert after.reads.num_rows == 0 and after.epochs_destroyed == [epoch.epoch]
    # the reads are still there to count, but nothing can turn them back into a VRM
    assert ws_any.reads.all_files()
    assert ws_any.vault.recover(keys, [pseudonym]) == {}


def test_vault_rejects_an_entry_moved_between_rows(ws: Workspace, now: datetime) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ringfence.errors import VaultError

    epoch = ws.keys.ensure_epochs([date(2026, 11, 27)], now=now)[date(2026, 11, 27)]
    keys = ws.keys.keys(epoch.epoch)
    p1, p2 = keys.pseudonymise(["AB12CDE", "LX73ABC"])
    staged = ws.vault.stage(keys, ["AB12CDE", "LX73ABC"], [p1, p2], ws.data_dir / "stage", "b1")
    assert staged is not None
    table = pq.read_table(staged)
    swapped = table.set_column(1, "sealed", pa.array(list(reversed(table.column(1).to_pylist()))))
    ws.vault.epoch_dir(epoch.epoch).mkdir(parents=True)
    pq.write_table(swapped, ws.vault.epoch_dir(epoch.epoch) / "part-b1.parquet")
    with pytest.raises(VaultError, match="authentication"):
        ws.vault.recover(keys, [p1])


def test_sql_pseudonyms_equal_python_pseudonyms(ws: Workspace, now: datetime) -> None:
    import duckdb
    import pyarrow as pa

    from ringfence.stores.keys import pseudonym_sql

    epoch = ws.keys.ensure_epochs([date(2026, 11, 27)], now=now)[date(2026, 11, 27)]
    keys = ws.keys.keys(epoch.epoch)
    inner, outer = keys.hmac_blocks()
    vrms = ["AB12CDE", "LX73ABC", "M123ABC", "Q1ABC", "A", "ÄÖ"]
    con = duckdb.connect()
    n = len(vrms)
    con.register("v", pa.table({"vrm": vrms, "i": [inner] * n, "o": [outer] * n}))
    got = con.execute(f"SELECT {pseudonym_sql('vrm', 'i', 'o')} FROM v").fetchall()
    assert [bytes(g[0]) for g in got] == keys.pseudonymise(vrms)
