"""ASGI guards that run before routing: a hard body ceiling, and paths made canonical."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PayloadTooLarge, error_response, note_refusal

ANY_BODY_LIMIT = 256 * 1024


class BodySizeLimit:
    def __init__(self, app: ASGIApp, limit: int = ANY_BODY_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._too_large(scope, receive, send)
                return

        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = message["type"] == "http.response.start" or response_started
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not response_started:
                await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Built only when needed: most requests are small, and this runs on every one.
        error = PayloadTooLarge(f"The request body is larger than {self.limit} bytes.")
        note_refusal(scope, error)
        await error_response(error)(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


_SLASHES = re.compile(r"//+")


class CollapseSlashes:
    """Routes `//get-file-presigned-urls` as `/get-file-presigned-urls`.

    Some deployed validators join a base URL that ends in `/` with a path that starts
    with one; the doubled slash must still reach the route.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "//" in scope["path"]:
            scope = dict(scope)
            scope["path"] = _SLASHES.sub("/", scope["path"])
            scope["raw_path"] = re.sub(rb"//+", b"/", scope.get("raw_path") or b"") or None
            if scope["raw_path"] is None:
                del scope["raw_path"]
        await self.app(scope, receive, send)
