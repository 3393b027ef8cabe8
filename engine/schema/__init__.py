"""The dataset schema (model + parsing), the one table reader and the one validation of
profiles and tables."""

from engine.schema.model import Entity, Feature, Schema, Target, list_values
from engine.schema.parsing import load_schema, parse_schema
from engine.schema.tables import read_table
from engine.schema.validation import (
    TRAINING_BAD_ROW_SHARE,
    as_times,
    check_frame,
    check_training_columns,
    missing_features,
    target_labels,
    validate_profile,
)

__all__ = [
    "TRAINING_BAD_ROW_SHARE",
    "check_training_columns","Entity", "Feature", "Schema", "Target", "as_times", "check_frame", "list_values", "load_schema", "missing_features", "parse_schema", "read_table", "target_labels", "validate_profile"]
