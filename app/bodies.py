"""A bound on how deeply a JSON body nests, checked before any parser sees it.

The standard library's parser recurses once per level and raises RecursionError (a 500)
around a thousand; no body this service takes nests more than a few levels.
"""

from __future__ import annotations

import re

from app.errors import BadRequest

MAX_DEPTH = 32
# A JSON string, escapes included; what it holds never counts as nesting.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _brackets(raw: bytes) -> bytes:
    return _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)


def nesting_depth(raw: bytes, *, stop_above: int = MAX_DEPTH, brackets: bytes | None = None) -> int:
    """How deep arrays and objects nest in `raw` (stops counting past `stop_above`)."""
    if brackets is None:
        brackets = _brackets(raw)
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest


def check_depth(raw: bytes, limit: int = MAX_DEPTH) -> None:
    """400 `invalid_json` for a body nesting deeper than `limit`."""
    brackets = _brackets(raw)
    # Most bodies open too few arrays and objects to nest too deep: no walk needed.
    if brackets.count(b"[") + brackets.count(b"{") <= limit:
        return
    if nesting_depth(raw, stop_above=limit, brackets=brackets) > limit:
        raise BadRequest(
            f"The body nests arrays and objects more than {limit} levels deep.",
            code="invalid_json",
        )
