"""Connections to outside services, the events written to connected calendars, OAuth states.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def _runner_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["runner_id"], ["runners.id"], name=f"fk_{table}_runner_id_runners", ondelete="CASCADE"
    )


def upgrade() -> None:
    """Add connections, remote_events and oauth_states."""
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("runner_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("grant", sa.LargeBinary(), nullable=True),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("account", sa.String(254), nullable=False),
        sa.Column("calendar_id", sa.String(1024), nullable=True),
        sa.Column("sync_token", sa.Text(), nullable=True),
        sa.Column("reminder_minutes", sa.Integer(), nullable=False),
        sa.Column("last_sync_at", UTC_DATETIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _runner_fk("connections"),
        sa.PrimaryKeyConstraint("id", name="pk_connections"),
        sa.UniqueConstraint("runner_id", "provider", name="uq_connections_provider"),
    )
    op.create_table(
        "remote_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(1024), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("start_utc", UTC_DATETIME, nullable=False),
        sa.Column("end_utc", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name="fk_remote_events_connection_id_connections",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_remote_events"),
        sa.UniqueConstraint("connection_id", "uid", name="uq_remote_events_uid"),
    )
    op.create_index(
        "ix_remote_events_connection_event", "remote_events", ["connection_id", "event_id"]
    )
    op.create_table(
        "oauth_states",
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("runner_id", sa.Integer(), nullable=True),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _runner_fk("oauth_states"),
        sa.PrimaryKeyConstraint("state", name="pk_oauth_states"),
    )


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("oauth_states")
    op.drop_index("ix_remote_events_connection_event", table_name="remote_events")
    op.drop_table("remote_events")
    op.drop_table("connections")
