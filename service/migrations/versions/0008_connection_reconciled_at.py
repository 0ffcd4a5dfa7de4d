"""When each platform connection was last read in full (a backfill or a reconcile sync), and
since when one is owed (an edit waits for it).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add connections.reconciled_at and owed_since (webhook events do not set the first; the
    scheduler reads both)."""
    with op.batch_alter_table("connections") as table:
        table.add_column(sa.Column("reconciled_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("owed_since", sa.DateTime(timezone=True), nullable=True))
        table.create_index("ix_connections_provider_reconciled", ["provider", "reconciled_at"])


def downgrade() -> None:
    with op.batch_alter_table("connections") as table:
        table.drop_index("ix_connections_provider_reconciled")
        table.drop_column("owed_since")
        table.drop_column("reconciled_at")
