"""`s3auth`: run the service or the embedded development stack, and the client commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from app.client.cli import add_client_commands
from config import Settings, describe_errors

Handler = Callable[[argparse.Namespace], int]


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and `.env`; a bad value exits with one line per variable."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        for line in describe_errors(exc):
            print(f"s3auth: configuration error: {line}", file=sys.stderr)
        raise SystemExit(2) from None


def _serve(args: argparse.Namespace) -> int:
    from app.serve import serve

    settings = load_settings(host=args.host, port=args.port)
    return serve(settings, workers=args.workers)


def _dev(args: argparse.Namespace) -> int:
    from app.dev import run_dev

    return run_dev(port=args.port, data_dir=args.data_dir)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="s3auth",
        description="Scoped S3 access for a Bittensor subnet's miners and validators.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the API with the configuration from the environment",
        description="Run the API. Configuration comes from the environment and .env "
        "(see README: Configuration).",
    )
    serve.add_argument("--host", help="listen address (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default: PORT or 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    serve.set_defaults(handler=_serve)

    dev = commands.add_parser(
        "dev",
        help="run a local S3, a dev metagraph and the API: no cloud account needed",
        description="Start SeaweedFS on loopback, create the bucket, write a development "
        "metagraph with printed test keys, and serve the API until Ctrl-C.",
    )
    dev.add_argument("--port", type=int, default=8000, help="API port (default: 8000)")
    dev.add_argument(
        "--data-dir", default=".s3auth-dev", help="where S3 data and the dev metagraph live"
    )
    dev.set_defaults(handler=_dev)

    add_client_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
