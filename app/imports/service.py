"""Contact imports: a file of contacts becomes CRM persons, batch by batch, with a report line
per row.

The API queues an import and a worker runs it; the CLI runs the same `run_import` in its own
process. Each batch commits whole — its persons, its report lines and the job's progress — so a
failure never leaves half a row, and a re-delivered job resumes after the last committed batch.
Rows already in the CRM (or earlier in the file) are duplicates, so running a file again adds
nothing.
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from app.config import Settings
from app.crm.flags import flag_persons
from app.crm.lookups import (
    NameKey,
    companies_by_name,
    name_key,
    persons_by_name,
    persons_with_email,
)
from app.crm.writer import PersonWriter
from app.db import Database, on_commit, unit_of_work
from app.imports import repository
from app.imports.parsers import ContactFile, ContactRow, UnreadableFile
from app.imports.schemas import ImportRead
from app.kit import jobs
from app.kit.clock import utc_now
from app.kit.errors import InvalidInput, NotFound, PayloadTooLarge
from app.kit.pagination import Page, PageRequest, make_page
from app.kit.spreadsheet_csv import SpreadsheetSafeWriter
from app.models.imports import ContactImport, ImportStatus, RowOutcome
from app.users import repository as users_repository

IMPORT_TASK = "imports.contacts"
BATCH_SIZE = 500
REPORT_COLUMNS = ("row", "outcome", "reason", "person_id", "contact")

# An import may wait behind long syncs; unlike a sync it must not expire in the queue.
_QUEUE_EXPIRY_SECONDS = 24 * 3600
_COPY_CHUNK_BYTES = 1024 * 1024
_REPORT_PAGE = 1000
_FINISHED = (ImportStatus.DONE, ImportStatus.FAILED)
_UPLOAD_NAME = "upload"

logger = logging.getLogger("crmsync.imports")

# Called after each committed batch with (rows done, rows in total).
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class ImportOptions:
    user_id: int | None = None
    dry_run: bool = False
    create_companies: bool = False


def to_read(job: ContactImport) -> ImportRead:
    return ImportRead(
        import_id=job.id,
        status=job.status,
        format=job.format,
        file_name=job.file_name,
        dry_run=job.dry_run,
        create_companies=job.create_companies,
        user_id=job.user_id,
        rows_total=job.rows_total,
        rows_done=job.rows_done,
        counts=job.counts,
        warnings=job.warnings,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def list_imports(
    db: Session, *, status: ImportStatus | None, user_id: int | None, page: PageRequest
) -> Page[ImportRead]:
    jobs = repository.list_imports(
        db, status=status, user_id=user_id, after_id=page.after_id, limit=page.limit + 1
    )
    return make_page([to_read(job) for job in jobs], [job.id for job in jobs], page)


def get_existing(db: Session, import_id: int) -> ContactImport:
    job = repository.get_import(db, import_id)
    if job is None:
        raise NotFound(f"no import {import_id}")
    return job


def create_import(
    db: Session, source: ContactFile, file_name: str, options: ImportOptions
) -> ContactImport:
    """Records a queued import of a file that has been opened (so its format is known)."""
    if options.user_id is not None:
        user = users_repository.get_crm_user(db, options.user_id)
        if user is None or not user.is_live:
            raise InvalidInput(f"user_id: no CRM user {options.user_id}")
    ignored = source.ignored_columns
    job = ContactImport(
        status=ImportStatus.QUEUED,
        format=source.format,
        file_name=file_name[:255],
        file_path=str(source.path.resolve()),
        dry_run=options.dry_run,
        create_companies=options.create_companies,
        user_id=options.user_id,
        rows_done=0,
        counts={},
        warnings=[f"columns ignored: {', '.join(ignored)}"] if ignored else [],
    )
    db.add(job)
    db.flush()
    return job


def _store(upload: BinaryIO, target: BinaryIO, limit: int) -> None:
    written = 0
    while chunk := upload.read(_COPY_CHUNK_BYTES):
        written += len(chunk)
        if written > limit:
            raise PayloadTooLarge(
                f"the file is larger than the {limit:,} bytes an import accepts "
                "(CRMSYNC_MAX_IMPORT_BYTES)"
            )
        target.write(chunk)


def queue_upload(
    db: Session, settings: Settings, upload: BinaryIO, file_name: str, options: ImportOptions
) -> ContactImport:
    """Stores an uploaded file in the data directory, as `imports/<id>/upload`, and queues its
    import once this transaction commits."""
    imports_dir = settings.data_dir / "imports"
    imports_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=imports_dir, prefix="incoming-", delete=False) as staged:
        staged_path = Path(staged.name)
    try:
        with staged_path.open("wb") as target:
            _store(upload, target, settings.max_import_bytes)
        job = create_import(db, ContactFile(staged_path), file_name, options)
        directory = imports_dir / str(job.id)
        # Left by an upload whose transaction rolled back after taking this id (SQLite reuses).
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir()
        job.file_path = str(staged_path.replace(directory / _UPLOAD_NAME).resolve())
    except UnreadableFile as exc:
        raise InvalidInput(f"file: {exc}") from None
    finally:
        staged_path.unlink(missing_ok=True)
    job_id = job.id
    on_commit(db, lambda: jobs.enqueue(IMPORT_TASK, job_id, expires=_QUEUE_EXPIRY_SECONDS))
    return job


def _emails(row: ContactRow) -> list[str]:
    return [
        row.values[path].lower()
        for path in ("email.Business", "email.Private")
        if path in row.values
    ]


def _matched_by_name(row: ContactRow) -> bool:
    """Rows are matched by name and company when they have a name, or no e-mail address to
    match by: two nameless rows of one company with different addresses are two people."""
    named = "pers_firstname" in row.values or "pers_lastname" in row.values
    return named or not _emails(row)


class _SeenRows:
    """Rows met earlier in this file, by e-mail address and by name and company name, and the
    person each stands for (an existing one, or the one it created)."""

    def __init__(self) -> None:
        self._row_by_key: dict[str, int] = {}
        self._person_by_row: dict[int, int | None] = {}

    @staticmethod
    def _keys(row: ContactRow) -> Iterator[tuple[str, str]]:
        for address in _emails(row):
            yield "e-mail address", f"email:{address}"
        if _matched_by_name(row):
            first, last, _ = name_key(
                row.values.get("pers_firstname"), row.values.get("pers_lastname"), None
            )
            company = row.values.get("company.comp_name", "")
            yield "name and company", f"name:{first}\x1f{last}\x1f{company}"

    def find(self, row: ContactRow) -> tuple[str, int] | None:
        """What matched, and the number of the earlier row."""
        for what, key in self._keys(row):
            if key in self._row_by_key:
                return what, self._row_by_key[key]
        return None

    def remember(self, row: ContactRow, person_id: int | None) -> None:
        for _, key in self._keys(row):
            self._row_by_key.setdefault(key, row.number)
        self._person_by_row[row.number] = person_id

    def set_person(self, row_number: int, person_id: int) -> None:
        self._person_by_row[row_number] = person_id

    def person_of(self, row_number: int) -> int | None:
        return self._person_by_row.get(row_number)


@dataclass(frozen=True)
class _Verdict:
    outcome: RowOutcome
    reason: str | None = None
    person_id: int | None = None
    # For rows whose person is only known once the batch is written: the row that made it.
    person_of_row: int | None = None


class _Batch:
    """One batch of rows, judged against the CRM with a few bulk queries."""

    def __init__(self, db: Session, rows: list[ContactRow], options: ImportOptions) -> None:
        self.db = db
        self.options = options
        valid = [row for row in rows if row.problem is None]
        self.by_email = persons_with_email(db, [a for row in valid for a in _emails(row)])
        self.company_ids = companies_by_name(
            db, [row.values.get("company.comp_name", "") for row in valid]
        )
        self.name_keys = {
            row.number: key for row in valid if (key := self._name_key(row)) is not None
        }
        self.by_name = persons_by_name(db, self.name_keys.values())

    def _name_key(self, row: ContactRow) -> NameKey | None:
        if not _matched_by_name(row):
            return None
        company = row.values.get("company.comp_name")
        company_id = self.company_ids.get(company) if company else None
        if company and company_id is None and self.options.create_companies:
            return None  # the company is yet to be created: nobody works there
        return name_key(
            row.values.get("pers_firstname"), row.values.get("pers_lastname"), company_id
        )

    def existing_person(self, row: ContactRow) -> _Verdict | None:
        for address in _emails(row):
            if address in self.by_email:
                person_id = self.by_email[address][0]
                return _Verdict(
                    RowOutcome.DUPLICATE, f"person {person_id} has this e-mail address", person_id
                )
        key = self.name_keys.get(row.number)
        if key is not None and key in self.by_name:
            person_id = self.by_name[key]
            return _Verdict(
                RowOutcome.DUPLICATE, f"person {person_id} has this name and company", person_id
            )
        return None

    def missing_company_note(self, row: ContactRow) -> str | None:
        company = row.values.get("company.comp_name")
        if company and company not in self.company_ids and not self.options.create_companies:
            return f"no company named {company!r} in the CRM: the person has no company"
        return None


def _judge_and_write(
    db: Session, rows: list[ContactRow], seen: _SeenRows, options: ImportOptions
) -> list[tuple[ContactRow, _Verdict]]:
    batch = _Batch(db, rows, options)
    verdicts = []
    new_rows = []
    for row in rows:
        if row.problem is not None:
            verdicts.append((row, _Verdict(RowOutcome.INVALID, row.problem)))
            continue
        earlier = seen.find(row)
        if earlier is not None:
            what, number = earlier
            reason = f"same {what} as row {number}"
            verdicts.append((row, _Verdict(RowOutcome.DUPLICATE, reason, person_of_row=number)))
            continue
        verdict = batch.existing_person(row)
        if verdict is None:
            outcome = RowOutcome.NEW if options.dry_run else RowOutcome.IMPORTED
            verdict = _Verdict(outcome, batch.missing_company_note(row), person_of_row=row.number)
            new_rows.append(row)
        seen.remember(row, verdict.person_id)
        verdicts.append((row, verdict))
    if new_rows and not options.dry_run:
        writer = PersonWriter(db, options.user_id, create_companies=options.create_companies)
        persons = writer.create_many([row.values for row in new_rows])
        for row, person in zip(new_rows, persons, strict=True):
            seen.set_person(row.number, person.pers_personid)
        if options.user_id is not None:
            flag_persons(db, options.user_id, [person.pers_personid for person in persons])
    return verdicts


def _batches(rows: Iterable[ContactRow], size: int) -> Iterator[list[ContactRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _report_rows(
    import_id: int, verdicts: list[tuple[ContactRow, _Verdict]], seen: _SeenRows
) -> list[dict[str, Any]]:
    return [
        {
            "import_id": import_id,
            "row_number": row.number,
            "outcome": verdict.outcome,
            "reason": verdict.reason,
            "person_id": (
                seen.person_of(verdict.person_of_row)
                if verdict.person_of_row is not None
                else verdict.person_id
            ),
            "contact": row.label or None,
        }
        for row, verdict in verdicts
    ]


def _import_rows(
    database: Database,
    import_id: int,
    source: ContactFile,
    options: ImportOptions,
    *,
    start: int,
    total: int,
    progress: ProgressCallback | None,
) -> bool:
    """Imports the rows after `start`; False when another delivery of the job got ahead."""
    rows = source.rows()
    seen = _SeenRows()
    # Rows before `start` were committed by an earlier delivery; they still count as seen.
    for row in islice(rows, start):
        if row.problem is None:
            seen.remember(row, None)
    position = start
    for batch in _batches(rows, BATCH_SIZE):
        with unit_of_work(database) as db:
            # The lock serializes two deliveries of one job; the later one sees it moved on.
            job = repository.get_import_for_update(db, import_id)
            if job is None or job.rows_done != position:
                return False
            verdicts = _judge_and_write(db, batch, seen, options)
            repository.add_report_rows(db, _report_rows(import_id, verdicts, seen))
            counts = Counter(job.counts)
            counts.update(verdict.outcome.value for _, verdict in verdicts)
            job.counts = dict(counts)
            job.rows_done = position + len(batch)
        position += len(batch)
        if progress is not None:
            progress(position, total)
    return True


def run_import(
    database: Database, import_id: int, progress: ProgressCallback | None = None
) -> ImportRead | None:
    """Runs a queued import to its end (or resumes a running one); None for an unknown id."""
    with unit_of_work(database) as db:
        job = repository.get_import_for_update(db, import_id)
        if job is None:
            return None
        if job.status in _FINISHED:
            return to_read(job)
        job.status = ImportStatus.RUNNING
        job.started_at = job.started_at or utc_now()
        path, start, total = Path(job.file_path), job.rows_done, job.rows_total
        options = ImportOptions(job.user_id, job.dry_run, job.create_companies)
    status, error = ImportStatus.DONE, None
    try:
        source = ContactFile(path)
        if total is None:
            total = source.count_rows()
            with unit_of_work(database) as db:
                get_existing(db, import_id).rows_total = total
        if progress is not None:
            progress(start, total)
        completed = _import_rows(
            database, import_id, source, options, start=start, total=total, progress=progress
        )
    except Exception as exc:
        logger.exception("contact import %s failed", import_id)
        status, error, completed = ImportStatus.FAILED, str(exc) or type(exc).__name__, True
    with unit_of_work(database) as db:
        job = get_existing(db, import_id)
        if completed:
            job.status, job.error, job.finished_at = status, error, utc_now()
        return to_read(job)


def report_lines(database: Database, import_id: int) -> Iterator[str]:
    """The report as CSV text, a page of rows at a time, each page read in a short session."""
    buffer = io.StringIO()
    # Imported cells are the uploader's text: a spreadsheet must not run them as formulas.
    writer = SpreadsheetSafeWriter(buffer)
    writer.writerow(REPORT_COLUMNS)
    after_row = 0
    while True:
        with unit_of_work(database) as db:
            page = repository.report_rows(db, import_id, after_row=after_row, limit=_REPORT_PAGE)
            writer.writerows(
                (line.row_number, line.outcome, line.reason, line.person_id, line.contact)
                for line in page
            )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(page) < _REPORT_PAGE:
            return
        after_row = page[-1].row_number
