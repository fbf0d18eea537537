"""The code under test: this checkout, and optionally a git ref checked out beside it."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Build:
    name: str
    source_dir: Path
    commit: str


def _git(*args: str, cwd: Path = REPO) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def current_build() -> Build:
    commit = _git("rev-parse", "--short", "HEAD")
    if _git("status", "--porcelain", "--untracked-files=no"):
        commit += "+dirty"
    return Build("current", REPO, commit)


@contextlib.contextmanager
def ref_build(ref: str, parent: Path) -> Iterator[Build]:
    """`ref` in a detached temporary worktree, removed afterwards; a directory as it is.

    It runs with this checkout's virtualenv (its code first on PYTHONPATH), so a ref that
    needs other dependencies must have them installed there.
    """
    if Path(ref).is_dir():
        yield Build(Path(ref).name, Path(ref).resolve(), "directory")
        return
    commit = _git("rev-parse", "--short", ref)
    path = parent / f"ref-{commit}"
    _git("worktree", "add", "--detach", str(path), ref)
    try:
        yield Build(ref, path, commit)
    finally:
        _git("worktree", "remove", "--force", str(path))
