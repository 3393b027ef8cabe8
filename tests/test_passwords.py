"""The admin password: salted and slow to guess, and guesses throttled."""

from __future__ import annotations

import pytest

from engine.errors import DataError
from engine.passwords import FREE_ATTEMPTS, Throttle, hash_password, verify_password


def test_the_same_password_hashes_differently_and_verifies():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second and first.startswith("scrypt$")  # a fresh salt each time
    assert verify_password("correct horse", first) and not verify_password("wrong", first)


def test_a_stored_value_that_is_not_a_hash_is_refused():
    with pytest.raises(DataError, match="hash-password"):
        verify_password("x", "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8")


def test_wrong_guesses_are_throttled_and_a_right_one_resets():
    now = [0.0]
    throttle = Throttle(clock=lambda: now[0])
    for _ in range(FREE_ATTEMPTS - 1):
        throttle.record(False)
    assert throttle.wait_s() == 0
    throttle.record(False)
    assert throttle.wait_s() == 1.0
    throttle.record(False)
    assert throttle.wait_s() == 2.0  # doubling
    now[0] += 2.0
    assert throttle.wait_s() == 0
    throttle.record(True)
    throttle.record(False)
    assert throttle.wait_s() == 0  # reset by the right password
