"""`MinerClient`: a grant for the miner's folder, uploads under it, and its listing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2

from s3auth_client.api import DEFAULT_AUTH, Api, Auth, header_scheme
from s3auth_client.errors import ApiError, ClientError, TransferError
from s3auth_client.legacy import miner_message
from s3auth_client.listing import (
    Page,
    RemoteFile,
    parse_list_files,
    parse_list_objects_xml,
    walk_pages,
)
from s3auth_client.policy import PolicyLimits, policy_limits
from s3auth_client.retry import RetryPolicy
from s3auth_client.transfer import post_file, s3_error

# Ask for a new grant when the current one has less than this left: a large file
# started just before expiry must still finish inside the policy's lifetime.
REFRESH_MARGIN_SECONDS = 600
# A 403 from a grant younger than this is the policy's verdict, not an expired form.
FRESH_GRANT_SECONDS = 60
# The key field is sent as-is; S3 would substitute this token inside it.
FILENAME_TOKEN = "${filename}"


@dataclass(frozen=True)
class Grant:
    folder: str
    url: str
    fields: dict[str, str]
    expires_at: float
    list_url: str
    limits: PolicyLimits
    issued_at: float = field(default_factory=time.time)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_response(cls, data: dict[str, Any]) -> Grant:
        try:
            folder, url, fields = str(data["folder"]), str(data["url"]), dict(data["fields"])
            expires_at = datetime.fromisoformat(str(data["expiry"])).timestamp()
        except (KeyError, TypeError, ValueError) as exc:
            raise ClientError(f"the service sent a grant this client cannot read: {exc}") from None
        return cls(
            folder=folder,
            url=url,
            fields=fields,
            expires_at=expires_at,
            list_url=str(data.get("list_url", "")),
            limits=policy_limits(fields, data),
            raw=data,
        )

    def seconds_left(self, now: float | None = None) -> float:
        return self.expires_at - (time.time() if now is None else now)

    def key_for(self, name: str) -> str:
        return self.folder + name.lstrip("/")


class MinerClient:
    """Acts for one miner hotkey in one source's folder."""

    def __init__(
        self,
        api: Api,
        source: str,
        *,
        auth: Auth = DEFAULT_AUTH,
        refresh_margin: float = REFRESH_MARGIN_SECONDS,
        transfer_retry: RetryPolicy | None = None,
    ) -> None:
        self.api = api
        self.source = source
        self.auth = auth
        self.coldkey = api.identity.require_coldkey()
        self.refresh_margin = refresh_margin
        self.transfer_retry = transfer_retry or api.retry
        self._grant: Grant | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> MinerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- grants -----------------------------------------------------------------------

    def request_grant(self, *, expiry: int | None = None) -> Grant:
        """A new grant from /get-folder-access, signed with the configured scheme."""
        body: dict[str, Any] = {"coldkey": self.coldkey, "source": self.source}
        if self.auth != "legacy":
            body["hotkey"] = self.api.identity.hotkey_ss58
        if expiry is not None:
            body["expiry"] = expiry
        data = self.api.post(
            "/get-folder-access",
            body,
            auth=self.auth,
            legacy_message=lambda ts: miner_message(self.coldkey, self.source, ts),
        )
        return Grant.from_response(data)

    def grant(self) -> Grant:
        """The current grant, renewed first if it is about to expire."""
        with self._lock:
            if self._grant is None or self._grant.seconds_left() < self.refresh_margin:
                self._grant = self.request_grant()
            return self._grant

    def _renew_if(self, stale: Grant) -> Grant:
        with self._lock:
            if self._grant is stale:
                self._grant = self.request_grant()
            assert self._grant is not None
            return self._grant

    @property
    def folder(self) -> str:
        return self.grant().folder

    @property
    def limits(self) -> PolicyLimits:
        return self.grant().limits

    # --- uploads ----------------------------------------------------------------------

    def upload_file(
        self, path: Path, name: str, *, on_progress: Callable[[int], None] | None = None
    ) -> str:
        """Upload `path` as `<folder><name>`; retries what may pass, returns the key."""
        if FILENAME_TOKEN in name:
            raise ClientError(f"{name!r} contains {FILENAME_TOKEN}, which S3 would rewrite")
        return self.transfer_retry.run(lambda: self._upload_once(path, name, on_progress))

    def _upload_once(self, path: Path, name: str, on_progress: Callable[[int], None] | None) -> str:
        grant = self.grant()
        try:
            return self.post_form(grant, grant.key_for(name), path, on_progress=on_progress)
        except TransferError as error:
            # An expired form answers 403; a young grant's 403 is a real refusal.
            if error.status != 403 or time.time() - grant.issued_at < FRESH_GRANT_SECONDS:
                raise
        grant = self._renew_if(grant)
        return self.post_form(grant, grant.key_for(name), path, on_progress=on_progress)

    def post_form(
        self,
        grant: Grant,
        key: str,
        path: Path,
        *,
        fields: dict[str, str] | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> str:
        """One multipart POST of `path` to S3 as `key`; raises TransferError unless 2xx."""
        form = {**(grant.fields if fields is None else fields), "key": key}
        post_file(self.api.http, grant.url, form, path, f"upload of {key}", on_progress)
        return key

    # --- listing ----------------------------------------------------------------------

    def list_files(self, *, page_size: int = 1000) -> Iterator[RemoteFile]:
        """Every file in the miner's folder, through /list-files (all pages)."""
        try:
            first = self._list_page(None, page_size)
        except ApiError as error:
            if error.status not in (404, 405):
                raise
            # A service without /list-files: the grant's list URL shows the first 1000.
            yield from self._list_with_grant_url()
            return
        yield from walk_pages(first, lambda token: self._list_page(token, page_size))

    def _list_page(self, token: str | None, page_size: int) -> Page:
        body: dict[str, Any] = {
            "source": self.source,
            "coldkey": self.coldkey,
            "max_keys": page_size,
        }
        if token:
            body["continuation_token"] = token
        return parse_list_files(self.api.post("/list-files", body, auth=header_scheme(self.auth)))

    def _list_with_grant_url(self) -> Iterator[RemoteFile]:
        grant = self.grant()
        response = self.transfer_retry.run(lambda: _get_listing(self.api.http, grant.list_url))
        yield from parse_list_objects_xml(response).files


def _get_listing(http: httpx2.Client, url: str) -> str:
    try:
        response = http.get(url)
    except httpx2.TransportError as exc:
        raise TransferError(f"listing the folder failed: {exc}", transient=True) from None
    if not response.is_success:
        raise s3_error(response, "listing the folder")
    return response.text
