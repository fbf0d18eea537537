"""`s3auth miner|validator|check`: the client commands, registered into the s3auth parser."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx2

from s3auth_client.api import AUTH_SCHEMES, DEFAULT_AUTH, Api
from s3auth_client.errors import ClientError
from s3auth_client.identity import Identity
from s3auth_client.retry import RetryPolicy

Subparsers = argparse._SubParsersAction  # type: ignore[type-arg]

DEFAULT_URL = "http://127.0.0.1:8000"

# Exit codes: 0 all done, 1 something failed (files, probes), 2 could not start.
EXIT_FAILED = 1
EXIT_UNUSABLE = 2
EXIT_INTERRUPTED = 130


def common_options() -> argparse.ArgumentParser:
    """Options every client command takes: where the service is and who signs."""
    parent = argparse.ArgumentParser(add_help=False)
    service = parent.add_argument_group("service")
    service.add_argument(
        "--url",
        default=os.environ.get("S3AUTH_URL", DEFAULT_URL),
        help=f"the service's base URL (default: $S3AUTH_URL or {DEFAULT_URL})",
    )
    service.add_argument(
        "--server-hotkey",
        metavar="SS58",
        default=os.environ.get("S3AUTH_SERVER_HOTKEY"),
        help="the service's hotkey, when it requires btauth/1 requests bound to it "
        "(default: $S3AUTH_SERVER_HOTKEY)",
    )
    service.add_argument(
        "--retries",
        type=int,
        default=5,
        metavar="N",
        help="attempts per request on network errors, 429 and 5xx (default: 5)",
    )
    keys = parent.add_argument_group("keys (a wallet, or a development URI)")
    keys.add_argument("--wallet", metavar="NAME", help="bittensor wallet name (default: default)")
    keys.add_argument(
        "--hotkey", metavar="NAME", help="hotkey name in the wallet (default: default)"
    )
    keys.add_argument(
        "--wallet-path", metavar="DIR", help="wallets directory (default: ~/.bittensor/wallets)"
    )
    keys.add_argument(
        "--hotkey-uri",
        metavar="URI",
        help="development only: derive the hotkey from a secret URI such as //alice",
    )
    keys.add_argument(
        "--coldkey",
        metavar="SS58",
        help="the coldkey owning the hotkey (default: the wallet's coldkeypub)",
    )
    parent.add_argument(
        "--json", action="store_true", help="print machine-readable JSON instead of text"
    )
    return parent


def identity_from(args: argparse.Namespace) -> Identity:
    if args.hotkey_uri:
        return Identity.from_uri(args.hotkey_uri, args.coldkey)
    return Identity.from_wallet(
        args.wallet or "default", args.hotkey or "default", args.wallet_path, args.coldkey
    )


def api_from(args: argparse.Namespace) -> Api:
    return Api(
        args.url,
        identity_from(args),
        server_hotkey=args.server_hotkey,
        retry=RetryPolicy(attempts=max(1, args.retries), on_retry=retry_notice(args.retries)),
    )


def retry_notice(attempts: int) -> Callable[[int, BaseException, float], None]:
    """One stderr line per retry: a service that is down is not silent for seconds."""

    def notice(attempt: int, error: BaseException, wait: float) -> None:
        print(
            f"s3auth: {describe_failure(error)}; retrying in {wait:.1f} s "
            f"(attempt {attempt + 1} of {attempts})",
            file=sys.stderr,
        )

    return notice


def describe_failure(error: BaseException) -> str:
    if isinstance(error, httpx2.TransportError):
        return f"no answer ({type(error).__name__}: {error})"
    return str(error)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def show_progress(args: argparse.Namespace) -> bool:
    return not args.json


def emit(args: argparse.Namespace, payload: dict[str, Any], text: str) -> None:
    print(json.dumps(payload) if args.json else text)


def guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn client errors (bad keys, refused grants, unreachable service) into exit 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except KeyboardInterrupt:
            print("s3auth: interrupted; run the same command again to resume", file=sys.stderr)
            return EXIT_INTERRUPTED
        except ClientError as error:
            if args.json:
                print(json.dumps({"ok": False, "error": error_json(error)}))
            else:
                print(f"s3auth: {error}", file=sys.stderr)
            return EXIT_UNUSABLE
        except (OSError, httpx2.HTTPError) as error:
            # The service stayed unreachable through every retry, or a local file failed.
            message = (
                f"cannot reach {args.url}: {error}"
                if isinstance(error, httpx2.HTTPError)
                else str(error)
            )
            if args.json:
                print(json.dumps({"ok": False, "error": {"message": message}}))
            else:
                print(f"s3auth: {message}", file=sys.stderr)
            return EXIT_UNUSABLE

    return run


def error_json(error: ClientError) -> dict[str, Any]:
    payload: dict[str, Any] = {"message": str(error)}
    for name in ("status", "code", "detail"):
        if hasattr(error, name):
            payload[name] = getattr(error, name)
    return payload


def json_lines(items: Iterator[dict[str, Any]]) -> None:
    for item in items:
        print(json.dumps(item))


def add_command(
    group: Subparsers, name: str, parent: argparse.ArgumentParser, summary: str, text: str
) -> argparse.ArgumentParser:
    return group.add_parser(
        name,
        parents=[parent],
        help=summary,
        description=text,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def auth_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--auth",
        choices=AUTH_SCHEMES,
        default=DEFAULT_AUTH,
        help="how requests are signed: Tao v2 headers (tao), btauth/1 headers (btauth), or "
        "the legacy body signature where the endpoint takes it, headers elsewhere "
        f"(default: {DEFAULT_AUTH})",
    )


def jobs_option(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument(
        "--jobs",
        type=int,
        default=default,
        metavar="N",
        help=f"parallel transfers (default: {default})",
    )


def add_client_commands(commands: Subparsers) -> None:
    # Imported here: the command modules import their shared helpers from this one.
    from s3auth_client.miner_cli import add_check, add_miner
    from s3auth_client.validator_cli import add_validator

    parent = common_options()
    add_miner(commands, parent)
    add_validator(commands, parent)
    add_check(commands, parent)
