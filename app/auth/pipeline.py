"""One authentication pipeline with three front ends.

A signed request is read and parsed, then proved by whichever scheme its headers name
(Tao v2, btauth/1) or, where an endpoint still accepts it, the legacy body signature.
From the proof on every scheme takes the same path: registration, role, quota room,
one-time claim, count. Checks run cheapest first and nothing is remembered (nonces,
quotas) for a request that any check refused, so forged or foreign traffic cannot
spend a real caller's state.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from app.auth.btauth import NONCE_TTL_SECONDS, has_btauth_headers, verify_btauth
from app.auth.keys import is_ss58, parse_signature
from app.auth.legacy import MAX_FUTURE_SKEW_SECONDS, signature_is_valid, timestamp_is_fresh
from app.auth.replay import SignedBeforeStore
from app.auth.tao import has_tao_headers, parse_tao_headers
from app.bodies import check_depth
from app.errors import (
    GIVE_BACK_KEY,
    AuthFailed,
    BadRequest,
    InvalidRequest,
    NotAllowed,
    PayloadTooLarge,
    describe_validation_error,
)
from app.metagraph import Neuron
from app.middleware import ANY_BODY_LIMIT
from app.ops.logs import note_hotkey
from app.quotas import Quota, QuotaKind, choose_quota
from app.services import Services, get_services
from app.shared_store import Claim

Role = Literal["registered", "validator", "trusted"]
B = TypeVar("B", bound=BaseModel | None)
M = TypeVar("M", bound=BaseModel)
# The candidate messages a legacy body signature may sign, given the body and timestamp.
LegacyMessages = Callable[[Any, int], Sequence[str]]
# Checks of a parsed body's values that need no state; they run before any signature work.
BodyCheck = Callable[[Any], None]

DEFAULT_LIMIT: dict[Role, QuotaKind] = {
    "registered": "miner",
    "validator": "validator",
    "trusted": "validator",
}


@dataclass(frozen=True, slots=True)
class Proof:
    """A hotkey whose signature verified, and what marks that signature as used."""

    hotkey: str
    replay_key: str
    replay_ttl: float
    signed_at: float
    # Which of the legacy candidate messages verified (0 for header schemes).
    message_index: int = 0
    always_once: bool = False  # header nonces are single-use whatever REPLAY_PROTECTION says


@dataclass(frozen=True, slots=True)
class Caller(Generic[B]):
    hotkey: str
    neuron: Neuron
    body: B
    raw: bytes
    message_index: int = 0


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


def parse_body(model: type[M], raw: bytes) -> M:
    """Parse JSON whatever the Content-Type: deployed clients do not all send one."""
    check_depth(raw)
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
    return request.scope["path"] + (f"?{query}" if query else "")


def _tao_proof(request: Request, raw: bytes, services: Services) -> Proof:
    max_age = services.settings.tao_max_age_seconds
    claim = parse_tao_headers(request.headers, raw, now=time.time(), max_age_seconds=max_age)
    if not signature_is_valid(claim.hotkey, claim.message, claim.signature):
        raise AuthFailed(
            "The Tao v2 signature does not verify for this hotkey and body.",
            code="bad_signature",
        )
    return Proof(
        claim.hotkey,
        f"tao:{claim.hotkey}:{claim.nonce.lower()}",
        max_age + MAX_FUTURE_SKEW_SECONDS + 1,
        claim.signed_at,
        always_once=True,
    )


def _btauth_proof(request: Request, raw: bytes, services: Services) -> Proof:
    proof = verify_btauth(
        request.headers,
        raw,
        method=request.method,
        path=request_target(request),
        server_hotkey=services.settings.server_hotkey,
    )
    return Proof(
        proof.hotkey,
        proof.replay_key,
        NONCE_TTL_SECONDS,
        proof.signed_at,
        always_once=True,
    )


def _legacy_proof(body: Any, services: Services, messages: LegacyMessages) -> Proof:
    hotkey = getattr(body, "hotkey", None)
    timestamp = getattr(body, "timestamp", None)
    signature_text = getattr(body, "signature", None)
    if hotkey is None or timestamp is None or signature_text is None:
        raise InvalidRequest("hotkey, timestamp and signature are required without signed headers.")
    if not is_ss58(hotkey):
        raise BadRequest("hotkey is not a valid SS58 address.", code="invalid_hotkey")
    signature = parse_signature(signature_text)
    if signature is None:
        raise BadRequest(
            "signature must be 64 bytes of hex, with or without 0x.", code="invalid_signature"
        )
    now = time.time()
    max_age = services.settings.signature_max_age_seconds
    if not timestamp_is_fresh(timestamp, now, max_age):
        raise BadRequest(
            f"timestamp is outside the accepted window ({max_age} s old to "
            f"{MAX_FUTURE_SKEW_SECONDS} s ahead); sign a fresh message.",
            code="stale_timestamp",
            server_time=int(now),
        )
    for index, message in enumerate(messages(body, timestamp)):
        if signature_is_valid(hotkey, message, signature):
            return Proof(
                hotkey,
                "sig:" + signature.hex(),
                max_age + MAX_FUTURE_SKEW_SECONDS + 1,
                float(timestamp),
                message_index=index,
            )
    raise AuthFailed(
        "The signature does not verify for this hotkey and message.", code="bad_signature"
    )


def prove(
    request: Request, raw: bytes, body: Any, services: Services, legacy: LegacyMessages | None
) -> Proof:
    """The caller's hotkey from Tao v2 or btauth/1 headers, or the legacy body signature."""
    headers = request.headers
    if has_tao_headers(headers):
        proof = _tao_proof(request, raw, services)
    elif has_btauth_headers(headers):
        proof = _btauth_proof(request, raw, services)
    elif legacy is not None:
        proof = _legacy_proof(body, services, legacy)
        note_hotkey(proof.hotkey)
        return proof
    else:
        raise AuthFailed(
            "This endpoint needs Tao v2 (X-Tao-*) or btauth/1 (X-Bittensor-*) signed headers.",
            code="missing_auth",
        )
    named = getattr(body, "hotkey", None)
    if named is not None and named != proof.hotkey:
        raise BadRequest(
            "The body's hotkey differs from the hotkey that signed the headers.",
            code="hotkey_mismatch",
        )
    note_hotkey(proof.hotkey)
    return proof


def registered_neuron(services: Services, hotkey: str) -> Neuron:
    snapshot = services.metagraph.current()
    neuron = snapshot.get(hotkey)
    if neuron is None:
        raise AuthFailed(
            f"Hotkey {hotkey} is not registered on subnet {snapshot.netuid}.",
            code="not_registered",
        )
    return neuron


def _stake_text(value: float) -> str:
    # Exact figures: a rounded stake can read as equal to the threshold it falls short of.
    return f"{value:,.9f}".rstrip("0").rstrip(".")


def validator_refusal(neuron: Neuron, min_stake: float) -> NotAllowed | None:
    """Why this neuron may not act as a validator, or None if it may."""
    if not neuron.validator_permit:
        return NotAllowed("This hotkey does not hold a validator permit.", code="no_permit")
    if not neuron.stake >= min_stake:
        return NotAllowed(
            f"This hotkey's stake {_stake_text(neuron.stake)} is below the "
            f"{_stake_text(min_stake)} validators need.",
            code="low_stake",
        )
    return None


def is_trusted(neuron: Neuron, trusted: Sequence[str]) -> bool:
    return "*" in trusted or str(neuron.uid) in trusted or neuron.hotkey in trusted


def require_role(neuron: Neuron, role: Role, services: Services) -> None:
    if role == "registered":
        return
    refusal = validator_refusal(neuron, services.settings.validator_min_stake)
    if refusal is not None:
        raise refusal
    if role == "trusted" and not is_trusted(neuron, services.settings.trusted_validators):
        raise NotAllowed(
            "This validator is not one of the trusted validators (TRUSTED_VALIDATORS).",
            code="not_trusted",
        )


def quota_for(kind: QuotaKind | None, neuron: Neuron, services: Services) -> Quota | None:
    """The one place that chooses the quota a verified caller's request spends."""
    settings = services.settings
    trusted = validator_refusal(neuron, settings.validator_min_stake) is None and is_trusted(
        neuron, settings.trusted_validators
    )
    latest = services.desirability.latest.current
    return choose_quota(settings, kind, trusted, latest.entry_count if latest else 0)


async def claim_and_count(
    proof: Proof,
    limit: Quota | None,
    services: Services,
    scope: MutableMapping[str, Any] | None = None,
) -> None:
    """Marks the signature used and counts it against the hotkey's quota, as one step.

    Runs only for a verified, registered, allowed caller, so nobody else can spend a
    hotkey's quota. One store call (one Redis script) decides horizon, replay and quota
    together and writes nothing unless all pass: a replay is not counted (a leaked
    signature cannot drain its owner's quota), and a request refused for its quota keeps
    its signature unused, so the client may resend it after Retry-After. What was written
    is left in `scope` for the error handlers to give back if the request is refused later.
    """
    counter = None if limit is None else services.limits.counter_for(limit, proof.hotkey)
    if not (proof.always_once or services.settings.replay_protection):
        ticket = None if counter is None else await services.limits.count(counter)
        if scope is not None and ticket is not None:
            scope[GIVE_BACK_KEY] = partial(services.limits.give_back, ticket)
        return
    ttl_ms = max(1, int(proof.replay_ttl * 1000))
    claim = Claim(proof.replay_key, ttl_ms, proof.signed_at, proof.hotkey)
    verdict = await services.replay.admit(claim, counter)
    if verdict.status == "replayed":
        raise AuthFailed("This signature was already used; sign a new request.", code="replayed")
    if verdict.status == "before_horizon":
        raise SignedBeforeStore()
    if verdict.status == "limited":
        assert limit is not None
        raise services.limits.refusal(limit.scope, verdict)
    if scope is not None and verdict.ticket is not None:
        scope[GIVE_BACK_KEY] = partial(services.limits.give_back, verdict.ticket)


async def authenticate(
    request: Request,
    services: Services,
    model: type[M] | None,
    role: Role,
    *,
    limit: QuotaKind | None,
    legacy: LegacyMessages | None = None,
    check: BodyCheck | None = None,
    body_limit: int = ANY_BODY_LIMIT,
) -> Caller[Any]:
    raw = await read_body(request, body_limit)
    body = parse_body(model, raw) if model is not None else None
    if check is not None:
        check(body)
    proof = prove(request, raw, body, services, legacy)
    neuron = registered_neuron(services, proof.hotkey)
    require_role(neuron, role, services)
    await claim_and_count(proof, quota_for(limit, neuron, services), services, request.scope)
    return Caller(proof.hotkey, neuron, body, raw, proof.message_index)


_UNSET: Any = object()


def signed(
    model: type[M] | None,
    role: Role,
    *,
    limit: QuotaKind | None = _UNSET,
    legacy: LegacyMessages | None = None,
    check: BodyCheck | None = None,
    body_limit: int = ANY_BODY_LIMIT,
) -> Callable[..., Awaitable[Caller[Any]]]:
    """A FastAPI dependency that yields the authorized `Caller` of a signed request."""
    spend: QuotaKind | None = DEFAULT_LIMIT[role] if limit is _UNSET else limit

    async def dependency(
        request: Request, services: Annotated[Services, Depends(get_services)]
    ) -> Caller[Any]:
        return await authenticate(
            request,
            services,
            model,
            role,
            limit=spend,
            legacy=legacy,
            check=check,
            body_limit=body_limit,
        )

    return dependency
