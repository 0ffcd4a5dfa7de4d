"""Private feeds: token hashes, cached renders, published session revisions, plan change time.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def _runner_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["runner_id"], ["runners.id"], name=f"fk_{table}_runner_id_runners", ondelete="CASCADE"
    )


def upgrade() -> None:
    """Add runners.plan_changed_at and the feeds, feed_renders and published_sessions tables."""
    with op.batch_alter_table("runners") as batch:
        batch.add_column(
            sa.Column("plan_changed_at", UTC_DATETIME, nullable=False, server_default=sa.func.now())
        )
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("runner_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("rotated_at", UTC_DATETIME, nullable=False),
        _runner_fk("feeds"),
        sa.PrimaryKeyConstraint("id", name="pk_feeds"),
        sa.UniqueConstraint("runner_id", name="uq_feeds_runner_id"),
        sa.UniqueConstraint("token_hash", name="uq_feeds_token_hash"),
    )
    op.create_table(
        "feed_renders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("variant", sa.String(8), nullable=False),
        sa.Column("cache_key", sa.String(255), nullable=False),
        sa.Column("etag", sa.String(80), nullable=False),
        sa.Column("last_modified", UTC_DATETIME, nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("body_gz", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["feeds.id"], name="fk_feed_renders_feed_id_feeds", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_feed_renders"),
        sa.UniqueConstraint("feed_id", "variant", name="uq_feed_renders_variant"),
    )
    op.create_table(
        "published_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("runner_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("revised_at", UTC_DATETIME, nullable=False),
        _runner_fk("published_sessions"),
        sa.PrimaryKeyConstraint("id", name="pk_published_sessions"),
        sa.UniqueConstraint("runner_id", "uid", name="uq_published_sessions_uid"),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("published_sessions")
    op.drop_table("feed_renders")
    op.drop_table("feeds")
    with op.batch_alter_table("runners") as batch:
        batch.drop_column("plan_changed_at")
