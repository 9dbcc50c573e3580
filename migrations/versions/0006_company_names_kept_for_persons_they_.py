"""company names kept for persons they could not be linked for

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 18:45:31.047714
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crmsync_unlinked_company",
        sa.Column("person_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_crmsync_unlinked_company")),
    )


def downgrade() -> None:
    op.drop_table("crmsync_unlinked_company")
