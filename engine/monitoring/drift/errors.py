"""Errors of the drift package.

They subclass ``ValueError`` because a bad test name, threshold or column choice is the
caller's input at fault. ``engine/errors.py`` is the project's home for errors; these can move
there unchanged (the names are already unique).
"""

from __future__ import annotations

from engine.errors import BenchError


class DriftConfigError(BenchError, ValueError):
    """A drift option (test, threshold, column) is not usable: says what was given and expected."""


class UnknownDriftTest(DriftConfigError):
    """No drift test is registered under this name; the message lists the valid names."""
