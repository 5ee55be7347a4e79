"""Logging set-up: standard :mod:`logging`, one line per event, JSON if asked.

Long-running processes (the worker) log through ``logging.getLogger("paperwire…")``
rather than printing, so a deployment can ship the lines to its log system;
``PAPERWIRE_LOG_FORMAT=json`` makes each line one JSON object whose extra
fields (``job``, ``outcome``, ``records``, ``seconds``) are kept as keys.
"""

from __future__ import annotations

import json
import logging
import sys

#: Attributes every LogRecord has; anything else was passed as ``extra``.
_STANDARD = set(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            data["traceback"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def configure_logging(fmt: str = "text", level: str = "INFO") -> None:
    """Route ``paperwire.*`` loggers to stderr in the chosen format (idempotent)."""
    logger = logging.getLogger("paperwire")
    logger.setLevel(level.upper())
    handler = next((h for h in logger.handlers if getattr(h, "_paperwire", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler._paperwire = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S"))
