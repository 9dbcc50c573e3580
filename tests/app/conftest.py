from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db import Database
from app.main import create_app
from tests.factories.users import admin_key


@pytest.fixture
def client(database: Database) -> Iterator[TestClient]:
    with TestClient(create_app(database=database)) as test_client:
        yield test_client


@pytest.fixture
def admin_headers(db: Session) -> dict[str, str]:
    key = admin_key(db)
    db.commit()
    return {"Authorization": f"Bearer {key}"}
