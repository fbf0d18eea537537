"""Validators read every miner's data: the access bundle, paged listings and GET URLs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Response

from app.deps import DownloaderCaller, ReaderCaller, ServicesDep, ValidatorCaller
from app.error_codes import (
    ANY_SIGNATURE_REFUSALS,
    HEADER_SIGNATURE_REFUSALS,
    VALIDATOR_REFUSALS,
)
from app.routes import examples
from app.routes.openapi import answer, json_body, refusals, signed_with
from app.schemas import (
    FileEntry,
    FileList,
    FileUrls,
    FileUrlsRequest,
    ListFilesRequest,
    ValidatorAccess,
    ValidatorAccessRequest,
)
from app.storage.bundle import bundle_urls_json
from app.storage.layout import coldkey_folder
from app.storage.listing import list_page

router = APIRouter(tags=["validators"])

# How long /list-files URLs live: the /get-file-urls default, capped by ACCESS_TTL_SECONDS.
LIST_FILES_URL_SECONDS = 3600


def expiry_after(seconds: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="seconds")


@router.post(
    "/get-validator-access",
    response_model=ValidatorAccess,
    openapi_extra={
        **json_body(
            ValidatorAccessRequest,
            examples={
                "legacy body signature": examples.VALIDATOR_ACCESS_LEGACY,
                "Tao v2 or btauth/1 headers (no signature in the body)": {},
            },
        ),
        **signed_with("tao", "btauth", "legacy"),
    },
    responses={
        **answer(examples.VALIDATOR_ACCESS_ANSWER),
        **refusals(
            codes=(
                *ANY_SIGNATURE_REFUSALS,
                "invalid_expiry",
                *VALIDATOR_REFUSALS,
                "storage_unavailable",
                "bucket_missing",
            )
        ),
    },
)
async def get_validator_access(validator: ValidatorCaller, services: ServicesDep) -> Response:
    """Grant presigned list URLs for all of data/, each source and every miner folder."""
    settings = services.settings
    folders = await services.discovery.folders()
    head = json.dumps(
        {
            "bucket": settings.s3_bucket,
            "region": settings.s3_region,
            "validator_hotkey": validator.hotkey,
            "expiry": expiry_after(validator.expires_in),
            "expiry_seconds": validator.expires_in,
        },
        separators=(",", ":"),
    )
    urls = bundle_urls_json(services.presigner, folders, settings.sources, validator.expires_in)
    # Thousands of URLs: written once as JSON text, not validated again by a model.
    return Response(f'{head[:-1]},"urls":{urls}}}', media_type="application/json")


@router.post(
    "/list-files",
    response_model=FileList,
    openapi_extra={
        **json_body(ListFilesRequest, example=examples.LIST_FILES_REQUEST),
        **signed_with("tao", "btauth"),
    },
    responses={
        **answer(examples.LIST_FILES_ANSWER),
        **refusals(
            codes=(
                *HEADER_SIGNATURE_REFUSALS,
                "invalid_coldkey",
                "invalid_source",
                "invalid_token",
                "coldkey_mismatch",
                "source_not_allowed",
                *VALIDATOR_REFUSALS,
                "storage_unavailable",
                "bucket_missing",
            )
        ),
    },
)
async def list_files(reader: ReaderCaller, services: ServicesDep) -> FileList:
    """One page of a miner folder's files, each with a presigned GET URL (btauth/1)."""
    settings = services.settings
    body = reader.request
    expires_in = min(LIST_FILES_URL_SECONDS, settings.access_ttl_seconds)
    page = await list_page(
        services.storage,
        services.s3,
        settings.s3_bucket,
        coldkey_folder(body.source, body.coldkey),
        token=body.continuation_token,
        max_keys=body.max_keys,
    )
    urls = services.presigner.get_urls([obj.key for obj in page.objects], expires_in=expires_in)
    return FileList(
        files=[
            FileEntry(
                key=obj.key,
                size=obj.size,
                last_modified=obj.last_modified.astimezone(UTC).isoformat(timespec="seconds"),
                url=url,
            )
            for obj, url in zip(page.objects, urls, strict=True)
        ],
        next_token=page.next_token,
        expiry=expiry_after(expires_in),
    )


@router.post(
    "/get-file-urls",
    response_model=FileUrls,
    openapi_extra={
        **json_body(FileUrlsRequest, example=examples.FILE_URLS_REQUEST),
        **signed_with("tao", "btauth"),
    },
    responses={
        **answer(examples.FILE_URLS_ANSWER),
        **refusals(
            codes=(
                *HEADER_SIGNATURE_REFUSALS,
                *VALIDATOR_REFUSALS,
                "key_outside_data",
                "storage_unavailable",
                "bucket_missing",
            )
        ),
    },
)
async def get_file_urls(downloader: DownloaderCaller, services: ServicesDep) -> FileUrls:
    """Presigned GET URLs for up to 1000 keys under data/ (btauth/1, validators)."""
    keys = downloader.request.keys
    expires_in = downloader.request.expires_in
    urls = services.presigner.get_urls(keys, expires_in=expires_in)
    return FileUrls(
        urls=dict(zip(keys, urls, strict=True)),
        expiry=expiry_after(expires_in),
    )
