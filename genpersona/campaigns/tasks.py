"""Campaign fan-out on Celery: one task per batch of customers, over Redis or RabbitMQ.

The worker is started with ``celery -A genpersona.campaigns.tasks worker`` and
reads the same GENPERSONA_* settings as the CLI (the same database and the same
LLM backend, e.g. an OpenAI-compatible server shared by all workers). Each
task generates ``campaign_task_batches`` batches of ``campaign_batch_size`` customers' drafts with the batched
pipeline (``batching.generate_requests``: many in flight, one embedder call, one
transaction) and returns one small dict per customer; the client that
dispatched the run collects the results and writes the run record, so the
record has a single writer. The queue name comes from settings, so separate
deployments (or test runs) sharing one broker never take each other's tasks.

Workers ack late (``acks_late`` + ``reject_on_worker_lost``): a worker killed mid-batch
never acknowledged its task, so the broker hands it to another worker (RabbitMQ at once,
Redis after ``celery_visibility_timeout_s``); the drafts the dead worker already stored
are found pending and skipped, so the batch is neither lost nor duplicated.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from celery import Celery, signals
from celery.result import AsyncResult

from genpersona.agent.deps import default_deps
from genpersona.campaigns.batching import generate_requests
from genpersona.campaigns.step import CustomerResult, generate_for_customer
from genpersona.errors import TaskEngineUnavailable
from genpersona.runtime import apply_runtime_defaults
from genpersona.settings import Settings, get_settings
from genpersona.types.content import ContentRequest

TASK_NAME = "genpersona.campaigns.generate_for_customer"
BATCH_TASK_NAME = "genpersona.campaigns.generate_batch"

_APPS: dict[tuple[str | None, str | None, str], Celery] = {}
_LOCK = threading.Lock()


def result_backend_for(settings: Settings) -> str | None:
    """Explicit setting, else the Redis broker itself, else RPC replies over AMQP."""
    if settings.celery_result_backend:
        return settings.celery_result_backend
    broker = settings.celery_broker_url
    if broker is None:
        return None
    return broker if broker.startswith(("redis://", "rediss://")) else "rpc://"


def make_celery_app(settings: Settings) -> Celery:
    """A configured Celery app for these settings (cached per broker/backend/queue)."""
    key = (settings.celery_broker_url, result_backend_for(settings), settings.celery_queue)
    with _LOCK:
        if key not in _APPS:
            app = Celery("genpersona", broker=key[0], backend=key[1], set_as_current=False)
            app.conf.update(
                task_default_queue=settings.celery_queue,
                task_serializer="json",
                result_serializer="json",
                accept_content=["json"],
                # a generation is seconds long: take one at a time, ack after it is done
                worker_prefetch_multiplier=1,
                task_acks_late=True,
                task_reject_on_worker_lost=True,
                result_expires=24 * 3600,
                broker_connection_retry_on_startup=True,
                broker_connection_timeout=5,
                # Redis re-delivers an unacknowledged task (a killed worker's) after this
                broker_transport_options={
                    "visibility_timeout": settings.celery_visibility_timeout_s
                },
                worker_hijack_root_logger=False,
            )
            _APPS[key] = app
        return _APPS[key]


def _generate_task(request: dict[str, Any]) -> dict[str, Any]:
    """Worker side: validate the request again and run the shared per-customer step."""
    settings = get_settings()
    result = generate_for_customer(ContentRequest.model_validate(request), settings=settings)
    return result.model_dump(mode="json")


def _generate_batch_task(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Worker side: a batch of customers through the batched pipeline, stored as it goes."""
    settings = get_settings()
    reqs = [ContentRequest.model_validate(r) for r in requests]
    results = generate_requests(reqs, deps=default_deps(None, settings), settings=settings)
    return [r.model_dump(mode="json") for r in results]


#: the app the worker command loads (``-A genpersona.campaigns.tasks``)
app = make_celery_app(get_settings())
generate_task = app.task(name=TASK_NAME, bind=False)(_generate_task)
generate_batch_task = app.task(name=BATCH_TASK_NAME, bind=False)(_generate_batch_task)


@signals.worker_init.connect
def _apply_runtime_defaults(**_: Any) -> None:
    # the worker is a process entry point: OpenMP defaults before a task loads a model
    apply_runtime_defaults()


@signals.worker_init.connect
def _require_broker(**_: Any) -> None:
    if not get_settings().celery_broker_url:
        raise TaskEngineUnavailable(
            "the Celery worker has no broker configured",
            fix="set GENPERSONA_CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0",
        )


def _client_app(settings: Settings) -> Celery:
    if not settings.celery_broker_url:
        raise TaskEngineUnavailable(
            "a distributed campaign needs a task broker and none is configured",
            fix="set GENPERSONA_CELERY_BROKER_URL (redis://... or amqp://...), or run without --distributed",
        )
    return make_celery_app(settings)


def consumers_of(client: Celery, queue: str, timeout: float = 2.0) -> list[str]:
    """Names of the live workers that consume ``queue`` (other queues' workers do not count)."""
    active = client.control.inspect(timeout=timeout).active_queues() or {}
    return sorted(
        name for name, queues in active.items() if any(q.get("name") == queue for q in queues)
    )


def _check_workers(client: Celery, settings: Settings) -> None:
    """Fail fast when nobody would take the tasks, instead of waiting out a timeout."""
    try:
        with client.connection_for_write() as conn:
            conn.ensure_connection(max_retries=2, interval_start=0.2, interval_step=0.5)
        workers = consumers_of(client, settings.celery_queue)
    except Exception as exc:
        raise TaskEngineUnavailable(
            f"cannot reach the Celery broker at {_safe_url(settings.celery_broker_url)}: {exc}",
            fix="start Redis/RabbitMQ or correct GENPERSONA_CELERY_BROKER_URL",
            broker=_safe_url(settings.celery_broker_url),
        ) from exc
    if not workers:
        raise TaskEngineUnavailable(
            f"no Celery worker consumes the queue {settings.celery_queue!r}; "
            "the campaign's tasks would wait forever",
            fix=(
                "start one with `celery -A genpersona.campaigns.tasks worker "
                f"-Q {settings.celery_queue}` using the same GENPERSONA_* settings"
            ),
            queue=settings.celery_queue,
        )


def ensure_ready(settings: Settings) -> Celery:
    """The client app, once the broker answers and a worker consumes our queue."""
    client = _client_app(settings)
    _check_workers(client, settings)
    return client


def run_distributed(
    requests: Sequence[ContentRequest],
    *,
    settings: Settings,
    on_result: Callable[[Any], None] | None = None,
) -> list[Any]:
    """Dispatch one task per batch of requests and collect results in dispatch order.

    A batch whose task does not finish within ``celery_task_timeout_s`` (or whose task
    itself crashed) is reported as failed customer by customer; the others still count.
    """
    if not requests:
        return []
    client = ensure_ready(settings)
    size = max(1, settings.campaign_batch_size) * settings.campaign_task_batches
    batches = [list(requests[i : i + size]) for i in range(0, len(requests), size)]
    pending: list[tuple[list[ContentRequest], AsyncResult]] = [
        (
            batch,
            client.send_task(
                BATCH_TASK_NAME,
                args=[[r.model_dump(mode="json") for r in batch]],
                queue=settings.celery_queue,
            ),
        )
        for batch in batches
    ]
    results: list[CustomerResult] = []
    for batch, async_result in pending:
        try:
            payload = async_result.get(timeout=settings.celery_task_timeout_s, propagate=True)
            got = [CustomerResult.model_validate(p) for p in payload]
        except Exception as exc:  # timeout or a crash inside the task: its customers failed
            async_result.revoke()
            got = [
                CustomerResult(
                    customer_id=r.customer_id or "",
                    status="failed",
                    error=type(exc).__name__,
                    message=str(exc) or "the task did not finish",
                    fix="check the worker's log; re-run the campaign to retry the failed customers",
                )
                for r in batch
            ]
        for result in got:
            if on_result:
                on_result(result)
            results.append(result)
    return results


def _safe_url(url: str | None) -> str:
    """The broker URL without its password, for messages."""
    if not url or "@" not in url:
        return url or ""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.split('@', 1)[1]}"
