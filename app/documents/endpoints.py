from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile, status
from fastapi.responses import FileResponse

from app.config import Settings
from app.crm_records.schemas import RecordEntity
from app.deps import CurrentPrincipal, DbSession
from app.documents import service
from app.documents.schemas import DocumentRead, DocumentStatus, DraftCreate, DraftCreated
from app.filings.mailbox import MailboxMessages
from app.kit.content_store import ContentStore, check_upload_size
from app.kit.pagination import Page, PageRequest, page_request
from app.kit.request_gate import accepts_upload
from app.kit.validation import DbId

router = APIRouter(prefix="/documents", tags=["documents"])
drafts = APIRouter(prefix="/drafts", tags=["documents"])


def _store(request: Request) -> ContentStore:
    return ContentStore.from_settings(request.app.state.settings)


@router.get("")
def list_documents(
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    page: Annotated[PageRequest, Depends(page_request)],
    shared: Annotated[bool, Query(description="the shared documents (libr_global)")] = False,
    entity: Annotated[RecordEntity | None, Query(description="a record's documents")] = None,
    id: Annotated[DbId | None, Query(description="the record's id")] = None,
) -> Page[DocumentRead]:
    """CRM library documents: the shared ones, or those filed to a record, as far as the
    caller may see them (see GET /documents/{id}/content)."""
    return service.list_documents(db, principal, shared, service.record_ref(entity, id), page)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={413: {"description": "the file exceeds CRMSYNC_MAX_DOCUMENT_BYTES"}},
)
@accepts_upload(lambda settings: settings.max_document_bytes, "CRMSYNC_MAX_DOCUMENT_BYTES")
def upload_document(
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="the document")],
    entity: Annotated[RecordEntity | None, Form(description="file it to this record")] = None,
    id: Annotated[DbId | None, Form(description="the record's id")] = None,
    shared: Annotated[bool, Form(description="any user may attach it")] = False,
    document_status: Annotated[DocumentStatus, Form(alias="status")] = DocumentStatus.FINAL,
) -> DocumentRead:
    """Store a document in the CRM library, filed to a record or shared."""
    settings: Settings = request.app.state.settings
    limit = settings.max_document_bytes
    check_upload_size(
        file.size,
        limit,
        f"file {file.filename}: larger than the {limit:,} bytes a document may have "
        "(CRMSYNC_MAX_DOCUMENT_BYTES)",
    )
    document = service.DocumentUpload(
        filename=file.filename or "",
        content=file.file,
        record=service.record_ref(entity, id),
        shared=shared,
        status=document_status,
    )
    return service.upload(db, principal, document, _store(request))


_BINARY = {"schema": {"type": "string", "format": "binary"}}


@router.get(
    "/{document_id}/content",
    response_class=FileResponse,
    responses={
        200: {
            "content": dict.fromkeys(service.COMMON_CONTENT_TYPES, _BINARY),
            "description": "the file, with the media type its name implies",
        }
    },
)
def document_content(
    document_id: DbId, request: Request, db: DbSession, principal: CurrentPrincipal
) -> FileResponse:
    """The document's file, served with the media type of its name (text/plain for .txt,
    application/pdf for .pdf …; application/octet-stream when unknown). For a caller who may
    see it, 404 otherwise as if it did not exist: every user sees the shared documents and
    their own (uploaded, linked to their communication, filed to their record); admins all."""
    row, path = service.content_path(db, principal, document_id, _store(request))
    filename = row.libr_filename or f"document-{document_id}"
    return FileResponse(path, media_type=service.content_type(filename), filename=filename)


@drafts.post("", status_code=status.HTTP_201_CREATED)
def create_draft(
    body: DraftCreate, request: Request, db: DbSession, principal: CurrentPrincipal
) -> DraftCreated:
    """A draft in the user's mailbox with the documents attached: new, a reply to an item, or
    the documents added to an existing draft."""
    mailbox: MailboxMessages = request.app.state.mailbox_messages
    settings: Settings = request.app.state.settings
    return service.create_draft(db, principal, body, mailbox, settings, _store(request))
