"""Log lines for operators: plain text by default, one JSON object per line with
``ANSHIN_LOG_FORMAT=json``. Shared by edge and central so a log pipeline parses both alike.

JSON fields: ``ts`` (ISO 8601 UTC, milliseconds), ``level``, ``logger``, ``msg``, ``process``,
``thread``, ``exc`` (the traceback, when there is one) and any ``extra={...}`` values given to
the logging call.

>>> import logging
>>> record = logging.LogRecord("edge.publish", logging.WARNING, __file__, 1, "outbox %d", (12,), None)
>>> record.created = 1767225600.0
>>> line = json.loads(JsonFormatter().format(record))
>>> line["ts"], line["level"], line["logger"], line["msg"]
('2026-01-01T00:00:00.000Z', 'WARNING', 'edge.publish', 'outbox 12')
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime, timezone
from typing import Any

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, tz=timezone.utc)
        doc: dict[str, Any] = {
            "ts": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "process": record.process,
            "thread": record.threadName,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                doc[key] = value
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, ensure_ascii=False)


def log_format() -> str:
    """``json`` or ``text`` from ``ANSHIN_LOG_FORMAT`` (anything else is an error, named)."""
    fmt = os.environ.get("ANSHIN_LOG_FORMAT", "text").strip().lower() or "text"
    if fmt not in ("json", "text"):
        raise ValueError(f"ANSHIN_LOG_FORMAT must be 'json' or 'text', got {fmt!r}")
    return fmt


def make_formatter() -> logging.Formatter:
    return JsonFormatter() if log_format() == "json" else logging.Formatter(TEXT_FORMAT)


def configure_logging(level: str | None = None) -> None:
    """Root logger to stderr in the chosen format; level from ``level`` or ``ANSHIN_LOG_LEVEL`` (INFO)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(make_formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel((level or os.environ.get("ANSHIN_LOG_LEVEL") or "INFO").upper())


def uvicorn_log_config() -> dict[str, Any]:
    """``uvicorn.run(log_config=...)`` that formats uvicorn's own lines the same way."""
    formatter = {"()": JsonFormatter} if log_format() == "json" else {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"anshin": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "anshin", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": os.environ.get("ANSHIN_LOG_LEVEL", "INFO").upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": True},
        },
    }
