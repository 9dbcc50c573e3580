from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.models.imports import ImportFormat, ImportStatus


class ImportQueued(BaseModel):
    import_id: int


class ImportRead(BaseModel):
    import_id: int
    status: ImportStatus
    format: ImportFormat
    file_name: str
    dry_run: bool
    create_companies: bool
    user_id: int | None = Field(description="the CRM user the imported persons are flagged for")
    rows_total: int | None = Field(description="contact rows in the file; null until counted")
    rows_done: int
    counts: dict[str, int] = Field(
        description="rows by outcome: imported (new in a dry run), duplicate, invalid"
    )
    warnings: list[str]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
