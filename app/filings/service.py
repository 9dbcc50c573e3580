"""Filing emails into the CRM: each email one communication, linked to the records it is filed to.

Decisions (see also mime.py):
- One transaction per call: every email of a call is filed, and marked in Exchange, or none is.
  Exchange is marked before the commit, so a failure there rolls the CRM side back; a commit that
  fails after marking leaves marks pointing to no communication, which filing again repairs.
- Identity: `comm_messageid` holds the Message-ID, or `<sha256:…>` of the email's bytes when it
  has none, so filing the same email again finds it instead of copying it. The same email: the
  same Message-ID *and* the same content (content.py); another content under a known
  Message-ID is filed as a communication of its own, so a forged Message-ID links nothing of
  anyone else's.
- Filing again adds only the missing links. A communication carries one opportunity and one
  case (Sage's model): filing an email to a second opportunity or case is a 409 naming both.
- Records: any live CRM record may be a target; Sage's territory security is out of scope.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.auth.service import Principal
from app.config import Settings
from app.crm_records.schemas import RecordEntity
from app.crm_records.service import acting_crm_user
from app.filings import content as filed_content
from app.filings import repository
from app.filings.content import ContentHashes
from app.filings.mailbox import FiledMark, MailboxMessages
from app.filings.mime import Address, ParsedEmail, UnreadableEmail, read_email
from app.filings.schemas import FilingFromMailbox, FilingRead, RecordRef
from app.kit.clock import utc_now
from app.kit.content_store import ContentStore
from app.kit.errors import Conflict, InvalidInput, PayloadTooLarge
from app.models.crm import FLAG_SET, CommLink, Communication, Library
from app.models.filing import FiledEmailContent
from app.sync_settings.service import effective_settings
from app.users import repository as users_repository
from app.users.connection import MailboxConnection
from app.users.service import connection_for


@dataclass(frozen=True)
class UploadedFile:
    name: str
    # The spooled upload, read when its turn comes: one email in memory at a time.
    content: BinaryIO


@dataclass(frozen=True)
class IncomingEmail:
    source: str
    parsed: ParsedEmail
    sent_by_owner: bool
    # Exchange's sent time, for an email whose MIME has no usable Date header.
    fallback_sent_at: datetime | None = None
    item_id: str | None = None


@dataclass(frozen=True)
class Targets:
    persons: tuple[int, ...]
    companies: tuple[int, ...]
    opportunity: int | None
    case: int | None


def resolve_targets(db: Session, refs: Sequence[RecordRef]) -> Targets:
    """The records to file to, each checked to be a live CRM record."""
    by_entity: dict[RecordEntity, list[int]] = {entity: [] for entity in RecordEntity}
    for ref in refs:
        if ref.id not in by_entity[ref.entity]:
            by_entity[ref.entity].append(ref.id)
    for entity, ids in by_entity.items():
        missing = sorted(set(ids) - repository.live_record_ids(db, entity, ids))
        if missing:
            listed = ", ".join(str(i) for i in missing)
            raise InvalidInput(f"targets: no live CRM {entity} {listed}")
    for entity in (RecordEntity.OPPORTUNITY, RecordEntity.CASE):
        if len(by_entity[entity]) > 1:
            raise InvalidInput(
                f"targets: an email can be filed to one {entity} only (a communication carries "
                f"one), got {len(by_entity[entity])}"
            )
    return Targets(
        persons=tuple(by_entity[RecordEntity.PERSON]),
        companies=tuple(by_entity[RecordEntity.COMPANY]),
        opportunity=next(iter(by_entity[RecordEntity.OPPORTUNITY]), None),
        case=next(iter(by_entity[RecordEntity.CASE]), None),
    )


def parse_email(raw: bytes, source: str, settings: Settings) -> ParsedEmail:
    if len(raw) > settings.max_message_bytes:
        raise PayloadTooLarge(
            f"{source}: {len(raw):,} bytes is more than the {settings.max_message_bytes:,} "
            "bytes an email may have (CRMSYNC_MAX_MESSAGE_BYTES)"
        )
    try:
        return read_email(raw)
    except UnreadableEmail as exc:
        raise InvalidInput(f"{source}: not a readable email: {exc}") from None


def mailbox_connection(db: Session, user_id: int) -> MailboxConnection:
    user = users_repository.get_sync_user(db, user_id)
    if user is None:
        raise InvalidInput(
            f"user {user_id} has no mailbox configured for sync; upload .eml or .msg files instead"
        )
    return connection_for(user)


def mailbox_emails(
    mailbox: MailboxMessages,
    connection: MailboxConnection,
    item_ids: Sequence[str],
    settings: Settings,
) -> list[IncomingEmail]:
    unique_ids = list(dict.fromkeys(item_ids))
    return [
        IncomingEmail(
            source=f"item {message.item_id}",
            parsed=parse_email(message.mime, f"item {message.item_id}", settings),
            sent_by_owner=message.sent_by_owner,
            fallback_sent_at=message.sent_at,
            item_id=message.item_id,
        )
        for message in mailbox.fetch(connection, unique_ids)
    ]


def uploaded_emails(
    db: Session, user_id: int, files: Sequence[UploadedFile], settings: Settings
) -> Iterator[IncomingEmail]:
    """The uploads parsed one at a time, as the caller asks for them."""
    own_addresses = repository.user_addresses(db, user_id)
    for file in files:
        source = f"file {file.name}"
        parsed = parse_email(file.content.read(), source, settings)
        sender = parsed.sender.email.casefold() if parsed.sender else None
        yield IncomingEmail(source=source, parsed=parsed, sent_by_owner=sender in own_addresses)


def file_from_mailbox(
    db: Session,
    principal: Principal,
    body: FilingFromMailbox,
    mailbox: MailboxMessages,
    settings: Settings,
    store: ContentStore,
) -> list[FilingRead]:
    user_id = acting_crm_user(db, principal, body.user_id)
    targets = resolve_targets(db, body.targets)
    connection = mailbox_connection(db, user_id)
    emails = mailbox_emails(mailbox, connection, body.item_ids, settings)
    filer = EmailFiler(db, user_id, store)
    filed = [filer.file(email, targets) for email in emails]
    marks = [
        FiledMark(item_id=email.item_id, communication_id=result.communication_id)
        for email, result in zip(emails, filed, strict=True)
        if email.item_id is not None
    ]
    mailbox.mark_filed(connection, marks, settings.filing_folder or None)
    return filed


def file_uploads(
    db: Session,
    principal: Principal,
    files: Sequence[UploadedFile],
    target_refs: Sequence[RecordRef],
    user_id: int | None,
    settings: Settings,
    store: ContentStore,
) -> list[FilingRead]:
    acting = acting_crm_user(db, principal, user_id)
    targets = resolve_targets(db, target_refs)
    emails = uploaded_emails(db, acting, files, settings)
    filer = EmailFiler(db, acting, store)
    return [filer.file(email, targets) for email in emails]


def _addresses(addresses: Sequence[Address]) -> str | None:
    return ", ".join(a.formatted() for a in addresses) or None


class EmailFiler:
    """Files emails for one user: creates each communication once, then only adds links."""

    def __init__(self, db: Session, user_id: int, store: ContentStore) -> None:
        self.db = db
        self.user_id = user_id
        self.store = store
        self.zone = ZoneInfo(effective_settings(db, user_id).crm_timezone)

    def file(self, email: IncomingEmail, targets: Targets) -> FilingRead:
        identity = email.parsed.identity
        repository.lock_identity(self.db, identity)
        content = filed_content.of_email(email.parsed)
        communication = self._same_email(identity, content)
        created = communication is None
        if communication is None:
            communication = self._create(email)
            self.db.add(
                FiledEmailContent(
                    communication_id=communication.comm_communicationid,
                    body_sha256=content.body_sha256,
                    attachments_sha256=content.attachments_sha256,
                )
            )
        linked = self._link(communication, targets)
        return FilingRead(
            source=email.source,
            communication_id=communication.comm_communicationid,
            message_id=email.parsed.message_id,
            subject=email.parsed.subject,
            created=created,
            linked=linked,
        )

    def _same_email(self, identity: str, content: ContentHashes) -> Communication | None:
        """The communication this email was filed as before: same Message-ID and same content.
        A Message-ID alone proves nothing (anyone can copy one into their own email)."""
        candidates = repository.filed_emails(self.db, identity)
        recorded = repository.recorded_content(
            self.db, [c.comm_communicationid for c in candidates]
        )
        for candidate in candidates:
            row = recorded.get(candidate.comm_communicationid)
            if row is not None:
                stored = ContentHashes(row.body_sha256, row.attachments_sha256)
            else:  # filed before content was recorded: read back what was stored
                stored = filed_content.hashes(
                    candidate.comm_note,
                    candidate.comm_email,
                    repository.attachment_sha256s(self.db, candidate.comm_communicationid),
                )
            if stored == content:
                return candidate
        return None

    def _crm_time(self, email: IncomingEmail) -> datetime:
        sent = email.parsed.sent_at or email.fallback_sent_at or utc_now()
        return sent.astimezone(self.zone).replace(tzinfo=None)

    def _create(self, email: IncomingEmail) -> Communication:
        parsed = email.parsed
        communication = Communication(
            comm_type=repository.EMAIL_TYPE,
            comm_action="EmailOut" if email.sent_by_owner else "EmailIn",
            comm_status="Complete",
            comm_priority="Normal",
            comm_datetime=self._crm_time(email),
            comm_subject=parsed.subject,
            comm_note=parsed.text,
            comm_email=parsed.html,
            comm_ishtml=FLAG_SET if parsed.html is not None else None,
            comm_hasattachments=FLAG_SET if parsed.attachments else None,
            comm_from=parsed.sender.formatted() if parsed.sender else None,
            comm_to=_addresses(parsed.to),
            comm_cc=_addresses(parsed.cc),
            comm_bcc=_addresses(parsed.bcc),
            comm_messageid=parsed.identity,
            created_by=self.user_id,
            updated_by=self.user_id,
        )
        self.db.add(communication)
        self.db.flush()
        for attachment in parsed.attachments:
            stored = self.store.put(attachment.content)
            self.db.add(
                Library(
                    libr_filepath=stored.relative_path,
                    libr_filename=attachment.filename,
                    libr_type=repository.ATTACHMENT_TYPE,
                    libr_status="Final",
                    libr_communicationid=communication.comm_communicationid,
                    libr_filesize=stored.size,
                    libr_sha256=stored.sha256,
                    created_by=self.user_id,
                    updated_by=self.user_id,
                )
            )
        return communication

    def _link(self, communication: Communication, targets: Targets) -> list[RecordRef]:
        """Adds what is missing: links to persons, companies and the user; the opportunity and
        case ids. Returns the records newly linked."""
        self._check_single_slot(
            communication, "opportunity", communication.comm_opportunityid, targets.opportunity
        )
        self._check_single_slot(communication, "case", communication.comm_caseid, targets.case)
        links = repository.links_of(self.db, communication.comm_communicationid)
        linked_persons = {link.cmli_comm_personid for link in links}
        linked_companies = {link.cmli_comm_companyid for link in links}
        linked: list[RecordRef] = []
        for person_id in targets.persons:
            if person_id not in linked_persons:
                self._add_link(communication, cmli_comm_personid=person_id)
                linked.append(RecordRef(entity=RecordEntity.PERSON, id=person_id))
        for company_id in targets.companies:
            if company_id not in linked_companies:
                self._add_link(communication, cmli_comm_companyid=company_id)
                linked.append(RecordRef(entity=RecordEntity.COMPANY, id=company_id))
        if self.user_id not in {link.cmli_comm_userid for link in links}:
            self._add_link(communication, cmli_comm_userid=self.user_id)
        if targets.opportunity is not None and communication.comm_opportunityid is None:
            communication.comm_opportunityid = targets.opportunity
            linked.append(RecordRef(entity=RecordEntity.OPPORTUNITY, id=targets.opportunity))
        if targets.case is not None and communication.comm_caseid is None:
            communication.comm_caseid = targets.case
            linked.append(RecordRef(entity=RecordEntity.CASE, id=targets.case))
        if linked:
            communication.updated_by = self.user_id
        self.db.flush()
        return linked

    @staticmethod
    def _check_single_slot(
        communication: Communication, entity: str, current: int | None, wanted: int | None
    ) -> None:
        if wanted is not None and current is not None and current != wanted:
            raise Conflict(
                f"the email {communication.comm_messageid} is filed as communication "
                f"{communication.comm_communicationid} to {entity} {current}; a communication "
                f"carries one {entity}, so it cannot also be filed to {entity} {wanted}"
            )

    def _add_link(self, communication: Communication, **record: int) -> None:
        self.db.add(
            CommLink(
                cmli_comm_communicationid=communication.comm_communicationid,
                created_by=self.user_id,
                updated_by=self.user_id,
                **record,
            )
        )
