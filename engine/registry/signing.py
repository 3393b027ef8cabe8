"""Signed versions: an HMAC-SHA256 of the manifest under a key only the trainer and the servers
hold. The manifest lists the sha256 of every file, so its signature covers the whole version:
rewriting a model file together with its recorded hash no longer passes.

The key comes from ``BENCHAI_SIGNING_KEY`` or the file named by ``BENCHAI_SIGNING_KEY_FILE``.
Without one, versions are written unsigned and read without a signature check, and every
surface says so (``unsigned_warning``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

from engine.errors import IntegrityError

KEY_ENV, KEY_FILE_ENV = "BENCHAI_SIGNING_KEY", "BENCHAI_SIGNING_KEY_FILE"
FIELD = "signature"


def signing_key() -> bytes | None:
    """The configured key, or None (unsigned mode). An unreadable or empty key file is an error,
    not a silent fallback to unsigned."""
    value = os.environ.get(KEY_ENV)
    if value:
        return value.encode()
    path = os.environ.get(KEY_FILE_ENV)
    if not path:
        return None
    try:
        key = Path(path).read_bytes().strip()
    except OSError as exc:
        raise IntegrityError(f"{KEY_FILE_ENV}={path}: cannot read the signing key ({exc.strerror}).") from None
    if not key:
        raise IntegrityError(f"{KEY_FILE_ENV}={path}: the signing key file is empty.")
    return key


def unsigned_warning() -> str | None:
    """The sentence every surface shows when versions are neither signed nor checked."""
    if os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV):
        return None
    return f"Model versions are not signed: set {KEY_ENV} (or {KEY_FILE_ENV}) so that a forged version is refused."


def sign(manifest: dict, key: bytes) -> dict:
    """The manifest with its signature added."""
    return {**manifest, FIELD: _digest(manifest, key)}


def check(manifest: dict, key: bytes | None, version: str) -> None:
    """Refuse a manifest whose signature is absent or wrong under ``key`` (no key: no check)."""
    if key is None:
        return
    given = manifest.get(FIELD)
    if not isinstance(given, str):
        raise IntegrityError(f"Model version '{version}' is not signed, and this server requires signed versions; the version is refused.")
    if not hmac.compare_digest(given, _digest(manifest, key)):
        raise IntegrityError(f"Model version '{version}': its signature does not match (forged, changed, or signed with another key); the version is refused.")


def _digest(manifest: dict, key: bytes) -> str:
    body = json.dumps({k: v for k, v in manifest.items() if k != FIELD}, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
