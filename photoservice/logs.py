"""Structured logs: one JSON object per line on stderr (python-json-logger's formatter).

Every record has ``ts``, ``level``, ``logger`` and ``event`` (the message); the fields passed as
``extra={...}`` follow. uvicorn's own records go through the same formatter; its access log is off, the
transports write their own ``request`` lines.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

__all__ = ["setup_logging"]


def setup_logging(level: str = "info") -> None:
    """Send every log record to stderr as a JSON line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            ["asctime", "levelname", "name", "message"],
            datefmt="%Y-%m-%dT%H:%M:%S%z",
            json_ensure_ascii=False,
            rename_fields={"asctime": "ts", "levelname": "level", "name": "logger", "message": "event"},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
