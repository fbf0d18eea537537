"""Injectables, so each route declares what it needs and tests can override it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.auth.callers import (
    AuthorizedDownloader,
    AuthorizedReader,
    AuthorizedValidator,
    authorize_downloader,
    authorize_reader,
    authorize_validator,
)
from app.services import Services, get_services
from config import Settings

ServicesDep = Annotated[Services, Depends(get_services)]


async def get_settings(services: ServicesDep) -> Settings:
    return services.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def _validator(request: Request, services: ServicesDep) -> AuthorizedValidator:
    return await authorize_validator(request, services)


async def _reader(request: Request, services: ServicesDep) -> AuthorizedReader:
    return await authorize_reader(request, services)


async def _downloader(request: Request, services: ServicesDep) -> AuthorizedDownloader:
    return await authorize_downloader(request, services)


ValidatorCaller = Annotated[AuthorizedValidator, Depends(_validator)]
ReaderCaller = Annotated[AuthorizedReader, Depends(_reader)]
DownloaderCaller = Annotated[AuthorizedDownloader, Depends(_downloader)]
