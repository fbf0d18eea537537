"""Miners obtain upload forms scoped to their own coldkey's folder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request

from app.auth.callers import authorize_miner
from app.deps import ServicesDep
from app.error_codes import LEGACY_SIGNATURE_REFUSALS
from app.responses import JSONBytes
from app.routes import examples
from app.routes.openapi import answer, json_body, refusals, signed_with
from app.schemas import FolderAccess, FolderAccessRequest

router = APIRouter(tags=["miners"])


def miner_folder(source: str, coldkey: str) -> str:
    return f"data/{source}/{coldkey}/"


@router.post(
    "/get-folder-access",
    response_model=FolderAccess,
    openapi_extra={
        **json_body(
            FolderAccessRequest,
            examples={
                "legacy body signature": examples.FOLDER_ACCESS_LEGACY,
                "btauth/1 headers (no signature in the body)": examples.FOLDER_ACCESS_HEADERS,
            },
        ),
        **signed_with("legacy", "btauth"),
    },
    responses={
        **answer(examples.FOLDER_ACCESS_ANSWER),
        **refusals(
            codes=(
                *LEGACY_SIGNATURE_REFUSALS,
                "malformed_auth",
                "stale_nonce",
                "hotkey_mismatch",
                "wrong_receiver",
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
    # Authorized here rather than through a MinerCaller dependency: FastAPI's resolution of
    # nested dependencies took ~6% of the CPU of this, the busiest route.
    miner = await authorize_miner(request, services)
    settings = services.settings
    folder = miner_folder(miner.source, miner.coldkey)
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
        }
    )
