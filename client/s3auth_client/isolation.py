"""`s3auth check isolation`: try, as an attacker holding one miner key, what must fail.

Every probe expects a refusal. A write probe that succeeds leaves an object the miner
cannot delete, so it reports FAIL and names that object for the operator to remove.
"""

from __future__ import annotations

import json
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx2
from bittensor_wallet import CRYPTO_ED25519, Keypair

from s3auth_client.api import header_scheme
from s3auth_client.btauth import (
    HEADER_CRYPTO,
    HEADER_HOTKEY,
    HEADER_NONCE,
    HEADER_RECEIVER,
    HEADER_SIGNATURE,
    HEADER_VERSION,
    btauth_payload,
)
from s3auth_client.errors import ApiError, TransferError
from s3auth_client.jobs import JobUploader, UploadTarget
from s3auth_client.legacy import hotkey_miner_message, miner_message
from s3auth_client.miner import Grant, MinerClient
from s3auth_client.policy import decode_policy, encode_policy
from s3auth_client.ss58 import ss58_encode
from s3auth_client.tao import tao_headers
from s3auth_client.transfer import post_file, put_file

PROBE_BYTES = 2048


@dataclass(frozen=True)
class ProbeResult:
    name: str
    passed: bool | None  # None: skipped, it does not apply to this deployment
    detail: str
    # A weakness of the S3 server rather than of the service: reported, not a FAIL.
    warning: bool = False

    @property
    def verdict(self) -> str:
        if self.warning:
            return "WARN"
        return {True: "PASS", False: "FAIL", None: "SKIP"}[self.passed]

    def as_json(self) -> dict[str, Any]:
        return {"probe": self.name, "result": self.verdict, "detail": self.detail}


def foreign_coldkey() -> str:
    """An address nobody registered: a folder this miner must not reach."""
    return Keypair.create_from_uri("//s3auth-probe-" + secrets.token_hex(8)).ss58_address


class IsolationCheck:
    def __init__(
        self,
        client: MinerClient,
        *,
        other_coldkey: str,
        other_source: str,
        workdir: Path,
        other_hotkey: str | None = None,
    ) -> None:
        self.client = client
        self.other_coldkey = other_coldkey
        self.other_hotkey = other_hotkey or foreign_coldkey()
        self.other_source = other_source
        self.workdir = workdir
        self.tag = "s3auth-probe-" + secrets.token_hex(4)
        self.reads_everything = False

    def run(self) -> Iterator[ProbeResult]:
        grant = self.client.request_grant()
        self.reads_everything = self.key_is_validator()
        probes: list[Callable[[Grant], ProbeResult]] = [
            self.list_url_works,
            self.other_miners_folder,
            self.sibling_folder,
            self.other_source_folder,
            self.under_the_floor,
            self.widened_policy,
            self.lowered_floor_policy,
            self.altered_list_url,
            self.widened_list_url,
            self.claimed_foreign_coldkey,
            self.foreign_list_files,
            self.foreign_file_urls,
            self.replayed_legacy_signature,
            self.replayed_btauth_request,
            self.replayed_tao_request,
            self.other_miners_hotkey_folder,
            self.key_outside_the_pinned_key,
            self.put_url_for_another_key,
            self.foreign_miner_list,
            self.foreign_presigned_urls,
            self.backslash_key,
            self.all_zero_public_key,
            self.ed25519_btauth,
            self.content_encoding_field,
        ]
        for probe in probes:
            yield probe(grant)

    # --- helpers ----------------------------------------------------------------------

    def blob(self, size: int) -> Path:
        path = self.workdir / f"{self.tag}-{size}.bin"
        if not path.exists():
            path.write_bytes(secrets.token_bytes(size))
        return path

    def expect_refused_write(
        self,
        name: str,
        grant: Grant,
        key: str,
        *,
        size: int = PROBE_BYTES,
        fields: dict[str, str] | None = None,
        statuses: tuple[int, ...] = (403,),
    ) -> ProbeResult:
        try:
            self.client.post_form(grant, key, self.blob(size), fields=fields)
        except TransferError as error:
            if error.status in statuses:
                return ProbeResult(name, True, str(error))
            return ProbeResult(name, False, f"inconclusive, expected {statuses}: {error}")
        return ProbeResult(name, False, f"storage ACCEPTED {key}; remove that object")

    def expect_refused_grant(self, name: str, send: Callable[[], dict[str, Any]]) -> ProbeResult:
        try:
            granted = send()
        except ApiError as error:
            if error.status in (401, 403):
                return ProbeResult(name, True, f"service refused: {error}")
            return ProbeResult(name, False, f"inconclusive, expected 401/403: {error}")
        except httpx2.TransportError as error:
            return ProbeResult(name, False, f"inconclusive, the service did not answer: {error}")
        return ProbeResult(name, False, f"service GRANTED {granted.get('folder', 'access')}")

    def get_status(self, url: str) -> int | str:
        try:
            return self.client.api.http.get(url).status_code
        except httpx2.TransportError as error:
            return str(error)

    # --- probes -----------------------------------------------------------------------

    def list_url_works(self, grant: Grant) -> ProbeResult:
        name = "control: the grant's own list URL works"
        status = self.get_status(grant.list_url)
        if status == 200:
            return ProbeResult(name, True, "storage answered 200, so refusals below are real")
        return ProbeResult(name, False, f"storage answered {status}: later probes prove nothing")

    def other_miners_folder(self, grant: Grant) -> ProbeResult:
        key = f"data/{self.client.source}/{self.other_coldkey}/{self.tag}.bin"
        return self.expect_refused_write("write into another miner's folder", grant, key)

    def sibling_folder(self, grant: Grant) -> ProbeResult:
        key = f"{grant.folder.rstrip('/')}-{self.tag}/file.bin"
        return self.expect_refused_write("write beside the folder (shared prefix)", grant, key)

    def other_source_folder(self, grant: Grant) -> ProbeResult:
        key = f"data/{self.other_source}/{self.client.coldkey}/{self.tag}.bin"
        return self.expect_refused_write("write into another source", grant, key)

    def under_the_floor(self, grant: Grant) -> ProbeResult:
        name = "write a file under the size floor"
        floor = grant.limits.min_bytes
        if not floor:
            return ProbeResult(name, None, "the policy sets no minimum size")
        return self.expect_refused_write(
            name,
            grant,
            grant.key_for(f"{self.tag}-tiny.bin"),
            size=floor - 1,
            statuses=(400, 403),
        )

    def widened_policy(self, grant: Grant) -> ProbeResult:
        name = "write with a policy rewritten to all of data/"
        forged = self.forge_policy(grant, prefix="data/")
        if forged is None:
            return ProbeResult(name, False, "the grant's policy could not be decoded")
        key = f"data/{self.client.source}/{self.other_coldkey}/{self.tag}-forged.bin"
        return self.expect_refused_write(name, grant, key, fields=forged)

    def lowered_floor_policy(self, grant: Grant) -> ProbeResult:
        name = "write a tiny file with the size floor removed from the policy"
        forged = self.forge_policy(grant, min_bytes=0)
        if forged is None:
            return ProbeResult(name, False, "the grant's policy could not be decoded")
        key = grant.key_for(f"{self.tag}-forged-tiny.bin")
        return self.expect_refused_write(name, grant, key, size=1, fields=forged)

    def forge_policy(
        self, grant: Grant, *, prefix: str | None = None, min_bytes: int | None = None
    ) -> dict[str, str] | None:
        policy = decode_policy(grant.fields)
        if policy is None:
            return None
        for condition in policy.get("conditions", []):
            if not isinstance(condition, list) or len(condition) != 3:
                continue
            if prefix is not None and condition[:2] == ["starts-with", "$key"]:
                condition[2] = prefix
            if min_bytes is not None and condition[0] == "content-length-range":
                condition[1] = min_bytes
        field = "policy" if "policy" in grant.fields else "Policy"
        return {**grant.fields, field: encode_policy(policy)}

    def altered_list_url(self, grant: Grant) -> ProbeResult:
        name = "list another miner's folder with an edited list URL"
        altered = grant.list_url.replace(self.client.coldkey, self.other_coldkey)
        if altered == grant.list_url:
            return ProbeResult(name, False, "the list URL does not name the coldkey")
        return self.expect_refused_list(name, altered)

    def widened_list_url(self, grant: Grant) -> ProbeResult:
        name = "list all of data/ with an edited list URL"
        for safe in ("", "/"):
            encoded = quote(grant.folder, safe=safe)
            if encoded in grant.list_url:
                return self.expect_refused_list(
                    name, grant.list_url.replace(encoded, quote("data/", safe=safe))
                )
        return ProbeResult(name, False, "the list URL does not carry the folder as its prefix")

    def expect_refused_list(self, name: str, url: str) -> ProbeResult:
        status = self.get_status(url)
        if status == 403:
            return ProbeResult(name, True, "storage refused the edited URL (403)")
        if isinstance(status, int) and status < 300:
            return ProbeResult(name, False, f"storage ANSWERED the edited URL ({status})")
        return ProbeResult(name, False, f"inconclusive, expected 403: {status}")

    def claimed_foreign_coldkey(self, grant: Grant) -> ProbeResult:
        api, source = self.client.api, self.client.source
        body = {"coldkey": self.other_coldkey, "source": source}
        if self.client.auth != "legacy":
            body["hotkey"] = api.identity.hotkey_ss58
        return self.expect_refused_grant(
            "ask for a grant naming a coldkey that does not own this hotkey",
            lambda: api.send(
                "/get-folder-access",
                *api.sign(
                    "/get-folder-access",
                    body,
                    self.client.auth,
                    lambda ts: miner_message(self.other_coldkey, source, ts),
                ),
            ),
        )

    def foreign_list_files(self, grant: Grant) -> ProbeResult:
        body = {"source": self.client.source, "coldkey": self.other_coldkey}
        return self.expect_refused_read(
            "list another miner's folder through /list-files", "/list-files", body
        )

    def foreign_file_urls(self, grant: Grant) -> ProbeResult:
        body = {"keys": [f"data/{self.client.source}/{self.other_coldkey}/{self.tag}.bin"]}
        return self.expect_refused_read(
            "ask /get-file-urls for another miner's file", "/get-file-urls", body
        )

    def key_is_validator(self) -> bool:
        """Validators may read every folder, so read probes prove nothing with their key."""
        api = self.client.api
        path = "/get-validator-access"
        body = {"hotkey": api.identity.hotkey_ss58}
        try:
            api.send(path, *api.sign(path, body, header_scheme(self.client.auth), None))
        except (ApiError, httpx2.TransportError):
            return False
        return True

    def expect_refused_read(self, name: str, path: str, body: dict[str, Any]) -> ProbeResult:
        if self.reads_everything:
            return ProbeResult(
                name,
                None,
                "this key is a validator's, which may read every folder; "
                "run the check with a miner's key to probe reads",
            )
        api = self.client.api
        try:
            api.send(path, *api.sign(path, body, header_scheme(self.client.auth), None))
        except ApiError as error:
            if error.status in (401, 403):
                return ProbeResult(name, True, f"service refused: {error}")
            if error.status in (404, 405):
                return ProbeResult(name, True, "the service does not offer this endpoint")
            return ProbeResult(name, False, f"inconclusive, expected 401/403: {error}")
        except httpx2.TransportError as error:
            return ProbeResult(name, False, f"inconclusive, the service did not answer: {error}")
        return ProbeResult(name, False, f"service ANSWERED {path} for another miner's data")

    def replayed_legacy_signature(self, grant: Grant) -> ProbeResult:
        body = {"coldkey": self.client.coldkey, "source": self.client.source}
        message = lambda ts: miner_message(self.client.coldkey, self.client.source, ts)  # noqa: E731
        return self.replayed("replay a legacy signature", body, "legacy", message)

    def replayed_btauth_request(self, grant: Grant) -> ProbeResult:
        body = {
            "coldkey": self.client.coldkey,
            "source": self.client.source,
            "hotkey": self.client.api.identity.hotkey_ss58,
        }
        return self.replayed("replay a btauth/1 request", body, "btauth", None)

    def replayed_tao_request(self, grant: Grant) -> ProbeResult:
        body = {
            "coldkey": self.client.coldkey,
            "source": self.client.source,
            "hotkey": self.client.api.identity.hotkey_ss58,
        }
        return self.replayed("replay a Tao v2 request", body, "tao", None)

    def replayed(
        self,
        name: str,
        body: dict[str, Any],
        auth: Any,
        message: Callable[[int], str] | None,
    ) -> ProbeResult:
        api = self.client.api
        signed = api.sign("/get-folder-access", body, auth, message)
        try:
            api.send("/get-folder-access", *signed)
        except (ApiError, httpx2.TransportError) as error:
            return ProbeResult(name, False, f"inconclusive, the first request failed: {error}")
        try:
            api.send("/get-folder-access", *signed)
        except ApiError as error:
            if (error.status, error.code) == (401, "replayed"):
                return ProbeResult(name, True, f"service refused: {error}")
            return ProbeResult(name, False, f"refused, but not as 401 replayed: {error}")
        except httpx2.TransportError as error:
            return ProbeResult(name, False, f"inconclusive, the service did not answer: {error}")
        return ProbeResult(name, False, "service ACCEPTED the same signature twice")

    # --- hotkey folders and per-file uploads ------------------------------------------

    def hotkey_grant(self) -> Grant | ProbeResult:
        """A hotkey-era grant (`data/hotkey=<this hotkey>/`), or why there is none."""
        api = self.client.api
        body = {"coldkey": self.client.coldkey, "hotkey": api.identity.hotkey_ss58}
        try:
            return Grant.from_response(
                api.post(
                    "/get-folder-access",
                    body,
                    auth=self.client.auth,
                    legacy_message=lambda ts: hotkey_miner_message(
                        self.client.coldkey, api.identity.hotkey_ss58, ts
                    ),
                )
            )
        except ApiError as error:
            return ProbeResult("hotkey folder grant", None, f"no hotkey-era grant: {error}")

    def other_miners_hotkey_folder(self, grant: Grant) -> ProbeResult:
        name = "write into another miner's hotkey folder"
        hotkey_grant = self.hotkey_grant()
        if isinstance(hotkey_grant, ProbeResult):
            return ProbeResult(name, None, hotkey_grant.detail)
        key = f"data/hotkey={self.other_hotkey}/{self.tag}.bin"
        return self.expect_refused_write(name, hotkey_grant, key)

    def upload_target(self) -> UploadTarget | str:
        uploader = JobUploader(
            self.client.api, f"{self.tag}-job", auth=header_scheme(self.client.auth)
        )
        filename = f"data_20000101_000000_1_{secrets.token_hex(8)}.parquet"
        try:
            target = uploader.target(filename)
        except ApiError as error:
            return f"no per-file upload target: {error}"
        return target if target is not None else "the probe's key already exists"

    def key_outside_the_pinned_key(self, grant: Grant) -> ProbeResult:
        name = "POST a per-file form under another key than the pinned one"
        target = self.upload_target()
        if isinstance(target, str):
            return ProbeResult(name, None, target)
        if target.method == "PUT":
            return ProbeResult(name, None, "this deployment hands out PUT URLs, not forms")
        key = target.s3_key.rsplit("/", 1)[0] + f"/{self.tag}-other.parquet"
        form = {**target.fields, "key": key}
        return self.expect_refused_post(name, target.url, form, key)

    def put_url_for_another_key(self, grant: Grant) -> ProbeResult:
        name = "reuse a per-file PUT URL for another key"
        target = self.upload_target()
        if isinstance(target, str):
            return ProbeResult(name, None, target)
        if target.method != "PUT":
            return ProbeResult(name, None, "this deployment hands out POST forms, not PUT URLs")
        filename = target.s3_key.rsplit("/", 1)[1]
        other = f"{self.tag}-other.parquet"
        if filename not in target.url:
            return ProbeResult(name, False, "the PUT URL does not name its key")
        key = target.s3_key.rsplit("/", 1)[0] + "/" + other
        try:
            put_file(
                self.client.api.http,
                target.url.replace(filename, other),
                self.blob(PROBE_BYTES),
                f"upload of {key}",
            )
        except TransferError as error:
            if error.status == 403:
                return ProbeResult(name, True, str(error))
            return ProbeResult(name, False, f"inconclusive, expected 403: {error}")
        return ProbeResult(name, False, f"storage ACCEPTED {key}; remove that object")

    def foreign_miner_list(self, grant: Grant) -> ProbeResult:
        body = {"miner_hotkey": self.other_hotkey}
        return self.expect_refused_trusted_read(
            "list another miner's hotkey folder through /get-miner-list", "/get-miner-list", body
        )

    def foreign_presigned_urls(self, grant: Grant) -> ProbeResult:
        body = {
            "miner_hotkey": self.other_hotkey,
            "file_keys": [f"data/hotkey={self.other_hotkey}/job_id=j/{self.tag}.parquet"],
        }
        return self.expect_refused_trusted_read(
            "ask /get-file-presigned-urls for another miner's file",
            "/get-file-presigned-urls",
            body,
        )

    def expect_refused_trusted_read(
        self, name: str, path: str, body: dict[str, Any]
    ) -> ProbeResult:
        """Only trusted validators may call `path`; any other key must get 403."""
        api = self.client.api
        try:
            api.send(path, *api.sign(path, body, header_scheme(self.client.auth), None))
        except ApiError as error:
            if error.status == 403:
                return ProbeResult(name, True, f"service refused: {error}")
            if error.status in (404, 405):
                return ProbeResult(name, None, "the service does not offer this endpoint")
            return ProbeResult(name, False, f"inconclusive, expected 403: {error}")
        except httpx2.TransportError as error:
            return ProbeResult(name, False, f"inconclusive, the service did not answer: {error}")
        if self.reads_everything:
            return ProbeResult(
                name, None, "this key is a trusted validator's, which may read every folder"
            )
        return ProbeResult(name, False, f"service ANSWERED {path} for a key that is no validator")

    # --- forged and malformed requests ------------------------------------------------

    def backslash_key(self, grant: Grant) -> ProbeResult:
        name = "ask /get-file-urls for a key with a backslash"
        body = {"keys": [f"data/{self.client.source}\\{self.other_coldkey}/victim.bin"]}
        api = self.client.api
        try:
            answer = api.send(
                "/get-file-urls",
                *api.sign("/get-file-urls", body, header_scheme(self.client.auth), None),
            )
        except ApiError as error:
            if 400 <= error.status < 500:
                return ProbeResult(name, True, f"service refused: {error}")
            return ProbeResult(name, False, f"inconclusive, expected a 4xx: {error}")
        except httpx2.TransportError as error:
            return ProbeResult(name, False, f"inconclusive, the service did not answer: {error}")
        if answer.get("urls"):
            return ProbeResult(name, False, "service SIGNED a URL for a key with a backslash")
        return ProbeResult(name, True, "service signed nothing for it")

    def all_zero_public_key(self, grant: Grant) -> ProbeResult:
        name = "sign as the all-zero public key with a forged signature"
        zero = ss58_encode(bytes(32))
        raw = json.dumps({"coldkey": zero, "hotkey": zero}).encode()
        headers = {
            "Content-Type": "application/json",
            **tao_headers(ForgedSigner(zero), raw),
        }
        return self.expect_refused_forgery(name, raw, headers)

    def ed25519_btauth(self, grant: Grant) -> ProbeResult:
        name = "btauth/1 signed with ed25519 (X-Bittensor-Crypto: ed25519)"
        signer = Keypair.create_from_uri("//s3auth-probe-" + self.tag, CRYPTO_ED25519)
        raw = json.dumps({"coldkey": self.client.coldkey, "source": self.client.source}).encode()
        path = urlsplit(self.client.api.url("/get-folder-access")).path
        nonce = str(time.time_ns())
        payload = btauth_payload(
            method="POST",
            path=path,
            body=raw,
            nonce_ns=int(nonce),
            sender=signer.ss58_address,
            receiver=self.client.api.server_hotkey,
            scheme="ed25519",
        )
        headers = {
            "Content-Type": "application/json",
            HEADER_VERSION: "1",
            HEADER_HOTKEY: signer.ss58_address,
            HEADER_NONCE: nonce,
            HEADER_CRYPTO: "ed25519",
            HEADER_SIGNATURE: "0x" + bytes(signer.sign(payload)).hex(),
        }
        if self.client.api.server_hotkey:
            headers[HEADER_RECEIVER] = self.client.api.server_hotkey
        return self.expect_refused_forgery(name, raw, headers)

    def expect_refused_forgery(self, name: str, raw: bytes, headers: dict[str, str]) -> ProbeResult:
        try:
            granted = self.client.api.send("/get-folder-access", raw, headers)
        except ApiError as error:
            if error.code == "not_registered":
                # Registration is checked after the signature: this one verified.
                return ProbeResult(
                    name, False, f"the signature VERIFIED; only registration refused it: {error}"
                )
            if 400 <= error.status < 500:
                return ProbeResult(name, True, f"service refused: {error}")
            return ProbeResult(name, False, f"inconclusive, expected a 4xx: {error}")
        except httpx2.TransportError as error:
            return ProbeResult(name, False, f"inconclusive, the service did not answer: {error}")
        return ProbeResult(name, False, f"service GRANTED {granted.get('folder', 'access')}")

    def content_encoding_field(self, grant: Grant) -> ProbeResult:
        name = "POST a form with a Content-Encoding field the policy does not name"
        key = grant.key_for(f"{self.tag}-encoded.bin")
        form = {**grant.fields, "key": key, "Content-Encoding": "gzip"}
        try:
            post_file(self.client.api.http, grant.url, form, self.blob(PROBE_BYTES), key)
        except TransferError as error:
            if error.status in (400, 403):
                return ProbeResult(name, True, str(error))
            return ProbeResult(name, False, f"inconclusive, expected 400/403: {error}")
        return ProbeResult(
            name,
            None,
            f"the S3 server ACCEPTED a field outside the policy and stored {key} "
            "(AWS S3 refuses it; the service cannot); remove that object",
            warning=True,
        )

    def expect_refused_post(
        self, name: str, url: str, form: dict[str, str], key: str
    ) -> ProbeResult:
        try:
            post_file(self.client.api.http, url, form, self.blob(PROBE_BYTES), f"upload of {key}")
        except TransferError as error:
            if error.status == 403:
                return ProbeResult(name, True, str(error))
            return ProbeResult(name, False, f"inconclusive, expected 403: {error}")
        return ProbeResult(name, False, f"storage ACCEPTED {key}; remove that object")


class ForgedSigner:
    """Claims any address and "signs" with the small-order forgery: 63 zero bytes and 0x80."""

    def __init__(self, address: str) -> None:
        self.ss58_address = address

    def sign(self, data: bytes) -> bytes:
        return bytes(63) + b"\x80"


def run_isolation(
    client: MinerClient,
    *,
    other_coldkey: str | None = None,
    other_source: str | None = None,
    other_hotkey: str | None = None,
) -> list[ProbeResult]:
    other_source = other_source or ("reddit" if client.source != "reddit" else "x")
    with tempfile.TemporaryDirectory(prefix="s3auth-probe-") as workdir:
        check = IsolationCheck(
            client,
            other_coldkey=other_coldkey or foreign_coldkey(),
            other_source=other_source,
            workdir=Path(workdir),
            other_hotkey=other_hotkey,
        )
        return list(check.run())
