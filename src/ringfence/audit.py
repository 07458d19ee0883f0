"""THE audit log: append-only, hash-chained, with signed checkpoints an outside party can hold.

Files, under one directory (normally `<data-dir>/audit/`):

- `log.jsonl`: one entry per line, canonical JSON (keys sorted, no spaces, UTF-8, `\\n` ends
  every line, the last included). Fields: `seq` (1..n), `at` (UTC, `2026-11-28T12:00:00.000000Z`),
  `actor`, `event` (kebab-case, e.g. `release-issued`), `subject` (what it is about: a request
  id, a batch id...), `why`, `counts` (string to int), `attrs` (string to string: the facts a
  report groups by, such as a request's kind, purpose, force or outcome), `digest` (SHA-256
  hex of anything released, or null), `prev` (the previous entry's `hash`; 64 zeros for the
  first) and `hash` (SHA-256 hex of the canonical entry without `hash`).
- `checkpoints.jsonl`: one signed checkpoint per line (see `Checkpoint`): Ed25519 over
  (seq, hash, at) of the log's last entry at the time. `Checkpoint.to_json()` is the small
  document handed to someone outside (an auditor, a commissioner) to hold.
- `.lock`: the file lock that serialises appends, checkpoints and repairs between processes.
- `removed/`: bytes a `repair` cut from a torn tail, named by their SHA-256.

What `verify` detects, and where (line and seq):

- an edited entry: any byte change makes the line non-canonical, unparseable or its hash wrong;
- a deleted, inserted or reordered entry: `seq` is not the line number, or `prev` is not the
  hash of the line before;
- a torn last line (a crash mid-append): the file does not end with a newline;
- against checkpoints: a log shorter than a checkpoint (truncated), or whose entry at the
  checkpoint's seq has another hash (rewritten); with the public key, checkpoints whose
  signature is invalid or made by another key.

The chain alone cannot tell a wholesale rewrite (every hash recomputed) or a truncated tail from
an honest log: anyone can compute SHA-256. Only checkpoints signed with a key the writer of the
file does not hold, kept outside, attest a prefix; `VerifyReport.attested_seq` says how far.

Clear VRMs never belong here: callers pass ids, pseudonyms or digests. As a guard, `append`
refuses a `counts` key naming a VRM (`vrm`, `clear_vrm`, `vrms`...; `vrm_pseudonym...` is
allowed) and an actor or subject that is exactly a current-format UK registration.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ringfence.errors import RingfenceError

__all__ = [
    "GENESIS",
    "AuditError",
    "AuditLog",
    "Checkpoint",
    "Draft",
    "Entry",
    "Problem",
    "VerifyReport",
    "generate_signing_key",
    "load_signing_key",
    "public_key_hex",
    "refuse_vrm",
    "verify",
]

GENESIS = "0" * 64
LOG_FILE = "log.jsonl"
CHECKPOINTS_FILE = "checkpoints.jsonl"
LOCK_FILE = ".lock"
CHECKPOINT_FORMAT = "ringfence-audit-checkpoint/1"
REPAIR_EVENT = "audit-repaired"
_CHECKPOINT_CONTEXT = b"ringfence/audit-checkpoint/v1\n"
_FIELDS = frozenset(
    ("seq", "at", "actor", "event", "subject", "why", "counts", "attrs", "digest", "prev", "hash")
)
_KEBAB = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# Current-format UK registration (two letters, two digits, three letters), spaces ignored.
_CURRENT_VRM = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z]{3}")
_MAX_PROBLEMS = 1000


class AuditError(RingfenceError):
    """The audit log refused an entry, or cannot be written (torn tail, unsafe key file...)."""


# -- canonical form ------------------------------------------------------------------------
def _canonical(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _format_at(at: datetime) -> str:
    if at.tzinfo is None or at.utcoffset() is None:
        raise AuditError("audit instants must be timezone-aware")
    return at.astimezone(UTC).strftime(_AT_FORMAT)


def _line_for(body: dict[str, Any]) -> tuple[bytes, str]:
    """The canonical line (with newline) and hash of an entry given without `hash`."""
    digest = _sha256(_canonical(body))
    return _canonical({**body, "hash": digest}) + b"\n", digest


# -- entries -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Entry:
    """One audit log entry, as stored."""

    seq: int
    at: datetime
    actor: str
    event: str
    subject: str
    why: str
    counts: dict[str, int]
    attrs: dict[str, str]
    digest: str | None
    prev: str
    hash: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Entry:
        return cls(
            seq=d["seq"],
            at=datetime.strptime(d["at"], _AT_FORMAT).replace(tzinfo=UTC),
            actor=d["actor"],
            event=d["event"],
            subject=d["subject"],
            why=d["why"],
            counts=dict(d["counts"]),
            attrs=dict(d["attrs"]),
            digest=d["digest"],
            prev=d["prev"],
            hash=d["hash"],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": _format_at(self.at),
            "actor": self.actor,
            "event": self.event,
            "subject": self.subject,
            "why": self.why,
            "counts": dict(self.counts),
            "attrs": dict(self.attrs),
            "digest": self.digest,
            "prev": self.prev,
            "hash": self.hash,
        }


def _vrm_key(key: str) -> bool:
    k = key.lower().replace("-", "_")
    if "pseudonym" in k or "digest" in k:
        return False
    return any(token in ("vrm", "vrms") for token in k.split("_"))


def refuse_vrm(payload: Mapping[str, Any], *, where: str = "payload") -> None:
    """Raise AuditError if any key (at any depth) names a clear VRM; pseudonyms are allowed."""
    for key, value in payload.items():
        if _vrm_key(str(key)):
            raise AuditError(
                f"{where} has a key {key!r} naming a VRM: the audit log never stores a clear "
                "VRM; pass an id, a pseudonym (vrm_pseudonym) or a digest instead"
            )
        if isinstance(value, Mapping):
            refuse_vrm(value, where=where)


def _looks_like_vrm(text: str) -> bool:
    return _CURRENT_VRM.fullmatch(text.replace(" ", "").upper()) is not None


def _body(
    seq: int,
    prev: str,
    event: str,
    *,
    actor: str,
    at: datetime,
    subject: str,
    why: str,
    counts: Mapping[str, int] | None,
    attrs: Mapping[str, str] | None,
    digest: str | None,
) -> dict[str, Any]:
    if not _KEBAB.fullmatch(event):
        raise AuditError(f"audit event {event!r} is not kebab-case (e.g. release-issued)")
    if not actor:
        raise AuditError("an audit entry needs an actor")
    if not why:
        raise AuditError("an audit entry needs a why")
    for name, text in (("actor", actor), ("subject", subject)):
        if _looks_like_vrm(text):
            raise AuditError(f"audit {name} {text!r} looks like a clear VRM; pass an id instead")
    counts = dict(counts or {})
    refuse_vrm(counts, where="counts")
    for key, value in counts.items():
        if not isinstance(key, str) or type(value) is not int:
            raise AuditError(f"counts must map strings to ints, not {key!r}: {value!r}")
    facts: dict[str, object] = dict(attrs or {})
    refuse_vrm(facts, where="attrs")
    for key, fact in facts.items():
        if not isinstance(key, str) or not isinstance(fact, str):
            raise AuditError(f"attrs must map strings to strings, not {key!r}: {fact!r}")
        if _looks_like_vrm(fact):
            raise AuditError(f"audit attr {key}={fact!r} looks like a clear VRM")
    if digest is not None and not _HEX64.fullmatch(digest):
        raise AuditError("digest must be a lowercase hex SHA-256 (64 characters)")
    return {
        "seq": seq,
        "at": _format_at(at),
        "actor": actor,
        "event": event,
        "subject": subject,
        "why": why,
        "counts": counts,
        "attrs": facts,
        "digest": digest,
        "prev": prev,
    }


@dataclass(frozen=True, slots=True)
class Draft:
    """An entry not yet appended: what `append` takes, for `append_many` to number and chain."""

    event: str
    actor: str
    at: datetime
    subject: str
    why: str
    counts: Mapping[str, int] | None = None
    attrs: Mapping[str, str] | None = None
    digest: str | None = None

    def body(self, seq: int, prev: str) -> dict[str, Any]:
        """The entry without `hash`, validated as `append` validates it (AuditError if refused)."""
        return _body(
            seq,
            prev,
            self.event,
            actor=self.actor,
            at=self.at,
            subject=self.subject,
            why=self.why,
            counts=self.counts,
            attrs=self.attrs,
            digest=self.digest,
        )


# -- checkpoints and keys ------------------------------------------------------------------
def _checkpoint_message(seq: int, hash_: str, at: str) -> bytes:
    return _CHECKPOINT_CONTEXT + _canonical({"at": at, "hash": hash_, "seq": seq})


def public_key_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw 32-byte Ed25519 public key, as 64 hex characters."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def _public_key(key: Ed25519PublicKey | str) -> Ed25519PublicKey:
    if isinstance(key, Ed25519PublicKey):
        return key
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(key))
    except ValueError as exc:
        raise AuditError(f"not an Ed25519 public key (64 hex characters): {key!r}") from exc


def generate_signing_key(path: Path) -> str:
    """Write a new Ed25519 signing key (32 raw bytes, owner-only 0600) and return its public key.

    Refuses to overwrite an existing file. Keep the file away from the log's writers if
    checkpoints are to attest anything against them; hand the public key to whoever verifies.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise AuditError(f"signing key file {path} already exists; not overwriting it") from exc
    try:
        os.write(fd, key.private_bytes_raw())
        os.fsync(fd)
    finally:
        os.close(fd)
    return public_key_hex(key)


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """Read a signing key file, refusing one that others can read (as key epochs do)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise AuditError(f"signing key file is missing: {path}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AuditError(
            f"signing key file {path} is readable by others (mode {stat.S_IMODE(mode):o}); "
            "refusing to use it: chmod 600 it after checking who could have read it"
        )
    raw = path.read_bytes()
    if len(raw) != 32:
        raise AuditError(f"signing key file {path} is not a 32-byte Ed25519 key")
    return Ed25519PrivateKey.from_private_bytes(raw)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed claim: "the log's entry `seq` had hash `hash` at `at`", by the key `key`.

    `key` is the signer's public key (hex) for information only: verifiers must use a public key
    they obtained independently, never the one a checkpoint carries.
    """

    seq: int
    hash: str
    at: str
    key: str
    signature: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at,
            "key": self.key,
            "signature": self.signature,
        }

    def to_json(self) -> str:
        """The small canonical JSON document an outside party holds."""
        return _canonical(self.to_dict()).decode("utf-8")

    @classmethod
    def from_json(cls, text: str | bytes) -> Checkpoint:
        try:
            d = json.loads(text)
            if d.get("format") != CHECKPOINT_FORMAT:
                raise ValueError(f"format is {d.get('format')!r}")
            cp = cls(
                seq=d["seq"], hash=d["hash"], at=d["at"], key=d["key"], signature=d["signature"]
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AuditError(f"not an audit checkpoint: {exc}") from exc
        if type(cp.seq) is not int or not all(
            isinstance(v, str) for v in (cp.hash, cp.at, cp.key, cp.signature)
        ):
            raise AuditError("not an audit checkpoint: fields have the wrong types")
        return cp

    def is_signed_by(self, public_key: Ed25519PublicKey | str) -> bool:
        try:
            _public_key(public_key).verify(
                bytes.fromhex(self.signature), _checkpoint_message(self.seq, self.hash, self.at)
            )
        except (InvalidSignature, ValueError):
            return False
        return True


# -- the log -------------------------------------------------------------------------------
def _tail(fd: int, size: int) -> tuple[int, bytes]:
    """(offset just after the last newline, the bytes after it) of the first `size` bytes."""
    block = 4096
    end = size
    tail = b""
    while end > 0:
        start = max(0, end - block)
        chunk = os.pread(fd, end - start, start)
        nl = chunk.rfind(b"\n")
        if nl != -1:
            return start + nl + 1, chunk[nl + 1 :] + tail
        tail = chunk + tail
        end = start
    return 0, tail


def _last_line(fd: int, size: int) -> bytes | None:
    """The last complete line (without newline) of a file ending in a newline, or None."""
    if size == 0:
        return None
    body_end = size - 1
    cut, _ = _tail(fd, body_end)
    return os.pread(fd, body_end - cut, cut)


class AuditLog:
    """The append-only audit log in one directory. Safe for concurrent writers (file lock)."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.log_path = self.directory / LOG_FILE
        self.checkpoints_path = self.directory / CHECKPOINTS_FILE

    # -- locking and the tail -----------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[int]:
        """Hold the lock and yield an O_APPEND descriptor on the log (created if missing)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            created = not self.log_path.exists()
            fd = os.open(self.log_path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                if created:
                    _fsync_dir(self.directory)
                yield fd
            finally:
                os.close(fd)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            os.close(lock)

    def _head(self, fd: int) -> tuple[int, str]:
        """(seq, hash) of the last entry, or (0, GENESIS); refuses a torn tail."""
        size = os.fstat(fd).st_size
        if size == 0:
            return 0, GENESIS
        if os.pread(fd, 1, size - 1) != b"\n":
            raise AuditError(
                f"{self.log_path} ends in a torn line (a crash mid-append?): verify it, then "
                "run repair to cut the torn line (the repair is itself recorded)"
            )
        line = _last_line(fd, size)
        try:
            last = json.loads(line or b"")
            seq, digest = last["seq"], last["hash"]
        except (ValueError, KeyError, TypeError) as exc:
            raise AuditError(f"the last entry of {self.log_path} is unreadable: verify it") from exc
        if type(seq) is not int or not isinstance(digest, str):
            raise AuditError(f"the last entry of {self.log_path} is malformed: verify it")
        return seq, digest

    def _write(self, fd: int, line: bytes) -> None:
        written = os.write(fd, line)
        if written != len(line):  # pragma: no cover - a full disk; verify will show a torn line
            raise AuditError(f"short write to {self.log_path}: {written} of {len(line)} bytes")
        os.fsync(fd)

    # -- writing ------------------------------------------------------------------------
    def append(
        self,
        event: str,
        *,
        actor: str,
        at: datetime,
        subject: str,
        why: str,
        counts: Mapping[str, int] | None = None,
        attrs: Mapping[str, str] | None = None,
        digest: str | None = None,
    ) -> Entry:
        """Append one entry (fsynced before returning) and return it as stored."""
        draft = Draft(event, actor, at, subject, why, counts, attrs, digest)
        return self._append_chunk([draft])

    def append_many(self, drafts: Iterable[Draft], *, chunk: int = 16_384) -> Entry | None:
        """Append entries in order, `chunk` at a time; return the last as stored (None if none).

        Each chunk is numbered, chained and validated under the lock, written with one write
        and fsynced once: the lines are byte for byte what `append` would have written one by
        one. Other writers wait at most one chunk, and may interleave between chunks. If an
        entry is refused, the chunks before its own are kept (durable) and nothing from its
        chunk on is written.
        """
        if chunk < 1:
            raise ValueError("chunk must be at least 1")
        last: Entry | None = None
        pending = iter(drafts)
        while batch := list(itertools.islice(pending, chunk)):
            last = self._append_chunk(batch)
        return last

    def _append_chunk(self, drafts: list[Draft]) -> Entry:
        """Number, chain and write `drafts` (at least one) under the lock; fsync once."""
        with self._locked() as fd:
            seq, prev = self._head(fd)
            lines: list[bytes] = []
            body: dict[str, Any] = {}
            for draft in drafts:
                seq += 1
                body = draft.body(seq, prev)
                line, prev = _line_for(body)
                lines.append(line)
            self._write(fd, b"".join(lines))
        return Entry.from_dict({**body, "hash": prev})

    def checkpoint(self, signing_key: Ed25519PrivateKey | Path, at: datetime) -> Checkpoint:
        """Sign the log's current head (seq, hash, at), keep it in checkpoints.jsonl, return it."""
        key = signing_key if isinstance(signing_key, Ed25519PrivateKey) else None
        if key is None:
            assert isinstance(signing_key, Path)
            key = load_signing_key(signing_key)
        when = _format_at(at)
        with self._locked() as fd:
            seq, head = self._head(fd)
            if seq == 0:
                raise AuditError("nothing to checkpoint: the audit log is empty")
            signature = key.sign(_checkpoint_message(seq, head, when))
            cp = Checkpoint(
                seq=seq, hash=head, at=when, key=public_key_hex(key), signature=signature.hex()
            )
            cfd = os.open(self.checkpoints_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(cfd, cp.to_json().encode("utf-8") + b"\n")
                os.fsync(cfd)
            finally:
                os.close(cfd)
        return cp

    def repair(self, *, actor: str, at: datetime, why: str) -> Entry | None:
        """Cut a torn last line, if any, and record the cut as an `audit-repaired` entry.

        Only bytes after the last newline are ever removed; they are kept under `removed/`
        (named by their SHA-256, which the entry's `digest` holds). Returns None if the log
        was whole.
        """
        with self._locked() as fd:
            size = os.fstat(fd).st_size
            cut, torn = _tail(fd, size)
            if not torn:
                return None
            removed_digest = _sha256(torn)
            removed_dir = self.directory / "removed"
            removed_dir.mkdir(exist_ok=True, mode=0o700)
            keep = removed_dir / f"{removed_digest}.bin"
            rfd = os.open(keep, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(rfd, torn)
                os.fsync(rfd)
            finally:
                os.close(rfd)
            _fsync_dir(removed_dir)
            os.ftruncate(fd, cut)
            os.fsync(fd)
            line_no = _count_lines(fd, cut) + 1
            seq, prev = self._head(fd)
            body = _body(
                seq + 1,
                prev,
                REPAIR_EVENT,
                actor=actor,
                at=at,
                subject=f"{LOG_FILE}:{line_no}",
                why=why,
                counts={"bytes_removed": len(torn), "line": line_no},
                attrs=None,
                digest=removed_digest,
            )
            line, digest_ = _line_for(body)
            self._write(fd, line)
        return Entry.from_dict({**body, "hash": digest_})

    # -- reading ------------------------------------------------------------------------
    def entries(self) -> Iterator[Entry]:
        """Every complete entry in order, streamed; no checking (use `verify` for that)."""
        if not self.log_path.exists():
            return
        with open(self.log_path, "rb") as fh:
            for raw in fh:
                if raw.endswith(b"\n"):
                    yield Entry.from_dict(json.loads(raw))

    def checkpoints(self) -> list[Checkpoint]:
        """The checkpoints kept beside the log (unverified)."""
        if not self.checkpoints_path.exists():
            return []
        with open(self.checkpoints_path, "rb") as fh:
            return [Checkpoint.from_json(raw) for raw in fh if raw.strip()]

    def verify(
        self,
        *,
        public_key: Ed25519PublicKey | str | None = None,
        checkpoints: Iterable[Checkpoint] | None = None,
    ) -> VerifyReport:
        return verify(self.directory, public_key=public_key, checkpoints=checkpoints)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _count_lines(fd: int, end: int) -> int:
    count, offset = 0, 0
    while offset < end:
        chunk = os.pread(fd, min(1 << 20, end - offset), offset)
        count += chunk.count(b"\n")
        offset += len(chunk)
    return count


# -- verification --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong, and where: `line` in `source` (1-based) and the `seq` if known.

    Kinds: `torn`, `bad-entry` (unparseable, wrong fields or not canonical), `hash-mismatch`,
    `seq-mismatch`, `chain-break`, `truncated`, `checkpoint-mismatch`, `checkpoint-signature`,
    `checkpoint-unreadable`. `source` is `log.jsonl`, `checkpoints.jsonl` or `held` (given).
    """

    kind: str
    detail: str
    line: int | None = None
    seq: int | None = None
    source: str = LOG_FILE


@dataclass(slots=True)
class VerifyReport:
    """What `verify` found. `ok` only if there is no problem at all.

    `attested_seq` is the highest seq covered by a checkpoint whose signature was checked
    against the given public key and which matches the log (0 if none): entries after it are
    chained but attested by nothing outside the file.
    """

    entries: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS
    attested_seq: int = 0
    signatures_checked: bool = False
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def _add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(problem)


_HASH_MARK = b',"hash":"'
_READ_BLOCK = 8 << 20  # large reads: one system call and one split per 8 MiB, not per line


def _check_line(raw: bytes) -> tuple[dict[str, Any] | None, str | None, str]:
    """(entry, recomputed hash, "") for a good line, else (entry or None, None, what is wrong).

    The definition of a good line: `_fast_line` only ever agrees with it, faster.
    """
    try:
        d = json.loads(raw)
    except ValueError as exc:  # includes UnicodeDecodeError
        return None, None, f"unparseable: {exc}"
    if not isinstance(d, dict) or d.keys() != _FIELDS:
        return None, None, "not an audit entry (wrong fields)"
    if not (
        type(d["seq"]) is int
        and all(isinstance(d[k], str) for k in ("at", "actor", "event", "subject", "why"))
        and isinstance(d["counts"], dict)
        and all(type(v) is int for v in d["counts"].values())
        and isinstance(d["attrs"], dict)
        and all(isinstance(v, str) for v in d["attrs"].values())
        and (d["digest"] is None or isinstance(d["digest"], str))
        and isinstance(d["prev"], str)
        and isinstance(d["hash"], str)
        and _AT.fullmatch(d["at"])
        and _KEBAB.fullmatch(d["event"])
    ):
        return d, None, "an entry field has the wrong type or shape"
    try:
        canonical = _canonical(d)
    except UnicodeEncodeError:  # json decodes bytes with surrogatepass: not UTF-8 after all
        return d, None, "not in canonical form (an encoded surrogate is not UTF-8)"
    if canonical != raw:
        return d, None, "not in canonical form (edited, re-spaced or re-encoded)"
    # Canonical, so no string holds a bare quote; but an attrs key may be "hash", and attrs
    # come before the field: the last `,"hash":"` is the field (only plain values follow it).
    at = raw.rindex(_HASH_MARK)
    without = raw[:at] + raw[at + len(_HASH_MARK) + len(d["hash"]) + 1 :]
    return d, _sha256(without), ""


# -- the fast path -------------------------------------------------------------------------
# `_check_line` parses each line and re-serialises it to prove it canonical: most of the cost
# of `verify`. Its schema is fixed, so a canonical line can instead be recognised as text: one
# regular expression (the keys in sorted order, each value a token exactly as `json.dumps`
# writes it), run in C, plus a look at the few nested keys and at UTF-8 validity. `_fast_line`
# accepts only lines `_check_line` accepts, and returns the same values; it declines anything
# else, good or bad (and some good lines: keys with escapes, very long ints, a non-hex hash),
# and `_check_line` decides those and words the problem. So it can cost speed, never a
# detection; tests hold it to that, byte change by byte change.
#
# A string as json.dumps(ensure_ascii=False) writes it: any character but `"`, `\` and
# U+0000..U+001F as itself; those as `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, or else
# `\u00xx` in lowercase hex (never the long form of a character that has a short one).
_STRING = rb'"[^"\\\x00-\x1f]*+(?:\\(?:["\\bfnrt]|u00(?:0[0-7bef]|1[0-9a-f]))[^"\\\x00-\x1f]*+)*+"'
# An object key without escapes: its bytes are its UTF-8, whose byte order is code point
# order, so comparing raw keys is comparing them as sort_keys does. Keys with escapes: slow.
_PLAIN_KEY = rb'"[^"\\\x00-\x1f]*+"'
# An int as Python writes it (no "-0", no leading zeros), short enough to parse anywhere.
_INT = rb"(?:0|-?[1-9][0-9]{0,17})"


def _members(value: bytes) -> bytes:
    """The inside of an object whose keys are plain and values match `value`, maybe empty."""
    pair = _PLAIN_KEY + b":" + value
    return rb"(?:" + pair + rb"(?:," + pair + rb")*+)?"


_FAST_LINE = re.compile(
    rb'\{"actor":' + _STRING
    + rb',"at":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z"'
    + rb',"attrs":\{(?P<attrs>' + _members(_STRING) + rb")\}"
    + rb',"counts":\{(?P<counts>' + _members(_INT) + rb")\}"
    + rb',"digest":(?:null|' + _STRING + rb")"
    + rb',"event":"[a-z][a-z0-9]*+(?:-[a-z0-9]++)*+"'
    + rb'(?P<hash>,"hash":"(?P<stored>[0-9a-f]{64})")'
    + rb',"prev":"(?P<prev>[0-9a-f]{64})"'
    + rb",\"seq\":(?P<seq>" + _INT + rb")"
    + rb',"subject":' + _STRING
    + rb',"why":' + _STRING
    + rb"\}"
)  # fmt: skip
# The keys of a matched object, found pair by pair: each search starts where the last pair
# ended (at a comma, which no pair starts with) and the tokens end where they must, so it
# takes exactly the object's own pairs in order; never a lookalike inside a value.
_KEY_STRING_PAIR = re.compile(rb'"([^"\\\x00-\x1f]*+)":' + _STRING)
_KEY_INT_PAIR = re.compile(rb'"([^"\\\x00-\x1f]*+)":' + _INT)


def _sorted_keys(pairs: re.Pattern[bytes], members: bytes) -> bool:
    """Whether an object's (plain) keys are strictly increasing: sorted, none twice."""
    if b',"' not in members:  # two members or more always have a `,"` between them
        return True
    keys = pairs.findall(members)
    return keys == sorted(set(keys))  # equal only if increasing with no key twice


def _fast_line(raw: bytes) -> tuple[int, str, str, str] | None:
    """(seq, prev, stored hash, recomputed hash) of a line `_check_line` accepts, or None."""
    m = _FAST_LINE.fullmatch(raw)
    if m is None or not (raw.isascii() or _is_utf8(raw)):
        return None
    if not (
        _sorted_keys(_KEY_STRING_PAIR, m["attrs"]) and _sorted_keys(_KEY_INT_PAIR, m["counts"])
    ):
        return None
    start, end = m.span("hash")
    digest = hashlib.sha256(raw[:start])
    digest.update(raw[end:])
    return int(m["seq"]), m["prev"].decode(), m["stored"].decode(), digest.hexdigest()


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# -- verify --------------------------------------------------------------------------------
def verify(
    path: Path,
    *,
    public_key: Ed25519PublicKey | str | None = None,
    checkpoints: Iterable[Checkpoint] | None = None,
) -> VerifyReport:
    """Check an audit log (its directory, or the log file itself) in one streaming pass.

    Checkpoints checked are those kept beside the log plus any given (e.g. held outside).
    With `public_key`, each checkpoint's signature is checked, and one that fails is reported
    and otherwise ignored. Without it, checkpoints are only checked for consistency.
    """
    path = Path(path)
    log_path = path / LOG_FILE if path.is_dir() else path
    report = VerifyReport(signatures_checked=public_key is not None)
    key = _public_key(public_key) if public_key is not None else None
    by_seq = _checkpoints_by_seq(report, log_path, key, checkpoints)

    expected_prev = GENESIS
    line_no = 0
    lines = _Lines(log_path, _stable_size(log_path))
    for raw in lines:
        line_no += 1
        expected_prev = _verify_line(report, raw, line_no, expected_prev, by_seq)
    if lines.torn:
        line_no += 1
        report._add(
            Problem("torn", f"the last line has no newline ({len(lines.torn)} bytes)", line_no)
        )
    report.entries = line_no
    _check_truncation(report, line_no, by_seq)
    return report


_BySeq = dict[int, list[tuple[Checkpoint, bool]]]


def _checkpoints_by_seq(
    report: VerifyReport,
    log_path: Path,
    key: Ed25519PublicKey | None,
    checkpoints: Iterable[Checkpoint] | None,
) -> _BySeq:
    """The usable checkpoints (local and held) by seq, each with whether its signature held."""
    held: list[tuple[Checkpoint, str]] = []
    local = log_path.parent / CHECKPOINTS_FILE
    if local.exists():
        with open(local, "rb") as fh:
            for n, raw in enumerate(fh, start=1):
                try:
                    held.append((Checkpoint.from_json(raw), local.name))
                except AuditError as exc:
                    report._add(Problem("checkpoint-unreadable", str(exc), n, None, local.name))
    held += [(cp, "held") for cp in checkpoints or ()]
    by_seq: _BySeq = {}
    for cp, source in held:
        good = False
        if key is not None:
            good = cp.is_signed_by(key)
            if not good:
                other = "" if cp.key == public_key_hex(key) else " (it names another key)"
                report._add(
                    Problem(
                        "checkpoint-signature",
                        f"checkpoint for seq {cp.seq} at {cp.at} is not signed by the given "
                        f"key{other}",
                        None,
                        cp.seq,
                        source,
                    )
                )
                continue
        by_seq.setdefault(cp.seq, []).append((cp, good))
    return by_seq


class _Lines:
    """The complete lines (without their newline) of a file's first `size` bytes, streamed.

    After iterating, `torn` holds the bytes after the last newline (empty if the file ends in
    one). Reads in large blocks and splits each in C: iterating a file object line by line,
    with a size check per line, costs more than the checks of a short line.
    """

    def __init__(self, path: Path, size: int):
        self.path = path
        self.size = size
        self.torn = b""

    def __iter__(self) -> Iterator[bytes]:
        if self.size == 0:
            return
        carry = b""
        remaining = self.size
        with open(self.path, "rb", buffering=0) as fh:
            while remaining > 0:
                block = fh.read(min(_READ_BLOCK, remaining))
                if not block:  # the file shrank since it was measured: what is left is torn
                    break
                remaining -= len(block)
                lines = (carry + block).split(b"\n")
                carry = lines.pop()
                yield from lines
        self.torn = carry


def _verify_line(
    report: VerifyReport,
    raw: bytes,
    line_no: int,
    expected_prev: str,
    by_seq: _BySeq,
) -> str:
    """Check one complete line (without newline); return the hash the next `prev` must hold."""
    fast = _fast_line(raw)
    if fast is not None:
        seq, prev, stored, digest = fast
        return _check_links(report, line_no, seq, prev, stored, digest, expected_prev, by_seq)
    d, digest_, wrong = _check_line(raw)
    seq_ = d["seq"] if d is not None and type(d["seq"]) is int else None
    if digest_ is None:
        report._add(Problem("bad-entry", wrong, line_no, seq_))
        # Resynchronise on the stored hash so one bad line is one problem.
        stored_ = d.get("hash") if d is not None else None
        return stored_ if isinstance(stored_, str) else expected_prev
    assert d is not None and seq_ is not None
    return _check_links(report, line_no, seq_, d["prev"], d["hash"], digest_, expected_prev, by_seq)


def _check_links(
    report: VerifyReport,
    line_no: int,
    seq: int,
    prev: str,
    stored: str,
    digest: str,
    expected_prev: str,
    by_seq: _BySeq,
) -> str:
    """Check a well-formed entry's hash, seq, prev and checkpoints; return its stored hash."""
    if stored != digest:
        report._add(Problem("hash-mismatch", "the entry's hash is not its SHA-256", line_no, seq))
    if seq != line_no:
        report._add(
            Problem(
                "seq-mismatch",
                f"line {line_no} holds seq {seq}: an entry was deleted, inserted or moved",
                line_no,
                seq,
            )
        )
    if prev != expected_prev:
        report._add(
            Problem(
                "chain-break",
                "prev is not the hash of the line before: an entry was deleted, inserted, moved "
                "or rewritten",
                line_no,
                seq,
            )
        )
    if line_no in by_seq:
        _check_checkpoints(report, line_no, seq, digest, by_seq[line_no])
    report.last_seq = line_no
    report.last_hash = digest
    return stored  # the next entry chains to the stored hash: one edit, one problem


def _check_checkpoints(
    report: VerifyReport,
    line_no: int,
    seq: int,
    digest: str,
    held: list[tuple[Checkpoint, bool]],
) -> None:
    for cp, good in held:
        if cp.hash != digest:
            report._add(
                Problem(
                    "checkpoint-mismatch",
                    f"a checkpoint at {cp.at} holds seq {cp.seq} with hash {cp.hash[:16]}..., "
                    f"the log has {digest[:16]}...: rewritten",
                    line_no,
                    seq,
                )
            )
        elif good and report.problem_count == 0:
            report.attested_seq = max(report.attested_seq, line_no)


def _check_truncation(report: VerifyReport, line_no: int, by_seq: _BySeq) -> None:
    """Checkpoints beyond the log's end: the log lost its tail."""
    for seq in sorted(s for s in by_seq if s > line_no):
        for cp, _ in by_seq[seq]:
            report._add(
                Problem(
                    "truncated",
                    f"a checkpoint at {cp.at} holds seq {cp.seq} (hash {cp.hash[:16]}...) but "
                    f"the log ends at line {line_no}",
                    line_no,
                    cp.seq,
                )
            )


def _stable_size(log_path: Path) -> int:
    """The log's size at a moment no append is half written (briefly taking the lock)."""
    if not log_path.exists():
        return 0
    lock_path = log_path.parent / LOCK_FILE
    try:
        lock = os.open(lock_path, os.O_RDONLY)
    except OSError:
        return log_path.stat().st_size
    try:
        fcntl.flock(lock, fcntl.LOCK_SH)
        return log_path.stat().st_size
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        os.close(lock)
