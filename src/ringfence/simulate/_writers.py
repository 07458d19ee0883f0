"""Chunked writers for the reads and truth files.

Each file is written as `<name>.partial` and renamed when complete, so a process watching the
folder never sees half a file under its real name.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ringfence.simulate._clock import ChargeDay
from ringfence.simulate.reads import READS_SCHEMA, TRUTH_SCHEMA

READS_FORMATS = {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl"}
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "compression_level": 1}


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def captured_at_text(captured_at: pa.Array, clock: ChargeDay) -> pa.Array:
    """ISO 8601 local (Europe/London) times with their offset: `2026-11-28T08:15:02.120+00:00`."""
    utc_us = np.asarray(captured_at.cast(pa.int64()).to_numpy(zero_copy_only=False))
    utc_ms = utc_us // 1000
    offset = clock.offset_ms(utc_ms - clock.start_utc_ms)
    local = pa.array(utc_ms + offset, pa.int64()).cast(pa.timestamp("ms"))
    text = pc.strftime(local, format="%Y-%m-%dT%H:%M:%S")
    hours = offset // 3_600_000
    suffix = (
        np.where(hours >= 0, "+", "-").astype(object)
        + np.char.zfill(np.abs(hours).astype(str), 2).astype(object)
        + ":00"
    )
    return pc.binary_join_element_wise(text, pa.array(suffix, pa.string()), "")


class ReadsWriter:
    """Writes reads (any format) and truth (Parquet) for one charge day, chunk by chunk."""

    def __init__(self, reads_path: Path, truth_path: Path, fmt: str, clock: ChargeDay) -> None:
        self.reads_path = reads_path
        self.truth_path = truth_path
        self.fmt = fmt
        self.clock = clock
        self._truth = pq.ParquetWriter(_partial(truth_path), TRUTH_SCHEMA, **PARQUET_OPTIONS)
        self._parquet: pq.ParquetWriter | None = None
        self._csv: pacsv.CSVWriter | None = None
        self._jsonl: IO[bytes] | None = None
        if fmt == "parquet":
            self._parquet = pq.ParquetWriter(_partial(reads_path), READS_SCHEMA, **PARQUET_OPTIONS)
        elif fmt == "csv":
            schema = READS_SCHEMA.set(
                READS_SCHEMA.get_field_index("captured_at"), pa.field("captured_at", pa.string())
            )
            self._csv = pacsv.CSVWriter(
                str(_partial(reads_path)),
                schema,
                write_options=pacsv.WriteOptions(quoting_style="needed"),
            )
        elif fmt == "jsonl":
            self._jsonl = open(_partial(reads_path), "wb")  # noqa: SIM115 - closed in close()
        else:  # pragma: no cover - checked by the caller
            raise ValueError(fmt)

    def write(self, reads: pa.Table, truth: pa.Table) -> None:
        self._truth.write_table(truth)
        if self._parquet is not None:
            self._parquet.write_table(reads)
            return
        text_time = captured_at_text(reads.column("captured_at").combine_chunks(), self.clock)
        if self._csv is not None:
            idx = reads.schema.get_field_index("captured_at")
            self._csv.write_table(reads.set_column(idx, "captured_at", text_time))
        elif self._jsonl is not None:
            self._jsonl.write(_jsonl_bytes(reads, text_time))

    def close(self) -> None:
        self._truth.close()
        if self._parquet is not None:
            self._parquet.close()
        if self._csv is not None:
            self._csv.close()
        if self._jsonl is not None:
            self._jsonl.close()
        os.replace(_partial(self.truth_path), self.truth_path)
        os.replace(_partial(self.reads_path), self.reads_path)

    def __enter__(self) -> ReadsWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
            return
        for w in (self._truth, self._parquet, self._csv, self._jsonl):
            if w is not None:
                w.close()
        for p in (self.truth_path, self.reads_path):
            _partial(p).unlink(missing_ok=True)


def _quoted(col: Any) -> pa.Array:
    return pc.binary_join_element_wise('"', col, '"', "")


def _jsonl_bytes(reads: pa.Table, captured_at: pa.Array) -> bytes:
    """One JSON object per line. Every text value is made of [A-Za-z0-9 ?:/._+-] only (makes
    included), so it needs no escaping."""
    col = {name: reads.column(name).combine_chunks() for name in reads.column_names}
    direction = col["direction"]
    dir_json = pc.if_else(pc.is_null(direction), "null", _quoted(direction))
    lane = col["lane"]
    lane_json = pc.if_else(pc.is_null(lane), "null", pc.cast(lane, pa.string()))
    make, kind = col["observed_make"], col["observed_type"]
    make_json = pc.if_else(pc.is_null(make), "null", _quoted(make))
    type_json = pc.if_else(pc.is_null(kind), "null", _quoted(kind))
    line = pc.binary_join_element_wise(
        '{"read_id":"', col["read_id"],
        '","camera_id":"', col["camera_id"],
        '","captured_at":"', captured_at,
        '","plate":"', col["plate"],
        '","confidence":', pc.cast(col["confidence"], pa.string()),
        ',"direction":', dir_json,
        ',"lane":', lane_json,
        ',"image_ref":"', col["image_ref"],
        '","observed_make":', make_json,
        ',"observed_type":', type_json,
        '}\n',
        "",
    )  # fmt: skip
    if len(line) == 0:
        return b""
    offsets = np.frombuffer(line.buffers()[1], dtype=np.int32)
    offsets = offsets[line.offset : line.offset + len(line) + 1]
    data = line.buffers()[2]
    return bytes(memoryview(data)[int(offsets[0]) : int(offsets[-1])])


def write_table(table: pa.Table, path: Path) -> None:
    """A whole small table (cameras, vehicles) as Parquet or CSV by the path's suffix."""
    tmp = _partial(path)
    if path.suffix == ".csv":
        pacsv.write_csv(table, str(tmp), write_options=pacsv.WriteOptions(quoting_style="needed"))
    else:
        pq.write_table(table, tmp, **PARQUET_OPTIONS)
    os.replace(tmp, path)
