"""sync links, folder states and conflicts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 18:31:19.867081
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crmsync_folder_state",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("sync_state", sa.Text(), nullable=True),
        sa.Column("crm_watermark", sa.DateTime(), nullable=True),
        sa.Column("deletions_confirmed", sa.Boolean(), nullable=False),
        sa.Column("last_full_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["crmsync_sync_user.user_id"],
            name=op.f("fk_crmsync_folder_state_user_id_crmsync_sync_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "entity", name=op.f("pk_crmsync_folder_state")),
    )
    op.create_table(
        "crmsync_sync_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("crm_id", sa.String(length=64), nullable=False),
        sa.Column("remote_id", sa.String(length=512), nullable=False),
        sa.Column("change_key", sa.String(length=512), nullable=True),
        sa.Column("base", sa.JSON(), nullable=False),
        sa.Column("pending", sa.JSON(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("crm_hash", sa.String(length=64), nullable=True),
        sa.Column("remote_hash", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["crmsync_sync_user.user_id"],
            name=op.f("fk_crmsync_sync_link_user_id_crmsync_sync_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crmsync_sync_link")),
        sa.UniqueConstraint(
            "user_id", "entity", "crm_id", name=op.f("uq_crmsync_sync_link_user_id_entity_crm_id")
        ),
        sa.UniqueConstraint(
            "user_id",
            "entity",
            "remote_id",
            name=op.f("uq_crmsync_sync_link_user_id_entity_remote_id"),
        ),
    )
    op.create_table(
        "crmsync_conflict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("crm_id", sa.String(length=64), nullable=False),
        sa.Column("remote_id", sa.String(length=512), nullable=True),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("crm_value", sa.JSON(), nullable=False),
        sa.Column("outlook_value", sa.JSON(), nullable=False),
        sa.Column("base_value", sa.JSON(), nullable=False),
        sa.Column("applied", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["crmsync_sync_run.id"],
            name=op.f("fk_crmsync_conflict_run_id_crmsync_sync_run"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["crmsync_sync_user.user_id"],
            name=op.f("fk_crmsync_conflict_user_id_crmsync_sync_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crmsync_conflict")),
    )
    with op.batch_alter_table("crmsync_conflict", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crmsync_conflict_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_crmsync_conflict_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_crmsync_conflict_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("crmsync_conflict", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crmsync_conflict_user_id"))
        batch_op.drop_index(batch_op.f("ix_crmsync_conflict_status"))
        batch_op.drop_index(batch_op.f("ix_crmsync_conflict_run_id"))

    op.drop_table("crmsync_conflict")
    op.drop_table("crmsync_sync_link")
    op.drop_table("crmsync_folder_state")
