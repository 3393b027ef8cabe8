"""The dataset schema, the one table reader and the one validation of profiles and tables."""

from engine.schema.model import Feature, Schema, Target, load_schema, parse_schema
from engine.schema.tables import read_table
from engine.schema.validation import check_frame, target_labels, validate_profile

__all__ = ["Feature", "Schema", "Target", "check_frame", "load_schema", "parse_schema", "read_table", "target_labels", "validate_profile"]
