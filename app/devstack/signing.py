"""The dev stack's /docs: Try-it-out signs each request with a dev identity's public key.

Only `s3auth dev` builds this app (its factory is named in app/dev.py); `s3auth serve`
builds `app.main.create_app`, which has neither `/dev/sign` nor this page. `/dev/sign`
takes the NAME of a dev identity (`dev-miner-1`, ..., `dev-validator`), never a key or a
URI, so no key other than the dev stack's public ones can ever sign through it.
"""

from __future__ import annotations

import html
import json
from functools import cache
from typing import Any

from bittensor.sp_core import Keypair
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from app.devstack.keys import DevKey, dev_keys
from app.errors import NotFound
from app.main import create_app
from app.routes.docs import ASSETS_URL
from app.serve import settings_from_environment
from config import Settings
from s3auth_client.tao import tao_headers

router = APIRouter(include_in_schema=False)


class SignRequest(BaseModel):
    identity: str = Field(max_length=64)
    # The exact text Try-it-out sends: Tao v2 signs the raw body ("" for a GET).
    body: str = ""


@cache
def identities() -> dict[str, DevKey]:
    return {key.name: key for key in dev_keys()}


@cache
def keypair(name: str) -> Keypair:
    return identities()[name].hotkey


@router.post("/dev/sign")
async def sign(request: SignRequest) -> dict[str, str]:
    """Tao v2 headers (a fresh nonce and timestamp) for one request of a dev identity."""
    if request.identity not in identities():
        raise NotFound(
            f"No dev identity {request.identity!r}; there are {', '.join(identities())}.",
            code="not_found",
        )
    return tao_headers(keypair(request.identity), request.body.encode())


def _options() -> str:
    return "\n".join(
        f'<option value="{html.escape(key.name)}">{html.escape(key.name)} '
        f"({key.role}, {key.hotkey.ss58_address})</option>"
        for key in identities().values()
    )


@router.get("/docs")
async def dev_swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    app: FastAPI = request.app
    config: dict[str, Any] = {
        "root": root,
        "openapi": f"{root}{app.openapi_url}",
        "apiKey": app.state.dev_api_key,
    }
    return HTMLResponse(
        PAGE.replace("{title}", html.escape(f"{app.title} docs (dev stack)"))
        .replace("{assets}", f"{root}{ASSETS_URL}")
        .replace("{options}", _options())
        # "</" cannot end the script early: JSON allows "<\/".
        .replace("{config}", json.dumps(config).replace("</", "<\\/"))
    )


def create_dev_app(settings: Settings, **parts: Any) -> FastAPI:
    """The service's app with this signing page answering /docs before the plain one."""
    app = create_app(settings, first_routers=(router,), **parts)
    # Try-it-out on customer endpoints is authorized with the dev customer key.
    keys = settings.constellation_api_keys
    app.state.dev_api_key = keys[0].get_secret_value() if keys else ""
    return app


def dev_app_from_environment() -> FastAPI:
    """ASGI factory for the `s3auth dev` worker."""
    return create_dev_app(settings_from_environment())


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="shortcut icon" href="{assets}/favicon.png">
<style>
  #dev-signing { font-family: sans-serif; padding: 12px 20px; background: #fff8e1;
                 border-bottom: 1px solid #e0c36c; }
  #dev-signing select { font-size: 14px; margin: 0 8px; }
</style>
</head>
<body>
<div id="dev-signing">
  <label for="dev-identity">Try it out signs (Tao v2) as</label>
  <select id="dev-identity">
    {options}
    <option value="">nobody: send requests unsigned</option>
  </select>
  <small>Dev stack only: these keys are public. Customer endpoints use the dev customer
  key (Authorize shows it).</small>
</div>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script>
const DEV = {config};

// Each Try-it-out asks the dev stack to sign the exact body about to be sent, so every
// click carries a fresh nonce and timestamp.
async function signWithDevIdentity(request) {
  const identity = document.getElementById("dev-identity").value;
  if (!identity || request.loadSpec || request.url.includes("/dev/sign")) {
    return request;
  }
  const body = typeof request.body === "string" ? request.body : "";
  const answer = await fetch(DEV.root + "/dev/sign", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({identity: identity, body: body}),
  });
  if (!answer.ok) {
    throw new Error("/dev/sign answered " + answer.status + ": " + await answer.text());
  }
  Object.assign(request.headers, await answer.json());
  return request;
}

window.ui = SwaggerUIBundle({
  url: DEV.openapi,
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout",
  deepLinking: true,
  queryConfigEnabled: true,
  defaultModelsExpandDepth: 0,
  displayRequestDuration: true,
  requestInterceptor: signWithDevIdentity,
  onComplete: function () {
    if (DEV.apiKey) { window.ui.preauthorizeApiKey("ApiKey", DEV.apiKey); }
  },
});
</script>
</body>
</html>
"""
