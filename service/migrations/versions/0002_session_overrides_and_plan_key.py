"""Session overrides (move, skip, lock) and an opaque per-runner key for session uids.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add runners.plan_key (filled for existing runners) and the session_overrides table."""
    with op.batch_alter_table("runners") as batch:
        batch.add_column(sa.Column("plan_key", sa.String(32), nullable=True))
    runners = sa.table("runners", sa.column("id", sa.Integer), sa.column("plan_key", sa.String))
    connection = op.get_bind()
    for (runner_id,) in connection.execute(sa.select(runners.c.id)).all():
        connection.execute(
            runners.update().where(runners.c.id == runner_id).values(plan_key=secrets.token_hex(16))
        )
    with op.batch_alter_table("runners") as batch:
        batch.alter_column("plan_key", existing_type=sa.String(32), nullable=False)
    op.create_table(
        "session_overrides",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("runner_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(64), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("start_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["runner_id"],
            ["runners.id"],
            name="fk_session_overrides_runner_id_runners",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_session_overrides"),
        sa.UniqueConstraint("runner_id", "uid", name="uq_session_overrides_uid"),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("session_overrides")
    with op.batch_alter_table("runners") as batch:
        batch.drop_column("plan_key")
