"""The service's `s3auth` commands (serve, dev, metagraph), registered into the client's CLI.

The `s3auth` command itself belongs to the light `s3auth-client` package; this module is
its `s3auth.commands` entry point, so installing the service adds these commands.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from app.housekeeping.cli import add_storage_commands
from config import Settings, describe_errors
from s3auth_client.cli import Subparsers, add_client_commands
from s3auth_client.commands import base_parser

if TYPE_CHECKING:
    from app.metagraph.sources import MetagraphSource

Handler = Callable[[argparse.Namespace], int]
SourceFactory = Callable[[Settings], "MetagraphSource"]


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


def chain_source_for(settings: Settings) -> MetagraphSource:
    from app.metagraph.chain import ChainSource

    return ChainSource(network=settings.bt_network, netuid=settings.netuid)


def _metagraph_export(args: argparse.Namespace) -> int:
    import asyncio

    from app.metagraph.export import export_metagraph

    settings = load_settings(bt_network=args.network, netuid=args.netuid)
    source = args.chain_source(settings)
    try:
        snapshot = asyncio.run(export_metagraph(source, Path(args.out), seconds=args.timeout))
    except TimeoutError:
        print(
            f"s3auth: no metagraph from {settings.bt_network} within {args.timeout:g} s",
            file=sys.stderr,
        )
        return 1
    except Exception as exc:
        print(
            f"s3auth: reading netuid {settings.netuid} from {settings.bt_network} failed: "
            f"{type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        return 1
    print(
        f"wrote {len(snapshot)} neurons of netuid {snapshot.netuid} at block {snapshot.block} "
        f"to {args.out}"
    )
    return 0


def _add_metagraph_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], chain_source: SourceFactory
) -> None:
    metagraph = commands.add_parser(
        "metagraph",
        help="inspect the subnet's metagraph",
        description="Work with the metagraph the service authorizes against.",
    )
    actions = metagraph.add_subparsers(dest="metagraph_command", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export",
        help="write the live metagraph from the chain to a JSON file",
        description="Read the metagraph of NETUID from BT_NETWORK and write it in the "
        "METAGRAPH_FILE format, so it can be inspected or pinned.",
    )
    export.add_argument("--out", required=True, help="file to write (replaced atomically)")
    export.add_argument("--network", help="network name or ws(s):// URL (default: BT_NETWORK)")
    export.add_argument("--netuid", type=int, help="subnet (default: NETUID)")
    export.add_argument(
        "--timeout", type=float, default=120.0, help="give up after this many seconds"
    )
    export.set_defaults(handler=_metagraph_export, chain_source=chain_source)


def _db_upgrade(args: argparse.Namespace) -> int:
    import asyncio

    from app.db.migrate import upgrade_url

    settings = load_settings(database_url=args.database_url)
    try:
        revision = asyncio.run(upgrade_url(settings.database_url))
    except Exception as exc:
        print(f"s3auth: database upgrade failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"database schema at revision {revision}")
    return 0


def _add_db_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser(
        "db",
        help="manage the jobs/lists/results database",
        description="Work with the database at DATABASE_URL.",
    )
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = actions.add_parser(
        "upgrade",
        help="apply the database migrations",
        description="Bring the schema at DATABASE_URL to the newest revision. `s3auth serve` "
        "does this at start too; replicas starting together apply it once.",
    )
    upgrade.add_argument("--database-url", help="SQLAlchemy async URL (default: DATABASE_URL)")
    upgrade.set_defaults(handler=_db_upgrade)


def add_server_commands(
    commands: Subparsers, *, chain_source: SourceFactory = chain_source_for
) -> None:
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
    dev.add_argument("--port", type=int, help="API port (default: S3AUTH_DEV_PORT, else 8000)")
    dev.add_argument(
        "--data-dir", default=".s3auth-dev", help="where S3 data and the dev metagraph live"
    )
    dev.set_defaults(handler=_dev)

    _add_metagraph_commands(commands, chain_source)
    _add_db_commands(commands)
    add_storage_commands(commands)


def build_parser(*, chain_source: SourceFactory = chain_source_for) -> argparse.ArgumentParser:
    """Every command of an installation with the service: its own and the client's."""
    parser, commands = base_parser()
    add_server_commands(commands, chain_source=chain_source)
    add_client_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
