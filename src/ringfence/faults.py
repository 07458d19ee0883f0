"""Named crash points, so the crash-recovery tests can kill -9 a real process mid-write.

Inert unless RINGFENCE_CRASH_AT names the point: then the process sends itself SIGKILL there,
exactly as an operator's kill -9 or a power cut would stop it, with no cleanup at all.
"""

from __future__ import annotations

import os
import signal

CRASH_POINTS = (
    "ingest-started",
    "ingest-staged",
    "ingest-mid-publish",
    "ingest-before-commit",
    "rewrite-published",
    "release-committed",
    "release-pending-written",
)


def crash_point(name: str) -> None:
    if os.environ.get("RINGFENCE_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
