"""user token expiry

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 12:10:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tokens issued before expiry existed get the default lifetime from the upgrade on, rather
# than being cut off at once for their age.
_GRACE = timedelta(days=90)


def upgrade() -> None:
    with op.batch_alter_table("crmsync_api_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    keys = sa.table("crmsync_api_key", sa.column("kind"), sa.column("expires_at", sa.DateTime(timezone=True)))
    op.execute(
        keys.update()
        .where(keys.c.kind == "user")
        .values(expires_at=datetime.now(UTC) + _GRACE)
    )


def downgrade() -> None:
    with op.batch_alter_table("crmsync_api_key", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
