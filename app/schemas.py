"""Request and response bodies of the public endpoints (CONTRACT §3)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Far beyond any real unix time in seconds; bounds the integers clients can make us parse.
MAX_UNIX_SECONDS = 10**11


class SignedBody(BaseModel):
    """Fields of the legacy body signature; all optional when btauth/1 headers are sent."""

    model_config = ConfigDict(extra="ignore")

    hotkey: str | None = Field(None, max_length=64, description="Caller's hotkey, SS58.")
    timestamp: int | None = Field(
        None, ge=0, le=MAX_UNIX_SECONDS, description="Unix seconds when the message was signed."
    )
    signature: str | None = Field(
        None, max_length=140, description="Hex sr25519 signature, with or without 0x."
    )
    expiry: int | None = Field(
        None, ge=0, le=MAX_UNIX_SECONDS, description="Optional unix seconds the grant must end by."
    )


class FolderAccessRequest(SignedBody):
    coldkey: str = Field(max_length=64, description="Coldkey owning the hotkey, SS58.")
    source: str = Field(max_length=64, description="Data source, e.g. `x` or `reddit`.")


class ValidatorAccessRequest(SignedBody):
    pass


class FolderAccess(BaseModel):
    folder: str = Field(description="The only prefix the form can write under.")
    url: str = Field(description="S3 endpoint to POST the multipart form to.")
    fields: dict[str, str] = Field(description="Form fields to send along with `key` and `file`.")
    expiry: str = Field(description="When the form and list URL stop working (ISO-8601 UTC).")
    expiry_seconds: int
    list_url: str = Field(description="Presigned ListObjectsV2 URL for the folder.")
    bucket: str
    region: str
    min_bytes: int
    max_bytes: int


class ErrorBody(BaseModel):
    detail: str
    code: str
