"""Signed JSON requests to the service, with refusals turned into `ApiError`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import httpx2

from s3auth_client.errors import ApiError
from s3auth_client.identity import Identity
from s3auth_client.retry import RetryPolicy

# tao: Tao v2 headers (today's clients); btauth: bittensor's btauth/1 headers; legacy: the
# signature in the JSON body, which only the endpoints of the seed and hotkey eras take.
Auth = Literal["tao", "btauth", "legacy"]
AUTH_SCHEMES: tuple[Auth, ...] = ("tao", "btauth", "legacy")
DEFAULT_AUTH: Auth = "tao"


def header_scheme(auth: Auth) -> Auth:
    """The header scheme for endpoints that take no legacy body signature."""
    return DEFAULT_AUTH if auth == "legacy" else auth


DEFAULT_TIMEOUT = httpx2.Timeout(30.0, connect=10.0)


def new_http_client() -> httpx2.Client:
    return httpx2.Client(
        timeout=DEFAULT_TIMEOUT, limits=httpx2.Limits(max_connections=32), follow_redirects=False
    )


class Api:
    """One service at `base_url`, called as `identity`; every attempt is signed afresh."""

    def __init__(
        self,
        base_url: str,
        identity: Identity,
        *,
        http: httpx2.Client | None = None,
        server_hotkey: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.identity = identity
        self.http = http or new_http_client()
        self.server_hotkey = server_hotkey
        self.retry = retry or RetryPolicy()
        # Server time minus ours, learnt from a stale_timestamp refusal.
        self.clock_offset = 0

    def close(self) -> None:
        self.http.close()

    def url(self, path: str) -> str:
        return urljoin(self.base_url, path.lstrip("/"))

    def post(
        self,
        path: str,
        body: dict[str, Any],
        *,
        auth: Auth = DEFAULT_AUTH,
        legacy_message: Callable[[int], str] | None = None,
    ) -> dict[str, Any]:
        """POST `body`; on 429/503 and network errors retry with backoff, re-signing."""
        return self.retry.run(lambda: self._post_once(path, body, auth, legacy_message))

    def _post_once(
        self,
        path: str,
        body: dict[str, Any],
        auth: Auth,
        legacy_message: Callable[[int], str] | None,
    ) -> dict[str, Any]:
        try:
            return self.send(path, *self.sign(path, body, auth, legacy_message))
        except ApiError as error:
            if error.code != "stale_timestamp" or auth == "btauth" or error.server_time is None:
                raise
            # The clocks disagree: sign again on the server's clock, once.
            self.clock_offset = server_seconds(error.server_time) - int(time.time())
            return self.send(path, *self.sign(path, body, auth, legacy_message))

    def sign(
        self,
        path: str,
        body: dict[str, Any],
        auth: Auth,
        legacy_message: Callable[[int], str] | None,
    ) -> tuple[bytes, dict[str, str]]:
        headers = {"Content-Type": "application/json"}
        if auth == "legacy":
            if legacy_message is None:
                raise ValueError(f"{path} has no legacy signature; use btauth")
            timestamp = int(time.time()) + self.clock_offset
            body = {
                **body,
                "hotkey": self.identity.hotkey_ss58,
                "timestamp": timestamp,
                "signature": self.identity.sign_hex(legacy_message(timestamp)),
            }
            return json.dumps(body).encode(), headers
        raw = json.dumps(body).encode()
        if auth == "tao":
            headers.update(self.identity.tao_headers(raw, clock_offset_ms=self.clock_offset * 1000))
            return raw, headers
        target = urlsplit(self.url(path))
        signed_path = target.path + (f"?{target.query}" if target.query else "")
        headers.update(self.identity.btauth_headers("POST", signed_path, raw, self.server_hotkey))
        return raw, headers

    def send(self, path: str, raw: bytes, headers: dict[str, str]) -> dict[str, Any]:
        response = self.http.post(self.url(path), content=raw, headers=headers)
        return parse_response(response)


def parse_response(response: httpx2.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if response.is_success and isinstance(payload, dict):
        return payload
    if response.is_success:
        raise ApiError(response.status_code, "invalid_response", "The service sent no JSON.")
    retry_after = retry_after_seconds(response)
    if isinstance(payload, dict):
        server_time = payload.get("server_time")
        raise ApiError(
            response.status_code,
            str(payload.get("code", "http_error")),
            str(payload.get("detail", response.reason_phrase)),
            retry_after=retry_after,
            server_time=server_time if isinstance(server_time, int) else None,
        )
    first_line = next(iter(response.text.strip().splitlines()), "no detail")
    raise ApiError(response.status_code, "http_error", first_line[:200], retry_after=retry_after)


def server_seconds(server_time: int) -> int:
    """`server_time` of a stale_timestamp refusal in seconds (Tao v2 servers may send ms)."""
    return server_time // 1000 if server_time > 10**11 else server_time


def retry_after_seconds(response: httpx2.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None
