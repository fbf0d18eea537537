"""JSON answers built straight from dicts, for routes on the hot path.

FastAPI validates a returned model against `response_model` and then encodes it field by
field; a route that already builds exactly the documented shape can skip both. It keeps
`response_model` for the OpenAPI document, and FastAPI sends a returned Response as is.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response


class JSONBytes(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        # The same bytes Starlette's JSONResponse writes.
        return json.dumps(
            content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
        ).encode()
