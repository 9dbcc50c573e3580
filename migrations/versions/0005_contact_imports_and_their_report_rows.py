"""contact imports and their report rows

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 18:38:26.951308
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crmsync_contact_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_path", sa.String(length=1024), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("create_companies", sa.Boolean(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crmsync_contact_import")),
    )
    with op.batch_alter_table("crmsync_contact_import", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crmsync_contact_import_status"), ["status"], unique=False
        )

    op.create_table(
        "crmsync_contact_import_row",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("contact", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["crmsync_contact_import.id"],
            name=op.f("fk_crmsync_contact_import_row_import_id_crmsync_contact_import"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "import_id", "row_number", name=op.f("pk_crmsync_contact_import_row")
        ),
    )


def downgrade() -> None:
    op.drop_table("crmsync_contact_import_row")
    with op.batch_alter_table("crmsync_contact_import", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crmsync_contact_import_status"))

    op.drop_table("crmsync_contact_import")
