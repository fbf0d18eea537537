"""Swagger UI and ReDoc served from the app itself, so /docs and /redoc work offline.

The pages are module-level endpoints reading `request.app`: FastAPI caches facts about
endpoint callables for the life of the process, so an endpoint closing over its app
would keep every app ever built alive.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles

from app.errors import NotFound

ASSETS_URL = "/docs-assets"
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
# The protocol pages of the repository's docs/ folder: beside the code in a checkout, in
# the working directory of the image (where the package is installed, not the checkout).
PAGES_DIRS = (Path(__file__).resolve().parents[2] / "docs", Path("docs"))
PAGES = frozenset({"protocol", "errors"})

router = APIRouter(include_in_schema=False)


def _root(request: Request) -> str:
    return request.scope.get("root_path", "")


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    root = _root(request)
    app: FastAPI = request.app
    return get_swagger_ui_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} docs",
        swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        swagger_ui_parameters={
            "defaultModelsExpandDepth": 0,
            "displayRequestDuration": True,
            # Lets a link open everything expanded: /docs?docExpansion=full
            "queryConfigEnabled": True,
        },
    )


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    root = _root(request)
    app: FastAPI = request.app
    return get_redoc_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} reference",
        redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        # Google Fonts are the one thing ReDoc would fetch from the internet.
        with_google_fonts=False,
    )


@router.get("/docs/{page}.md")
async def protocol_page(page: str) -> PlainTextResponse:
    found = [folder / f"{page}.md" for folder in PAGES_DIRS if page in PAGES]
    path = next((candidate for candidate in found if candidate.is_file()), None)
    if path is None:
        raise NotFound(
            f"No docs page {page!r} here; see docs/ in the repository.", code="not_found"
        )
    return PlainTextResponse(path.read_text(), media_type="text/markdown; charset=utf-8")


def mount_docs(app: FastAPI) -> None:
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    app.include_router(router)
