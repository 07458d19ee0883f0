"""Hotlist matching, pure: which reads are of a watched vehicle, on a network allowed for it.

No I/O, no clock, no keys. The caller (`ringfence.services.hotlist`) builds the *watch table*
each time the hotlist, the keys or the governance book change: one row per (key epoch, VRM
pseudonym, network) that an entry may alert on, after asking the policy point per entry and
network; an entry the policy refuses on a network simply has no row for it. Matching is then one
hash join of a micro-batch of reads against that table, which is what keeps per-read latency
flat at London's peak read rate.

Tables (PyArrow):
    reads:    read_id, camera_id, captured_at, vrm_pseudonym, key_epoch, confidence, image_ref
    cameras:  camera_id, network
    watch:    key_epoch (int32), vrm_pseudonym (binary), network, entry_id, not_before (timestamp)
              ``not_before`` is when the entry was added: older reads are past reads, which only
              a separately approved request may search ("historical hits").
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["HIT_COLUMNS", "WATCH_SCHEMA", "empty_watch", "match"]

WATCH_SCHEMA = pa.schema(
    [
        ("key_epoch", pa.int32()),
        ("vrm_pseudonym", pa.binary()),
        ("network", pa.string()),
        ("entry_id", pa.string()),
        ("not_before", pa.timestamp("us", tz="UTC")),
    ]
)
HIT_COLUMNS = (
    "entry_id",
    "read_id",
    "camera_id",
    "network",
    "captured_at",
    "confidence",
    "image_ref",
    "key_epoch",
)


def empty_watch() -> pa.Table:
    return WATCH_SCHEMA.empty_table()


def match(reads: pa.Table, cameras: pa.Table, watch: pa.Table) -> pa.Table:
    """Hits: one row per (entry, read) where the read's pseudonym, epoch and camera network are
    watched for the entry and the read was taken no earlier than the entry was added."""
    if reads.num_rows == 0 or watch.num_rows == 0:
        return _no_hits(reads)
    watch = watch.cast(WATCH_SCHEMA)
    pseudonyms = reads["vrm_pseudonym"].cast(pa.binary())
    # Cheap pre-filter: almost every read is of an unwatched vehicle.
    keep = pc.is_in(pseudonyms, value_set=watch["vrm_pseudonym"])
    if not pc.any(keep).as_py():
        return _no_hits(reads)
    candidates = pa.table(
        {
            "read_id": reads["read_id"].cast(pa.string()),
            "camera_id": reads["camera_id"].cast(pa.string()),
            "captured_at": reads["captured_at"].cast(pa.timestamp("us", tz="UTC")),
            "vrm_pseudonym": pseudonyms,
            "key_epoch": reads["key_epoch"].cast(pa.int32()),
            "confidence": reads["confidence"].cast(pa.float64()),
            "image_ref": reads["image_ref"].cast(pa.string()),
        }
    ).filter(keep)
    located = candidates.join(cameras.select(["camera_id", "network"]), "camera_id")
    joined = located.join(watch, ["key_epoch", "vrm_pseudonym", "network"], join_type="inner")
    hits = joined.filter(pc.greater_equal(joined["captured_at"], joined["not_before"]))
    return hits.select(list(HIT_COLUMNS)).sort_by(
        [("captured_at", "ascending"), ("read_id", "ascending")]
    )


def _no_hits(_reads: pa.Table) -> pa.Table:
    fields = {
        "entry_id": pa.string(),
        "read_id": pa.string(),
        "camera_id": pa.string(),
        "network": pa.string(),
        "captured_at": pa.timestamp("us", tz="UTC"),
        "confidence": pa.float64(),
        "image_ref": pa.string(),
        "key_epoch": pa.int32(),
    }
    return pa.schema(list(fields.items())).empty_table()
