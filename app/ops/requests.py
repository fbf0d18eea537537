"""Request ids and the access line: one ASGI middleware, outside every other.

`X-Request-ID` is taken from the request when it is 1-128 visible ASCII characters
(so a proxy's id follows the request through), otherwise generated; it is echoed on
every answer and carried by every log line written while the request runs.
"""

from __future__ import annotations

import logging
import os
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.ops.logs import RequestContext, current_request

access_logger = logging.getLogger("app.access")

HEADER = b"x-request-id"
MAX_ID_LENGTH = 128


def accepted_id(value: bytes | None) -> str | None:
    """The client's id when it is 1-128 visible ASCII characters (no spaces, no controls)."""
    if value is None or not 1 <= len(value) <= MAX_ID_LENGTH:
        return None
    if any(byte < 0x21 or byte > 0x7E for byte in value):
        return None
    return value.decode("ascii")


def request_id_of(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == HEADER:
            taken = accepted_id(value)
            if taken is not None:
                return taken
            break
    # 128 random bits as 32 hex digits, like a UUID4's hex without building one.
    return os.urandom(16).hex()


class RequestLog:
    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = RequestContext(request_id_of(scope))
        token = current_request.set(context)
        header = (HEADER, context.request_id.encode("ascii"))
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log:
                self._log(scope, status, time.perf_counter() - started, context)
            current_request.reset(token)

    def _log(self, scope: Scope, status: int, seconds: float, context: RequestContext) -> None:
        if not access_logger.isEnabledFor(logging.INFO):
            return
        # The route template (never the raw path or query): what /metrics counts too.
        matched = scope.get("route")
        route = getattr(matched, "path", None) or "unmatched"
        duration_ms = round(seconds * 1000, 1)
        hotkey = context.hotkey
        access_logger.info(
            "%s %s %d %.1f ms%s",
            scope["method"],
            route,
            status,
            duration_ms,
            f" hotkey={hotkey}" if hotkey else "",
            extra={
                "method": scope["method"],
                "route": route,
                "status": status,
                "duration_ms": duration_ms,
                "hotkey": hotkey,
            },
        )
