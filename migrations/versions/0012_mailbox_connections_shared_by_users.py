"""mailbox connections shared by users

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 12:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crmsync_connection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("connector", sa.String(length=16), nullable=False),
        sa.Column("ews_url", sa.String(length=2048), nullable=True),
        sa.Column("auth_type", sa.String(length=16), nullable=True),
        sa.Column("username", sa.String(length=320), nullable=True),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("tenant", sa.String(length=255), nullable=True),
        sa.Column("client_id", sa.String(length=255), nullable=True),
        sa.Column("certificate_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("authority_url", sa.String(length=2048), nullable=True),
        sa.Column("audience", sa.String(length=2048), nullable=True),
        sa.Column("impersonation", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crmsync_connection")),
        sa.UniqueConstraint("name", name=op.f("uq_crmsync_connection_name")),
    )
    with op.batch_alter_table("crmsync_sync_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("connection_id", sa.Integer(), nullable=True))
        batch_op.alter_column("ews_url", existing_type=sa.String(length=2048), nullable=True)
        batch_op.alter_column("auth_type", existing_type=sa.String(length=16), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_crmsync_sync_user_connection_id"), ["connection_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_crmsync_sync_user_connection_id_crmsync_connection"),
            "crmsync_connection",
            ["connection_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_check_constraint(
            "endpoint_known",
            "connection_id IS NOT NULL OR (ews_url IS NOT NULL AND auth_type IS NOT NULL)",
        )


def downgrade() -> None:
    # Users of a connection have no endpoint of their own; they cannot be kept.
    op.execute("DELETE FROM crmsync_sync_user WHERE connection_id IS NOT NULL")
    with op.batch_alter_table("crmsync_sync_user", schema=None) as batch_op:
        batch_op.drop_constraint("endpoint_known", type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_crmsync_sync_user_connection_id_crmsync_connection"),
            type_="foreignkey",
        )
        batch_op.drop_index(batch_op.f("ix_crmsync_sync_user_connection_id"))
        batch_op.alter_column("auth_type", existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column("ews_url", existing_type=sa.String(length=2048), nullable=False)
        batch_op.drop_column("connection_id")
    op.drop_table("crmsync_connection")
