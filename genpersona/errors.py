"""Every error genpersona raises, in one module.

Each error carries structured data (``.data``) and a ``fix``: the message tells
a user what went wrong *and* what to do about it, which is what the CLI prints
on stderr and what the HTTP API returns as ``{"error", "fix", "data"}``.
Sections follow the package's folders; add new errors to the right section.
"""

from __future__ import annotations

from typing import Any


class GenpersonaError(Exception):
    """Base class: message + how to fix it + machine-readable data."""

    exit_code: int = 1
    http_status: int = 500

    def __init__(self, message: str, *, fix: str = "", **data: Any) -> None:
        self.message = message
        self.fix = fix
        self.data = data
        super().__init__(f"{message}. Fix: {fix}" if fix else message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": type(self).__name__,
            "message": self.message,
            "fix": self.fix,
            "data": {k: _jsonable(v) for k, v in self.data.items()},
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


# --- configuration -------------------------------------------------------------
class ConfigError(GenpersonaError):
    exit_code = 2
    http_status = 500


class InputError(GenpersonaError):
    """Bad input from a user or a caller (CLI argument, API body, file)."""

    exit_code = 2
    http_status = 422


# --- LLM backends ----------------------------------------------------------------
class LLMError(GenpersonaError):
    exit_code = 3
    http_status = 502


class ModelPackageMissing(LLMError):
    pass


class ModelFileCorrupt(LLMError):
    pass


class BackendUnreachable(LLMError):
    http_status = 503


class BackendAuthError(LLMError):
    pass


class BackendTimeout(LLMError):
    http_status = 504


class OutputSchemaError(LLMError):
    """Model output did not parse into the requested schema."""


class LLMRequestRejected(LLMError):
    """The backend refused the request itself (HTTP 400/404: bad parameter, unknown model,
    prompt longer than the context window); retrying the same request cannot help."""

    http_status = 502


class RealModelForbidden(LLMError):
    """Raised in unit tests when code tries to load a real model without opting in."""


# --- embeddings ------------------------------------------------------------------
class EmbedderError(GenpersonaError):
    exit_code = 3


class EmbedderModelMissing(EmbedderError):
    """The package that ships the embedding model is missing or incomplete."""


class OptionalDependencyMissing(EmbedderError):
    """A runtime chosen in the settings needs an optional package that is not installed."""


# --- stores ------------------------------------------------------------------------
class StoreError(GenpersonaError):
    exit_code = 4
    http_status = 503


class DatabaseError(StoreError):
    pass


class MigrationError(StoreError):
    pass


class VectorStoreError(StoreError):
    pass


# --- data: ingest, customers ---------------------------------------------------------
class IngestError(InputError):
    """A malformed input file; ``data`` names the file, the row and the column."""


class NotFound(GenpersonaError):
    exit_code = 5
    http_status = 404


class CustomerNotFound(NotFound):
    pass


class BrandNotFound(NotFound):
    pass


class DraftNotFound(NotFound):
    pass


# --- recommendations -------------------------------------------------------------------
class RecsInputError(InputError):
    """Purchases, items or item vectors handed to the recommender are malformed."""


class RecsModelFileError(StoreError):
    """A saved recommender file is missing, unreadable or from an incompatible version."""


class ConsentError(GenpersonaError):
    """An action needs consent the customer has not given."""

    exit_code = 6
    http_status = 403


# --- brand guides and guardrails --------------------------------------------------
class BrandGuideError(InputError):
    """A brand guide failed validation; ``data`` holds file, field and problem."""


class GuardrailError(GenpersonaError):
    exit_code = 7
    http_status = 422


class RetriesExhausted(GuardrailError):
    """No candidate passed the guardrails within the re-ask budget.

    ``data['attempts']`` lists every attempt with its violations.
    """


class NoFallbackLine(GuardrailError):
    """A brand guide has no approved fallback line (for a content kind) that passes its rules."""


# --- agent: prompts, generation ---------------------------------------------------
class PromptTemplateError(ConfigError):
    """A prompt template is missing, does not parse, or needs a variable nobody passed."""


class UnknownRecipeError(InputError):
    """A request or campaign names a recipe ``prompts/recipes.yaml`` does not have (422)."""


class GenerationError(GenpersonaError):
    """The pipeline could not produce a draft (e.g. no catalog item to feature)."""

    exit_code = 3
    http_status = 502


# --- review queue -------------------------------------------------------------------
class ReviewError(GenpersonaError):
    exit_code = 8
    http_status = 409


class DraftConflict(ReviewError):
    """Another reviewer decided this draft first (optimistic concurrency)."""


class InvalidTransition(ReviewError):
    pass


class EditBreaksRules(ReviewError):
    """A reviewer's edit fails the brand guide; ``data['violations']`` lists why."""

    http_status = 422


class AuditLogImmutable(ReviewError):
    """Code tried to update or delete an audit-log row outside customer erasure."""

    http_status = 500


class SuggestionNotFound(NotFound):
    pass


# --- service ---------------------------------------------------------------------------
class RateLimited(GenpersonaError):
    exit_code = 9
    http_status = 429


class PayloadTooLarge(InputError):
    """The request body exceeds ``settings.api_max_body_bytes``."""

    http_status = 413


class Unauthorized(GenpersonaError):
    """No credentials, or wrong ones: a missing/unknown/revoked API key, a wrong password."""

    exit_code = 10
    http_status = 401


# --- delivery: webhooks from email platforms ------------------------------------------------
class WebhookError(GenpersonaError):
    exit_code = 12
    http_status = 400


class WebhookSignatureInvalid(WebhookError):
    """The request does not carry a valid signature or token for its provider."""

    http_status = 401


class WebhookPayloadInvalid(WebhookError):
    """The body is not the provider's documented shape (bad JSON, missing event list)."""

    http_status = 400


class WebhookNotConfigured(WebhookError):
    """The provider's key or token is not set, so nothing it sends can be trusted."""

    http_status = 503


class UnknownWebhookProvider(NotFound):
    pass


class Forbidden(GenpersonaError):
    """Authenticated, but the key's scopes or the account's role do not allow the action;
    ``data`` names the scope or permission needed."""

    exit_code = 10
    http_status = 403


class KeyNotFound(NotFound):
    """No API key with that id."""


class AccountNotFound(NotFound):
    """No console account with that name."""


class AccountExists(InputError):
    """A console account with that name already exists."""

    http_status = 409


class ConversationNotStored(ConsentError):
    """A server-side conversation was asked for without the customer's chat-memory consent."""


# --- campaigns ---------------------------------------------------------------------------
class CampaignError(GenpersonaError):
    exit_code = 11
    http_status = 500


class SegmentError(InputError):
    """A segment's criteria are invalid (negative thresholds, unknown brand...)."""


class TaskEngineUnavailable(CampaignError):
    """The Celery broker is not configured, unreachable, or no worker answered in time."""

    http_status = 503


class CampaignDefinitionError(InputError):
    """A campaign file that does not validate; ``data`` names the file and the field."""


class ScheduleError(InputError):
    """A cron expression or time zone that cannot be scheduled."""


# --- delivery --------------------------------------------------------------------
class DeliveryError(GenpersonaError):
    exit_code = 12
    http_status = 500


class PolicyError(DeliveryError):
    """A policy returned probabilities that cannot be logged exactly (wrong length, sum != 1)."""


class ContentNotFound(NotFound):
    """No approved or edited draft for this recipient; ``data`` carries the safe fallback copy."""


class ExportError(InputError):
    """A campaign export cannot be written as asked (format, missing addresses, no recipients)."""


# --- learning ------------------------------------------------------------------
class LearningError(GenpersonaError):
    exit_code = 2
    http_status = 422


class LearningInputError(LearningError):
    """Bad logged data or arguments for the bandit, the click model or an estimator."""


class NoAllocation(LearningError, NotFound):
    http_status = 404


class ClickModelMissing(LearningError):
    http_status = 503
