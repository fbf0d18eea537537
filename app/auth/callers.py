"""The callers of the endpoints whose checks go beyond a role: miners' folder grants,
validators' bundles, `/list-files` readers and `/get-file-urls` downloaders.

Each composes the one pipeline of `app.auth.pipeline` in the order its contract needs:
cheapest checks first, nothing remembered until every check has passed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from fastapi import Request

from app.auth.keys import is_ss58
from app.auth.legacy import hotkey_miner_message, miner_message, validator_message
from app.auth.pipeline import (
    claim_and_count,
    parse_body,
    prove,
    quota_for,
    read_body,
    registered_neuron,
    require_role,
    validator_refusal,
)
from app.errors import BadRequest, InvalidRequest, NotAllowed
from app.metagraph import Neuron
from app.middleware import ANY_BODY_LIMIT
from app.schemas import (
    FileUrlsRequest,
    FolderAccessRequest,
    ListFilesRequest,
    ValidatorAccessRequest,
)
from app.services import Services
from app.storage.layout import coldkey_folder, hotkey_folder, key_problem
from config import SOURCE_PATTERN

GRANT_BODY_LIMIT = 64 * 1024
# The source seed-era clients signed when they left it to its default.
SEED_DEFAULT_SOURCE = "x"


@dataclass(frozen=True, slots=True)
class AuthorizedMiner:
    hotkey: str
    coldkey: str
    folder: str
    era: Literal["seed", "hotkey"]
    expires_in: int


@dataclass(frozen=True, slots=True)
class AuthorizedValidator:
    hotkey: str
    neuron: Neuron
    expires_in: int


@dataclass(frozen=True, slots=True)
class AuthorizedReader:
    hotkey: str
    request: ListFilesRequest


@dataclass(frozen=True, slots=True)
class AuthorizedDownloader:
    hotkey: str
    request: FileUrlsRequest


def grant_lifetime(requested_expiry: int | None, ttl: int) -> int:
    """Seconds the grant lives: the configured TTL, cut short by the caller's own expiry."""
    if requested_expiry is None:
        return ttl
    remaining = requested_expiry - int(time.time())
    if remaining < 1:
        raise BadRequest("expiry is in the past.", code="invalid_expiry")
    return min(ttl, remaining)


def require_allowed_source(source: str, services: Services) -> None:
    if source not in services.settings.sources:
        allowed = ", ".join(services.settings.sources)
        raise NotAllowed(
            f"Source {source!r} is not allowed; use one of: {allowed}.",
            code="source_not_allowed",
        )


def check_coldkey(coldkey: str) -> None:
    if not is_ss58(coldkey):
        raise BadRequest("coldkey is not a valid SS58 address.", code="invalid_coldkey")


def check_folder_names(coldkey: str, source: str) -> None:
    check_coldkey(coldkey)
    if not SOURCE_PATTERN.fullmatch(source):
        raise BadRequest(
            "source must be a plain name of letters, digits, '_' or '-'.", code="invalid_source"
        )


def _seed_messages(body: FolderAccessRequest, timestamp: int) -> tuple[str, ...]:
    assert body.source is not None
    return (miner_message(body.coldkey, body.source, timestamp),)


def _hotkey_era_messages(body: FolderAccessRequest, timestamp: int) -> tuple[str, ...]:
    # Seed-era clients that left `source` to its default sent no `source` but signed it.
    return (
        hotkey_miner_message(body.coldkey, body.hotkey or "", timestamp),
        miner_message(body.coldkey, SEED_DEFAULT_SOURCE, timestamp),
    )


async def authorize_miner(request: Request, services: Services) -> AuthorizedMiner:
    """`/get-folder-access`: a seed-era coldkey folder (body has `source`) or the hotkey's."""
    raw = await read_body(request, GRANT_BODY_LIMIT)
    body = parse_body(FolderAccessRequest, raw)
    if body.source is None:
        check_coldkey(body.coldkey)
    else:
        check_folder_names(body.coldkey, body.source)
    expires_in = grant_lifetime(body.expiry, services.settings.access_ttl_seconds)
    messages = _hotkey_era_messages if body.source is None else _seed_messages
    proof = prove(request, raw, body, services, messages)
    neuron = registered_neuron(services, proof.hotkey)
    if neuron.coldkey != body.coldkey:
        raise NotAllowed(
            "The coldkey does not own this hotkey on the subnet.", code="coldkey_mismatch"
        )
    source = body.source or (SEED_DEFAULT_SOURCE if proof.message_index == 1 else None)
    if source is not None:
        require_allowed_source(source, services)
        folder, era = coldkey_folder(source, body.coldkey), "seed"
    else:
        folder, era = hotkey_folder(proof.hotkey), "hotkey"
    await claim_and_count(proof, quota_for("miner", neuron, services), services, request.scope)
    return AuthorizedMiner(proof.hotkey, body.coldkey, folder, era, expires_in)


async def authorize_validator(request: Request, services: Services) -> AuthorizedValidator:
    raw = await read_body(request, GRANT_BODY_LIMIT)
    body = parse_body(ValidatorAccessRequest, raw)
    expires_in = grant_lifetime(body.expiry, services.settings.access_ttl_seconds)
    proof = prove(request, raw, body, services, lambda _, ts: (validator_message(ts),))
    neuron = registered_neuron(services, proof.hotkey)
    require_role(neuron, "validator", services)
    await claim_and_count(proof, quota_for("validator", neuron, services), services, request.scope)
    return AuthorizedValidator(proof.hotkey, neuron, expires_in)


def key_refusal(key: str) -> NotAllowed | None:
    """Why a validator may not get a URL for `key`, or None: only safe keys under `data/`."""
    if not key.startswith("data/"):
        return NotAllowed(f"Key {key!r} is not under data/.", code="key_outside_data")
    problem = key_problem(key)
    if problem is not None:
        return NotAllowed(problem, code="key_outside_data")
    return None


async def authorize_reader(request: Request, services: Services) -> AuthorizedReader:
    """/list-files: validators list any folder, miners their own coldkey's."""
    raw = await read_body(request, ANY_BODY_LIMIT)
    body = parse_body(ListFilesRequest, raw)
    check_folder_names(body.coldkey, body.source)
    proof = prove(request, raw, body, services, legacy=None)
    neuron = registered_neuron(services, proof.hotkey)
    refusal = validator_refusal(neuron, services.settings.validator_min_stake)
    if refusal is not None and neuron.coldkey != body.coldkey:
        if refusal.code == "no_permit":
            refusal = NotAllowed(
                "Miners may list only folders of the coldkey that owns their hotkey.",
                code="coldkey_mismatch",
            )
        raise refusal
    require_allowed_source(body.source, services)
    # A validator's listings count against its validator quota, a miner's against its own.
    kind = "validator" if refusal is None else "miner"
    await claim_and_count(proof, quota_for(kind, neuron, services), services, request.scope)
    return AuthorizedReader(proof.hotkey, body)


async def authorize_downloader(request: Request, services: Services) -> AuthorizedDownloader:
    """/get-file-urls: validators only, keys under `data/` only."""
    raw = await read_body(request, ANY_BODY_LIMIT)
    body = parse_body(FileUrlsRequest, raw)
    ttl = services.settings.access_ttl_seconds
    if body.expires_in > ttl:
        raise InvalidRequest(f"expires_in: must be at most {ttl} seconds.")
    proof = prove(request, raw, body, services, legacy=None)
    neuron = registered_neuron(services, proof.hotkey)
    require_role(neuron, "validator", services)
    for key in body.keys:
        refusal = key_refusal(key)
        if refusal is not None:
            raise refusal
    await claim_and_count(proof, quota_for("validator", neuron, services), services, request.scope)
    return AuthorizedDownloader(proof.hotkey, body)
