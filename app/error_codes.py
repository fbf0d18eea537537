"""Every `code` a refusal can carry, with its HTTP status and what it tells the client.

The OpenAPI document lists these per endpoint and status, docs/errors.md explains them,
and a test checks that every code the service raises is named here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ErrorCode:
    status: int
    meaning: str


ERROR_CODES: dict[str, ErrorCode] = {
    # 400: the request is malformed or stale; fix it and sign again.
    "bad_request": ErrorCode(400, "The request is malformed."),
    "invalid_json": ErrorCode(
        400, "The body is not JSON, not a JSON object, or nested more than 32 levels deep."
    ),
    "stale_timestamp": ErrorCode(
        400, "The signed timestamp is too old or too far ahead; the answer has `server_time`."
    ),
    "stale_nonce": ErrorCode(
        400, "The btauth/1 nonce is outside its window; the answer has `server_time`."
    ),
    "malformed_auth": ErrorCode(400, "Signed-request headers are missing a part or malformed."),
    "hotkey_mismatch": ErrorCode(400, "The body's `hotkey` differs from the signing hotkey."),
    "invalid_hotkey": ErrorCode(400, "`hotkey` is not an SS58 address."),
    "invalid_signature": ErrorCode(400, "The signature is not 64 bytes of hex or base64."),
    "invalid_expiry": ErrorCode(400, "`expiry` is in the past."),
    "invalid_coldkey": ErrorCode(400, "`coldkey` is not an SS58 address."),
    "invalid_source": ErrorCode(400, "`source` is not a plain name."),
    "invalid_token": ErrorCode(400, "`continuation_token` was not issued by this listing."),
    "invalid_filename": ErrorCode(400, "`filename` does not follow the parquet naming rule."),
    "invalid_job_id": ErrorCode(400, "`job_id` is not one safe path segment."),
    "no_valid_files": ErrorCode(400, "None of the requested keys is in the miner's folder."),
    "job_expired": ErrorCode(400, "The on-demand job expires in less than 5 s."),
    # 401: who signed could not be established, or is not on the subnet.
    "bad_signature": ErrorCode(401, "The signature does not verify for this key and message."),
    "replayed": ErrorCode(401, "This signature or nonce was already used."),
    "signed_before_store": ErrorCode(
        401,
        "Signed before the replay store could have seen it (the service or its Redis "
        "restarted), so it may have been used already; sign a new request.",
    ),
    "unsupported_crypto": ErrorCode(401, "btauth/1 declared a scheme other than sr25519."),
    "not_registered": ErrorCode(401, "The hotkey is not registered on the subnet."),
    "missing_auth": ErrorCode(401, "The endpoint needs signed-request headers."),
    "wrong_receiver": ErrorCode(401, "The btauth/1 request is bound to another server."),
    "invalid_api_key": ErrorCode(401, "`X-API-Key` is missing or not a configured key."),
    "invalid_metrics_token": ErrorCode(
        401, "`/metrics` needs `Authorization: Bearer <METRICS_TOKEN>`."
    ),
    # 403: authenticated, but not allowed this.
    "forbidden": ErrorCode(403, "Not allowed."),
    "coldkey_mismatch": ErrorCode(403, "The coldkey does not own the signing hotkey."),
    "source_not_allowed": ErrorCode(403, "The source is not in `SOURCES`."),
    "no_permit": ErrorCode(403, "The hotkey holds no validator permit."),
    "low_stake": ErrorCode(403, "The validator's stake is under `VALIDATOR_MIN_STAKE`."),
    "not_trusted": ErrorCode(403, "The validator is not in `TRUSTED_VALIDATORS`."),
    "key_outside_data": ErrorCode(403, "A key is outside `data/` or has a `..` segment."),
    # 404, 405, 409
    "not_found": ErrorCode(404, "Nothing at this path."),
    "job_not_found": ErrorCode(404, "No on-demand job has this id."),
    "no_list": ErrorCode(404, "No Dynamic Desirability list has been published yet."),
    "method_not_allowed": ErrorCode(405, "The path exists, not with this method."),
    "conflict": ErrorCode(409, "The request conflicts with what is stored."),
    "already_exists": ErrorCode(409, "The object already exists; skip this file."),
    "already_submitted": ErrorCode(409, "This miner's answer to this job is already in storage."),
    "publish_conflict": ErrorCode(409, "Another list was published at the same moment."),
    # 413, 422, 429, 431
    "payload_too_large": ErrorCode(413, "The body is over the endpoint's limit."),
    "invalid_request": ErrorCode(422, "The body does not match the endpoint's schema."),
    "expire_at_too_soon": ErrorCode(422, "The job's `expire_at` is less than 30 s away."),
    "expire_at_too_late": ErrorCode(
        422, "The job's `expire_at` is further away than `ONDEMAND_RETENTION_HOURS`."
    ),
    "invalid_list": ErrorCode(422, 'The body is not `{"entries": [...]}`.'),
    "empty_list": ErrorCode(422, "The list has no entries."),
    "invalid_entry": ErrorCode(422, "A list entry breaks a rule; `detail` names it and the rule."),
    "duplicate_id": ErrorCode(422, "Two entries of the list share an `id`."),
    "score_too_large": ErrorCode(422, "A `score` is over 4 KiB as compact JSON."),
    "invalid_score": ErrorCode(422, "A `score` holds NaN or an infinity."),
    "rate_limited": ErrorCode(429, "A quota is spent; `Retry-After` says when to retry."),
    "too_many_open_jobs": ErrorCode(
        429, "This customer key has `ONDEMAND_MAX_OPEN_JOBS_PER_KEY` jobs not yet expired."
    ),
    "headers_too_large": ErrorCode(
        431, "The request line and headers are over 32 KiB or 100 headers (from the server)."
    ),
    # 500, 503: the service's side.
    "internal": ErrorCode(500, "A bug; never caused by what a client sent."),
    "unavailable": ErrorCode(503, "A dependency is unavailable."),
    "metagraph_unavailable": ErrorCode(503, "The metagraph has not been loaded yet."),
    "metagraph_stale": ErrorCode(503, "The metagraph is older than `METAGRAPH_MAX_AGE_SECONDS`."),
    "storage_unavailable": ErrorCode(503, "S3 cannot be reached or answered with an error."),
    "bucket_missing": ErrorCode(503, "The bucket (`S3_BUCKET`) does not exist at the S3 endpoint."),
    "store_unavailable": ErrorCode(503, "Redis (rate limits, nonces) cannot be reached."),
    "database_unavailable": ErrorCode(503, "The database cannot be reached."),
    "too_many_connections": ErrorCode(
        503, "The worker holds `MAX_CONNECTIONS` connections; answered at connect, then closed."
    ),
}

# What the signature checks of a request signed with headers (Tao v2, btauth/1) can answer,
# before the endpoint's own refusals.
HEADER_SIGNATURE_REFUSALS = (
    "invalid_json",
    "malformed_auth",
    "invalid_hotkey",
    "invalid_signature",
    "stale_timestamp",
    "stale_nonce",
    "hotkey_mismatch",
    "bad_signature",
    "unsupported_crypto",
    "replayed",
    "signed_before_store",
    "not_registered",
    "missing_auth",
    "wrong_receiver",
    "payload_too_large",
    "invalid_request",
    "rate_limited",
    "metagraph_unavailable",
    "metagraph_stale",
    "store_unavailable",
)
# Where the legacy body signature is accepted too, a request without headers is read as
# one (a missing field is 422), so `missing_auth` cannot happen.
ANY_SIGNATURE_REFUSALS = tuple(c for c in HEADER_SIGNATURE_REFUSALS if c != "missing_auth")
VALIDATOR_REFUSALS = ("no_permit", "low_stake")
TRUSTED_REFUSALS = (*VALIDATOR_REFUSALS, "not_trusted")
