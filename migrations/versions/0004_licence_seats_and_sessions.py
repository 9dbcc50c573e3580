"""licence seats and sessions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 18:36:28.088296
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crmsync_license_config",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seats_total", sa.Integer(), nullable=False),
        sa.Column("plugin_timeout_minutes", sa.Integer(), nullable=False),
        sa.Column("browser_timeout_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_crmsync_license_config_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crmsync_license_config")),
    )
    op.create_table(
        "crmsync_license_seat",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("allocated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_crmsync_license_seat")),
    )
    op.create_table(
        "crmsync_license_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crmsync_license_session")),
        sa.UniqueConstraint("token", name=op.f("uq_crmsync_license_session_token")),
    )
    with op.batch_alter_table("crmsync_license_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crmsync_license_session_ended_at"), ["ended_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_crmsync_license_session_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_crmsync_license_session_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("crmsync_license_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crmsync_license_session_user_id"))
        batch_op.drop_index(batch_op.f("ix_crmsync_license_session_expires_at"))
        batch_op.drop_index(batch_op.f("ix_crmsync_license_session_ended_at"))

    op.drop_table("crmsync_license_session")
    op.drop_table("crmsync_license_seat")
    op.drop_table("crmsync_license_config")
