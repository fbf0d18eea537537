"""`ValidatorClient`: the access bundle, sources and miners, file listings, download URLs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.auth.legacy import validator_message
from app.client.api import Api, Auth
from app.client.errors import ClientError
from app.client.listing import Page, RemoteFile, parse_list_files, walk_pages

# /get-file-urls takes at most 1000 keys per request and bodies up to 256 KiB (CONTRACT §3).
URL_BATCH = 1000
URL_BATCH_BYTES = 200_000
REFRESH_MARGIN_SECONDS = 300


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

    def __init__(self, api: Api, *, auth: Auth = "btauth") -> None:
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
        if self.auth == "btauth":
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
        return parse_list_files(self.api.post("/list-files", body, auth="btauth"))

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
            data = self.api.post("/get-file-urls", body, auth="btauth")
            urls.update({str(k): str(v) for k, v in data.get("urls", {}).items()})
        return urls


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
