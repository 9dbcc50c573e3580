"""Logging for operators: one handler on the root logger, as text or one JSON object a line.

`CRMSYNC_LOG_FORMAT=json` suits log shippers: every record is a JSON object with its time,
level, logger and message, plus the facts a record carries (a run's line carries its run,
user, outcome, duration, EWS requests and per-entity figures).
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# crmsync logs one line per run itself; Celery's per-task lines would double it at INFO.
# Alembic's plugin set-up says nothing an operator needs.
_QUIETER = ("celery.app.trace", "celery.worker.strategy", "alembic.runtime.plugins")


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(level: str | int, log_format: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _QUIETER:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
