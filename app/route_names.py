"""The route template a request would reach, for refusals answered before routing.

The per-IP limit answers before the router runs, so the router never names the route;
the metrics middleware reads the name left here instead of counting it as "unmatched".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from starlette.routing import compile_path
from starlette.types import Scope


class RoutePath(NamedTuple):
    path: str  # what the metrics middleware reads of a matched route


def route_paths(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[re.Pattern[str], str]]:
    """Every route's full path template and its pattern, through included routers."""
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            context = getattr(route, "include_context", None)
            yield from route_paths(original.routes, prefix + getattr(context, "prefix", ""))
        elif isinstance(getattr(route, "path", None), str):
            path = prefix + route.path
            yield compile_path(path)[0], path


def name_route(scope: Scope) -> None:
    """Names the route a request refused before routing would have reached, for metrics."""
    app = scope.get("app")
    state = getattr(app, "state", None)
    if state is None:
        return
    paths = getattr(state, "route_paths", None)
    if paths is None:
        paths = state.route_paths = list(route_paths(app.routes))  # type: ignore[union-attr]
    for pattern, path in paths:
        if pattern.match(scope["path"]):
            scope["route"] = RoutePath(path)
            return
