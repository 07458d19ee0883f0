"""Hotlist matching, pure: which reads are of a watched vehicle, on a network allowed for it.

No I/O, no clock, no keys. The caller (`ringfence.services.hotlist`) builds the *watch table*
each time the hotlist, the keys or the governance book change: one row per (key epoch, VRM
pseudonym, network) that an entry may alert on, after asking the policy point per entry and
network; an entry the policy refuses on a network simply has no row for it. Matching is then one
pass over a micro-batch of reads, which is what keeps per-read latency
flat at London's peak read rate: a vectorised pre-filter on the pseudonym, then dictionary
look-ups for the handful of reads that pass it (`WatchIndex`, built once per watch table).

Tables (PyArrow):
    reads:    read_id, camera_id, captured_at, vrm_pseudonym, key_epoch, confidence, image_ref
    cameras:  camera_id, network
    watch:    key_epoch (int32), vrm_pseudonym (binary), network, entry_id, not_before (timestamp)
              ``not_before`` is when the entry was added: older reads are past reads, which only
              a separately approved request may search ("historical hits").
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["HIT_SCHEMA", "WATCH_SCHEMA", "WatchIndex", "empty_watch", "match"]

WATCH_SCHEMA = pa.schema(
    [
        ("key_epoch", pa.int32()),
        ("vrm_pseudonym", pa.binary()),
        ("network", pa.string()),
        ("entry_id", pa.string()),
        ("not_before", pa.timestamp("us", tz="UTC")),
    ]
)
HIT_SCHEMA = pa.schema(
    [
        ("entry_id", pa.string()),
        ("read_id", pa.string()),
        ("camera_id", pa.string()),
        ("network", pa.string()),
        ("captured_at", pa.timestamp("us", tz="UTC")),
        ("confidence", pa.float64()),
        ("image_ref", pa.string()),
        ("key_epoch", pa.int32()),
    ]
)


def empty_watch() -> pa.Table:
    return WATCH_SCHEMA.empty_table()


class WatchIndex:
    """The watch table prepared for matching many micro-batches: the pseudonyms as an Arrow
    value set for the vectorised pre-filter, and dictionaries for the few reads that pass it."""

    SMALL_BATCH = 20_000
    """Up to this many reads, the pre-filter is a Python set look-up per read: Arrow's is_in
    rebuilds its hash table of the whole watch list on every call, which dominates a
    micro-batch once the hotlist is large. Bigger batches (a day's file) use is_in."""

    def __init__(self, cameras: pa.Table, watch: pa.Table) -> None:
        watch = watch.cast(WATCH_SCHEMA)
        self.pseudonyms = pc.unique(watch["vrm_pseudonym"])
        self.pseudonym_set: frozenset[bytes] = frozenset(self.pseudonyms.to_pylist())
        self.network_of: dict[str, str] = dict(
            zip(
                cameras["camera_id"].to_pylist(),
                cameras["network"].to_pylist(),
                strict=True,
            )
        )
        self.watched: dict[tuple[int, bytes, str], list[tuple[str, datetime]]] = {}
        for row in watch.to_pylist():
            key = (row["key_epoch"], row["vrm_pseudonym"], row["network"])
            self.watched.setdefault(key, []).append((row["entry_id"], row["not_before"]))

    def match(self, reads: pa.Table) -> pa.Table:
        """Hits: one row per (entry, read) where the read's pseudonym, epoch and camera network
        are watched for the entry and the read was taken no earlier than the entry was added."""
        if reads.num_rows == 0 or not self.watched:
            return _no_hits()
        # Pre-filter: almost every read is of an unwatched vehicle.
        column = reads["vrm_pseudonym"].cast(pa.binary())
        if reads.num_rows <= self.SMALL_BATCH:
            hot = self.pseudonym_set
            keep = pa.array([p in hot for p in column.to_pylist()], pa.bool_())
        else:
            keep = pc.is_in(column, value_set=self.pseudonyms)
        candidates = reads.filter(keep)
        if candidates.num_rows == 0:
            return _no_hits()
        rows: list[dict[str, object]] = []
        for read in candidates.to_pylist():
            network = self.network_of.get(read["camera_id"], "")
            key = (int(read["key_epoch"]), bytes(read["vrm_pseudonym"]), network)
            for entry_id, not_before in self.watched.get(key, []):
                if read["captured_at"] >= not_before:
                    rows.append(
                        {
                            "entry_id": entry_id,
                            "read_id": read["read_id"],
                            "camera_id": read["camera_id"],
                            "network": network,
                            "captured_at": read["captured_at"],
                            "confidence": read["confidence"],
                            "image_ref": read["image_ref"],
                            "key_epoch": read["key_epoch"],
                        }
                    )
        rows.sort(key=lambda r: (str(r["captured_at"]), str(r["read_id"])))
        return pa.Table.from_pylist(rows, schema=HIT_SCHEMA)


def match(reads: pa.Table, cameras: pa.Table, watch: pa.Table) -> pa.Table:
    """`WatchIndex(cameras, watch).match(reads)`, for a single batch."""
    return WatchIndex(cameras, watch).match(reads)


def _no_hits() -> pa.Table:
    return HIT_SCHEMA.empty_table()
