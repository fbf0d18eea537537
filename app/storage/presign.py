"""Presigned POST policies, list URLs and GET URLs: pure signing, no network."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient


@dataclass(frozen=True, slots=True)
class UploadForm:
    url: str
    fields: dict[str, str]


class Presigner:
    """Signs with the server's credentials; every URL it makes lives `expires_in` seconds."""

    def __init__(self, client: BaseClient, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def upload_form(
        self, prefix: str, *, min_bytes: int, max_bytes: int, expires_in: int
    ) -> UploadForm:
        """A POST form that S3 accepts only for keys under `prefix` and sizes in range."""
        # botocore adds the bucket and `starts-with $key prefix` conditions itself,
        # because the key ends in ${filename}.
        conditions: list[Any] = [
            ["content-length-range", min_bytes, max_bytes],
            {"acl": "private"},
        ]
        post = self.client.generate_presigned_post(
            Bucket=self.bucket,
            Key=prefix + "${filename}",
            Fields={"acl": "private"},
            Conditions=conditions,
            ExpiresIn=expires_in,
        )
        fields = {k: v for k, v in post["fields"].items() if k != "key"}
        return UploadForm(url=post["url"], fields=fields)

    def list_url(self, prefix: str, *, expires_in: int, delimiter: str | None = None) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            params["Delimiter"] = delimiter
        return self.client.generate_presigned_url(
            "list_objects_v2", Params=params, ExpiresIn=expires_in
        )

    def get_url(self, key: str, *, expires_in: int) -> str:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )
