"""`ValidatorClient`: the access bundle, sources and miners, file listings, download URLs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx2

from s3auth_client.api import DEFAULT_AUTH, Api, Auth, header_scheme
from s3auth_client.errors import ClientError, TransferError
from s3auth_client.legacy import miner_files_message, miner_listing_message, validator_message
from s3auth_client.listing import (
    Page,
    RemoteFile,
    parse_list_files,
    parse_list_objects_xml,
    walk_pages,
)
from s3auth_client.transfer import s3_error

# /get-file-urls takes at most 1000 keys per request and bodies up to 256 KiB (CONTRACT §3).
URL_BATCH = 1000
URL_BATCH_BYTES = 200_000
REFRESH_MARGIN_SECONDS = 300
HOTKEY_FOLDER_PREFIX = "data/hotkey="


@dataclass(frozen=True)
class ValidatorAccess:
    """The /get-validator-access bundle: which sources and miner folders exist."""

    expires_at: float
    sources: dict[str, str]
    miners: dict[str, dict[str, str]]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_response(cls, data: dict[str, Any]) -> ValidatorAccess:
        try:
            urls = data["urls"]
            expiry = data["expiry"]
            expires_at = (
                float(expiry)
                if isinstance(expiry, int | float)
                else datetime.fromisoformat(str(expiry)).timestamp()
            )
            sources = {
                name: str(entry.get("prefix", f"data/{name}/"))
                for name, entry in urls.get("sources", {}).items()
            }
            miners = {
                coldkey: {
                    source: str(entry.get("prefix", f"data/{source}/{coldkey}/"))
                    for source, entry in folders.items()
                }
                for coldkey, folders in urls.get("miners", {}).items()
                # `list_all_miners` (a URL) sits beside the folders.
                if isinstance(folders, dict)
            }
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ClientError(
                f"the service sent a validator bundle this client cannot read: {exc}"
            ) from None
        return cls(expires_at, sources, miners, data)

    def miners_in(self, source: str) -> list[str]:
        return sorted(coldkey for coldkey, folders in self.miners.items() if source in folders)


class ValidatorClient:
    """Acts for one validator hotkey; read-only access to every miner folder."""

    def __init__(self, api: Api, *, auth: Auth = DEFAULT_AUTH) -> None:
        self.api = api
        self.auth = auth
        self._access: ValidatorAccess | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> ValidatorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request_access(self, *, expiry: int | None = None) -> ValidatorAccess:
        body: dict[str, Any] = {}
        if self.auth != "legacy":
            body["hotkey"] = self.api.identity.hotkey_ss58
        if expiry is not None:
            body["expiry"] = expiry
        data = self.api.post(
            "/get-validator-access", body, auth=self.auth, legacy_message=validator_message
        )
        return ValidatorAccess.from_response(data)

    def access(self) -> ValidatorAccess:
        """The bundle, fetched once and renewed when it is about to expire."""
        with self._lock:
            if self._access is None or self._access.expires_at - time.time() < (
                REFRESH_MARGIN_SECONDS
            ):
                self._access = self.request_access()
            return self._access

    def sources(self) -> list[str]:
        return sorted(self.access().sources)

    def miners(self, source: str | None = None) -> list[str]:
        access = self.access()
        return access.miners_in(source) if source else sorted(access.miners)

    def list_page(
        self, source: str, coldkey: str, *, token: str | None = None, page_size: int = 1000
    ) -> Page:
        body: dict[str, Any] = {"source": source, "coldkey": coldkey, "max_keys": page_size}
        if token:
            body["continuation_token"] = token
        return parse_list_files(self.api.post("/list-files", body, auth=header_scheme(self.auth)))

    def list_files(
        self, source: str, coldkey: str, *, page_size: int = 1000
    ) -> Iterator[RemoteFile]:
        """Every file of one miner folder, page after page."""
        first = self.list_page(source, coldkey, page_size=page_size)
        yield from walk_pages(
            first, lambda token: self.list_page(source, coldkey, token=token, page_size=page_size)
        )

    def file_urls(self, keys: Sequence[str], *, expires_in: int | None = None) -> dict[str, str]:
        """Presigned GET URLs for `keys`, asked for in batches the service accepts."""
        urls: dict[str, str] = {}
        for batch in batches(keys):
            body: dict[str, Any] = {"keys": batch}
            if expires_in is not None:
                body["expires_in"] = expires_in
            data = self.api.post("/get-file-urls", body, auth=header_scheme(self.auth))
            urls.update({str(k): str(v) for k, v in data.get("urls", {}).items()})
        return urls

    def renewed_url(self, key: str, *, miner_hotkey: str | None = None) -> str:
        """A fresh GET URL for one key (its first one expired mid-download)."""
        urls = self.hotkey_file_urls(miner_hotkey, [key]) if miner_hotkey else self.file_urls([key])
        if key not in urls:
            raise ClientError(f"the service gave no URL for {key}")
        return urls[key]

    # --- hotkey folders (data/hotkey=<miner hotkey>/): trusted validators ---------------

    def hotkey_folders(self) -> Page:
        """Miner hotkeys with a folder, from the bundle's `list_all_miners` listing.

        A presigned URL cannot be paged further, so this is its first page (`next_token`
        set when there are more).
        """
        url = self.access().raw.get("urls", {}).get("miners", {}).get("list_all_miners")
        if not isinstance(url, str) or not url:
            raise ClientError("this service's bundle has no list of hotkey folders")
        page = parse_list_objects_xml(self.api.retry.run(lambda: get_text(self.api.http, url)))
        hotkeys = tuple(
            folder.removeprefix(HOTKEY_FOLDER_PREFIX).rstrip("/")
            for folder in page.folders
            if folder.startswith(HOTKEY_FOLDER_PREFIX)
        )
        return Page([], page.next_token, hotkeys)

    def hotkey_page(self, miner_hotkey: str, token: str | None = None) -> Page:
        """One ListObjectsV2 page of the miner's hotkey folder, through /get-miner-list."""
        body: dict[str, Any] = {"miner_hotkey": miner_hotkey}
        if token:
            body["continuation_token"] = token
        data = self.api.post(
            "/get-miner-list",
            body,
            auth=self.auth,
            legacy_message=lambda ts: miner_listing_message(miner_hotkey, ts),
        )
        url = data.get("list_url")
        if not isinstance(url, str) or not url:
            raise ClientError("the service sent no list_url for the miner's hotkey folder")
        return parse_list_objects_xml(self.api.retry.run(lambda: get_text(self.api.http, url)))

    def hotkey_files(self, miner_hotkey: str) -> Iterator[RemoteFile]:
        """Every file under data/hotkey=<miner_hotkey>/, page after page."""
        first = self.hotkey_page(miner_hotkey)
        yield from walk_pages(first, lambda token: self.hotkey_page(miner_hotkey, token))

    def hotkey_file_urls(
        self, miner_hotkey: str, keys: Sequence[str], *, expiry_hours: int | None = None
    ) -> dict[str, str]:
        """GET URLs for keys of one hotkey folder, through /get-file-presigned-urls."""
        urls: dict[str, str] = {}
        for batch in batches(keys):
            body: dict[str, Any] = {"miner_hotkey": miner_hotkey, "file_keys": batch}
            if expiry_hours is not None:
                body["expiry_hours"] = expiry_hours
            data = self.api.post(
                "/get-file-presigned-urls",
                body,
                auth=self.auth,
                legacy_message=lambda ts: miner_files_message(
                    miner_hotkey, self.api.identity.hotkey_ss58, ts
                ),
            )
            for key, entry in dict(data.get("file_urls") or {}).items():
                url = entry.get("presigned_url") if isinstance(entry, dict) else entry
                if isinstance(url, str) and url:
                    urls[str(key)] = url
        return urls


def get_text(http: httpx2.Client, url: str) -> str:
    try:
        response = http.get(url)
    except httpx2.TransportError as exc:
        raise TransferError(f"listing failed: {exc}", transient=True) from None
    if not response.is_success:
        raise s3_error(response, "listing")
    return response.text


def batches(keys: Sequence[str]) -> Iterator[list[str]]:
    """Consecutive runs of keys small enough for one /get-file-urls request."""
    batch: list[str] = []
    size = 0
    for key in keys:
        cost = len(key.encode()) + 4  # quotes, comma and space in the JSON list
        if batch and (len(batch) == URL_BATCH or size + cost > URL_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(key)
        size += cost
    if batch:
        yield batch
