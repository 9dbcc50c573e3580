"""failure kind of runs

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 19:09:24.569567
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("crmsync_sync_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure_kind", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crmsync_sync_run", schema=None) as batch_op:
        batch_op.drop_column("failure_kind")
