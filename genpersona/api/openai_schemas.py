"""Bodies of the OpenAI-compatible routes: what chat front ends send and expect back.

Only what genpersona uses is validated; the sampling knobs front ends add
(temperature, top_p, max_tokens, tools, ...) are accepted and ignored, because
the brand's guide, not the caller, decides how answers are written.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

GuardMode = Literal["whole", "chunk"]


#: a structural bound only, the same as ``POST /v1/chat``'s ``message``: the configurable
#: ceiling (``GENPERSONA_CHAT_MESSAGE_MAX_CHARS``) applies to the whole message, its parts
#: joined, in ``chat_reply``, so a message is refused at the same length on both routes
#: whether it comes as a string or as parts
BODY_TEXT_MAX = 1_000_000


class TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["text"]
    text: str = Field(max_length=BODY_TEXT_MAX)


class OAIMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: Annotated[str, Field(max_length=BODY_TEXT_MAX)] | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text for p in self.content)
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=64, description="The brand, e.g. 'giftloft'.")
    messages: list[OAIMessage] = Field(min_length=1, max_length=100)
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(default=1, ge=1, le=1, description="One answer per call.")
    user: str | None = Field(default=None, max_length=64, description="The customer id.")
    metadata: dict[str, str] | None = Field(
        default=None,
        description="customer_id (wins over user), conversation_id, guard ('whole' or "
        "'chunk'), and for anonymous visitors country, season, referrer.",
    )

    @field_validator("metadata")
    @classmethod
    def _bounded(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value and (len(value) > 16 or any(len(v) > 512 for v in value.values())):
            raise ValueError("metadata holds at most 16 keys of at most 512 characters each")
        return value

    def meta(self, key: str) -> str | None:
        value = (self.metadata or {}).get(key)
        return value.strip() or None if value else None


class Extras(BaseModel):
    """genpersona's own fields, in one extra field ``genpersona`` of each completion."""

    draft_id: int | None = None
    rationale: str = ""
    personalized: bool = False
    is_fallback: bool = False
    remembered: list[str] = Field(default_factory=list)
    customer_id: str | None = None
    conversation_id: str | None = None
    guard: GuardMode = "whole"
    #: chunk mode only: a streamed sentence was blocked and the rest replaced by the fallback
    stream_replaced: bool = False
    ignored_messages: int = Field(
        default=0, description="system/developer/tool messages not used (callers cannot instruct)"
    )


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "genpersona"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def completion(id_: str, created: int, model: str, content: str, extras: Extras) -> dict[str, Any]:
    return {
        "id": id_,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": None,
        "genpersona": extras.model_dump(mode="json"),
    }


def chunk(
    id_: str,
    created: int,
    model: str,
    delta: dict[str, Any],
    finish: str | None = None,
    extras: Extras | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": id_,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }
    if extras is not None:
        out["genpersona"] = extras.model_dump(mode="json")
    return out
