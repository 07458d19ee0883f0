"""Reading one table of a TOML configuration file: typed getters whose errors name the file and
the field, and a check that no unknown field was given. Shared by every rules-as-data parser
(schemes, governance)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from ringfence.errors import ConfigError

__all__ = ["TomlTable"]

_IDENT = re.compile(r"[a-z0-9_]+")


class TomlTable:
    """One TOML table being read: typed getters, errors naming file and field, unknown keys."""

    def __init__(
        self, data: Any, source: str, where: str, origins: Mapping[str, str] | None = None
    ) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: {where}: expected a table")
        self.data: dict[str, Any] = data
        self.source, self.where, self.origins = source, where, origins or {}
        self.used: set[str] = set()

    def path(self, key: str) -> str:
        prefix = self.origins.get(key, self.where)
        return f"{prefix}.{key}" if prefix else key

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {self.path(key)}: {problem}")

    def get(self, key: str, kind: type | tuple[type, ...], what: str, default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise self.fail(key, "missing")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            raise self.fail(key, f"expected {what}, got {value!r}")
        if isinstance(value, datetime):  # a TOML date-time is also a date: refuse it
            raise self.fail(key, f"expected {what}, got {value!r}")
        return value

    def text(self, key: str, default: Any = ...) -> Any:
        return self.get(key, str, "text", default)

    def ident(self, key: str, default: Any = ...) -> Any:
        value = self.get(key, str, "an identifier (a-z, 0-9, _)", default)
        if value is not None and value is not default and not _IDENT.fullmatch(value):
            raise self.fail(key, f"expected an identifier (a-z, 0-9, _), got {value!r}")
        return value

    def whole(self, key: str, default: Any = ..., minimum: int = 0) -> Any:
        value = self.get(key, int, "a whole number", default)
        if isinstance(value, int) and value < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value}")
        return value

    def day(self, key: str, default: Any = ...) -> Any:
        return self.get(key, date, "a date (YYYY-MM-DD, unquoted)", default)

    def flag(self, key: str, default: Any = ...) -> Any:
        return self.get(key, bool, "true or false", default)

    def idents(self, key: str, default: Any = ...) -> Any:
        values = self.get(key, list, "a list of identifiers", default)
        if values is default:
            return default
        if not values or not all(isinstance(v, str) and _IDENT.fullmatch(v) for v in values):
            raise self.fail(key, f"expected a non-empty list of identifiers, got {values!r}")
        return frozenset(values)

    def tables(self, key: str, default: Any = ...) -> list[TomlTable]:
        values = self.get(key, list, "a list of tables", default)
        if values is default:
            return []
        base = self.path(key)
        return [TomlTable(item, self.source, f"{base}[{i}]") for i, item in enumerate(values)]

    def table(self, key: str) -> TomlTable:
        return TomlTable(self.get(key, dict, "a table"), self.source, self.path(key))

    def done(self) -> None:
        if unknown := sorted(set(self.data) - self.used):
            raise self.fail(unknown[0], "unknown field")


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)
