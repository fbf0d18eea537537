"""AWS Signature Version 4 for S3 presigned URLs and POST policies (pure functions).

Produces exactly what botocore's S3SigV4QueryAuth and S3SigV4PostAuth produce for the same
inputs, at a fraction of the cost: the day's signing key is derived once and cached, and
no request objects, event hooks or endpoint rules run per URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from functools import lru_cache
from typing import Any
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
SERVICE = "s3"


@lru_cache(maxsize=32768)
def encode(value: str) -> str:
    """Query-string encoding of SigV4 (RFC 3986 unreserved characters stay).

    Cached: every bundle signs the same folder prefixes again, and `quote` costs as much
    as the rest of a signature.
    """
    return quote(value, safe="-_.~")


@lru_cache(maxsize=8192)
def encode_key(key: str) -> str:
    """An object key as a URL path: S3 keeps `/` as is and does not normalise the path."""
    return quote(key, safe="/~")


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.digest(key, message.encode(), "sha256")


@lru_cache(maxsize=32)
def signing_key(secret_key: str, date: str, region: str, service: str = SERVICE) -> bytes:
    """The key for one day, region and service; valid for every signature made that day."""
    k_date = _hmac(f"AWS4{secret_key}".encode(), date)
    return _hmac(_hmac(_hmac(k_date, region), service), "aws4_request")


class Signer:
    """Signs at one instant with one set of credentials; built once per second.

    Everything that does not depend on the URL is prepared here: the encoded credential,
    the auth parameters and the HMAC key schedule (its inner and outer SHA-256 states),
    so a signature costs two hash copies and a few string joins.
    """

    __slots__ = (
        "_auth_canonical",
        "_auth_url",
        "_inner",
        "_outer",
        "_sts_head",
        "access_key",
        "amz_date",
        "credential",
        "region",
        "token",
    )

    def __init__(
        self, *, access_key: str, token: str | None, amz_date: str, region: str, key: bytes
    ) -> None:
        self.access_key = access_key
        self.token = token
        self.amz_date = amz_date
        self.region = region
        scope = f"{amz_date[:8]}/{region}/{SERVICE}/aws4_request"
        self.credential = f"{access_key}/{scope}"
        self._sts_head = f"{ALGORITHM}\n{amz_date}\n{scope}\n"
        head = (
            f"X-Amz-Algorithm={ALGORITHM}&X-Amz-Credential={encode(self.credential)}"
            f"&X-Amz-Date={amz_date}&X-Amz-Expires="
        )
        token_param = "" if token is None else f"&X-Amz-Security-Token={encode(token)}"
        # botocore's URL order, and the sorted order the canonical request needs.
        self._auth_url = (head, f"&X-Amz-SignedHeaders=host{token_param}")
        self._auth_canonical = (head, f"{token_param}&X-Amz-SignedHeaders=host")
        block = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    @classmethod
    def at(
        cls, now: float, *, access_key: str, secret_key: str, token: str | None, region: str
    ) -> Signer:
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        key = signing_key(secret_key, amz_date[:8], region)
        return cls(access_key=access_key, token=token, amz_date=amz_date, region=region, key=key)

    def sign(self, string: str) -> str:
        """HMAC-SHA256 with the day's key (RFC 2104, from the prepared pad states)."""
        inner = self._inner.copy()
        inner.update(string.encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def auth_params(self, expires_in: int) -> tuple[str, str]:
        """The X-Amz-* parameters (without the signature): sorted for the canonical
        request, and in botocore's order for the URL."""
        expires = str(expires_in)
        head, tail = self._auth_canonical
        url_head, url_tail = self._auth_url
        return f"{head}{expires}{tail}", f"{url_head}{expires}{url_tail}"

    def signature(self, canonical_request: str) -> str:
        digest = hashlib.sha256(canonical_request.encode()).hexdigest()
        return self.sign(self._sts_head + digest)

    def presign_query(
        self,
        *,
        host: str,
        path: str,
        params: list[tuple[str, str]],
        expires_in: int,
        method: str = "GET",
    ) -> str:
        """The query string of a presigned URL: `params` (already encoded), auth, signature.

        Parameter order follows botocore (operation parameters, then X-Amz-*) so URLs are
        byte-identical to the ones its client would hand out.
        """
        auth_canonical, auth_url = self.auth_params(expires_in)
        auth_pairs = [tuple(p.split("=", 1)) for p in auth_canonical.split("&")]
        canonical_query = "&".join(f"{k}={v}" for k, v in sorted([*params, *auth_pairs]))
        signature = self.signature(
            f"{method}\n{path}\n{canonical_query}\nhost:{host}\n\nhost\n{UNSIGNED_PAYLOAD}"
        )
        own = "".join(f"{k}={v}&" for k, v in params)
        return f"{own}{auth_url}&X-Amz-Signature={signature}"

    def post_fields(
        self, *, expiration: str, conditions: list[Any], fields: dict[str, str]
    ) -> dict[str, str]:
        """Form fields of a POST policy: `fields`, the auth fields, `policy` and its signature.

        `conditions` are the caller's; the auth conditions are appended as botocore does.
        """
        signed = dict(fields)
        signed["x-amz-algorithm"] = ALGORITHM
        signed["x-amz-credential"] = self.credential
        signed["x-amz-date"] = self.amz_date
        conditions = [
            *conditions,
            {"x-amz-algorithm": ALGORITHM},
            {"x-amz-credential": self.credential},
            {"x-amz-date": self.amz_date},
        ]
        if self.token is not None:
            signed["x-amz-security-token"] = self.token
            conditions.append({"x-amz-security-token": self.token})
        policy = {"expiration": expiration, "conditions": conditions}
        signed["policy"] = base64.b64encode(json.dumps(policy).encode()).decode()
        signed["x-amz-signature"] = self.sign(signed["policy"])
        return signed
