"""The README's settings table has a row for every setting the service reads."""

from __future__ import annotations

import re
from pathlib import Path

from config import Settings

ROOT = Path(__file__).resolve().parents[1]
# Read by a library rather than by Settings, and still the operator's to set.
LIBRARY_SETTINGS = {"PROMETHEUS_MULTIPROC_DIR"}


def table_names() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", line.split("|")[1]))
    return names


def test_every_setting_has_a_row_in_the_readme() -> None:
    settings = {name.upper() for name in Settings.model_fields}

    assert settings - table_names() == set()


def test_every_row_is_a_setting() -> None:
    settings = {name.upper() for name in Settings.model_fields}

    assert table_names() - settings - LIBRARY_SETTINGS == set()
