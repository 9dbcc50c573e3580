"""One CRM server time zone: the sync setting, seeded once from the environment."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.kit.clock import crm_now
from app.migrate import alembic_config
from app.models.crm import Company
from app.models.sync import SettingsScope
from app.sync_settings.crm_zone import forget_crm_zone
from app.sync_settings.service import effective_settings
from tests.factories.users import sync_user

KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14: no other zone is mistaken for it


def _migrate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone: str) -> dict[str, object]:
    monkeypatch.setenv("CRMSYNC_CRM_TIMEZONE", zone)
    get_settings.cache_clear()
    engine = create_engine(f"sqlite:///{tmp_path / 'seed.db'}")
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            values = connection.execute(
                select(SettingsScope.values).where(SettingsScope.scope == "global")
            ).scalar_one()
    finally:
        engine.dispose()
        get_settings.cache_clear()
    return dict(values)


def test_the_environment_seeds_the_setting_of_a_new_install_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _migrate(tmp_path, monkeypatch, "Europe/Paris")["crm_timezone"] == "Europe/Paris"
    # Upgrading again under another value changes nothing: the setting is the source now.
    assert _migrate(tmp_path, monkeypatch, "Asia/Tokyo")["crm_timezone"] == "Europe/Paris"


def test_audit_columns_are_stamped_in_the_zone_of_the_setting(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    response = client.put(
        "/api/v1/settings", json={"crm_timezone": "Pacific/Kiritimati"}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    try:
        assert effective_settings(db, None).crm_timezone == "Pacific/Kiritimati"
        company = Company(comp_name="Zone Ltd")
        db.add(company)
        db.flush()
        expected = datetime.now(KIRITIMATI).replace(tzinfo=None)
        assert company.created_date is not None
        assert abs(company.created_date - expected) < timedelta(minutes=1)
        assert abs(crm_now() - expected) < timedelta(minutes=1)
    finally:
        forget_crm_zone()  # the test's transaction, and its setting, are rolled back


def test_a_user_cannot_override_the_crm_servers_zone(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    user_id = sync_user(db)
    response = client.put(
        f"/api/v1/users/{user_id}/settings",
        json={"crm_timezone": "Asia/Tokyo"},
        headers=admin_headers,
    )
    assert response.status_code == 422
    assert "crm_timezone" in response.json()["detail"]
