"""The Outlook add-in: who is offered it, its manifest (checked against Microsoft's schema), the
signed download link, and the task pane's files."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy.orm import Session

from app.addin import links
from app.config import Settings
from app.db import Database
from app.kit.clock import utc_now
from app.main import create_app
from app.models.crm import User
from tests.factories.users import sync_user, user_token

SCHEMAS = Path(__file__).parent.parent / "fixtures" / "office-manifest"
# The published schema files' two defects (see the README beside them), corrected on loading.
_SCHEMA_CORRECTIONS = (
    (b'"https://www.w3.org/2001/XMLSchema"', b'"http://www.w3.org/2001/XMLSchema"'),
    (b"{0,3}?", b"{0,3}"),
)
NS = {
    "o": "http://schemas.microsoft.com/office/appforoffice/1.1",
    "v": "http://schemas.microsoft.com/office/mailappversionoverrides",
    "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0",
}
PUBLIC_URL = "https://crm.example.com:8443"

Headers = dict[str, str]


def _corrected(path: Path) -> bytes:
    text = path.read_bytes()
    for wrong, right in _SCHEMA_CORRECTIONS:
        text = text.replace(wrong, right)
    return text


class _SchemaFiles(etree.Resolver):
    def resolve(self, system_url: str, public_id: str, context: object) -> object:
        path = SCHEMAS / Path(system_url).name
        return self.resolve_string(_corrected(path), context, base_url=str(path))


@lru_cache(maxsize=1)
def manifest_schema() -> etree.XMLSchema:
    parser = etree.XMLParser()
    parser.resolvers.add(_SchemaFiles())
    main = SCHEMAS / "OfficeAppManifestV1_1.xsd"
    return etree.XMLSchema(etree.fromstring(_corrected(main), parser, base_url=str(main)))


@pytest.fixture
def public_client(database: Database) -> Iterator[TestClient]:
    """crmsync behind HTTPS on a non-standard port."""
    settings = Settings(public_base_url=PUBLIC_URL)
    with TestClient(create_app(settings=settings, database=database)) as test_client:
        yield test_client


def _user(db: Session, logon: str, *, sync: bool = True) -> tuple[int, Headers]:
    if sync:
        user_id = sync_user(db, logon=logon)
    else:
        crm_user = User(user_logon=logon)
        db.add(crm_user)
        db.flush()
        user_id = crm_user.user_userid
    token = user_token(db, logon)
    db.commit()
    return user_id, {"Authorization": f"Bearer {token}"}


def test_the_manifest_is_valid_and_points_at_the_public_url(
    public_client: TestClient, db: Session
) -> None:
    _user_id, headers = _user(db, "alice")
    response = public_client.get("/api/v1/addin/manifest.xml", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")

    document = etree.fromstring(response.content)
    schema = manifest_schema()
    assert schema.validate(document), schema.error_log
    assert document.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "MailApp"
    urls = [
        *document.xpath("//o:*/@DefaultValue[starts-with(., 'http')]", namespaces=NS),
        *document.xpath("//bt:*/@DefaultValue[starts-with(., 'http')]", namespaces=NS),
    ]
    assert urls and all(
        url.startswith(f"{PUBLIC_URL}/addin/") or url.endswith("/docs") for url in urls
    )
    assert document.xpath("string(//o:AppDomain)", namespaces=NS) == PUBLIC_URL
    pane = document.xpath(
        "string(//bt:Url[@id='crmsync.TaskpaneUrl']/@DefaultValue)", namespaces=NS
    )
    assert pane == f"{PUBLIC_URL}/addin/taskpane.html"
    surfaces = document.xpath(
        "//v:ExtensionPoint/@xsi:type",
        namespaces={**NS, "xsi": "http://www.w3.org/2001/XMLSchema-instance"},
    )
    assert surfaces == ["MessageReadCommandSurface", "MessageComposeCommandSurface"]


def test_the_schema_check_catches_a_broken_manifest(public_client: TestClient, db: Session) -> None:
    _user_id, headers = _user(db, "alice")
    document = etree.fromstring(
        public_client.get("/api/v1/addin/manifest.xml", headers=headers).content
    )
    identifier = document.find("o:Id", NS)
    assert identifier is not None
    document.remove(identifier)
    assert not manifest_schema().validate(document)


def test_a_user_is_offered_the_addin_with_a_signed_link_outlook_can_fetch(
    public_client: TestClient, db: Session
) -> None:
    _user_id, headers = _user(db, "alice")
    offer = public_client.get("/api/v1/addin", headers=headers).json()
    assert offer["show_install_button"] is True and offer["reason"] is None
    url = urlsplit(offer["manifest_url"])
    assert f"{url.scheme}://{url.netloc}" == PUBLIC_URL
    assert url.path == "/api/v1/addin/manifest.xml"
    assert "cst_" not in offer["manifest_url"]  # the API token itself never goes into a URL

    # Outlook's "Add from URL" sends no header: the link alone must do.
    download = public_client.get(f"{url.path}?{url.query}")
    assert download.status_code == 200, download.text
    assert download.content.startswith(b"<?xml")


def test_forged_or_expired_links_are_refused(public_client: TestClient, db: Session) -> None:
    user_id, headers = _user(db, "alice")
    link = parse_qs(
        urlsplit(public_client.get("/api/v1/addin", headers=headers).json()["manifest_url"]).query
    )["link"][0]
    forged = link.replace(f"{user_id}.", f"{user_id + 1}.", 1)
    response = public_client.get(f"/api/v1/addin/manifest.xml?link={forged}")
    assert response.status_code == 401
    assert "not one crmsync signed" in response.json()["detail"]

    secret = Settings().effective_secret_key()
    expired = links.sign(secret, str(user_id), utc_now() - 2 * links.LINK_LIFETIME)
    response = public_client.get(f"/api/v1/addin/manifest.xml?link={expired}")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]

    anonymous = public_client.get("/api/v1/addin/manifest.xml")
    assert anonymous.status_code == 401


def test_a_hidden_button_hides_the_manifest_with_the_reason(
    public_client: TestClient, db: Session, admin_headers: Headers
) -> None:
    user_id, headers = _user(db, "alice")
    link = public_client.get("/api/v1/addin", headers=headers).json()["manifest_url"]
    hidden = public_client.patch(
        f"/api/v1/users/{user_id}", json={"show_install_button": False}, headers=admin_headers
    )
    assert hidden.status_code == 200

    offer = public_client.get("/api/v1/addin", headers=headers).json()
    assert offer == {
        "show_install_button": False,
        "manifest_url": None,
        "reason": f"an administrator has hidden the Outlook add-in for user {user_id}",
    }
    refused = public_client.get("/api/v1/addin/manifest.xml", headers=headers)
    assert refused.status_code == 403
    assert "hidden the Outlook add-in" in refused.json()["detail"]
    # A link handed out before the administrator hid the button no longer works either.
    assert public_client.get(urlsplit(link).path + "?" + urlsplit(link).query).status_code == 403


def test_a_crm_user_who_is_not_a_sync_user_is_not_offered_it(
    public_client: TestClient, db: Session
) -> None:
    user_id, headers = _user(db, "bob", sync=False)
    offer = public_client.get("/api/v1/addin", headers=headers).json()
    assert offer["show_install_button"] is False
    assert offer["reason"] == f"user {user_id} is not enabled for crmsync"
    refused = public_client.get("/api/v1/addin/manifest.xml", headers=headers)
    assert refused.status_code == 403
    assert "not enabled for crmsync" in refused.json()["detail"]


def test_admin_keys_deploy_the_addin_and_ask_about_users(
    public_client: TestClient, db: Session, admin_headers: Headers
) -> None:
    user_id, headers = _user(db, "alice")
    deployment = public_client.get("/api/v1/addin", headers=admin_headers).json()
    assert deployment["show_install_button"] is True
    assert public_client.get("/api/v1/addin/manifest.xml", headers=admin_headers).status_code == 200

    public_client.patch(
        f"/api/v1/users/{user_id}", json={"show_install_button": False}, headers=admin_headers
    )
    about_alice = public_client.get(f"/api/v1/addin?user_id={user_id}", headers=admin_headers)
    assert about_alice.json()["show_install_button"] is False
    # Users ask only about themselves.
    assert public_client.get("/api/v1/addin?user_id=999", headers=headers).status_code == 404


def test_the_task_pane_and_its_files_are_served(
    database: Database,
) -> None:
    settings = Settings(office_js_url="http://127.0.0.1:1/office-stand-in.js")
    with TestClient(create_app(settings=settings, database=database)) as client:
        page = client.get("/addin/taskpane.html")
        assert page.status_code == 200
        assert '<script src="http://127.0.0.1:1/office-stand-in.js"></script>' in page.text
        assert 'data-heartbeat-seconds="60"' in page.text
        script = client.get("/addin/static/taskpane.js")
        assert script.status_code == 200 and "Office.onReady" in script.text
        assert client.get("/addin/static/taskpane.css").status_code == 200
        icon = client.get("/addin/icon-80.png")
        assert icon.headers["content-type"] == "image/png"
        assert icon.content.startswith(b"\x89PNG")
        assert client.get("/addin/icon-81.png").status_code == 404


def test_the_office_js_url_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="absolute http"):
        Settings(office_js_url="office.js")
