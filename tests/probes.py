"""Apps with a probe route for the validator caller, whose grant route lives elsewhere."""

from __future__ import annotations

from fastapi import FastAPI

from app.deps import ValidatorCaller
from app.main import create_app
from config import Settings

VALIDATOR_PROBE = "/probe/validator"


def app_with_validator_probe(settings: Settings) -> FastAPI:
    app = create_app(settings)

    @app.post(VALIDATOR_PROBE)
    async def probe(validator: ValidatorCaller) -> dict[str, str]:
        return {"hotkey": validator.hotkey}

    return app
