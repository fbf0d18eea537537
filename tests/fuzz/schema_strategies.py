"""Hypothesis strategies for the JSON Schema subset pydantic writes into our OpenAPI.

Values follow the schema's shape (types, required keys, enums, lengths, bounds) often
enough to get past parsing, and stray from it sometimes, so the checks behind parsing
are reached too.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

from hypothesis import strategies as st

MAX_DEPTH = 4
# Datetimes at the edges of Python's range, with offsets that overflow when moved to UTC.
EXTREME_DATETIMES = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59.999999Z",
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:00:00+23:59",
    ]
)
DATETIMES = st.one_of(
    EXTREME_DATETIMES,
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.builds(
        lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))),
        st.datetimes(),
        st.integers(-1439, 1439),
    ).map(lambda moment: moment.isoformat()),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)


Hints = dict[str, st.SearchStrategy[Any]]


def from_schema(
    schema: dict[str, Any], root: dict[str, Any], depth: int = 0, hints: Hints | None = None
) -> st.SearchStrategy[Any]:
    """A strategy for `schema`; `$ref`s resolve against `root` (#/components/schemas/X).

    `hints` maps property names to values worth trying (registered hotkeys, real
    sources), mixed with what the schema alone would give, so checks past the first
    refusal are reached.
    """
    hints = hints or {}
    if depth > MAX_DEPTH:
        return SCALARS
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        target = root.get("components", {}).get("schemas", {}).get(name) or root.get(
            "$defs", {}
        ).get(name, {})
        # Only containers count toward the depth: references and unions are free, so
        # fields under a few of them (a job's dates, a list entry's datetimes) are reached.
        return from_schema(target, root, depth, hints)
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return st.one_of([from_schema(s, root, depth, hints) for s in schema[combinator]])
    if schema.get("allOf"):
        return from_schema(schema["allOf"][0], root, depth, hints)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": k}, root, depth, hints) for k in kind])
    if kind == "object" or "properties" in schema:
        return _object(schema, root, depth, hints)
    if kind == "array":
        items = from_schema(schema.get("items", {}), root, depth + 1, hints)
        high = min(schema.get("maxItems", 5), 5)
        return st.lists(items, min_size=min(schema.get("minItems", 0), high), max_size=high)
    if kind == "string" and schema.get("format") == "date-time":
        return st.one_of(DATETIMES, DATETIMES, _string(schema))
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return _number(schema, st.integers)
    if kind == "number":
        return _number(schema, lambda **bounds: st.floats(allow_nan=False, **bounds))
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return SCALARS


def _object(
    schema: dict[str, Any], root: dict[str, Any], depth: int, hints: Hints
) -> st.SearchStrategy[Any]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    fixed = {
        name: st.one_of(hints[name], hints[name], from_schema(sub, root, depth + 1, hints))
        if name in hints
        else from_schema(sub, root, depth + 1, hints)
        for name, sub in properties.items()
    }

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for name, strategy in fixed.items():
            if name in required or draw(st.booleans()):
                value[name] = draw(strategy)
        if draw(st.integers(0, 9)) == 0:  # now and then a key nobody asked for
            value[draw(st.text(max_size=10))] = draw(SCALARS)
        return value

    return build()


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    low = schema.get("minLength", 0)
    high = min(schema.get("maxLength", 80), 300)
    if "pattern" in schema:
        try:
            return st.one_of(
                st.from_regex(schema["pattern"], fullmatch=True).filter(
                    lambda s: low <= len(s) <= high
                ),
                st.text(min_size=low, max_size=max(low, high)),
            )
        except Exception:  # a pattern Python's re cannot take: plain text
            pass
    return st.text(min_size=low, max_size=max(low, high))


def _number(schema: dict[str, Any], make: Any) -> st.SearchStrategy[Any]:
    bounds: dict[str, Any] = {}
    if "minimum" in schema:
        bounds["min_value"] = int(schema["minimum"]) if make is st.integers else schema["minimum"]
    if "maximum" in schema:
        bounds["max_value"] = int(schema["maximum"]) if make is st.integers else schema["maximum"]
    return st.one_of(make(**bounds), make())
