"""One JSON object per log line, for log collectors that index fields rather than grep text.

Used by ``settings.LOGGING`` when ``LOG_FORMAT=json`` (the default with ``DEBUG=0``) and by
gunicorn.conf.py for gunicorn's own and access logs, so every app instance writes the same
shape: ``time``, ``level``, ``logger``, ``message``, the process id, and where known the
request (``method``, ``path``, ``status``) and the exception's traceback.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# Gunicorn passes the access-log atoms as the record's args: keep the useful ones.
_ACCESS_FIELDS = {
    "m": "method",
    "U": "path",
    "q": "query",
    "s": "status",
    "B": "bytes",
    "M": "duration_ms",
    "h": "remote",
    "a": "user_agent",
}


class JSONFormatter(logging.Formatter):
    """Format a record as a single-line JSON object (non-ASCII kept, never a raw newline)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        entry.update(_request_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _request_fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if record.name == "gunicorn.access" and isinstance(record.args, dict):
        for atom, name in _ACCESS_FIELDS.items():
            value = record.args.get(atom)
            if value not in (None, "-", ""):
                fields[name] = value
        return fields
    status = getattr(record, "status_code", None)
    if status is not None:
        fields["status"] = status
    request = getattr(record, "request", None)
    if request is not None and hasattr(request, "path"):
        fields["method"] = getattr(request, "method", None)
        fields["path"] = request.path
    return fields
