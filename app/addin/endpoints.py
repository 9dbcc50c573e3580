from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from app.addin import links, service
from app.addin.icons import ICON_SIZES, square_png
from app.addin.schemas import AddinRead
from app.config import Settings
from app.deps import CurrentPrincipal, DbSession, authenticate_request
from app.kit.clock import utc_now
from app.kit.errors import Forbidden, NotFound, Unauthorized
from app.kit.validation import UserRef

STATIC_DIR = Path(__file__).parent / "static"

router = APIRouter(prefix="/addin", tags=["Outlook add-in"])
# The task pane and its icons: public pages outside the API (the pane asks for a token itself).
pages = APIRouter(prefix="/addin", include_in_schema=False)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("")
def addin(
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    user_id: Annotated[
        UserRef | None, Query(description="admin keys: ask about this user (default: deployment)")
    ] = None,
) -> AddinRead:
    """Whether the 'Install Outlook add-in' button shows, and the link Outlook installs from."""
    offer = service.offer_for_caller(db, principal, user_id)
    if not offer.offered:
        return AddinRead(show_install_button=False, manifest_url=None, reason=offer.reason)
    settings = _settings(request)
    link = links.sign(settings.effective_secret_key(), offer.subject, utc_now())
    path = request.app.url_path_for("addin_manifest")
    return AddinRead(
        show_install_button=True,
        manifest_url=f"{settings.public_base_url}{path}?link={link}",
        reason=None,
    )


@router.get(
    "/manifest.xml",
    name="addin_manifest",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}, 403: {"description": "hidden"}},
)
def manifest(
    request: Request,
    db: DbSession,
    link: Annotated[str | None, Query(description="the signed manifest_url's link")] = None,
) -> Response:
    """The add-in manifest, for a bearer token or a signed link from GET /addin (see links)."""
    settings = _settings(request)
    authorization = request.headers.get("authorization")
    if link is not None:
        subject = links.verify(settings.effective_secret_key(), link, utc_now())
        offer = service.offer_for(db, subject)
    elif authorization:
        offer = service.offer_for_caller(db, authenticate_request(request, db), None)
    else:
        raise Unauthorized(
            "send 'Authorization: Bearer <token>' or use the manifest_url of GET /api/v1/addin"
        )
    if not offer.offered:
        raise Forbidden(f"the Outlook add-in is not offered: {offer.reason}")
    return Response(
        service.render_manifest(settings.public_base_url),
        media_type="application/xml",
        headers={"Content-Disposition": 'attachment; filename="crmsync-outlook-addin.xml"'},
    )


@pages.get("/taskpane.html", response_class=HTMLResponse)
def taskpane(request: Request) -> HTMLResponse:
    settings = _settings(request)
    return HTMLResponse(
        service.render_taskpane(settings.office_js_url, settings.addin_heartbeat_seconds)
    )


@pages.get("/icon-{size}.png")
def icon(size: int) -> Response:
    if size not in ICON_SIZES:
        raise NotFound(f"no {size}-pixel icon; sizes: {sorted(ICON_SIZES)}")
    return Response(
        square_png(size), media_type="image/png", headers={"Cache-Control": "max-age=86400"}
    )
