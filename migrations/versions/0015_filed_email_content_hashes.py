"""filed email content hashes

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Emails filed before this table existed have no row: a filing under their Message-ID
    # compares with the communication's stored body and attachments instead.
    op.create_table(
        "crmsync_filed_email_content",
        sa.Column("communication_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("attachments_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("communication_id", name=op.f("pk_crmsync_filed_email_content")),
    )


def downgrade() -> None:
    op.drop_table("crmsync_filed_email_content")
