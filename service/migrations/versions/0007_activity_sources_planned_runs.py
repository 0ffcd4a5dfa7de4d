"""Where each activity came from (several sources, one activity) and planned runs.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def _runner_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["runner_id"], ["runners.id"], name=f"fk_{table}_runner_id_runners", ondelete="CASCADE"
    )


def upgrade() -> None:
    """Add activity_sources (one row per stored activity to start with) and planned_runs."""
    op.create_table(
        "activity_sources",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("runner_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(128), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _runner_fk("activity_sources"),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name="fk_activity_sources_activity_id_activities",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_activity_sources"),
        sa.UniqueConstraint("runner_id", "source", "source_id", name="uq_activity_sources_source"),
    )
    op.create_index("ix_activity_sources_activity", "activity_sources", ["activity_id"])
    op.execute(
        "INSERT INTO activity_sources (runner_id, activity_id, source, source_id, created_at) "
        "SELECT runner_id, id, source, source_id, created_at FROM activities"
    )
    op.create_table(
        "planned_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("runner_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(128), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("start_local", sa.String(5), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        _runner_fk("planned_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_planned_runs"),
        sa.UniqueConstraint("runner_id", "source", "source_id", name="uq_planned_runs_source"),
    )
    op.create_index("ix_planned_runs_runner_day", "planned_runs", ["runner_id", "day"])


def downgrade() -> None:
    """Drop both tables."""
    op.drop_index("ix_planned_runs_runner_day", table_name="planned_runs")
    op.drop_table("planned_runs")
    op.drop_index("ix_activity_sources_activity", table_name="activity_sources")
    op.drop_table("activity_sources")
