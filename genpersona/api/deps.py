"""FastAPI dependencies: the app's Settings and Services, set once in ``create_app``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from genpersona.api.services import Services
from genpersona.settings import Settings


def app_settings(request: Request) -> Settings:
    return request.app.state.settings


def app_services(request: Request) -> Services:
    return request.app.state.services


SettingsDep = Annotated[Settings, Depends(app_settings)]
ServicesDep = Annotated[Services, Depends(app_services)]
