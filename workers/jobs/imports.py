"""Thin Celery task around app.imports.service.run_import."""

from __future__ import annotations

from app.db import get_database
from app.imports.service import IMPORT_TASK, run_import
from workers.celery_app import app


# Idempotent under acks_late: a re-delivered import resumes after its last committed batch,
# and a finished one is left alone.
@app.task(name=IMPORT_TASK, acks_late=True)
def import_contacts(import_id: int) -> None:
    run_import(get_database(), import_id)
