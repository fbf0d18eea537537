"""Turns a request into an authenticated, authorized caller, or a precise refusal.

Checks run cheapest first and nothing is remembered (replay keys, quotas) until every
earlier check passed, so unsigned or foreign traffic cannot burn a real caller's state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from app.auth.btauth import NONCE_TTL_SECONDS, has_btauth_headers, verify_btauth
from app.auth.keys import is_ss58, parse_signature
from app.auth.legacy import (
    MAX_FUTURE_SKEW_SECONDS,
    miner_message,
    signature_is_valid,
    timestamp_is_fresh,
    validator_message,
)
from app.errors import (
    AuthFailed,
    BadRequest,
    InvalidRequest,
    NotAllowed,
    PayloadTooLarge,
    describe_validation_error,
)
from app.limits import HotkeyKind
from app.metagraph import Neuron, Snapshot
from app.middleware import ANY_BODY_LIMIT
from app.schemas import (
    FileUrlsRequest,
    FolderAccessRequest,
    ListFilesRequest,
    SignedBody,
    ValidatorAccessRequest,
)
from app.services import Services
from config import SOURCE_PATTERN

GRANT_BODY_LIMIT = 64 * 1024
Body = TypeVar("Body", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Proof:
    """A hotkey whose signature verified, and what marks that signature as used."""

    hotkey: str
    replay_key: str
    replay_ttl: float
    btauth: bool
    signed_at: float  # unix seconds the signature claims; see app/auth/replay.py


@dataclass(frozen=True, slots=True)
class AuthorizedMiner:
    hotkey: str
    coldkey: str
    source: str
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


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_body(model: type[Body], raw: bytes) -> Body:
    """Parse JSON whatever the Content-Type: deployed clients do not all send one."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors()
        if any(e["type"] == "json_invalid" for e in errors):
            raise BadRequest("The body is not valid JSON.", code="invalid_json") from None
        if any(e["type"] == "model_type" for e in errors):
            raise BadRequest("The body must be a JSON object.", code="invalid_json") from None
        raise InvalidRequest(describe_validation_error(list(errors))) from None


def request_target(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def prove_hotkey(
    request: Request,
    raw: bytes,
    body: SignedBody,
    services: Services,
    legacy_message: Callable[[int], str] | None,
) -> Proof:
    """The caller's hotkey from btauth/1 headers or, if `legacy_message`, the body signature."""
    if has_btauth_headers(request.headers):
        proof = verify_btauth(
            request.headers,
            raw,
            method=request.method,
            path=request_target(request),
            server_hotkey=services.settings.server_hotkey,
        )
        if body.hotkey is not None and body.hotkey != proof.hotkey:
            raise BadRequest(
                "The body's hotkey differs from the btauth/1 hotkey.", code="hotkey_mismatch"
            )
        return Proof(
            proof.hotkey,
            proof.replay_key,
            NONCE_TTL_SECONDS,
            btauth=True,
            signed_at=proof.signed_at,
        )
    if legacy_message is None:
        raise AuthFailed(
            "This endpoint needs btauth/1 signed-request headers.", code="missing_auth"
        )
    if body.hotkey is None or body.timestamp is None or body.signature is None:
        raise InvalidRequest(
            "hotkey, timestamp and signature are required without btauth/1 headers."
        )
    if not is_ss58(body.hotkey):
        raise BadRequest("hotkey is not a valid SS58 address.", code="invalid_hotkey")
    signature = parse_signature(body.signature)
    if signature is None:
        raise BadRequest(
            "signature must be 64 bytes of hex, with or without 0x.", code="invalid_signature"
        )
    now = time.time()
    max_age = services.settings.signature_max_age_seconds
    if not timestamp_is_fresh(body.timestamp, now, max_age):
        raise BadRequest(
            f"timestamp is outside the accepted window ({max_age} s old to "
            f"{MAX_FUTURE_SKEW_SECONDS} s ahead); sign a fresh message.",
            code="stale_timestamp",
            server_time=int(now),
        )
    if not signature_is_valid(body.hotkey, legacy_message(body.timestamp), signature):
        raise AuthFailed(
            "The signature does not verify for this hotkey and message.", code="bad_signature"
        )
    return Proof(
        body.hotkey,
        "sig:" + signature.hex(),
        max_age + MAX_FUTURE_SKEW_SECONDS + 1,
        btauth=False,
        signed_at=body.timestamp,
    )


def registered_neuron(snapshot: Snapshot, hotkey: str) -> Neuron:
    neuron = snapshot.get(hotkey)
    if neuron is None:
        raise AuthFailed(
            f"Hotkey {hotkey} is not registered on subnet {snapshot.netuid}.",
            code="not_registered",
        )
    return neuron


async def claim_once(proof: Proof, services: Services) -> None:
    # btauth/1 nonces are always single-use; that is part of the protocol.
    if not (proof.btauth or services.settings.replay_protection):
        return
    if not await services.replay.claim(
        proof.replay_key, proof.replay_ttl, signed_at=proof.signed_at
    ):
        raise AuthFailed("This signature was already used; sign a new request.", code="replayed")


async def claim_and_limit(proof: Proof, kind: HotkeyKind, services: Services) -> None:
    """Marks the signature used and counts it against the hotkey's quota.

    Runs only for a verified, registered, allowed caller, so nobody else can spend a
    hotkey's quota. A quota already spent is refused before the signature is marked
    used (the client may resend it after Retry-After), and a replay is refused before
    it is counted (a leaked signature cannot drain its owner's quota).
    """
    await services.limits.ensure_room(kind, proof.hotkey)
    await claim_once(proof, services)
    await services.limits.hit_hotkey(kind, proof.hotkey)


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


def check_folder_names(coldkey: str, source: str) -> None:
    if not is_ss58(coldkey):
        raise BadRequest("coldkey is not a valid SS58 address.", code="invalid_coldkey")
    if not SOURCE_PATTERN.fullmatch(source):
        raise BadRequest(
            "source must be a plain name of letters, digits, '_' or '-'.", code="invalid_source"
        )


async def authorize_miner(request: Request, services: Services) -> AuthorizedMiner:
    raw = await read_body(request, GRANT_BODY_LIMIT)
    body = parse_body(FolderAccessRequest, raw)
    check_folder_names(body.coldkey, body.source)
    expires_in = grant_lifetime(body.expiry, services.settings.access_ttl_seconds)
    proof = prove_hotkey(
        request,
        raw,
        body,
        services,
        lambda ts: miner_message(body.coldkey, body.source, ts),
    )
    neuron = registered_neuron(services.metagraph.current(), proof.hotkey)
    if neuron.coldkey != body.coldkey:
        raise NotAllowed(
            "The coldkey does not own this hotkey on the subnet.", code="coldkey_mismatch"
        )
    require_allowed_source(body.source, services)
    await claim_and_limit(proof, "miner", services)
    return AuthorizedMiner(proof.hotkey, body.coldkey, body.source, expires_in)


async def authorize_validator(request: Request, services: Services) -> AuthorizedValidator:
    raw = await read_body(request, GRANT_BODY_LIMIT)
    body = parse_body(ValidatorAccessRequest, raw)
    expires_in = grant_lifetime(body.expiry, services.settings.access_ttl_seconds)
    proof = prove_hotkey(request, raw, body, services, validator_message)
    neuron = registered_neuron(services.metagraph.current(), proof.hotkey)
    require_validator(neuron, services.settings.validator_min_stake)
    await claim_and_limit(proof, "validator", services)
    return AuthorizedValidator(proof.hotkey, neuron, expires_in)


def validator_refusal(neuron: Neuron, min_stake: float) -> NotAllowed | None:
    """Why this neuron may not act as a validator, or None if it may."""
    if not neuron.validator_permit:
        return NotAllowed("This hotkey does not hold a validator permit.", code="no_permit")
    if neuron.stake < min_stake:
        return NotAllowed(
            f"This hotkey's stake {neuron.stake:g} is below the {min_stake:g} validators need.",
            code="low_stake",
        )
    return None


def require_validator(neuron: Neuron, min_stake: float) -> None:
    refusal = validator_refusal(neuron, min_stake)
    if refusal is not None:
        raise refusal


def key_refusal(key: str) -> NotAllowed | None:
    """Why a validator may not get a URL for `key`, or None: only keys under `data/`."""
    if not key.startswith("data/"):
        return NotAllowed(f"Key {key!r} is not under data/.", code="key_outside_data")
    # Some S3-compatible servers resolve `..`; control characters are never in real keys.
    if ".." in key.split("/") or any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        return NotAllowed(
            "Keys must not contain '..' segments or control characters.",
            code="key_outside_data",
        )
    return None


async def authorize_reader(request: Request, services: Services) -> AuthorizedReader:
    """/list-files (btauth/1): validators list any folder, miners their own coldkey's."""
    raw = await read_body(request, ANY_BODY_LIMIT)
    body = parse_body(ListFilesRequest, raw)
    check_folder_names(body.coldkey, body.source)
    proof = prove_hotkey(request, raw, body, services, legacy_message=None)
    neuron = registered_neuron(services.metagraph.current(), proof.hotkey)
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
    await claim_and_limit(proof, "validator" if refusal is None else "miner", services)
    return AuthorizedReader(proof.hotkey, body)


async def authorize_downloader(request: Request, services: Services) -> AuthorizedDownloader:
    """/get-file-urls (btauth/1): validators only, keys under `data/` only."""
    raw = await read_body(request, ANY_BODY_LIMIT)
    body = parse_body(FileUrlsRequest, raw)
    ttl = services.settings.access_ttl_seconds
    if body.expires_in > ttl:
        raise InvalidRequest(f"expires_in: must be at most {ttl} seconds.")
    proof = prove_hotkey(request, raw, body, services, legacy_message=None)
    neuron = registered_neuron(services.metagraph.current(), proof.hotkey)
    require_validator(neuron, services.settings.validator_min_stake)
    for key in body.keys:
        refusal = key_refusal(key)
        if refusal is not None:
            raise refusal
    await claim_and_limit(proof, "validator", services)
    return AuthorizedDownloader(proof.hotkey, body)
