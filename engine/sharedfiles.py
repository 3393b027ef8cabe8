"""Small JSON files that several processes on one HOME change: ``models/aliases.json`` (with its
audit log) and ``settings.json``.

Two servers, or a server and the dashboard, share one HOME. A change reads such a file, edits
it and writes it back; ``locked`` makes those steps take turns across processes and threads (an
``flock`` on a sibling lock file, released by the kernel even when a process dies mid-change),
so no change is lost to a concurrent one. ``write_atomically`` replaces the file in one rename,
so a reader (which takes no lock) sees the old content or the new, never half of it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX (Windows): one process per HOME is the supported setup there
    fcntl = None


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``path`` (the file ``path`` plus ``.lock``) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Each call opens its own descriptor: flock then also serializes threads of one process.
    with open(path.with_name(path.name + ".lock"), "a+b") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` through a uniquely named temporary file and one rename."""
    tmp = path.with_name(f".{path.name}-{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
