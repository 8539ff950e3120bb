"""Prompt rendering: Jinja2 templates from ``prompts/``, chosen by content kind and prompt style.

Templates are compiled once per process (``StrictUndefined``, so a variable that
nobody passed is an error rather than an empty string in front of the model).
Each template carries a version: the ``{# version: ... #}`` header plus a short
hash of the template and the shared partials, so an edit that forgot to bump
the header is still told apart in stored drafts.

Chat-style templates mark message boundaries with lines ``<<<system>>>``,
``<<<user>>>`` and ``<<<assistant>>>``; completion-style templates are plain text.
Untrusted text (memories, chat input) goes through the ``untrusted`` filter,
which flattens it to one line and strips anything that looks like a delimiter
or a role marker, so it cannot end its own block or start a new turn.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from pydantic import BaseModel, Field

from genpersona.errors import PromptTemplateError
from genpersona.llm.base import LLM, ChatMessage, PromptStyle
from genpersona.settings import Settings
from genpersona.types.content import ContentKind

_VERSION_RE = re.compile(r"\{#\s*version:\s*([\w.\-+]+)\s*#\}")
_ROLE_RE = re.compile(r"^<<<(system|user|assistant)>>>\s*$", re.MULTILINE)
_DELIMITER_RE = re.compile(r"<<<|>>>|</?[a-z_]{2,40}>", re.IGNORECASE)
_WS_RE = re.compile(r"\s+")
_OPEN_LINE_RE = re.compile(r"^(subject|preheader|headline|subheadline|cta|answer)\s*:", re.I)


class RenderedPrompt(BaseModel):
    """What the model gets, plus the name and version stored with the draft."""

    template: str
    version: str
    style: PromptStyle
    text: str = ""
    messages: list[ChatMessage] = Field(default_factory=list)

    @property
    def as_text(self) -> str:
        """One string for logging, token counting and tests (chat turns joined)."""
        if self.style == "completion":
            return self.text
        return "\n".join(f"[{m.role}] {m.content}" for m in self.messages)


def untrusted(value: Any, limit: int = 300) -> str:
    """Flatten untrusted text so it reads as data: one line, no delimiters, bounded length."""
    text = _DELIMITER_RE.sub(" ", str(value))
    text = _WS_RE.sub(" ", text).strip()
    # a memory starting with "Subject:" must not look like a finished example line
    text = _OPEN_LINE_RE.sub(lambda m: m.group(1).lower() + " -", text)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


_JINJA_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_CANARIES: dict[str, str] = {}
_CANARY_LOCK = threading.Lock()


def canary_for(brand: str) -> str:
    """A random token per brand and process, placed in the static instructions.

    If it ever shows up in an output, the model is leaking its instructions. It
    is stable within a process so the static prefix stays cacheable on servers
    with prefix caching.
    """
    with _CANARY_LOCK:
        if brand not in _CANARIES:
            _CANARIES[brand] = "GP" + secrets.token_hex(4).upper()
        return _CANARIES[brand]


class PromptLibrary:
    """Compiled templates of one prompts folder, with their versions."""

    def __init__(self, prompts_dir: Path) -> None:
        if not prompts_dir.is_dir():
            raise PromptTemplateError(
                f"prompt folder {prompts_dir} does not exist",
                fix="set GENPERSONA_PROMPTS_DIR to the project's prompts/ folder",
                path=str(prompts_dir),
            )
        self.dir = prompts_dir
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(prompts_dir)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["untrusted"] = untrusted
        partials = sorted((prompts_dir / "partials").glob("*.j2"))
        self._partials_hash = hashlib.sha256(b"".join(p.read_bytes() for p in partials)).hexdigest()
        self._templates: dict[str, tuple[jinja2.Template, str]] = {}
        self._static: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def template_name(kind: ContentKind, style: PromptStyle) -> str:
        return f"{kind}.{style}.j2"

    def get(self, kind: ContentKind, style: PromptStyle) -> tuple[jinja2.Template, str, str]:
        """(compiled template, name, version); compiled once per process."""
        name = self.template_name(kind, style)
        with self._lock:
            if name not in self._templates:
                path = self.dir / name
                if not path.exists():
                    raise PromptTemplateError(
                        f"no prompt template {name} in {self.dir}",
                        fix=f"add prompts/{name} or choose another prompt style "
                        "(GENPERSONA_LLM_PROMPT_STYLE=completion|chat)",
                        template=name,
                    )
                source = path.read_text(encoding="utf-8")
                try:
                    template = self.env.get_template(name)
                except jinja2.TemplateSyntaxError as exc:
                    raise PromptTemplateError(
                        f"prompt template {name} does not parse: {exc.message} (line {exc.lineno})",
                        fix=f"correct the Jinja2 syntax in prompts/{name}",
                        template=name,
                    ) from exc
                digest = hashlib.sha256(source.encode() + self._partials_hash.encode()).hexdigest()[
                    :8
                ]
                header = _VERSION_RE.search(source)
                version = f"{header.group(1)}+{digest}" if header else f"sha-{digest}"
                self._templates[name] = (template, version)
            template, version = self._templates[name]
        return template, name, version

    def static_text(self, kind: ContentKind, style: PromptStyle) -> list[str]:
        """The template's fixed sentences (Jinja stripped, with its partials): text the
        guard's ``internal.prompt_text`` rule keeps out of what customers read. Read once per
        process, like the compiled template it belongs to (every draft asks for it: reading
        the files each time cost a campaign more than rendering its prompts)."""
        name = self.template_name(kind, style)
        with self._lock:
            cached = self._static.get(name)
        if cached is not None:
            return cached
        files = [self.dir / name, *sorted((self.dir / "partials").glob(f"*.{style}.j2"))]
        out: list[str] = []
        for path in files:
            if not path.exists():
                continue
            source = _JINJA_RE.sub(" ", path.read_text(encoding="utf-8"))
            for line in source.splitlines():
                line = line.strip(" -:")
                if len(line.split()) >= 5 and not line.startswith("<<<"):
                    out.append(line)
        with self._lock:
            self._static[name] = out
        return out

    def render(
        self, kind: ContentKind, style: PromptStyle, variables: dict[str, Any]
    ) -> RenderedPrompt:
        template, name, version = self.get(kind, style)
        try:
            text = template.render(**variables).strip("\n")
        except jinja2.UndefinedError as exc:
            raise PromptTemplateError(
                f"prompt template {name} uses a variable that was not passed: {exc.message}",
                fix="pass the variable from genpersona.agent.prompting.prompt_variables "
                "or remove it from the template",
                template=name,
            ) from exc
        if style == "completion":
            return RenderedPrompt(template=name, version=version, style=style, text=text)
        return RenderedPrompt(
            template=name, version=version, style=style, messages=split_messages(text, name)
        )


def split_messages(text: str, template: str = "") -> list[ChatMessage]:
    """Cut a rendered chat template at its role-marker lines into chat messages."""
    parts = _ROLE_RE.split(text)
    if parts and parts[0].strip():
        raise PromptTemplateError(
            f"chat template {template} has text before its first role marker",
            fix="start chat templates with a <<<system>>> line",
            template=template,
        )
    messages = [
        ChatMessage(role=role, content=content.strip())
        for role, content in zip(parts[1::2], parts[2::2], strict=True)
        if content.strip()
    ]
    if not messages or messages[-1].role != "user":
        raise PromptTemplateError(
            f"chat template {template} must end with a <<<user>>> message",
            fix="end the template with the user turn the model should answer",
            template=template,
        )
    return messages


@lru_cache(maxsize=8)
def get_library(prompts_dir: Path) -> PromptLibrary:
    """One compiled library per prompts folder and process."""
    return PromptLibrary(prompts_dir)


def prompt_style(llm: LLM, settings: Settings) -> PromptStyle:
    """Settings override the backend's own preference (e.g. a chat model behind 'local')."""
    if settings.llm_prompt_style in ("completion", "chat"):
        return settings.llm_prompt_style  # type: ignore[return-value]
    return llm.prompt_style


def prepare_prompt(
    kind: ContentKind, llm: LLM, settings: Settings
) -> tuple[PromptLibrary, PromptStyle]:
    """The prompt stage: the library and style, the template compiled (and cached) before
    the clock of generation starts."""
    style = prompt_style(llm, settings)
    library = get_library(settings.prompts_dir)
    library.get(kind, style)
    return library, style
