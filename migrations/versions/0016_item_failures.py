"""item failures: items a run could not read, retried with back-off, then held

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crmsync_item_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("crm_id", sa.String(length=64), nullable=False),
        sa.Column("remote_id", sa.String(length=512), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["crmsync_sync_user.user_id"],
            name=op.f("fk_crmsync_item_failure_user_id_crmsync_sync_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crmsync_item_failure")),
        sa.UniqueConstraint(
            "user_id",
            "entity",
            "crm_id",
            "remote_id",
            name=op.f("uq_crmsync_item_failure_user_id_entity_crm_id_remote_id"),
        ),
    )
    with op.batch_alter_table("crmsync_item_failure", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crmsync_item_failure_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("crmsync_item_failure")
