"""Request and response bodies of the public endpoints (CONTRACT §3)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Far beyond any real unix time in seconds; bounds the integers clients can make us parse.
MAX_UNIX_SECONDS = 10**11


class HeaderSignedBody(BaseModel):
    """Body of an endpoint signed only by headers; `hotkey`, if sent, must be the signer's."""

    model_config = ConfigDict(extra="ignore")

    hotkey: str | None = Field(
        None, max_length=64, description="Optional; if sent, must be the signing hotkey."
    )


class SignedBody(HeaderSignedBody):
    """Fields of the legacy body signature; all optional when signed-request headers are sent."""

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
    source: str | None = Field(
        None,
        max_length=64,
        description="Data source, e.g. `x` or `reddit` (seed era); omit for the hotkey folder.",
    )


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
    method: str = Field("POST", description="Always POST: a folder grant is a POST policy.")
    structure_info: dict[str, str] = Field(description="`folder_structure`: the folder.")


class ErrorBody(BaseModel):
    detail: str
    code: str


class ListFilesRequest(HeaderSignedBody):
    source: str = Field(max_length=64, description="Data source, e.g. `x` or `reddit`.")
    coldkey: str = Field(max_length=64, description="Coldkey whose folder to list, SS58.")
    continuation_token: str | None = Field(
        None, max_length=4096, description="`next_token` of the previous page."
    )
    max_keys: int = Field(1000, ge=1, le=1000, description="Files per page.")


class FileUrlsRequest(HeaderSignedBody):
    keys: list[Annotated[str, Field(min_length=1, max_length=1024)]] = Field(
        max_length=1000, description="Object keys under `data/`, at most 1000."
    )
    expires_in: int = Field(
        3600, ge=1, description="Seconds the URLs live; at most ACCESS_TTL_SECONDS."
    )


class ValidatorUrls(BaseModel):
    global_: dict[str, str] = Field(alias="global", description="`list_all_data`.")
    sources: dict[str, dict[str, str]] = Field(
        description="Per source: `list_miners` (delimited list of its folders) and `prefix`."
    )
    miners: dict[str, dict[str, dict[str, str]]] = Field(
        description="Per folder name, per source: `list_files` and `prefix`."
    )


class ValidatorAccess(BaseModel):
    bucket: str
    region: str
    validator_hotkey: str
    expiry: str = Field(description="When every URL of the bundle stops working (ISO-8601 UTC).")
    expiry_seconds: int
    urls: ValidatorUrls


class FileEntry(BaseModel):
    key: str
    size: int
    last_modified: str = Field(description="ISO-8601 UTC.")
    url: str = Field(description="Presigned GET URL.")


class FileList(BaseModel):
    files: list[FileEntry]
    next_token: str | None = Field(description="Pass as `continuation_token` for the next page.")
    expiry: str = Field(description="When the file URLs stop working (ISO-8601 UTC).")


class FileUrls(BaseModel):
    urls: dict[str, str] = Field(description="Presigned GET URL per requested key.")
    expiry: str


class MinerSpecificAccessRequest(SignedBody):
    miner_hotkey: str = Field(max_length=64, description="Hotkey of the miner to list, SS58.")


class MinerSpecificAccess(BaseModel):
    miner_url: str = Field(description="Presigned ListObjectsV2 URL of the miner's folder.")
    prefix: str
    expiry: str = Field(description="When the URL stops working (ISO-8601 UTC).")
    expiry_seconds: int


class FileUploadUrlRequest(BaseModel):
    job_id: str = Field(max_length=1024, description="Dynamic Desirability job id.")
    filename: str = Field(
        max_length=1024,
        description="`data_<YYYYMMDD>_<HHMMSS>_<rows>_<16 lower-case hex>.parquet`.",
    )


class FileUploadUrl(BaseModel):
    s3_key: str
    url: str = Field(description="POST the form (or PUT the bytes) here.")
    fields: dict[str, str] = Field(description="Every form field, `key` included; {} for PUT.")
    expires_in_seconds: int
    method: str = Field(description="`POST` or `PUT`.")


class MinerListRequest(SignedBody):
    miner_hotkey: str = Field(max_length=64, description="Hotkey of the miner to list, SS58.")
    continuation_token: str | None = Field(
        None, max_length=4096, description="`NextContinuationToken` of the previous page."
    )


class MinerList(BaseModel):
    list_url: str = Field(description="Presigned ListObjectsV2 URL of one page.")
    expires_in_seconds: int


class MinerFiles(SignedBody):
    miner_hotkey: str = Field(max_length=64, description="Hotkey of the miner, SS58.")
    file_keys: list[Annotated[str, Field(max_length=2048)]] = Field(
        min_length=1, max_length=1000, description="Keys under the miner's hotkey folder."
    )
    expiry_hours: float = Field(1, gt=0, le=3, description="Hours the URLs live, at most 3.")


class MinerFileUrl(BaseModel):
    presigned_url: str
    file_key: str
    expires_in_seconds: int
    file_name: str


class MinerFileUrls(BaseModel):
    miner_hotkey: str
    expiry_hours: float
    file_urls: dict[str, MinerFileUrl]
    invalid_files: list[str]
