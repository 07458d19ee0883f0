"""Key epochs: the secrets that pseudonymise VRMs and seal the vault, one per run of charge days.

Each epoch has one 32-byte master secret in its own owner-only file under `<data-dir>/keys/`.
Three keys are derived from it with HKDF, each for one job, so no key serves two purposes:

- the pseudonym key (HMAC-SHA256 of the normalised VRM, first 16 bytes);
- the vault key (AES-256-GCM over the clear VRM);
- the seal key (AES-256-GCM over quarantined rows, which may hold a clear VRM).

Destroying the file destroys all three: the epoch's reads stay countable but can never again be
linked to a VRM or to the same vehicle in another epoch (crypto-shredding). Epoch ranges are
recorded in the state database; a later change of rotation period only affects new epochs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select

from ringfence.errors import KeyDestroyedError, KeyError_, NotFoundError
from ringfence.stores.state import KeyEpochRow, StateDB

PSEUDONYM_BYTES = 16
SUBJECT_INDEX_FILE = "subject-index.key"
NONCE_BYTES = 12


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


@dataclass(frozen=True, slots=True)
class EpochKeys:
    """The derived keys of one live epoch. Held in memory only for as long as a job needs them."""

    epoch: int
    pseudonym_key: bytes
    vault_key: bytes
    seal_key: bytes

    @classmethod
    def from_master(cls, epoch: int, master: bytes) -> EpochKeys:
        return cls(
            epoch=epoch,
            pseudonym_key=_derive(master, b"ringfence/vrm-pseudonym/v1"),
            vault_key=_derive(master, b"ringfence/vault/v1"),
            seal_key=_derive(master, b"ringfence/quarantine-seal/v1"),
        )

    def pseudonymise(self, vrms: Iterable[str]) -> list[bytes]:
        """HMAC-SHA256 of each normalised VRM, truncated to 16 bytes (collision-safe at 2^64)."""
        base = hmac.new(self.pseudonym_key, digestmod=hashlib.sha256)
        out: list[bytes] = []
        for vrm in vrms:
            mac = base.copy()
            mac.update(vrm.encode("utf-8"))
            out.append(mac.digest()[:PSEUDONYM_BYTES])
        return out

    def hmac_blocks(self) -> tuple[bytes, bytes]:
        """The pseudonym key's HMAC inner and outer pad blocks (RFC 2104), for SQL engines.

        With them an engine computes the same pseudonym as `pseudonymise` in one vectorised
        expression (see `pseudonym_sql`); they are as secret as the key and stay in memory.
        """
        block = self.pseudonym_key.ljust(64, b"\0")
        return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)

    def seal(self, items: Sequence[tuple[bytes, bytes]]) -> list[bytes]:
        """AES-GCM each (payload, associated data) under a fresh nonce: nonce + ciphertext."""
        aead = AESGCM(self.seal_key)
        nonces = os.urandom(NONCE_BYTES * len(items))
        out = []
        for i, (payload, associated) in enumerate(items):
            nonce = nonces[i * NONCE_BYTES : (i + 1) * NONCE_BYTES]
            out.append(nonce + aead.encrypt(nonce, payload, associated))
        return out

    def unseal(self, sealed: bytes, associated: bytes) -> bytes:
        aead = AESGCM(self.seal_key)
        return aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)


@dataclass(frozen=True, slots=True)
class Epoch:
    epoch: int
    starts_on: date
    ends_on: date  # exclusive
    fingerprint: str
    created_at: datetime
    destroyed_at: datetime | None
    destroyed_reason: str | None

    @property
    def is_destroyed(self) -> bool:
        return self.destroyed_at is not None

    @property
    def last_day(self) -> date:
        return self.ends_on - timedelta(days=1)

    def covers(self, day: date) -> bool:
        return self.starts_on <= day < self.ends_on


def _epoch(row: KeyEpochRow) -> Epoch:
    return Epoch(
        epoch=row.epoch,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        fingerprint=row.fingerprint,
        created_at=row.created_at,
        destroyed_at=row.destroyed_at,
        destroyed_reason=row.destroyed_reason,
    )


class KeyRing:
    """Creates, loads, lists and destroys key epochs."""

    def __init__(self, keys_dir: Path, state: StateDB, *, rotation_days: int, anchor: date):
        self.keys_dir = keys_dir
        self.state = state
        self.rotation_days = rotation_days
        self.anchor = anchor
        self._cache: dict[int, EpochKeys] = {}

    # -- listing -------------------------------------------------------------------------
    def epochs(self) -> list[Epoch]:
        with self.state.session() as s:
            rows = s.scalars(select(KeyEpochRow).order_by(KeyEpochRow.starts_on)).all()
            return [_epoch(r) for r in rows]

    def get(self, epoch: int) -> Epoch:
        with self.state.session() as s:
            row = s.get(KeyEpochRow, epoch)
            if row is None:
                raise NotFoundError(f"no key epoch {epoch}")
            return _epoch(row)

    def epoch_for_day(self, day: date) -> Epoch | None:
        return next((e for e in self.epochs() if e.covers(day)), None)

    # -- creating ------------------------------------------------------------------------
    def ensure_epochs(self, days: Iterable[date], *, now: datetime) -> dict[date, Epoch]:
        """The epoch of each day, creating epochs (and key files) for days not yet covered."""
        result: dict[date, Epoch] = {}
        for day in sorted(set(days)):
            found = self.epoch_for_day(day)
            result[day] = found if found is not None else self._create(day, now=now)
        return result

    def _aligned_range(self, day: date, existing: list[Epoch]) -> tuple[date, date]:
        index = (day - self.anchor).days // self.rotation_days
        start = self.anchor + timedelta(days=index * self.rotation_days)
        end = start + timedelta(days=self.rotation_days)
        # A changed rotation period must never make two epochs overlap: clip to neighbours.
        for e in existing:
            if e.ends_on <= day:
                start = max(start, e.ends_on)
            elif e.starts_on > day:
                end = min(end, e.starts_on)
        return start, end

    def _create(self, day: date, *, now: datetime) -> Epoch:
        self.keys_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.keys_dir, 0o700)
        existing = self.epochs()
        starts_on, ends_on = self._aligned_range(day, existing)
        number = max((e.epoch for e in existing), default=0) + 1
        path = self._path(number)
        if path.exists():
            # Left by a crash before its epoch was recorded, so never used: safe to replace.
            path.unlink()
        master = os.urandom(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, master)
            os.fsync(fd)
        finally:
            os.close(fd)
        row = KeyEpochRow(
            epoch=number,
            starts_on=starts_on,
            ends_on=ends_on,
            key_file=path.name,
            fingerprint=_fingerprint(master),
            created_at=now,
        )
        with self.state.session() as s:
            s.add(row)
        return _epoch(row)

    # -- using ---------------------------------------------------------------------------
    def keys(self, epoch: int) -> EpochKeys:
        cached = self._cache.get(epoch)
        if cached is not None:
            return cached
        info = self.get(epoch)
        if info.is_destroyed:
            raise KeyDestroyedError(
                f"key epoch {epoch} ({info.starts_on}..{info.last_day}) was destroyed on "
                f"{info.destroyed_at:%Y-%m-%d}: its reads can no longer be linked to a VRM"
            )
        path = self._path(epoch)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError as exc:
            raise KeyError_(f"key file for epoch {epoch} is missing: {path}") from exc
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyError_(
                f"key file {path} is readable by others (mode {stat.S_IMODE(mode):o}); "
                "refusing to use it: chmod 600 it after checking who could have read it"
            )
        master = path.read_bytes()
        if len(master) != 32 or _fingerprint(master) != info.fingerprint:
            raise KeyError_(f"key file {path} does not match epoch {epoch}'s fingerprint")
        keys = EpochKeys.from_master(epoch, master)
        self._cache[epoch] = keys
        return keys

    def live_keys_for_range(self, start: date, end: date) -> list[EpochKeys]:
        """Keys of every live epoch overlapping [start, end]; destroyed epochs are skipped."""
        return [
            self.keys(e.epoch)
            for e in self.epochs()
            if e.starts_on <= end and e.ends_on > start and not e.is_destroyed
        ]

    # -- destroying ----------------------------------------------------------------------
    def destroy(self, epoch: int, *, reason: str, now: datetime) -> Epoch:
        """Crypto-shred an epoch: overwrite and unlink its key file, record when and why."""
        info = self.get(epoch)
        if info.is_destroyed:
            return info
        path = self._path(epoch)
        if path.exists():
            size = path.stat().st_size
            with open(path, "r+b") as fh:
                fh.write(os.urandom(max(size, 32)))
                fh.flush()
                os.fsync(fh.fileno())
            path.unlink()
        self._cache.pop(epoch, None)
        with self.state.session() as s:
            row = s.get(KeyEpochRow, epoch)
            assert row is not None
            row.destroyed_at = now.astimezone(UTC)
            row.destroyed_reason = reason
        return self.get(epoch)

    def _path(self, epoch: int) -> Path:
        return self.keys_dir / f"epoch-{epoch:05d}.key"

    # -- the subject index -----------------------------------------------------------------
    def subject_index(self, vrms: Iterable[str]) -> list[str]:
        """Keyed digests (hex) of normalised VRMs under the workspace's subject-index key.

        Unlike pseudonyms they do not change with the epoch: records that must outlive the read
        store's keys (who a release disclosed, who a hotlist named) are indexed by them, so a
        subject-access search finds them without those records holding plates in the clear.
        """
        key = self._subject_key()
        return [hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in vrms]

    def _subject_key(self) -> bytes:
        path = self.keys_dir / SUBJECT_INDEX_FILE
        if not path.exists():
            self.keys_dir.mkdir(parents=True, exist_ok=True)
            os.chmod(self.keys_dir, 0o700)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # made by another process meanwhile: use theirs
                pass
            else:
                try:
                    os.write(fd, os.urandom(32))
                    os.fsync(fd)
                finally:
                    os.close(fd)
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyError_(
                f"key file {path} is readable by others (mode {stat.S_IMODE(mode):o}); "
                "refusing to use it: chmod 600 it after checking who could have read it"
            )
        return _derive(path.read_bytes(), b"ringfence/subject-index/v1")


def pseudonym_sql(vrm: str, inner: str, outer: str) -> str:
    """SQL (DuckDB) for HMAC-SHA256(key, vrm)[:16], given columns holding the pad blocks."""
    return (
        f"unhex(left(sha256({outer} || unhex(sha256({inner} || encode({vrm})))), "
        f"{PSEUDONYM_BYTES * 2}))"
    )


def _fingerprint(master: bytes) -> str:
    return hashlib.sha256(b"ringfence/fingerprint/v1" + master).hexdigest()[:32]
