"""mappings, details templates and exclusions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 18:34:25.821562
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crmsync_details_template",
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entity", name=op.f("pk_crmsync_details_template")),
    )
    op.create_table(
        "crmsync_exclusion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("operator", sa.String(length=16), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crmsync_exclusion")),
    )
    with op.batch_alter_table("crmsync_exclusion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crmsync_exclusion_entity"), ["entity"], unique=False)

    op.create_table(
        "crmsync_mapping",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_crmsync_mapping")),
    )


def downgrade() -> None:
    op.drop_table("crmsync_mapping")
    with op.batch_alter_table("crmsync_exclusion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crmsync_exclusion_entity"))

    op.drop_table("crmsync_exclusion")
    op.drop_table("crmsync_details_template")
