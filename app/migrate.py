"""The database's migrations, found by import so they work from a wheel as from a checkout.

The Alembic scripts live in the top-level `migrations` package, which the distribution installs
beside `app`; the configuration is built here rather than read from an alembic.ini next to the
code, which an installed package does not have.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

import migrations


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return config


def upgrade_database(revision: str = "head") -> None:
    command.upgrade(alembic_config(), revision)


def downgrade_database(revision: str) -> None:
    command.downgrade(alembic_config(), revision)
