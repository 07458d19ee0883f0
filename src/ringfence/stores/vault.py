"""The vault: the only place clear VRMs are kept, sealed per key epoch.

Layout: `<data-dir>/vault/epoch=<n>/part-<batch_id>.parquet` with columns `vrm_pseudonym`
(16 bytes) and `sealed` (12-byte nonce || AES-256-GCM ciphertext of the VRM). The associated data
binds each entry to its epoch and pseudonym, so an entry copied to another epoch or row fails to
open. Destroying an epoch's key makes its entries unreadable; `drop_epoch` then removes the files.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ringfence.errors import VaultError
from ringfence.stores.keys import EpochKeys

VAULT_SCHEMA = pa.schema([("vrm_pseudonym", pa.binary()), ("sealed", pa.binary())])


def _associated(epoch: int, pseudonym: bytes) -> bytes:
    return b"ringfence/vault/v1|" + str(epoch).encode() + b"|" + pseudonym


class Vault:
    def __init__(self, vault_dir: Path) -> None:
        self.vault_dir = vault_dir

    def epoch_dir(self, epoch: int) -> Path:
        return self.vault_dir / f"epoch={epoch}"

    def files(self, epoch: int) -> list[Path]:
        return sorted(self.epoch_dir(epoch).glob("*.parquet"))

    def stage(
        self,
        keys: EpochKeys,
        vrms: Sequence[str],
        pseudonyms: Sequence[bytes],
        staging_dir: Path,
        batch_id: str,
    ) -> Path | None:
        """Seal new entries into a staged file; the caller publishes it with the batch."""
        if not vrms:
            return None
        sealed = _seal_all(keys, vrms, pseudonyms)
        target = staging_dir / f"epoch={keys.epoch}"
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"part-{batch_id}.parquet"
        table = pa.table(
            {"vrm_pseudonym": pa.array(pseudonyms, pa.binary()), "sealed": pa.array(sealed)},
            schema=VAULT_SCHEMA,
        )
        pq.write_table(table, path, compression="zstd")
        return path

    def recover(self, keys: EpochKeys, pseudonyms: Sequence[bytes]) -> dict[bytes, str]:
        """Clear VRMs for the given pseudonyms of one epoch (authorised callers only)."""
        files = self.files(keys.epoch)
        if not files or not pseudonyms:
            return {}
        con = duckdb.connect()
        try:
            con.register("wanted", pa.table({"p": pa.array(list(set(pseudonyms)), pa.binary())}))
            found = con.sql(
                "SELECT v.vrm_pseudonym, any_value(v.sealed) AS sealed FROM read_parquet(?) v "
                "SEMI JOIN wanted ON v.vrm_pseudonym = wanted.p GROUP BY 1",
                params=[[str(f) for f in files]],
            ).to_arrow_table()
        finally:
            con.close()
        return _open_all(keys, found.column(0).to_pylist(), found.column(1).to_pylist())

    def drop_epoch(self, epoch: int) -> int:
        """Remove an epoch's vault files (after its key is destroyed). Returns entries removed."""
        files = self.files(epoch)
        count = int(sum(pq.ParquetFile(f).metadata.num_rows for f in files))
        shutil.rmtree(self.epoch_dir(epoch), ignore_errors=True)
        return count


def _open_all(keys: EpochKeys, pseudonyms: list[bytes], sealed: list[bytes]) -> dict[bytes, str]:
    # A charge run opens hundreds of thousands of entries: one AESGCM object, the associated
    # data's constant prefix built once, and columns rather than row tuples from DuckDB.
    decrypt = AESGCM(keys.vault_key).decrypt
    prefix = _associated(keys.epoch, b"")
    out: dict[bytes, str] = {}
    try:
        for pseudonym, entry in zip(pseudonyms, sealed, strict=True):
            out[pseudonym] = decrypt(entry[:12], entry[12:], prefix + pseudonym).decode("ascii")
    except InvalidTag as exc:
        raise VaultError(
            f"vault entry in epoch {keys.epoch} failed authentication: tampered or "
            "sealed under another key"
        ) from exc
    return out


def _seal_all(keys: EpochKeys, vrms: Sequence[str], pseudonyms: Sequence[bytes]) -> list[bytes]:
    # One AESGCM object and one call to the OS for every nonce: this runs once per distinct VRM.
    aead = AESGCM(keys.vault_key)
    nonces = os.urandom(12 * len(vrms))
    return [
        nonces[i * 12 : i * 12 + 12]
        + aead.encrypt(
            nonces[i * 12 : i * 12 + 12], vrm.encode("ascii"), _associated(keys.epoch, pseud)
        )
        for i, (vrm, pseud) in enumerate(zip(vrms, pseudonyms, strict=True))
    ]
