from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile, status
from fastapi.responses import StreamingResponse

from app.deps import AdminPrincipal, DbSession
from app.imports import service
from app.imports.schemas import ImportQueued, ImportRead
from app.kit.pagination import Page, PageRequest, page_request
from app.kit.request_gate import accepts_upload
from app.kit.validation import DbId
from app.models.imports import ImportStatus

router = APIRouter(prefix="/imports", tags=["contact imports"])


@router.post(
    "/contacts",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        413: {"description": "the file exceeds CRMSYNC_MAX_IMPORT_BYTES"},
        422: {"description": "not an Outlook CSV export or vCard file, or an unknown user_id"},
    },
)
@accepts_upload(lambda settings: settings.max_import_bytes, "CRMSYNC_MAX_IMPORT_BYTES")
def upload_contacts(
    request: Request,
    db: DbSession,
    _admin: AdminPrincipal,
    file: Annotated[UploadFile, File(description="Outlook's CSV export or a vCard file")],
    user_id: Annotated[
        DbId | None, Form(description="flag the imported persons for this CRM user")
    ] = None,
    dry_run: Annotated[bool, Form(description="report what would happen; write nothing")] = False,
    create_companies: Annotated[
        bool, Form(description="create companies the CRM does not have yet")
    ] = False,
) -> ImportQueued:
    """Queue an import of the uploaded contacts; poll GET /imports/{id} for its progress."""
    options = service.ImportOptions(
        user_id=user_id, dry_run=dry_run, create_companies=create_companies
    )
    job = service.queue_upload(
        db, request.app.state.settings, file.file, file.filename or "contacts", options
    )
    return ImportQueued(import_id=job.id)


@router.get("")
def list_imports(
    db: DbSession,
    _admin: AdminPrincipal,
    page: Annotated[PageRequest, Depends(page_request)],
    status: Annotated[ImportStatus | None, Query(description="only imports in this state")] = None,
    user_id: Annotated[
        int | None, Query(description="only imports flagging persons for this CRM user")
    ] = None,
) -> Page[ImportRead]:
    """Contact imports, newest first."""
    return service.list_imports(db, status=status, user_id=user_id, page=page)


@router.get("/{import_id}")
def get_import(import_id: DbId, db: DbSession, _admin: AdminPrincipal) -> ImportRead:
    """One import: status, rows counted and done, outcomes so far, warnings."""
    return service.to_read(service.get_existing(db, import_id))


@router.get(
    "/{import_id}/report.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "one line per contact row"}},
)
def import_report(
    import_id: DbId, request: Request, db: DbSession, _admin: AdminPrincipal
) -> StreamingResponse:
    """The outcome of every row so far: row, outcome, reason, person_id, contact."""
    service.get_existing(db, import_id)
    return StreamingResponse(
        service.report_lines(request.app.state.database, import_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{import_id}-report.csv"'},
    )
