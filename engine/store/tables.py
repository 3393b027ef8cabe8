"""The store's tables (SQLAlchemy Core metadata). Schema changes go through ``migrations``."""

from __future__ import annotations

import sqlalchemy as sa

from engine.store.database import UTCDateTime

metadata = sa.MetaData()
# SQLite only auto-assigns ids to an INTEGER PRIMARY KEY (BIGINT would not alias the rowid).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON(none_as_null=True)

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)

predictions = sa.Table(
    "predictions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("ts", UTCDateTime, nullable=False),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("alias", sa.String(16), nullable=False),
    sa.Column("company_id", sa.String(128)),
    sa.Column("profile", Json),
    sa.Column("outputs", Json),
    sa.Column("probability", sa.Float),
    sa.Column("segment", sa.String(128)),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("request_id", sa.String(64)),
    sa.Index("ix_predictions_ts", "ts"),
    sa.Index("ix_predictions_version_ts", "model_version", "ts"),
    # Feedback by company matches the latest prediction at or before a time: this index serves it.
    sa.Index("ix_predictions_company_ts", "company_id", "ts"),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("prediction_id", BigId, sa.ForeignKey("predictions.id", ondelete="CASCADE")),
    sa.Column("company_id", sa.String(128)),
    sa.Column("outcome", sa.SmallInteger, nullable=False),
    sa.Column("ts", UTCDateTime, nullable=False),
    sa.CheckConstraint("outcome IN (0, 1)", name="ck_feedback_outcome"),
    sa.CheckConstraint(
        "prediction_id IS NOT NULL OR company_id IS NOT NULL", name="ck_feedback_target"
    ),
    # Added by migration step 3: set when a correction (a later, different outcome for the same
    # identity) replaced this row. Superseded rows are kept as history and label nothing.
    sa.Column("superseded_at", UTCDateTime),
    sa.Index("ix_feedback_prediction", "prediction_id"),
    sa.Index("ix_feedback_company_ts", "company_id", "ts"),
    sa.Index("ix_feedback_ts", "ts"),
)
FEEDBACK_CURRENT = feedback.c.superseded_at.is_(None)
# One current row per identity (``feedback`` module): a prediction id, or else (entity, time).
# The database itself refuses a second one, so feedback sent twice is recorded once.
FEEDBACK_IDENTITIES = (
    sa.Index(
        "uq_feedback_prediction",
        feedback.c.prediction_id,
        unique=True,
        sqlite_where=FEEDBACK_CURRENT,
        postgresql_where=FEEDBACK_CURRENT,
    ),
    sa.Index(
        "uq_feedback_company_ts",
        feedback.c.company_id,
        feedback.c.ts,
        unique=True,
        sqlite_where=sa.and_(feedback.c.prediction_id.is_(None), FEEDBACK_CURRENT),
        postgresql_where=sa.and_(feedback.c.prediction_id.is_(None), FEEDBACK_CURRENT),
    ),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("details", Json),
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),
    sa.Column("count", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_seen", UTCDateTime, nullable=False),
    sa.Column("resolved_at", UTCDateTime),
    # Added by migration step 2. An acknowledged alert keeps status 'open' (so it stays
    # deduplicated by the index below); its lifecycle state is derived in ``alerts.state_of``.
    sa.Column("acknowledged_at", UTCDateTime),
    sa.Column("acknowledged_by", sa.String(128)),
    sa.Column("resolved_by", sa.String(128)),
    sa.CheckConstraint("status IN ('open', 'resolved')", name="ck_alerts_status"),
    sa.Index("ix_alerts_status", "status"),
)
# A literal (not a bound parameter): ON CONFLICT must match the partial index predicate as text.
ALERT_OPEN = alerts.c.status == sa.literal_column("'open'")
# At most one OPEN alert per (kind, key): the database itself deduplicates concurrent raises.
sa.Index(
    "uq_alerts_open_kind_key",
    alerts.c.kind,
    alerts.c.key,
    unique=True,
    sqlite_where=ALERT_OPEN,
    postgresql_where=ALERT_OPEN,
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("params", Json),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("stage", sa.String(64)),
    sa.Column("progress", sa.Float, nullable=False, server_default="0"),
    sa.Column("message", sa.Text),
    sa.Column("version", sa.String(64)),
    sa.Column("result", Json),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime),
    sa.Column("finished_at", UTCDateTime),
    sa.Index("ix_jobs_created", "created_at"),
)
