"""The workspace: one data directory and everything opened on it.

Like Datasette's hub, it is built once per command or request and handed to the services, so
the CLI, the API and the tests take exactly one code path. It owns the single-writer lock: every
service that changes the read store, the vault or the keys holds it, and recovers whatever an
earlier crash left half done before it starts. It also owns the audit log (`ringfence.audit`):
`record` is how a service says it touched personal data.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy import select

from ringfence.audit import AuditLog
from ringfence.errors import StateError
from ringfence.settings import Settings, load_settings
from ringfence.stores.charge_evidence import ChargeEvidence
from ringfence.stores.keys import KeyRing
from ringfence.stores.readstore import ReadStore, connect
from ringfence.stores.state import CameraRow, StateDB, open_state
from ringfence.stores.vault import Vault

CAMERA_SCHEMA = pa.schema(
    [
        ("camera_id", pa.string()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("borough_gss", pa.string()),
        ("network", pa.string()),
        ("enforces", pa.string()),
        ("site_kind", pa.string()),
        ("commissioned_on", pa.date32()),
        ("decommissioned_on", pa.date32()),
    ]
)


def camera_rows_table(rows: Sequence[CameraRow]) -> pa.Table:
    """Camera records as an Arrow table (the shape queries join against)."""
    return pa.Table.from_pylist(
        [{f.name: getattr(r, f.name) for f in CAMERA_SCHEMA} for r in rows],
        schema=CAMERA_SCHEMA,
    )


CONFIG_MARKER = ".configuration.sha256"


def configuration_digest(data_dir: Path) -> tuple[str, list[str]]:
    """SHA-256 over every configuration file in force: the packaged defaults, schemes and
    governance, and the data directory's own `ringfence.toml`. Returns it and the file names."""
    parts: list[tuple[str, bytes]] = []
    for package in ("ringfence", "ringfence.schemes.london", "ringfence.governance.london"):
        for entry in sorted(resources.files(package).iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".toml") and entry.is_file():
                parts.append((f"{package}/{entry.name}", entry.read_bytes()))
    local = data_dir / "ringfence.toml"
    if local.exists():
        parts.append(("ringfence.toml", local.read_bytes()))
    h = hashlib.sha256()
    for name, data in parts:
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest(), [n for n, _ in parts]


@dataclass
class Workspace:
    settings: Settings
    state: StateDB
    keys: KeyRing
    vault: Vault
    reads: ReadStore
    audit: AuditLog
    charge_evidence: ChargeEvidence
    actor: str = "system"
    _reader: duckdb.DuckDBPyConnection | None = field(default=None, repr=False)

    @classmethod
    def open(cls, data_dir: Path, *, state_url: str | None = None) -> Workspace:
        data_dir.mkdir(parents=True, exist_ok=True)
        settings = load_settings(data_dir, state_url=state_url)
        state = open_state(settings.state_url)
        keys = KeyRing(
            settings.keys_dir,
            state,
            rotation_days=settings.key_rotation_days,
            anchor=settings.key_anchor,
        )
        ws = cls(
            settings=settings,
            state=state,
            keys=keys,
            vault=Vault(settings.vault_dir),
            reads=ReadStore(settings.reads_dir, state),
            audit=AuditLog(data_dir / "audit"),
            charge_evidence=ChargeEvidence(data_dir / "charges"),
        )
        ws._note_configuration()
        return ws

    def _note_configuration(self) -> None:
        """Audit a change of the configuration in force (settings, schemes, instruments): its
        digest is compared with the last one noted, so an edit between two commands shows in
        the log with the files it covers."""
        digest, names = configuration_digest(self.data_dir)
        marker = self.data_dir / CONFIG_MARKER
        try:
            known = marker.read_text().strip()
        except FileNotFoundError:
            known = ""
        if known == digest:
            return
        self.record(
            "configuration-changed",
            subject="configuration",
            why="first use of this data directory" if not known else "configuration edited",
            digest=digest,
            attrs={"files": ";".join(names), "previous": known[:16]},
        )
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(digest + "\n")
        os.replace(tmp, marker)

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @contextmanager
    def writer(self) -> Iterator[None]:
        """Hold the data directory's single-writer lock (blocks until it is free)."""
        with self.lock("writer"):
            yield

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Hold the data directory's lock ``name`` (an owner-only file), blocking until free."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.data_dir / f".{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def record(
        self,
        event: str,
        *,
        subject: str,
        why: str,
        counts: Mapping[str, int] | None = None,
        attrs: Mapping[str, str] | None = None,
        digest: str | None = None,
    ) -> None:
        """Append to the audit log: every step that touches personal data says so here."""
        self.audit.append(
            event,
            actor=self.actor,
            at=datetime.now(UTC),
            subject=subject,
            why=why,
            counts=counts,
            attrs=attrs,
            digest=digest,
        )

    def reader(self) -> duckdb.DuckDBPyConnection:
        """The workspace's query connection, kept open so DuckDB's Parquet metadata cache stays
        warm between look-ups. Not for concurrent use: take `.cursor()` per thread."""
        if self._reader is None:
            self._reader = connect()
        return self._reader

    def engine(
        self, threads: int | None = None, *, memory_limit: str | None = None
    ) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection for heavy work: bounded memory, spilling under the data dir."""
        con = connect(threads)
        tmp = self.data_dir / "tmp"
        tmp.mkdir(exist_ok=True)
        con.execute(f"SET temp_directory = '{tmp}'")
        con.execute(f"SET memory_limit = '{memory_limit or self.settings.engine_memory_limit}'")
        return con

    def cameras_table(self) -> pa.Table:
        # Plain rows, not ORM objects: this is asked often and ORM loading of thousands of
        # cameras costs a hundred times more.
        columns = [CameraRow.__table__.c[f.name] for f in CAMERA_SCHEMA]
        with self.state.session() as s:
            rows = s.execute(select(*columns).order_by(CameraRow.camera_id)).all()
        return pa.Table.from_pylist(
            [dict(zip(CAMERA_SCHEMA.names, r, strict=True)) for r in rows], schema=CAMERA_SCHEMA
        )

    def require_cameras(self) -> pa.Table:
        table = self.cameras_table()
        if table.num_rows == 0:
            raise StateError(
                "no cameras are registered: run `ringfence cameras import cameras.csv` first"
            )
        return table

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self.state.dispose()
