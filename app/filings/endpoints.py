"""POST /filings and /filings/suggestions: JSON naming mailbox items, or uploaded email files.

One path takes both bodies (the add-in sends item ids, POP3/IMAP users upload files), so the
endpoints read the body themselves and describe both forms in the OpenAPI document.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from app.config import Settings
from app.deps import CurrentPrincipal, DbSession
from app.filings import service, suggestions
from app.filings.mailbox import MailboxMessages
from app.filings.schemas import (
    MAX_EMAILS_PER_CALL,
    EmailSuggestions,
    FilingFromMailbox,
    FilingRead,
    RecordRef,
    SuggestionsFromMailbox,
    Targets,
)
from app.filings.service import UploadedFile
from app.kit.content_store import ContentStore, check_upload_size
from app.kit.request_gate import BodyTooLarge, accepts_upload
from app.kit.validation import MAX_ID

router = APIRouter(prefix="/filings", tags=["filing"])

BodyT = TypeVar("BodyT", bound=BaseModel)
_TARGETS = TypeAdapter(Targets)
_REF_TEMPLATE = "#/components/schemas/{model}"


def _json_schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=_REF_TEMPLATE)
    # The referenced models (RecordRef) are components already: responses use them.
    schema.pop("$defs", None)
    return schema


def _request_body(json_model: type[BaseModel], with_targets: bool) -> dict[str, Any]:
    form_properties: dict[str, Any] = {
        "files": {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "description": f"RFC 5322 .eml or Outlook .msg files, at most {MAX_EMAILS_PER_CALL}",
        },
        "user_id": {"type": "integer", "description": "act for this user (admin keys only)"},
    }
    if with_targets:
        form_properties["targets"] = {
            "type": "string",
            "description": 'a JSON list of records, e.g. [{"entity": "person", "id": 7}]',
        }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _json_schema(json_model)},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["files", "targets"] if with_targets else ["files"],
                        "properties": form_properties,
                    }
                },
            },
        }
    }


_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "the email is filed to another opportunity or case already"},
    413: {
        "description": "an email exceeds CRMSYNC_MAX_MESSAGE_BYTES, or all of them together "
        "CRMSYNC_MAX_UPLOAD_TOTAL_BYTES"
    },
    422: {"description": "malformed email, unknown record or item id not in the mailbox"},
    502: {"description": "Exchange failed; nothing was filed"},
    503: {"description": "no Exchange connector in this process (item ids only)"},
}


def _invalid(location: tuple[str, ...], exc: ValidationError) -> RequestValidationError:
    return RequestValidationError(
        [{**error, "loc": (*location, *error["loc"])} for error in exc.errors()]
    )


def _problem(location: tuple[str, ...], message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": location, "msg": message, "type": "value_error"}])


async def _json_body(request: Request, model: type[BodyT]) -> BodyT:
    # The route takes uploads, so the gate allows it their size; a JSON body gets the JSON limit.
    limit = request.app.state.settings.max_json_body_bytes
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(limit, "CRMSYNC_MAX_JSON_BODY_BYTES")
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise _invalid(("body",), exc) from None


def _is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("multipart/form-data")


def _uploads(form: FormData, settings: Settings) -> list[UploadedFile]:
    """The uploaded emails, checked by the sizes the parser counted: nothing is read here (the
    service reads each one in a worker thread, while the form keeps the files open)."""
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    if not files:
        raise _problem(("body", "files"), "send at least one .eml or .msg file as 'files'")
    limit = settings.max_message_bytes
    for upload in files:
        check_upload_size(
            upload.size,
            limit,
            f"file {upload.filename}: larger than the {limit:,} bytes an email may have "
            "(CRMSYNC_MAX_MESSAGE_BYTES)",
        )
    total_limit = settings.effective_max_upload_total_bytes
    check_upload_size(
        sum(upload.size or 0 for upload in files),
        total_limit,
        f"the {len(files)} files together are larger than the {total_limit:,} bytes one request "
        "may upload (CRMSYNC_MAX_UPLOAD_TOTAL_BYTES)",
    )
    return [
        UploadedFile(name=upload.filename or f"file {n}", content=upload.file)
        for n, upload in enumerate(files, start=1)
    ]


def _form_targets(form: FormData) -> list[RecordRef]:
    raw = form.get("targets")
    if not isinstance(raw, str):
        raise _problem(("body", "targets"), "send the records as a JSON list in 'targets'")
    try:
        return _TARGETS.validate_python(json.loads(raw))
    except json.JSONDecodeError as exc:
        raise _problem(("body", "targets"), f"not JSON: {exc}") from None
    except ValidationError as exc:
        raise _invalid(("body", "targets"), exc) from None


def _form_user_id(form: FormData) -> int | None:
    raw = form.get("user_id")
    if raw is None or raw == "":
        return None
    if isinstance(raw, str) and raw.strip().isdigit() and 1 <= int(raw) <= MAX_ID:
        return int(raw)
    raise _problem(("body", "user_id"), f"must be a user id, 1 to {MAX_ID}")


def _context(request: Request) -> tuple[Settings, MailboxMessages, ContentStore]:
    settings: Settings = request.app.state.settings
    mailbox: MailboxMessages = request.app.state.mailbox_messages
    return settings, mailbox, ContentStore.from_settings(settings)


# Every email of one request together: the route's body limit.
_accepts_emails = accepts_upload(
    lambda settings: settings.effective_max_upload_total_bytes, "CRMSYNC_MAX_UPLOAD_TOTAL_BYTES"
)


@router.post("", openapi_extra=_request_body(FilingFromMailbox, True), responses=_ERRORS)
@_accepts_emails
async def file_emails(
    request: Request, db: DbSession, principal: CurrentPrincipal
) -> list[FilingRead]:
    """File emails to CRM records: one communication per email, linked to every target.

    Filing an email again (same Message-ID, or same content without one) adds only the missing
    links. Mailbox emails are marked "Filed in CRM" in Exchange. All or nothing per call."""
    settings, mailbox, store = _context(request)
    if _is_form(request):
        async with request.form(max_files=MAX_EMAILS_PER_CALL, max_fields=10) as form:
            files = _uploads(form, settings)
            targets = _form_targets(form)
            user_id = _form_user_id(form)
            filed: list[FilingRead] = await run_in_threadpool(
                service.file_uploads, db, principal, files, targets, user_id, settings, store
            )
        return filed
    body = await _json_body(request, FilingFromMailbox)
    return await run_in_threadpool(
        service.file_from_mailbox, db, principal, body, mailbox, settings, store
    )


@router.post(
    "/suggestions", openapi_extra=_request_body(SuggestionsFromMailbox, False), responses=_ERRORS
)
@_accepts_emails
async def suggest_records(
    request: Request, db: DbSession, principal: CurrentPrincipal
) -> list[EmailSuggestions]:
    """For each email, the records it most likely belongs to, each with why it matched.
    (The services are synchronous, database and EWS, so they run off the event loop.)"""
    settings, mailbox, _store = _context(request)
    if _is_form(request):
        async with request.form(max_files=MAX_EMAILS_PER_CALL, max_fields=10) as form:
            files = _uploads(form, settings)
            user_id = _form_user_id(form)
            found: list[EmailSuggestions] = await run_in_threadpool(
                suggestions.suggest_for_uploads, db, principal, files, user_id, settings
            )
        return found
    body = await _json_body(request, SuggestionsFromMailbox)
    return await run_in_threadpool(
        suggestions.suggest_from_mailbox, db, principal, body, mailbox, settings
    )
