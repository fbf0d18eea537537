"""`s3auth`: the client commands, plus any commands other installed packages register.

The service registers `serve`, `dev`, `metagraph`, ... through the entry-point group
`s3auth.commands` when it is installed; a miner's light install has only the client
commands.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from s3auth_client.cli import Subparsers, add_client_commands

PLUGIN_GROUP = "s3auth.commands"

Handler = Callable[[argparse.Namespace], int]


def base_parser() -> tuple[argparse.ArgumentParser, Subparsers]:
    parser = argparse.ArgumentParser(
        prog="s3auth",
        description="Scoped S3 access for a Bittensor subnet's miners and validators.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    return parser, commands


def add_plugin_commands(commands: Subparsers) -> None:
    """Commands of installed packages; one that cannot load is named, not fatal."""
    for entry in sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
        try:
            register = entry.load()
        except Exception as exc:  # a broken optional install must not hide the client commands
            print(
                f"s3auth: the {entry.name!r} commands are unavailable: {type(exc).__name__}: {exc}",
                file=sys.stderr,
            )
            continue
        register(commands)


def build_parser() -> argparse.ArgumentParser:
    parser, commands = base_parser()
    add_plugin_commands(commands)
    add_client_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
