"""Miners obtain upload access: a folder's POST form, or one file's form or PUT URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.auth.callers import authorize_miner
from app.auth.pipeline import Caller, signed
from app.deps import ServicesDep
from app.error_codes import ANY_SIGNATURE_REFUSALS, HEADER_SIGNATURE_REFUSALS
from app.errors import BadRequest, Conflict
from app.responses import JSONBytes
from app.routes import examples
from app.routes.no409 import No409Route
from app.routes.openapi import answer, json_body, refusals, signed_with
from app.schemas import FileUploadUrl, FileUploadUrlRequest, FolderAccess, FolderAccessRequest
from app.storage.layout import dd_file_key, is_valid_dd_filename, is_valid_job_id
from app.storage.objects import object_exists

router = APIRouter(tags=["miners"])
file_router = APIRouter(tags=["miners"], route_class=No409Route)


def check_upload_names(body: FileUploadUrlRequest) -> None:
    # Details never echo the name: miners read any "409" in an error as "already exists".
    if not is_valid_job_id(body.job_id):
        raise BadRequest(
            "job_id must be one path segment of letters, digits, '_', '-' or '.'.",
            code="invalid_job_id",
        )
    if not is_valid_dd_filename(body.filename):
        raise BadRequest(
            "filename must look like data_YYYYMMDD_HHMMSS_ROWS_<16 lower-case hex>.parquet.",
            code="invalid_filename",
        )


FileUploader = Annotated[
    Caller[FileUploadUrlRequest],
    Depends(
        signed(FileUploadUrlRequest, "registered", limit="file_uploads", check=check_upload_names)
    ),
]


@router.post(
    "/get-folder-access",
    response_model=FolderAccess,
    openapi_extra={
        **json_body(
            FolderAccessRequest,
            examples={
                "legacy body signature": examples.FOLDER_ACCESS_LEGACY,
                "Tao v2 or btauth/1 headers (no signature in the body)": (
                    examples.FOLDER_ACCESS_HEADERS
                ),
            },
        ),
        **signed_with("tao", "btauth", "legacy"),
    },
    responses={
        **answer(examples.FOLDER_ACCESS_ANSWER),
        **refusals(
            codes=(
                *ANY_SIGNATURE_REFUSALS,
                "invalid_coldkey",
                "invalid_source",
                "invalid_expiry",
                "coldkey_mismatch",
                "source_not_allowed",
                "storage_unavailable",
            )
        ),
    },
)
async def get_folder_access(request: Request, services: ServicesDep) -> JSONBytes:
    """Grant a presigned POST form that can only write under the miner's own folder."""
    # Authorized here rather than through a dependency: FastAPI's resolution of nested
    # dependencies took ~6% of the CPU of this, the busiest route.
    miner = await authorize_miner(request, services)
    settings = services.settings
    folder = miner.folder
    form = services.presigner.upload_form(
        folder,
        min_bytes=settings.upload_min_bytes,
        max_bytes=settings.upload_max_bytes,
        expires_in=miner.expires_in,
    )
    expiry = datetime.now(UTC) + timedelta(seconds=miner.expires_in)
    # Exactly the fields of FolderAccess, in its order (tests check the two agree).
    return JSONBytes(
        {
            "folder": folder,
            "url": form.url,
            "fields": form.fields,
            "expiry": expiry.isoformat(timespec="seconds"),
            "expiry_seconds": miner.expires_in,
            "list_url": services.presigner.list_url(folder, expires_in=miner.expires_in),
            "bucket": settings.s3_bucket,
            "region": settings.s3_region,
            "min_bytes": settings.upload_min_bytes,
            "max_bytes": settings.upload_max_bytes,
            "method": "POST",
            "structure_info": {"folder_structure": folder},
        }
    )


@file_router.post(
    "/get-file-upload-url",
    response_model=FileUploadUrl,
    openapi_extra={
        **json_body(FileUploadUrlRequest, example=examples.FILE_UPLOAD_REQUEST),
        **signed_with("tao", "btauth"),
    },
    responses={
        **answer(examples.FILE_UPLOAD_ANSWER),
        **refusals(
            codes=(
                *HEADER_SIGNATURE_REFUSALS,
                "invalid_job_id",
                "invalid_filename",
                "already_exists",
                "storage_unavailable",
                "bucket_missing",
            )
        ),
    },
)
async def get_file_upload_url(uploader: FileUploader, services: ServicesDep) -> FileUploadUrl:
    """One upload for one Dynamic Desirability file: a form pinned to its key, or a PUT URL."""
    body = uploader.body
    settings = services.settings
    key = dd_file_key(uploader.hotkey, body.job_id, body.filename)
    if await object_exists(
        services.storage_heads, services.internal_presigner, key, services.bucket
    ):
        raise Conflict("This file already exists; it is not uploaded again.", code="already_exists")
    expires_in = settings.upload_url_ttl_seconds
    if settings.upload_method == "put":
        url = services.presigner.put_url(key, expires_in=expires_in)
        return FileUploadUrl(
            s3_key=key, url=url, fields={}, expires_in_seconds=expires_in, method="PUT"
        )
    form = services.presigner.key_upload_form(
        key,
        min_bytes=settings.upload_min_bytes,
        max_bytes=settings.upload_max_bytes,
        expires_in=expires_in,
    )
    return FileUploadUrl(
        s3_key=key, url=form.url, fields=form.fields, expires_in_seconds=expires_in, method="POST"
    )
