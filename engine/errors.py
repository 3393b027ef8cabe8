"""Every error the engine raises on purpose.

Errors caused by the user's input subclass ``ValueError`` and carry a message that names the
field or file, what was given and what was expected, so the CLI, the app and the HTTP API can
show it as-is (no traceback).
"""

from __future__ import annotations


class BenchError(Exception):
    """Base class of every error the engine raises on purpose."""


class SchemaError(BenchError, ValueError):
    """The schema file is malformed: names the key and what was expected."""


class DataError(BenchError, ValueError):
    """A dataset file cannot be used: names the file or column and what was expected."""


class ProfileError(BenchError, ValueError):
    """A profile is invalid. ``problems`` lists every field-level problem at once."""

    def __init__(self, problems: list[dict]):
        self.problems = problems
        lines = [f"{p['field']}: {p['problem']}" for p in problems]
        super().__init__(
            f"The profile has {len(problems)} problem(s): " + "; ".join(lines)
        )


class ModelNotFoundError(BenchError, LookupError):
    """No such model version or alias, or no trained model yet."""


class IntegrityError(BenchError):
    """A stored model version failed verification (tampered, missing or partial file)."""


class TrainingBusyError(BenchError):
    """Another training run holds the lock for this HOME."""


class AlertNotFoundError(BenchError, LookupError):
    """No alert with the given id."""


class AlertStateError(BenchError):
    """An alert cannot make the asked move from its state (acknowledging a resolved alert)."""
