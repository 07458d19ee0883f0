"""Every error Ringfence raises on purpose.

    RingfenceError
    ├── ConfigError            a setting, rule file or data directory is unusable
    ├── InputError             a file given to a command cannot be read at all
    │   └── SchemaError        required columns are missing or have the wrong type
    ├── StateError             the operational database is missing, behind, or inconsistent
    ├── KeyError_              a key epoch is missing, destroyed, or its file is unsafe
    │   └── KeyDestroyedError  the epoch was crypto-shredded: its data is unlinkable for ever
    ├── VaultError             a clear VRM could not be recovered
    └── NotFoundError          a named record (batch, hold, epoch...) does not exist

Library errors (DuckDB, SQLAlchemy, PyArrow) are translated into these at the adapters, so the
CLI can print one clear line instead of a traceback. Rows that fail validation are *not* errors:
they go to the quarantine with a reason.
"""

from __future__ import annotations


class RingfenceError(Exception):
    """Base of every deliberate Ringfence error."""


class ConfigError(RingfenceError):
    """A setting, rule file or data directory is unusable."""


class InputError(RingfenceError):
    """An input file cannot be read at all (missing, unknown format, unparseable)."""


class SchemaError(InputError):
    """Required columns are missing or have an unusable type."""


class StateError(RingfenceError):
    """The operational database is missing, behind, or inconsistent."""


class KeyError_(RingfenceError):
    """A key epoch is missing, destroyed, or its key file is unsafe."""


class KeyDestroyedError(KeyError_):
    """The epoch's key was destroyed: its pseudonyms can never be linked to a VRM again."""


class VaultError(RingfenceError):
    """A clear VRM could not be recovered from the vault."""


class NotFoundError(RingfenceError):
    """A named record does not exist."""
