"""The dashboard's admin password: a salted, slow hash (scrypt, from the standard library) and
a throttle on wrong guesses. ``benchai hash-password`` prints the value to configure.

Stored form: ``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time

from engine.errors import DataError

N, R, P = 2**14, 8, 1  # ~50 ms and 16 MiB per guess: cheap once, expensive by the million
FREE_ATTEMPTS = 5  # wrong guesses before the throttle starts
MAX_WAIT_S = 300.0


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The stored form of ``password`` (a fresh random salt unless one is given)."""
    if not password:
        raise DataError("password: expected a non-empty password.")
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Does ``password`` match the stored form? DataError when the stored form is not one."""
    try:
        scheme, n, r, p, salt, digest = stored.strip().split("$")
        if scheme != "scrypt":
            raise ValueError
        given = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(bytes.fromhex(digest)))
    except ValueError:
        raise DataError("the configured admin password hash is not one `benchai hash-password` printed (scrypt$n$r$p$salt$hash).") from None
    return hmac.compare_digest(given, bytes.fromhex(digest))


class Throttle:
    """After FREE_ATTEMPTS wrong guesses, each further guess waits twice as long as the last
    (1 s, 2 s, 4 s, ... up to MAX_WAIT_S); a right one resets it. One per server process."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._failures = 0
        self._next_allowed = 0.0
        self._lock = threading.Lock()

    def wait_s(self) -> float:
        """Seconds until the next guess is allowed (0: now)."""
        with self._lock:
            return max(0.0, self._next_allowed - self._clock())

    def record(self, ok: bool) -> None:
        with self._lock:
            if ok:
                self._failures, self._next_allowed = 0, 0.0
                return
            self._failures += 1
            if self._failures >= FREE_ATTEMPTS:
                self._next_allowed = self._clock() + min(MAX_WAIT_S, 2.0 ** (self._failures - FREE_ATTEMPTS))
