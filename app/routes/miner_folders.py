"""Validators read one hotkey-era miner's folder: its listing, page by page, and its files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.auth.keys import is_ss58
from app.auth.legacy import miner_files_message, miner_listing_message
from app.auth.pipeline import Caller, signed
from app.deps import ServicesDep
from app.error_codes import ANY_SIGNATURE_REFUSALS, TRUSTED_REFUSALS, VALIDATOR_REFUSALS
from app.errors import BadRequest
from app.routes import examples
from app.routes.openapi import answer, json_body, refusals, signed_with
from app.routes.validators import expiry_after
from app.schemas import (
    MinerFiles,
    MinerFileUrl,
    MinerFileUrls,
    MinerList,
    MinerListRequest,
    MinerSpecificAccess,
    MinerSpecificAccessRequest,
)
from app.storage.layout import hotkey_folder, is_under

router = APIRouter(tags=["validators"])

# Listing URLs of one miner live at most this long (what today's validators expect).
MINER_URL_SECONDS = 3 * 3600


def _listing_messages(body: MinerListRequest, timestamp: int) -> tuple[str]:
    return (miner_listing_message(body.miner_hotkey, timestamp),)


def _files_messages(body: MinerFiles, timestamp: int) -> tuple[str]:
    return (miner_files_message(body.miner_hotkey, body.hotkey or "", timestamp),)


def check_miner_hotkey(body: MinerListRequest | MinerSpecificAccessRequest | MinerFiles) -> None:
    if not is_ss58(body.miner_hotkey):
        raise BadRequest("miner_hotkey is not a valid SS58 address.", code="invalid_hotkey")


def check_file_keys(body: MinerFiles) -> None:
    check_miner_hotkey(body)
    prefix = hotkey_folder(body.miner_hotkey)
    if not any(is_under(key, prefix) for key in body.file_keys):
        raise BadRequest(f"None of the keys is a file under {prefix}.", code="no_valid_files")


MinerSpecificCaller = Annotated[
    Caller[MinerSpecificAccessRequest],
    Depends(
        signed(
            MinerSpecificAccessRequest,
            "validator",
            legacy=_listing_messages,
            check=check_miner_hotkey,
        )
    ),
]
MinerListCaller = Annotated[
    Caller[MinerListRequest],
    Depends(
        signed(MinerListRequest, "trusted", legacy=_listing_messages, check=check_miner_hotkey)
    ),
]
MinerFilesCaller = Annotated[
    Caller[MinerFiles],
    Depends(signed(MinerFiles, "trusted", legacy=_files_messages, check=check_file_keys)),
]


def url_seconds(services: ServicesDep) -> int:
    return min(MINER_URL_SECONDS, services.settings.access_ttl_seconds)


@router.post(
    "/get-miner-specific-access",
    response_model=MinerSpecificAccess,
    openapi_extra={
        **json_body(
            MinerSpecificAccessRequest,
            examples={
                "legacy body signature": examples.MINER_SPECIFIC_LEGACY,
                "Tao v2 or btauth/1 headers (no signature in the body)": {
                    "miner_hotkey": examples.MINER_HOTKEY
                },
            },
        ),
        **signed_with("tao", "btauth", "legacy"),
    },
    responses={
        **answer(examples.MINER_SPECIFIC_ANSWER),
        **refusals(codes=(*ANY_SIGNATURE_REFUSALS, *VALIDATOR_REFUSALS)),
    },
)
async def get_miner_specific_access(
    caller: MinerSpecificCaller, services: ServicesDep
) -> MinerSpecificAccess:
    """A list URL of one hotkey-era miner's folder (validators)."""
    prefix = hotkey_folder(caller.body.miner_hotkey)
    seconds = url_seconds(services)
    return MinerSpecificAccess(
        miner_url=services.presigner.list_url(prefix, expires_in=seconds),
        prefix=prefix,
        expiry=expiry_after(seconds),
        expiry_seconds=seconds,
    )


@router.post(
    "/get-miner-list",
    response_model=MinerList,
    openapi_extra={
        **json_body(
            MinerListRequest,
            examples={
                "Tao v2 or btauth/1 headers": examples.MINER_LIST_REQUEST,
                "legacy body signature": examples.MINER_SPECIFIC_LEGACY,
            },
        ),
        **signed_with("tao", "btauth", "legacy"),
    },
    responses={
        **answer(examples.MINER_LIST_ANSWER),
        **refusals(codes=(*ANY_SIGNATURE_REFUSALS, *TRUSTED_REFUSALS)),
    },
)
async def get_miner_list(caller: MinerListCaller, services: ServicesDep) -> MinerList:
    """One page of a miner's hotkey folder as a presigned ListObjectsV2 URL (trusted)."""
    prefix = hotkey_folder(caller.body.miner_hotkey)
    seconds = url_seconds(services)
    url = services.presigner.page_url(
        prefix, expires_in=seconds, token=caller.body.continuation_token or None
    )
    return MinerList(list_url=url, expires_in_seconds=seconds)


@router.post(
    "/get-file-presigned-urls",
    response_model=MinerFileUrls,
    openapi_extra={
        **json_body(
            MinerFiles,
            examples={
                "Tao v2 or btauth/1 headers": examples.MINER_FILES_REQUEST,
                "legacy body signature": examples.MINER_FILES_LEGACY,
            },
        ),
        **signed_with("tao", "btauth", "legacy"),
    },
    responses={
        **answer(examples.MINER_FILES_ANSWER),
        **refusals(codes=(*ANY_SIGNATURE_REFUSALS, *TRUSTED_REFUSALS, "no_valid_files")),
    },
)
async def get_file_presigned_urls(caller: MinerFilesCaller, services: ServicesDep) -> MinerFileUrls:
    """GET URLs (full and Range reads) for files in one miner's hotkey folder (trusted)."""
    body = caller.body
    prefix = hotkey_folder(body.miner_hotkey)
    valid = [key for key in dict.fromkeys(body.file_keys) if is_under(key, prefix)]
    invalid = [key for key in body.file_keys if not is_under(key, prefix)]
    seconds = min(int(body.expiry_hours * 3600), services.settings.access_ttl_seconds)
    urls = services.presigner.get_urls(valid, expires_in=seconds)
    return MinerFileUrls(
        miner_hotkey=body.miner_hotkey,
        expiry_hours=body.expiry_hours,
        file_urls={
            key: MinerFileUrl(
                presigned_url=url,
                file_key=key,
                expires_in_seconds=seconds,
                file_name=key.rsplit("/", 1)[-1],
            )
            for key, url in zip(valid, urls, strict=True)
        },
        invalid_files=invalid,
    )
