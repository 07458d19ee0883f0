"""The audit log: every single-byte edit, deletion, reordering and truncation is detected."""

from __future__ import annotations

import hashlib
import itertools
import json
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence import audit
from ringfence.audit import (
    GENESIS,
    AuditError,
    AuditLog,
    Checkpoint,
    Draft,
    generate_signing_key,
    load_signing_key,
    public_key_hex,
    verify,
)

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
# One change per byte, varied by position: low bit, ASCII case/space, high bit (bad UTF-8), all.
FLIPS = (0x01, 0x20, 0x80, 0xFF)
EVENTS = ["request-submitted", "release-issued", "hotlist-hit", "retention-run", "reads-queried"]


def _draft(i: int) -> Draft:
    return Draft(
        EVENTS[i % len(EVENTS)],
        actor=f"officer-{i % 3}",
        at=T0 + timedelta(seconds=i),
        subject=f"AR-2026-{i:04d}",
        why="MD2977 s.2 — test £",  # non-ASCII on purpose: UTF-8 is part of the format
        counts={"reads": i, "plates": i % 4},
        attrs={"kind": "vehicle_history", "force": f"f{i % 2}"} if i % 3 else None,
        digest=hashlib.sha256(str(i).encode()).hexdigest() if i % 2 else None,
    )


def _fill(log: AuditLog, n: int) -> None:
    for i in range(n):
        d = _draft(i)
        log.append(
            d.event,
            actor=d.actor,
            at=d.at,
            subject=d.subject,
            why=d.why,
            counts=d.counts,
            attrs=d.attrs,
            digest=d.digest,
        )


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    log = AuditLog(tmp_path / "audit")
    _fill(log, 30)
    return log


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _lines(log: AuditLog) -> list[bytes]:
    return log.log_path.read_bytes().splitlines(keepends=True)


def _write(log: AuditLog, lines: list[bytes]) -> None:
    log.log_path.write_bytes(b"".join(lines))


def test_append_verify_round_trip(log: AuditLog) -> None:
    entries = list(log.entries())
    assert [e.seq for e in entries] == list(range(1, 31))
    assert entries[0].prev == GENESIS
    assert all(b.prev == a.hash for a, b in itertools.pairwise(entries))
    assert entries[3].event == "retention-run" and entries[3].at == T0 + timedelta(seconds=3)
    report = verify(log.directory)
    assert report.ok, report.problems
    assert (report.entries, report.last_seq, report.last_hash) == (30, 30, entries[-1].hash)
    assert verify(log.log_path).ok  # the file itself, too


def test_lines_are_canonical_json(log: AuditLog) -> None:
    for raw in _lines(log):
        d = json.loads(raw)
        line = json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert raw == line.encode("utf-8") + b"\n"
        body = {k: v for k, v in d.items() if k != "hash"}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert d["hash"] == hashlib.sha256(canonical.encode()).hexdigest()


def test_every_single_byte_change_is_detected(log: AuditLog) -> None:
    original = log.log_path.read_bytes()
    assert 6000 < len(original) < 20000  # ~30 entries: fast, but every field and line end covered
    missed = []
    for pos in range(len(original)):
        data = bytearray(original)
        data[pos] ^= FLIPS[pos % len(FLIPS)]
        log.log_path.write_bytes(bytes(data))
        if verify(log.directory).ok:
            missed.append(pos)
    assert missed == []


@pytest.mark.parametrize("edit", ["space-after-colon", "space-after-comma", "crlf", "reorder-keys"])
def test_whitespace_and_layout_changes_are_detected(log: AuditLog, edit: str) -> None:
    lines = _lines(log)
    line = lines[10]
    if edit == "space-after-colon":
        lines[10] = line.replace(b'":', b'": ', 1)
    elif edit == "space-after-comma":
        lines[10] = line.replace(b",", b", ", 1)
    elif edit == "crlf":
        lines[10] = line[:-1] + b"\r\n"
    else:
        d = json.loads(line)
        lines[10] = json.dumps(dict(reversed(d.items())), separators=(",", ":")).encode() + b"\n"
    _write(log, lines)
    report = verify(log.directory)
    assert not report.ok
    assert report.problems[0].line == 11 and report.problems[0].seq == 11


def test_an_edited_entry_is_located(log: AuditLog) -> None:
    lines = _lines(log)
    lines[6] = lines[6].replace(b'"reads":6', b'"reads":7')
    _write(log, lines)
    report = verify(log.directory)
    assert [(p.kind, p.line, p.seq) for p in report.problems] == [("hash-mismatch", 7, 7)]


def test_deleting_any_line_is_detected(log: AuditLog, key: Ed25519PrivateKey) -> None:
    held = log.checkpoint(key, T0 + timedelta(hours=1))
    original = _lines(log)
    for i in range(len(original)):
        _write(log, original[:i] + original[i + 1 :])
        # Inside the file: a gap shows, except for the last line, which only a checkpoint shows.
        inside = verify(log.directory, public_key=public_key_hex(key))
        assert not inside.ok, i
        if i < len(original) - 1:
            assert (inside.problems[0].kind, inside.problems[0].line) == ("seq-mismatch", i + 1)
        else:
            assert [p.kind for p in inside.problems] == ["truncated"]
        log.checkpoints_path.unlink()  # an attacker removes the local checkpoints too...
        outside = verify(log.directory, public_key=public_key_hex(key), checkpoints=[held])
        assert not outside.ok, i  # ...but the one held outside still catches it
        log.checkpoints_path.write_text(held.to_json() + "\n")


def test_swapping_adjacent_lines_is_detected(log: AuditLog) -> None:
    original = _lines(log)
    for i in range(len(original) - 1):
        lines = list(original)
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
        _write(log, lines)
        report = verify(log.directory)
        assert not report.ok, i
        assert report.problems[0].line == i + 1


def test_an_inserted_forged_line_is_detected(log: AuditLog) -> None:
    lines = _lines(log)
    prev = json.loads(lines[11])
    body = {**prev, "seq": 13, "prev": prev["hash"], "why": "forged"}
    del body["hash"]
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    body["hash"] = hashlib.sha256(canonical.encode()).hexdigest()
    forged = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    _write(log, [*lines[:12], forged.encode() + b"\n", *lines[12:]])
    report = verify(log.directory)
    assert not report.ok
    # The forgery itself is well formed; the entry after it no longer fits.
    assert (report.problems[0].kind, report.problems[0].line) == ("seq-mismatch", 14)
    assert any(p.kind == "chain-break" and p.line == 14 for p in report.problems)


def test_truncation_detected_against_a_held_checkpoint(
    log: AuditLog, key: Ed25519PrivateKey
) -> None:
    held = Checkpoint.from_json(log.checkpoint(key, T0 + timedelta(hours=1)).to_json())
    assert held.seq == 30
    assert verify(log.directory, public_key=public_key_hex(key)).attested_seq == 30
    _write(log, _lines(log)[:25])
    log.checkpoints_path.unlink()
    assert verify(log.directory).ok  # the chain alone cannot see a cut tail
    report = verify(log.directory, public_key=public_key_hex(key), checkpoints=[held])
    assert [(p.kind, p.line, p.seq) for p in report.problems] == [("truncated", 25, 30)]


def test_a_rewritten_tail_is_detected_against_a_held_checkpoint(
    log: AuditLog, key: Ed25519PrivateKey
) -> None:
    held = log.checkpoint(key, T0 + timedelta(hours=1))
    # Rewrite from entry 20 on, recomputing every hash: the chain itself is then consistent.
    _write(log, _lines(log)[:19])
    log.checkpoints_path.unlink()
    for i in range(19, 30):
        log.append("release-issued", actor="intruder", at=T0, subject=f"x-{i}", why="cover-up")
    assert verify(log.directory).ok
    report = verify(log.directory, public_key=public_key_hex(key), checkpoints=[held])
    assert [(p.kind, p.line) for p in report.problems] == [("checkpoint-mismatch", 30)]


def test_forged_checkpoints_are_detected(log: AuditLog, key: Ed25519PrivateKey) -> None:
    genuine = log.checkpoint(key, T0 + timedelta(hours=1))
    public = public_key_hex(key)
    assert verify(log.directory, public_key=public).ok
    other = Ed25519PrivateKey.generate()
    AuditLog(log.directory).checkpoint(other, T0 + timedelta(hours=2))
    report = verify(log.directory, public_key=public)
    assert [(p.kind, p.seq) for p in report.problems] == [("checkpoint-signature", 30)]
    assert "another key" in report.problems[0].detail
    log.checkpoints_path.write_text(genuine.to_json() + "\n")
    d = json.loads(genuine.to_json())
    for field, value in [("seq", 29), ("at", "2026-11-28T13:00:01.000000Z"), ("hash", "0" * 64)]:
        tampered = Checkpoint.from_json(json.dumps({**d, field: value}))
        report = verify(log.directory, public_key=public, checkpoints=[tampered])
        assert [p.kind for p in report.problems] == ["checkpoint-signature"], field
    sig = bytearray(bytes.fromhex(genuine.signature))
    sig[5] ^= 1
    bad = Checkpoint.from_json(json.dumps({**d, "signature": sig.hex()}))
    assert not verify(log.directory, public_key=public, checkpoints=[bad]).ok


def test_torn_last_line_detected_and_repair_records_it(log: AuditLog) -> None:
    original = log.log_path.read_bytes()
    torn = b'{"actor":"officer-1","at":"2026-11-28T12:'
    log.log_path.write_bytes(original + torn)
    report = verify(log.directory)
    assert [(p.kind, p.line) for p in report.problems] == [("torn", 31)]
    with pytest.raises(AuditError, match="torn"):
        log.append("reads-queried", actor="a", at=T0, subject="s", why="w")
    entry = log.repair(actor="ops-1", at=T0 + timedelta(days=1), why="crash on 28 Nov")
    assert entry is not None
    assert (entry.seq, entry.event, entry.subject) == (31, "audit-repaired", "log.jsonl:31")
    assert entry.counts == {"bytes_removed": len(torn), "line": 31}
    assert entry.digest == hashlib.sha256(torn).hexdigest()
    assert (log.directory / "removed" / f"{entry.digest}.bin").read_bytes() == torn
    assert log.log_path.read_bytes().startswith(original)
    assert verify(log.directory).ok
    assert log.repair(actor="ops-1", at=T0, why="nothing to do") is None


def test_an_unfinished_last_line_without_newline_is_torn(log: AuditLog) -> None:
    log.log_path.write_bytes(log.log_path.read_bytes()[:-1])
    report = verify(log.directory)
    assert [(p.kind, p.line) for p in report.problems] == [("torn", 30)]


def test_signing_key_file_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit-signing.key"
    public = generate_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(public) == 64
    assert public_key_hex(load_signing_key(path)) == public
    with pytest.raises(AuditError, match="already exists"):
        generate_signing_key(path)
    log = AuditLog(tmp_path / "audit")
    _fill(log, 3)
    assert log.checkpoint(path, T0).key == public
    assert stat.S_IMODE(log.log_path.stat().st_mode) == 0o600
    path.chmod(0o644)
    with pytest.raises(AuditError, match="readable by others"):
        load_signing_key(path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"counts": {"vrm": 1}}, "naming a VRM"),
        ({"counts": {"clear_vrm": 1}}, "naming a VRM"),
        ({"counts": {"VRMs": 2}}, "naming a VRM"),
        ({"subject": "AB12 CDE"}, "looks like a clear VRM"),
        ({"actor": "ab12cde"}, "looks like a clear VRM"),
        ({"event": "Release_Issued"}, "kebab-case"),
        ({"at": datetime(2026, 11, 28, 12, 0)}, "timezone-aware"),
        ({"digest": "ABC"}, "digest"),
        ({"why": ""}, "why"),
        ({"counts": {"reads": 1.5}}, "ints"),
        ({"attrs": {"vrm": "x"}}, "naming a VRM"),
        ({"attrs": {"plate": "AB12CDE"}}, "looks like a clear VRM"),
        ({"attrs": {"kind": 3}}, "strings to strings"),
    ],
)
def test_refused_entries(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    log = AuditLog(tmp_path)
    args: dict[str, object] = {
        "event": "release-issued",
        "actor": "officer-1",
        "at": T0,
        "subject": "AR-1",
        "why": "MD2977",
        **kwargs,
    }
    with pytest.raises(AuditError, match=message):
        log.append(**args)  # type: ignore[arg-type]
    assert not log.log_path.exists() or log.log_path.read_bytes() == b""


def test_pseudonym_counts_are_allowed(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    log.append(
        "hotlist-hit",
        actor="anpr",
        at=T0,
        subject="hit-1",
        why="hotlist",
        counts={"vrm_pseudonyms": 1},
    )
    assert verify(tmp_path).ok


def test_concurrent_appends_are_serialised(tmp_path: Path) -> None:
    def worker(n: int) -> None:
        log = AuditLog(tmp_path)  # each its own instance and descriptors, as separate processes
        for i in range(25):
            log.append("reads-queried", actor=f"w{n}", at=T0, subject=f"q-{i}", why="load")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = verify(tmp_path)
    assert report.ok, report.problems
    assert report.last_seq == 100


def test_empty_and_missing_logs(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    assert verify(tmp_path / "nothing").ok
    with pytest.raises(AuditError, match="empty"):
        AuditLog(tmp_path / "a").checkpoint(key, T0)


def test_attrs_are_stored_chained_and_verified(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    entry = log.append(
        "request-decided",
        actor="dso-1",
        at=T0,
        subject="AR-1",
        why="approved",
        attrs={"kind": "vehicle_history", "outcome": "approved"},
    )
    assert entry.attrs == {"kind": "vehicle_history", "outcome": "approved"}
    assert [e.attrs for e in log.entries()] == [entry.attrs]
    assert verify(tmp_path).ok
    raw = log.log_path.read_bytes()
    log.log_path.write_bytes(raw.replace(b'"approved"}', b'"refused"}', 1))
    report = verify(tmp_path)
    assert not report.ok
    assert report.problems[0].line == 1


# -- bulk appends ---------------------------------------------------------------------------
def test_append_many_writes_what_append_writes(tmp_path: Path) -> None:
    one_by_one = AuditLog(tmp_path / "one")
    _fill(one_by_one, 40)
    bulk = AuditLog(tmp_path / "bulk")
    _fill(bulk, 3)  # a head written by append: append_many chains on from it
    last = bulk.append_many((_draft(i) for i in range(3, 40)), chunk=7)  # chunks end mid-way
    assert bulk.log_path.read_bytes() == one_by_one.log_path.read_bytes()
    assert last == list(one_by_one.entries())[-1]
    assert verify(bulk.directory).ok
    assert bulk.append_many([]) is None


def test_append_many_keeps_earlier_chunks_when_an_entry_is_refused(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    drafts = [_draft(i) for i in range(10)]
    drafts[6] = Draft("release-issued", actor="a", at=T0, subject="AB12CDE", why="w")
    with pytest.raises(AuditError, match="clear VRM"):
        log.append_many(drafts, chunk=4)
    assert [e.seq for e in log.entries()] == [1, 2, 3, 4]  # the first chunk; none of the second
    assert verify(log.directory).ok
    with pytest.raises(ValueError, match="chunk"):
        log.append_many(drafts, chunk=0)


def test_an_attrs_key_named_hash_verifies(tmp_path: Path) -> None:
    # An attrs member `,"hash":"...` comes before the entry's own hash field: the hash must be
    # cut at the field, not at the first lookalike (a false hash-mismatch on an honest log).
    log = AuditLog(tmp_path)
    log.append("x-y", actor="a", at=T0, subject="s", why="w", attrs={"a": "1", "hash": "2"})
    assert verify(tmp_path).ok
    with slow_path_only():
        assert verify(tmp_path).ok


# -- the fast path agrees with the definition -----------------------------------------------
@contextmanager
def slow_path_only() -> Iterator[None]:
    """Within it, verify checks every line the slow way (`_check_line`) only."""
    saved = audit._fast_line
    audit._fast_line = lambda raw: None
    try:
        yield
    finally:
        audit._fast_line = saved


def _slow_values(raw: bytes) -> tuple[int, str, str, str] | None:
    d, digest, _ = audit._check_line(raw)
    if digest is None:
        return None
    assert d is not None
    return d["seq"], d["prev"], d["hash"], digest


def _report_of(directory: Path, **kwargs: object) -> tuple[object, ...]:
    r = verify(directory, **kwargs)  # type: ignore[arg-type]
    return (r.entries, r.last_seq, r.last_hash, r.attested_seq, r.problem_count, r.problems)


def _tampered(lines: list[bytes], how: str) -> list[bytes]:
    forged = json.loads(lines[8])
    forged["why"] = "forged"
    out = list(lines)
    if how == "edit":
        out[12] = out[12].replace(b'"reads":12', b'"reads":13')
    elif how == "edit-hash":
        out[12] = out[12].replace(b'"hash":"', b'"hash":"0', 1)[:-66] + out[12][-65:]
    elif how == "re-space":
        out[5] = out[5].replace(b'","', b'", "', 1)
    elif how == "escape":
        out[5] = out[5].replace(b"\xc2\xa3", b"\\u00a3")  # £ as \\u00a3: same value, not canonical
    elif how == "surrogate":
        out[5] = out[5].replace(b"\xc2\xa3", b"\xed\xa0\x80")  # json.loads takes it; UTF-8 does not
    elif how == "delete":
        del out[9]
    elif how == "insert":
        out.insert(9, json.dumps(forged, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    elif how == "reorder":
        out[3], out[17] = out[17], out[3]
    elif how == "duplicate-key":
        out[4] = out[4].replace(b'"counts":{', b'"counts":{"plates":9,', 1)
    elif how == "unsorted-key":
        out[4] = out[4].replace(b'"plates":0,"reads":4', b'"reads":4,"plates":0')
    elif how == "garbage":
        out[20] = b"not json at all\n"
    elif how == "torn":
        out[-1] = out[-1][:-1]
    elif how == "truncate":
        out = out[:25]
    else:  # pragma: no cover
        raise AssertionError(how)
    return out


TAMPERING = [
    "edit",
    "edit-hash",
    "re-space",
    "escape",
    "surrogate",
    "delete",
    "insert",
    "reorder",
    "duplicate-key",
    "unsorted-key",
    "garbage",
    "torn",
    "truncate",
]


@pytest.mark.parametrize("how", TAMPERING)
def test_fast_and_slow_paths_report_the_same(
    log: AuditLog, key: Ed25519PrivateKey, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    log.checkpoint(key, T0 + timedelta(hours=1))
    tampered = _tampered(_lines(log), how)
    assert tampered != _lines(log)
    _write(log, tampered)
    public = public_key_hex(key)
    fast = _report_of(log.directory, public_key=public)
    with slow_path_only():
        slow = _report_of(log.directory, public_key=public)
    assert fast == slow
    assert fast[4] > 0, how  # and something was found
    monkeypatch.setattr(audit, "_READ_BLOCK", 97)  # lines cut across reads: the same report
    assert _report_of(log.directory, public_key=public) == fast


def test_fast_path_takes_ordinary_lines(log: AuditLog) -> None:
    for raw in _lines(log):
        assert audit._fast_line(raw[:-1]) == _slow_values(raw[:-1]) is not None


def test_every_single_byte_change_is_reported_alike_by_both_paths(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    _fill(log, 4)
    original = log.log_path.read_bytes()
    for pos in range(len(original)):
        data = bytearray(original)
        data[pos] ^= FLIPS[pos % len(FLIPS)]
        log.log_path.write_bytes(bytes(data))
        fast = _report_of(tmp_path)
        with slow_path_only():
            assert _report_of(tmp_path) == fast, pos


# Text that stresses JSON escaping: quotes, backslashes, controls, DEL, non-ASCII, astral.
_TRICKY = st.one_of(
    st.just("hash"),  # as an attrs key: a lookalike of the hash field before it
    st.text(
        alphabet=st.one_of(
            st.sampled_from(list('"\\/\x00\x01\x08\t\n\x0b\x0c\r\x1f\x7f é£€\u2028😀,:{}')),
            st.characters(blacklist_categories=("Cs",)),
        ),
        max_size=12,
    ),
)


_PLAIN = st.text(alphabet="abc_é😀 ,:-0", max_size=6)


@st.composite
def _lines_and_mutations(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    body = {
        # Mostly well-formed, so that the fast path has lines to accept and then to mutate.
        "seq": draw(st.one_of(st.integers(-3, 10**6), st.integers(-(10**20), 10**20))),
        "at": draw(st.sampled_from(["2026-11-28T12:00:00.000000Z"] * 5 + ["2026-1-28T12:00Z"])),
        "actor": draw(_TRICKY),
        "event": draw(st.sampled_from(["release-issued", "a", "x-1-y", "Bad_Event"])),
        "subject": draw(_TRICKY),
        "why": draw(_TRICKY),
        "counts": draw(
            st.dictionaries(
                _TRICKY, st.integers(-(10**19), 10**19) | st.integers(-9, 99), max_size=4
            )
        ),
        # mostly plain keys: keys with escapes always take the slow path
        "attrs": draw(st.dictionaries(st.one_of(_PLAIN, _TRICKY), _TRICKY, max_size=4)),
        "digest": draw(st.one_of(st.none(), _TRICKY, st.just("ab" * 32))),
        "prev": draw(st.sampled_from(["cd" * 32] * 4 + ["CD" * 32, "x"])),
    }
    line = audit._line_for(body)[0][:-1]
    mutations = []
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(line) - 1))
        byte = draw(
            st.sampled_from([b" ", b'"', b"\\", b"\x00", b"\x80", b"\xc3", b",", b"0", b"-"])
        )
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete"]))
        if kind == "flip":
            mutated = line[:pos] + bytes([line[pos] ^ FLIPS[pos % len(FLIPS)]]) + line[pos + 1 :]
        elif kind == "set":
            mutated = line[:pos] + byte + line[pos + 1 :]
        elif kind == "insert":
            mutated = line[:pos] + byte + line[pos:]
        else:
            mutated = line[:pos] + line[pos + 1 :]
        mutations.append(mutated)
    return line, mutations


@settings(max_examples=400, deadline=None)
@given(_lines_and_mutations())
def test_fast_path_accepts_only_what_the_slow_path_accepts(
    case: tuple[bytes, list[bytes]],
) -> None:
    line, mutations = case
    for raw in [line, *mutations]:
        fast = audit._fast_line(raw)
        if fast is not None:  # the fast path may decline anything, but never disagree
            assert fast == _slow_values(raw), raw


@pytest.mark.parametrize(
    ("canonical", "other"),
    [
        (b'"reads":0', b'"reads":-0'),  # the same value, written otherwise: not canonical
        (b'"reads":0', b'"reads":00'),
        (b'"plates":3', b'"plates":03'),
        (b"MD2977 s.2", b"MD2977 s\\u002e2"),
        (b"MD2977 s.2", b"MD2977 s\\u002E2"),
        (b"MD2977 s.2", b"MD2977\\u0020s.2"),
        (b"\xc2\xa3", b"\\u00a3"),
        (b"officer-1", b"officer\\/1"),
        (b'"why":"', b'"why":"\\u0008'),  # a control with a short form, in the long one
        (b'"why":"', b'"why":"\\u000A'),
        (b'"why":"', b'"why":"\\U0008'),
        (b'"why":"', b'"why":"\\x'),
        (b'"why":"', b'"why":"\\'),
        (b'"why":"', b'"why":"\x01'),  # a raw control character
        (b'"why":"', b'"why":"\xc3'),  # not UTF-8
        (b'"why":"', b'"why":"\xed\xa0\x80'),  # an encoded surrogate
        (b'"counts":{', b'"counts":{"plates":1,'),  # a key twice
        (b'"plates":1,"reads":1', b'"reads":1,"plates":1'),  # keys out of order
        (b'"force":"f1","kind"', b'"kind":"vehicle_history","force":"f1","kind"'),
        (b'"force":"f1","kind"', b'"kind"'),  # still fine: one member fewer, re-hashed below
        (b'"digest":null', b'"digest":nul'),
        (b'"digest":null', b'"digest":true'),
        (b'"seq":4', b'"seq":4.0'),
        (b'"seq":4', b'"seq":true'),
        (b'"reads":1', b'"reads":1e0'),
    ],
)
def test_fast_path_never_accepts_what_the_slow_path_refuses(
    log: AuditLog, canonical: bytes, other: bytes
) -> None:
    line = next(raw[:-1] for raw in _lines(log) if canonical in raw)
    edited = line.replace(canonical, other, 1)
    d, digest, _ = audit._check_line(edited)
    if digest is not None:  # still canonical: re-hash it, so only the form is in question
        assert d is not None
        body = {k: v for k, v in d.items() if k != "hash"}
        edited = audit._line_for(body)[0][:-1]
    assert audit._fast_line(edited) == _slow_values(edited)


def test_fast_path_is_not_fooled_by_keys_that_look_like_values(tmp_path: Path) -> None:
    # Keys out of order, the line re-hashed so only the canonical check can object. Looking
    # for `"...":` alone would read these keys as "", ",", ... (in order): find pairs instead.
    log = AuditLog(tmp_path)
    log.append("x-y", actor="a", at=T0, subject="s", why="w", attrs={"": ":", ":": "a", ",,": ":"})
    line = log.log_path.read_bytes()[:-1]
    assert b'"attrs":{"":":",",,":":",":":"a"}' in line
    line = line.replace(b'",,":":",":":"a"', b'":":"a",",,":":"')
    cut = line.rindex(b',"hash":"')
    body = line[:cut] + line[cut + 75 :]
    line = line[: cut + 9] + hashlib.sha256(body).hexdigest().encode() + line[cut + 73 :]
    assert audit._fast_line(line) is None
    log.log_path.write_bytes(line + b"\n")
    assert [(p.kind, p.line) for p in verify(tmp_path).problems] == [("bad-entry", 1)]
