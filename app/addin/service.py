"""Who is offered the Outlook add-in, and the manifest that installs it.

A user is offered it when they are a sync user whose `show_install_button` an administrator
left on. A CRM user who is not a sync user is not offered it ("not enabled for crmsync"): the
add-in files into their mailbox, which crmsync does not know. An admin key is always offered
the manifest, for deploying the add-in to everyone from the Microsoft 365 admin center.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache

from jinja2 import Environment, PackageLoader
from sqlalchemy.orm import Session

from app.addin import links
from app.auth.service import Principal
from app.users import repository as users_repository

MANIFEST_VERSION = "1.0.0.0"


@dataclass(frozen=True)
class InstallOffer:
    subject: str  # whose offer it is: a user id, or links.ADMIN_SUBJECT
    reason: str | None = None  # why it is withheld; None when offered

    @property
    def offered(self) -> bool:
        return self.reason is None


def offer_for(db: Session, subject: str) -> InstallOffer:
    if subject == links.ADMIN_SUBJECT:
        return InstallOffer(subject)
    user_id = int(subject)
    user = users_repository.get_sync_user(db, user_id)
    if user is None:
        return InstallOffer(subject, f"user {user_id} is not enabled for crmsync")
    if not user.show_install_button:
        return InstallOffer(
            subject, f"an administrator has hidden the Outlook add-in for user {user_id}"
        )
    return InstallOffer(subject)


def offer_for_caller(db: Session, principal: Principal, user_id: str | None) -> InstallOffer:
    """The caller's own offer; an admin key may ask about a user (as the CRM does for its page)."""
    if user_id is None and principal.is_admin:
        return offer_for(db, links.ADMIN_SUBJECT)
    return offer_for(db, str(principal.resolve_user(user_id or "me")))


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("app.addin", "templates"), autoescape=True, keep_trailing_newline=True
    )


def addin_id(public_base_url: str) -> uuid.UUID:
    """Stable for an installation, and different between installations at different URLs."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{public_base_url}/addin")


def render_manifest(public_base_url: str) -> str:
    """The Office add-in XML manifest (MailApp 1.1 with VersionOverrides for the ribbon button);
    every URL in it is absolute from the public base URL."""
    return (
        _templates()
        .get_template("manifest.xml.j2")
        .render(
            base_url=public_base_url, addin_id=addin_id(public_base_url), version=MANIFEST_VERSION
        )
    )


def render_taskpane(office_js_url: str, heartbeat_seconds: int) -> str:
    return (
        _templates()
        .get_template("taskpane.html.j2")
        .render(office_js_url=office_js_url, heartbeat_seconds=heartbeat_seconds)
    )
