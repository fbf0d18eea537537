"""Remote files as the service lists them, and the S3 ListObjectsV2 XML fallback."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote


@dataclass(frozen=True)
class RemoteFile:
    key: str
    size: int
    last_modified: str | None = None
    url: str | None = None
    etag: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "size": self.size, "last_modified": self.last_modified}


@dataclass(frozen=True)
class Page:
    files: list[RemoteFile]
    next_token: str | None
    folders: tuple[str, ...] = ()  # CommonPrefixes of a delimited listing


def parse_list_files(payload: dict[str, Any]) -> Page:
    files = [
        RemoteFile(
            key=str(item["key"]),
            size=int(item["size"]),
            last_modified=item.get("last_modified"),
            url=item.get("url"),
            etag=item.get("etag"),
        )
        for item in payload.get("files", [])
    ]
    token = payload.get("next_token")
    return Page(files, str(token) if token else None)


def parse_list_objects_xml(text: str) -> Page:
    """A ListObjectsV2 result page (what a grant's presigned `list_url` answers)."""
    root = ET.fromstring(text)
    namespace = root.tag.split("}")[0] + "}" if root.tag.startswith("{") else ""

    def child(node: ET.Element, name: str) -> str | None:
        found = node.find(namespace + name)
        return found.text if found is not None else None

    # A listing asked with encoding-type=url (as boto3 presigns it) URL-encodes its keys.
    encoded = (child(root, "EncodingType") or "").lower() == "url"
    files = [
        RemoteFile(
            key=unquote(child(item, "Key") or "") if encoded else child(item, "Key") or "",
            size=int(child(item, "Size") or 0),
            last_modified=child(item, "LastModified"),
            etag=child(item, "ETag"),
        )
        for item in root.iter(namespace + "Contents")
    ]
    folders = tuple(
        unquote(text) if encoded else text
        for item in root.iter(namespace + "CommonPrefixes")
        if (text := child(item, "Prefix"))
    )
    truncated = (child(root, "IsTruncated") or "false").lower() == "true"
    return Page(files, child(root, "NextContinuationToken") if truncated else None, folders)


def walk_pages(first: Page, fetch: Any) -> Iterator[RemoteFile]:
    """Every file of `first` and of the pages `fetch(token)` returns after it."""
    page = first
    while True:
        yield from page.files
        if not page.next_token:
            return
        page = fetch(page.next_token)
