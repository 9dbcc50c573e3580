"""skipped items, alerts, case-insensitive lookup indexes

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-25 19:05:43.912377
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _crm_tables_here() -> bool:
    # False when the CRM lives in a database of its own (see migrations/env.py).
    return bool(context.config.attributes.get("crm_tables", True))


def upgrade() -> None:
    if _crm_tables_here():
        op.create_index(
            "ix_email_lower_emailaddress", "email", [sa.text("lower(emai_emailaddress)")]
        )
        op.create_index(
            "ix_person_lower_lastname", "person", [sa.text("lower(coalesce(pers_lastname, ''))")]
        )
    op.create_table(
        "crmsync_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["crmsync_sync_user.user_id"],
            name=op.f("fk_crmsync_alert_user_id_crmsync_sync_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crmsync_alert")),
    )
    with op.batch_alter_table("crmsync_alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crmsync_alert_user_id"), ["user_id"], unique=False)

    op.create_table(
        "crmsync_skipped_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("crm_id", sa.String(length=64), nullable=False),
        sa.Column("remote_id", sa.String(length=512), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["crmsync_sync_user.user_id"],
            name=op.f("fk_crmsync_skipped_item_user_id_crmsync_sync_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crmsync_skipped_item")),
        sa.UniqueConstraint(
            "user_id",
            "entity",
            "crm_id",
            "remote_id",
            name=op.f("uq_crmsync_skipped_item_user_id_entity_crm_id_remote_id"),
        ),
    )
    with op.batch_alter_table("crmsync_skipped_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crmsync_skipped_item_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    if _crm_tables_here():
        op.drop_index("ix_person_lower_lastname", table_name="person")
        op.drop_index("ix_email_lower_emailaddress", table_name="email")
    with op.batch_alter_table("crmsync_skipped_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crmsync_skipped_item_user_id"))

    op.drop_table("crmsync_skipped_item")
    with op.batch_alter_table("crmsync_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crmsync_alert_user_id"))

    op.drop_table("crmsync_alert")
