"""CRM documents: the library's shared documents and a record's, uploads, and drafts in the
user's mailbox with chosen documents attached.

A user sees the shared documents and their own (see repository.visible_to); another's is
"not found" to them, as if it did not exist. Contents come from the content store; a library
row written by another CRM client without `libr_sha256` has no content here.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from app.auth.service import Principal
from app.config import Settings
from app.crm_records.schemas import RecordEntity
from app.crm_records.service import acting_crm_user
from app.documents import repository
from app.documents.schemas import DocumentRead, DocumentStatus, DraftCreate, DraftCreated
from app.filings.mailbox import DraftFile, DraftRequest, MailboxMessages
from app.filings.mime import safe_filename
from app.filings.schemas import RecordRef
from app.filings.service import mailbox_connection, resolve_targets
from app.kit.content_store import ContentStore
from app.kit.errors import InvalidInput, NotFound, PayloadTooLarge
from app.kit.pagination import Page, PageRequest, make_page
from app.models.crm import FLAG_SET, Library
from app.sync_settings.crm_zone import crm_zone

DOCUMENT_TYPE = "Document"


# What library files usually are, for the API's documentation; any other name's type is
# served too (mimetypes decides), and "*/*" says so.
COMMON_CONTENT_TYPES = (
    "application/pdf",
    "text/plain",
    "text/csv",
    "text/html",
    "image/png",
    "image/jpeg",
    "image/gif",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/zip",
    "message/rfc822",
    "application/octet-stream",
    "*/*",
)


def content_type(filename: str | None) -> str:
    guessed, _ = mimetypes.guess_type(filename or "")
    return guessed or "application/octet-stream"


def to_read(row: Library) -> DocumentRead:
    record = next(
        (
            RecordRef(entity=entity, id=getattr(row, column))
            for entity, column in repository.RECORD_COLUMNS.items()
            if getattr(row, column) is not None
        ),
        None,
    )
    return DocumentRead(
        id=row.libr_libraryid,
        filename=row.libr_filename or f"document-{row.libr_libraryid}",
        type=row.libr_type,
        status=row.libr_status,
        shared=row.libr_global == FLAG_SET,
        size=row.libr_filesize,
        sha256=row.libr_sha256,
        record=record,
        communication_id=row.libr_communicationid,
        # The CRM stores naive times in its own zone; an offset makes them unambiguous.
        created=row.created_date.replace(tzinfo=crm_zone()) if row.created_date else None,
    )


def _reader(principal: Principal) -> int | None:
    return None if principal.is_admin else principal.user_id


def list_documents(
    db: Session, principal: Principal, shared: bool, record: RecordRef | None, page: PageRequest
) -> Page[DocumentRead]:
    if record is not None:
        rows = repository.list_for_record(
            db, record.entity, record.id, _reader(principal), page.after_id, page.limit + 1
        )
    elif shared:
        rows = repository.list_shared(db, page.after_id, page.limit + 1)
    else:
        raise InvalidInput("query: ask for ?shared=true or for a record's, ?entity=…&id=…")
    return make_page([to_read(r) for r in rows], [r.libr_libraryid for r in rows], page)


@dataclass(frozen=True)
class DocumentUpload:
    filename: str
    # The spooled upload: copied into the store a chunk at a time.
    content: BinaryIO
    record: RecordRef | None
    shared: bool
    status: DocumentStatus


def upload(
    db: Session, principal: Principal, document: DocumentUpload, store: ContentStore
) -> DocumentRead:
    if document.record is None and not document.shared:
        raise InvalidInput("body: give a record (entity and id) or shared=true, or both")
    acting = principal.user_id
    if document.record is not None:
        resolve_targets(db, [document.record])
    filename = safe_filename(document.filename)
    if not filename:
        raise InvalidInput("body.file: the file needs a name")
    stored = store.put_stream(document.content)
    row = Library(
        libr_filepath=stored.relative_path,
        libr_filename=filename,
        libr_type=DOCUMENT_TYPE,
        libr_status=document.status.value,
        libr_global=FLAG_SET if document.shared else None,
        libr_filesize=stored.size,
        libr_sha256=stored.sha256,
        created_by=acting,
        updated_by=acting,
    )
    if document.record is not None:
        setattr(row, repository.RECORD_COLUMNS[document.record.entity], document.record.id)
    db.add(row)
    db.flush()
    return to_read(row)


def content_path(
    db: Session, principal: Principal, document_id: int, store: ContentStore
) -> tuple[Library, Path]:
    row = repository.live_documents(db, [document_id], _reader(principal)).get(document_id)
    if row is None:
        raise NotFound(f"no document {document_id}")
    if not row.libr_sha256 or not store.exists(row.libr_sha256):
        raise NotFound(f"document {document_id} has no content in crmsync's content store")
    return row, store.path(row.libr_sha256)


def _draft_files(
    db: Session,
    principal: Principal,
    document_ids: list[int],
    store: ContentStore,
    settings: Settings,
) -> tuple[DraftFile, ...]:
    rows = repository.live_documents(db, document_ids, _reader(principal))
    missing = [i for i in document_ids if i not in rows]
    if missing:
        raise NotFound(f"body.document_ids: no document {', '.join(map(str, missing))}")
    total = sum(rows[i].libr_filesize or 0 for i in document_ids)
    if total > settings.max_message_bytes:
        raise PayloadTooLarge(
            f"the documents add up to {total:,} bytes, more than the "
            f"{settings.max_message_bytes:,} an email may have (CRMSYNC_MAX_MESSAGE_BYTES)"
        )
    files = []
    for document_id in document_ids:
        row = rows[document_id]
        if not row.libr_sha256 or not store.exists(row.libr_sha256):
            raise InvalidInput(
                f"body.document_ids: document {document_id} has no content in the content store"
            )
        files.append(
            DraftFile(
                name=row.libr_filename or f"document-{document_id}",
                content_type=content_type(row.libr_filename),
                content=store.read(row.libr_sha256),
            )
        )
    return tuple(files)


def create_draft(
    db: Session,
    principal: Principal,
    body: DraftCreate,
    mailbox: MailboxMessages,
    settings: Settings,
    store: ContentStore,
) -> DraftCreated:
    user_id = acting_crm_user(db, principal, body.user_id)
    connection = mailbox_connection(db, user_id)
    request = DraftRequest(
        subject=body.subject,
        to=tuple(body.to),
        body=body.body,
        files=_draft_files(db, principal, body.document_ids, store, settings),
        reply_to_item_id=body.reply_to_item_id,
        draft_item_id=body.draft_item_id,
    )
    return DraftCreated(item_id=mailbox.save_draft(connection, request))


def record_ref(entity: RecordEntity | None, record_id: int | None) -> RecordRef | None:
    if entity is None and record_id is None:
        return None
    if entity is None or record_id is None:
        raise InvalidInput("query: entity and id go together")
    return RecordRef(entity=entity, id=record_id)
