"""The customer's data controls: export, opt-out / opt-in, reset, erase; and probes.

These are the brand's promise made callable: a support agent or the shop's
privacy page calls them on the customer's behalf. Each answers 404 for an
unknown customer instead of silently succeeding, so a typo in an id is not
mistaken for a completed erasure.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from genpersona.api.deps import ServicesDep, SettingsDep
from genpersona.api.schemas import ConsentChange, ErrorBody
from genpersona.api.scopes import require_scope

router = APIRouter(tags=["customers"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "unknown brand or customer"}
}
BrandPath = Path(min_length=1, max_length=64)
CustomerPath = Path(min_length=1, max_length=64)
_ADMIN = [require_scope("customers:admin")]


def _out(result: Any) -> Any:
    """Whatever a control returned (pydantic model, dict, None) as JSON-safe data."""
    if result is None:
        return {}
    if hasattr(result, "model_dump"):
        return result.model_dump(mode="json")
    if not isinstance(result, dict):
        result = {"result": result}
    return jsonable_encoder(result)


@router.get("/v1/customers/{brand}/{customer_id}/export", responses=_NOT_FOUND, dependencies=_ADMIN)
def export(
    services: ServicesDep,
    settings: SettingsDep,
    brand: str = BrandPath,
    customer_id: str = CustomerPath,
) -> JSONResponse:
    """Everything held about the customer: profile, consent, events, memories, drafts."""
    data = services.export_customer(brand, customer_id, settings)
    return JSONResponse(_out(data))


def _consent(
    services: ServicesDep, settings: SettingsDep, brand: str, customer_id: str, opted_out: bool
) -> ConsentChange:
    result = services.set_opt_out(brand, customer_id, opted_out, settings)
    return ConsentChange(
        brand=brand, customer_id=customer_id, opted_out=opted_out, detail=_out(result)
    )


@router.post(
    "/v1/customers/{brand}/{customer_id}/opt-out",
    response_model=ConsentChange,
    responses=_NOT_FOUND,
    dependencies=_ADMIN,
)
def opt_out(
    services: ServicesDep,
    settings: SettingsDep,
    brand: str = BrandPath,
    customer_id: str = CustomerPath,
) -> ConsentChange:
    """Stop personalization: later drafts use generic copy with no personal data."""
    return _consent(services, settings, brand, customer_id, True)


@router.post(
    "/v1/customers/{brand}/{customer_id}/opt-in",
    response_model=ConsentChange,
    responses=_NOT_FOUND,
    dependencies=_ADMIN,
)
def opt_in(
    services: ServicesDep,
    settings: SettingsDep,
    brand: str = BrandPath,
    customer_id: str = CustomerPath,
) -> ConsentChange:
    """Allow personalization again (the customer's explicit choice)."""
    return _consent(services, settings, brand, customer_id, False)


@router.post("/v1/customers/{brand}/{customer_id}/reset", responses=_NOT_FOUND, dependencies=_ADMIN)
def reset(
    services: ServicesDep,
    settings: SettingsDep,
    brand: str = BrandPath,
    customer_id: str = CustomerPath,
) -> JSONResponse:
    """Wipe learned preferences and memories; the customer record itself stays."""
    result = services.reset_customer(brand, customer_id, settings)
    return JSONResponse(
        {"brand": brand, "customer_id": customer_id, "reset": True, "detail": _out(result)}
    )


@router.delete("/v1/customers/{brand}/{customer_id}", responses=_NOT_FOUND, dependencies=_ADMIN)
def erase(
    services: ServicesDep,
    settings: SettingsDep,
    brand: str = BrandPath,
    customer_id: str = CustomerPath,
) -> JSONResponse:
    """Erase every trace of the customer (rows, vectors, drafts, logs); returns what was removed."""
    report = services.erase_customer(brand, customer_id, settings)
    return JSONResponse(_out(report))


@router.get("/healthz", tags=["probes"])
def healthz() -> dict[str, str]:
    """Liveness: the process answers. Touches nothing else."""
    return {"status": "ok"}


@router.get("/readyz", tags=["probes"])
def readyz(services: ServicesDep, settings: SettingsDep) -> JSONResponse:
    """Readiness: the database answers and the LLM backend is usable; 503 names what is not."""
    checks: dict[str, Any] = {}
    ready = True
    for name, check in services.ready_checks.items():
        try:
            result = check(settings)
            ok = bool(result.get("ok", True))
            checks[name] = result
        except Exception as exc:  # a probe reports failures, it does not raise them
            ok = False
            checks[name] = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
        ready = ready and ok
    body = {"status": "ready" if ready else "not_ready", "checks": jsonable_encoder(checks)}
    return JSONResponse(body, status_code=200 if ready else 503)
