"""btauth/1 signed-request headers, verified by bittensor.http_auth with our replay store."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from bittensor import http_auth
from bittensor.sp_core import CRYPTO_SR25519
from bittensor.wallets import parse_crypto_type

from app.auth.keys import public_key_is_weak
from app.errors import AuthFailed, BadRequest

# Nonces only need remembering while they could still pass the freshness check.
NONCE_TTL_SECONDS = http_auth.DEFAULT_MAX_AGE + http_auth.DEFAULT_ALLOWED_SKEW + 1


def has_btauth_headers(headers: Mapping[str, str]) -> bool:
    return http_auth.HEADER_SIGNATURE in headers or http_auth.HEADER_HOTKEY in headers


class _AcceptAll:
    """`verify` consults its nonce store synchronously; the shared store is async, so
    replay is claimed right after `verify` returns (it has verified the signature by then)."""

    def check_and_store(self, hotkey_ss58: str, nonce_ns: int) -> bool:
        return True


_ACCEPT_ALL = _AcceptAll()


def refuse_weak_keys(headers: Mapping[str, str]) -> None:
    """Hotkeys are sr25519 only: ed25519 has small-order public keys that sign anything,
    and so does the sr25519 identity key; neither may stand for a registered hotkey."""
    lowered = {name.lower(): value for name, value in headers.items()}
    crypto = lowered.get(http_auth.HEADER_CRYPTO.lower())
    if crypto is not None:
        try:
            crypto_type = parse_crypto_type(crypto)
        except ValueError:
            crypto_type = None
        if crypto_type != CRYPTO_SR25519:
            raise AuthFailed(
                "Only sr25519 hotkeys are accepted (X-Bittensor-Crypto: sr25519 or absent).",
                code="unsupported_crypto",
            )
    hotkey = lowered.get(http_auth.HEADER_HOTKEY.lower())
    if hotkey is not None and public_key_is_weak(hotkey):
        raise AuthFailed(
            "The btauth/1 signature does not verify against the hotkey.", code="bad_signature"
        )


@dataclass(frozen=True, slots=True)
class BtauthProof:
    hotkey: str
    replay_key: str
    signed_at: float  # unix seconds, from the nonce


def verify_btauth(
    headers: Mapping[str, str],
    body: bytes,
    *,
    method: str,
    path: str,
    server_hotkey: str | None,
) -> BtauthProof:
    refuse_weak_keys(headers)
    try:
        caller = http_auth.verify(
            headers,
            body,
            method=method,
            path=path,
            self_hotkey_ss58=server_hotkey or "",
            require_receiver=server_hotkey is not None,
            nonce_store=_ACCEPT_ALL,
        )
    except http_auth.MalformedAuth as exc:
        raise BadRequest(f"Malformed btauth/1 headers: {exc}.", code="malformed_auth") from None
    except http_auth.WrongReceiver as exc:
        raise AuthFailed(f"Wrong receiver: {exc}.", code="wrong_receiver") from None
    except http_auth.StaleRequest as exc:
        raise BadRequest(
            f"Stale request: {exc}.", code="stale_nonce", server_time=int(time.time())
        ) from None
    except http_auth.BadSignature:
        raise AuthFailed(
            "The btauth/1 signature does not verify against the hotkey.", code="bad_signature"
        ) from None
    if caller.crypto_type != CRYPTO_SR25519:  # refused above; kept in case headers differ
        raise AuthFailed("Only sr25519 hotkeys are accepted.", code="unsupported_crypto")
    return BtauthProof(
        hotkey=caller.hotkey_ss58,
        replay_key=f"btauth:{caller.hotkey_ss58}:{caller.nonce_ns}",
        # The btauth/1 nonce is the signing time in nanoseconds.
        signed_at=caller.nonce_ns / 1e9,
    )
