"""Injectables, so each route declares what it needs and tests can override it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.auth.callers import AuthorizedValidator, authorize_validator
from app.services import Services
from config import Settings


# Async, though they do not await: FastAPI runs plain `def` dependencies in a thread pool,
# which costs more than the whole of what they do.
async def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_settings(services: ServicesDep) -> Settings:
    return services.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


# This takes the services from the request rather than through ServicesDep: FastAPI
# resolves nested dependencies at a cost comparable to a signature check. (The miner
# route authorizes its caller itself, for the same reason.)
async def _validator(request: Request) -> AuthorizedValidator:
    return await authorize_validator(request, request.app.state.services)


ValidatorCaller = Annotated[AuthorizedValidator, Depends(_validator)]
