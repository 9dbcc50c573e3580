"""run progress and EWS request counts; the CRM time zone as a setting; status that agrees

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 12:10:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_settings = sa.table(
    "crmsync_settings",
    sa.column("scope", sa.String),
    sa.column("values", sa.JSON),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
_users = sa.table(
    "crmsync_sync_user",
    sa.column("suspended", sa.Boolean),
    sa.column("suspended_reason", sa.Text),
    sa.column("next_sync_at", sa.DateTime(timezone=True)),
)


def _seed_crm_timezone() -> None:
    """The sync setting becomes the one source of the CRM's zone; the environment seeds it."""
    from app.config import get_settings

    zone = get_settings().crm_timezone
    connection = op.get_bind()
    stored = connection.execute(
        sa.select(_settings.c["values"]).where(_settings.c.scope == "global")
    ).first()
    now = datetime.now(UTC)
    if stored is None:
        connection.execute(
            _settings.insert().values(scope="global", values={"crm_timezone": zone}, updated_at=now)
        )
    elif "crm_timezone" not in (stored[0] or {}):
        connection.execute(
            _settings.update()
            .where(_settings.c.scope == "global")
            .values(values={**(stored[0] or {}), "crm_timezone": zone}, updated_at=now)
        )


def upgrade() -> None:
    with op.batch_alter_table("crmsync_sync_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("progress", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("ews_requests", sa.Integer(), nullable=False, server_default="0")
        )
    # A reason without a suspension was the last failure's message, shown as if suspended.
    op.execute(_users.update().where(_users.c.suspended.is_(False)).values(suspended_reason=None))
    op.execute(
        _users.update()
        .where(_users.c.next_sync_at.is_(None))
        .values(next_sync_at=datetime.now(UTC))
    )
    with op.batch_alter_table("crmsync_sync_user", schema=None) as batch_op:
        batch_op.alter_column(
            "next_sync_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
    _seed_crm_timezone()


def downgrade() -> None:
    with op.batch_alter_table("crmsync_sync_user", schema=None) as batch_op:
        batch_op.alter_column(
            "next_sync_at", existing_type=sa.DateTime(timezone=True), nullable=True
        )
    with op.batch_alter_table("crmsync_sync_run", schema=None) as batch_op:
        batch_op.drop_column("ews_requests")
        batch_op.drop_column("progress")
