"""Log lines as text or JSON, each carrying its request's id, with secrets taken out.

Presigned URLs, policies and API keys are bearer secrets. The first defence is that the
service never logs them and that the HTTP client libraries, which log every request URL
at info or debug, are held at warning. The second is `redact`, applied to every line this
module's handler writes, whichever logger it came from.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import IO, Literal

LogFormat = Literal["text", "json"]
LogLevel = Literal["critical", "error", "warning", "info", "debug"]

# Libraries that log request URLs (with their presigned queries) or signing details.
NOISY_LOGGERS = (
    "aiobotocore",
    "boto3",
    "botocore",
    "httpcore",
    "httpcore2",
    "httpx",
    "httpx2",
    "s3transfer",
    "urllib3",
)
# Fields an access line adds to its JSON object (app/ops/requests.py sets them).
ACCESS_FIELDS = ("method", "route", "status", "duration_ms", "hotkey")
REDACTED = "<redacted>"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

_URL_QUERY = re.compile(r"(https?://[^\s?#\"'<>]+)\?[^\s\"'<>]*")
_SIGNED_PARAM = re.compile(
    r"(?i)\b(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|AWSAccessKeyId|Signature)"
    r"=[^&\s\"'<>]+"
)
_SECRET_FIELD = re.compile(
    r"(?i)([\"']?(?:policy|x-amz-signature|signature|api[_-]?key|password)[\"']?\s*[:=]\s*)"
    r"(\"[^\"]*\"|'[^']*'|[^\s,&}]+)"
)
_SECRET_WORDS = ("policy", "signature", "api_key", "api-key", "apikey", "password")
_BEARER = re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+")
_URL_PASSWORD = re.compile(r"(\w+://[^:/\s@]+:)[^@\s/]+@")


@dataclass(slots=True)
class RequestContext:
    """One request's id and, once its signature verified, its hotkey."""

    request_id: str
    hotkey: str | None = None


current_request: ContextVar[RequestContext | None] = ContextVar("current_request", default=None)


def note_hotkey(hotkey: str) -> None:
    """Marks the current request as signed by `hotkey`, for its access line."""
    context = current_request.get()
    if context is not None:
        context.hotkey = hotkey


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a key that contains another is removed whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        # Each pattern runs only when a substring it needs is there: most lines have none,
        # and an access line per request must stay cheap.
        low = text.lower()
        if "://" in text:
            if "?" in text:
                text = _URL_QUERY.sub(rf"\1?{REDACTED}", text)
            if "@" in text:
                text = _URL_PASSWORD.sub(rf"\1{REDACTED}@", text)
        if "=" in text and ("signature" in low or "x-amz-" in low or "awsaccesskeyid" in low):
            text = _SIGNED_PARAM.sub(rf"\1={REDACTED}", text)
        if any(word in low for word in _SECRET_WORDS):
            text = _SECRET_FIELD.sub(rf"\1{REDACTED}", text)
        if "bearer " in low or "basic " in low:
            text = _BEARER.sub(rf"\1 {REDACTED}", text)
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


class RequestIdFilter(logging.Filter):
    """Gives every record `request_id` ("-" outside a request), for both formats."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            context = current_request.get()
            record.request_id = context.request_id if context is not None else "-"
        return True


class TextFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__(TEXT_FORMAT)
        self.redact = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class JsonFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redact = redactor

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            # Redacted before encoding: JSON's escaping would hide quotes the patterns need.
            "message": self.redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", "-")
        if request_id != "-":
            entry["request_id"] = request_id
        for field in ACCESS_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class _ServiceHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one handler this module installs; replaced, never stacked, on reconfiguration."""


def configure_logging(
    level: str = "info",
    fmt: str = "text",
    *,
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
) -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _ServiceHandler)]:
        root.removeHandler(handler)
    handler = _ServiceHandler(stream if stream is not None else sys.stderr)
    redactor = Redactor(secrets)
    handler.setFormatter(JsonFormatter(redactor) if fmt == "json" else TextFormatter(redactor))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # uvicorn's loggers write through this handler (serve passes log_config=None); its
    # access line is replaced by app/ops/requests.py's, which knows route and hotkey.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = name != "uvicorn.access"


def secret_values(settings: object) -> list[str]:
    """Every secret setting's value (API keys, tokens, S3 credentials), to take out of logs."""
    from pydantic import SecretStr

    values: list[str] = []
    for name in type(settings).model_fields:  # type: ignore[attr-defined]
        value = getattr(settings, name)
        items = value if isinstance(value, tuple) else (value,)
        values.extend(v.get_secret_value() for v in items if isinstance(v, SecretStr))
    return values


def configure_from(settings: object) -> None:
    """Logging as the settings say (LOG_LEVEL, LOG_FORMAT), hiding their secrets."""
    configure_logging(
        settings.log_level,  # type: ignore[attr-defined]
        settings.log_format,  # type: ignore[attr-defined]
        secrets=secret_values(settings),
    )
