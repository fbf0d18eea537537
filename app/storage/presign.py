"""Presigned POST policies, list URLs and GET URLs: pure signing, no network.

Signing is done by `app.storage.sigv4` rather than botocore's client methods, which spend
~150 µs per URL on request objects, hooks and endpoint rules; `bench.presign` measures the
options. What botocore decides once per bucket (endpoint, addressing style, signing region)
is still taken from botocore, so URLs are byte-identical to the ones its client would sign.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit

from botocore.client import BaseClient

from app.errors import Unavailable
from app.storage.sigv4 import UNSIGNED_PAYLOAD, Signer, encode, encode_key

POLICY_EXPIRATION = "%Y-%m-%dT%H:%M:%SZ"
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class UploadForm:
    url: str
    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class Addressing:
    """Where botocore sends this bucket's requests, and what it signs them for."""

    origin: str  # scheme://netloc
    host: str  # the signed Host header
    bucket_path: str  # path of bucket-level requests (ListObjectsV2)
    object_path: str  # prefix of object paths, ends with "/"
    post_url: str
    region: str


def signed_host(parts: SplitResult) -> str:
    """The Host header value botocore signs: lowercase host, port only when not default."""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


def addressing_of(client: BaseClient, bucket: str) -> Addressing:
    """Ask botocore once how it addresses `bucket` (path or virtual host, region)."""
    probe_key = "k"
    get = urlsplit(
        client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": probe_key}, ExpiresIn=60
        )
    )
    listing = urlsplit(
        client.generate_presigned_url("list_objects_v2", Params={"Bucket": bucket}, ExpiresIn=60)
    )
    post_url = client.generate_presigned_post(Bucket=bucket, Key=probe_key, ExpiresIn=60)["url"]
    credential = parse_qs(get.query)["X-Amz-Credential"][0]
    return Addressing(
        origin=f"{get.scheme}://{get.netloc}",
        host=signed_host(get),
        bucket_path=listing.path,
        object_path=get.path[: -len(probe_key)],
        post_url=post_url,
        region=credential.split("/")[2],
    )


class Presigner:
    """Signs with the server's credentials; every URL it makes lives `expires_in` seconds.

    Credentials are re-read from the boto client on every call, so temporary credentials
    that botocore refreshes (instance roles, SSO, assumed roles) are always current.
    """

    def __init__(
        self, client: BaseClient, bucket: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.clock = clock
        self._addressing: Addressing | None = None
        self._signer: tuple[tuple[int, str, str, str | None], Signer] | None = None
        self._lock = threading.Lock()

    @property
    def addressing(self) -> Addressing:
        if self._addressing is None:
            self._credentials()  # a clear 503 rather than botocore's NoCredentialsError
            with self._lock:
                if self._addressing is None:
                    self._addressing = addressing_of(self.client, self.bucket)
        return self._addressing

    def _credentials(self) -> Any:
        # botocore has no public accessor; this is the provider its own signer reads.
        provider = self.client._get_credentials()  # type: ignore[attr-defined]
        frozen = provider.get_frozen_credentials() if provider is not None else None
        if frozen is None or not frozen.access_key or not frozen.secret_key:
            raise Unavailable(
                "Storage credentials are not available; try again later.",
                code="storage_unavailable",
            )
        return frozen

    def signer(self, now: float | None = None) -> Signer:
        """The signer for this second and these credentials (one key derivation per day)."""
        creds = self._credentials()
        second = int(self.clock() if now is None else now)
        ident = (second, creds.access_key, creds.secret_key, creds.token)
        cached = self._signer
        if cached is not None and cached[0] == ident:
            return cached[1]
        signer = Signer.at(
            second,
            access_key=creds.access_key,
            secret_key=creds.secret_key,
            token=creds.token,
            region=self.addressing.region,
        )
        self._signer = (ident, signer)
        return signer

    def upload_form(
        self, prefix: str, *, min_bytes: int, max_bytes: int, expires_in: int
    ) -> UploadForm:
        """A POST form that S3 accepts only for keys under `prefix` and sizes in range."""
        now = int(self.clock())
        signer = self.signer(now)
        conditions: list[Any] = [
            ["content-length-range", min_bytes, max_bytes],
            {"acl": "private"},
            {"bucket": self.bucket},
            ["starts-with", "$key", prefix],
        ]
        fields = signer.post_fields(
            expiration=time.strftime(POLICY_EXPIRATION, time.gmtime(now + expires_in)),
            conditions=conditions,
            fields={"acl": "private"},
        )
        return UploadForm(url=self.addressing.post_url, fields=fields)

    def key_upload_form(
        self,
        key: str,
        *,
        min_bytes: int,
        max_bytes: int,
        expires_in: int,
        content_type: str | None = None,
    ) -> UploadForm:
        """A POST form for exactly `key` (carried in its fields) and sizes in range."""
        now = int(self.clock())
        signer = self.signer(now)
        fields = {"key": key}
        conditions: list[Any] = [
            ["content-length-range", min_bytes, max_bytes],
            {"bucket": self.bucket},
            {"key": key},
        ]
        if content_type is not None:
            fields["Content-Type"] = content_type
            conditions.append({"Content-Type": content_type})
        fields = signer.post_fields(
            expiration=time.strftime(POLICY_EXPIRATION, time.gmtime(now + expires_in)),
            conditions=conditions,
            fields=fields,
        )
        return UploadForm(url=self.addressing.post_url, fields=fields)

    def put_url(self, key: str, *, expires_in: int) -> str:
        """A PutObject URL for exactly `key`; only `host` is signed, so any body is taken."""
        return self._object_url("PUT", key, expires_in)

    def head_url(self, key: str, *, expires_in: int) -> str:
        return self._object_url("HEAD", key, expires_in)

    def _object_url(self, method: str, key: str, expires_in: int) -> str:
        where = self.addressing
        path = where.object_path + encode_key(key)
        query = self.signer().presign_query(
            host=where.host, path=path, params=[], expires_in=expires_in, method=method
        )
        return f"{where.origin}{path}?{query}"

    def page_url(self, prefix: str, *, expires_in: int, token: str | None = None) -> str:
        """A ListObjectsV2 URL of one page of `prefix`, from `token` on when given."""
        if token is None:
            return self.list_url(prefix, expires_in=expires_in)
        where = self.addressing
        params = [
            ("continuation-token", encode(token)),
            ("encoding-type", "url"),
            ("list-type", "2"),
            ("prefix", encode(prefix)),
        ]
        query = self.signer().presign_query(
            host=where.host, path=where.bucket_path, params=params, expires_in=expires_in
        )
        return f"{where.origin}{where.bucket_path}?{query}"

    def list_url(self, prefix: str, *, expires_in: int, delimiter: str | None = None) -> str:
        """A ListObjectsV2 URL for `prefix`; keys come back URL-encoded, as botocore asks."""
        return self.list_urls([prefix], expires_in=expires_in, delimiter=delimiter)[0]

    def list_urls(
        self, prefixes: Iterable[str], *, expires_in: int, delimiter: str | None = None
    ) -> list[str]:
        """ListObjectsV2 URLs for many prefixes, sharing everything but the prefix."""
        where = self.addressing
        signer = self.signer()
        auth_canonical, auth_url = signer.auth_params(expires_in)
        signature = signer.signature
        # Canonical order sorts X-Amz-* first, then delimiter < encoding-type < list-type
        # < prefix; the URL keeps botocore's order.
        delimiter_param = f"&delimiter={encode(delimiter)}" if delimiter else ""
        canonical_head = (
            f"GET\n{where.bucket_path}\n{auth_canonical}{delimiter_param}"
            "&encoding-type=url&list-type=2&prefix="
        )
        canonical_tail = f"\nhost:{where.host}\n\nhost\n{UNSIGNED_PAYLOAD}"
        url_head = f"{where.origin}{where.bucket_path}?list-type=2&prefix="
        url_tail = f"{delimiter_param}&encoding-type=url&{auth_url}&X-Amz-Signature="
        urls = []
        for prefix in prefixes:
            encoded = encode(prefix)
            sig = signature(canonical_head + encoded + canonical_tail)
            urls.append(url_head + encoded + url_tail + sig)
        return urls

    def get_url(self, key: str, *, expires_in: int) -> str:
        return self.get_urls([key], expires_in=expires_in)[0]

    def get_urls(self, keys: Iterable[str], *, expires_in: int) -> list[str]:
        """GetObject URLs for many keys, sharing everything but the key."""
        where = self.addressing
        signer = self.signer()
        auth_canonical, auth_url = signer.auth_params(expires_in)
        signature = signer.signature
        canonical_tail = f"\n{auth_canonical}\nhost:{where.host}\n\nhost\n{UNSIGNED_PAYLOAD}"
        url_tail = f"?{auth_url}&X-Amz-Signature="
        urls = []
        for key in keys:
            path = where.object_path + encode_key(key)
            urls.append(where.origin + path + url_tail + signature(f"GET\n{path}{canonical_tail}"))
        return urls
