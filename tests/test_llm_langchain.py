"""LangChain bridges: genpersona backends inside LangChain, LangChain chat models as backends."""

from __future__ import annotations

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.prompts import PromptTemplate

from genpersona.llm.base import ChatMessage, GenerationParams
from genpersona.llm.fake import FakeLLM
from genpersona.llm.langchain_adapter import LangChainChatBackend, as_langchain
from genpersona.types.content import ContentRequest


def test_a_genpersona_backend_runs_inside_a_langchain_chain() -> None:
    fake = FakeLLM(["Candles for cosy nights\nextra line"])
    chain = PromptTemplate.from_template("Subject for {theme}:") | as_langchain(
        fake, GenerationParams(max_tokens=16, seed=3)
    )
    out = chain.invoke({"theme": "candles"}, config={})
    assert out == "Candles for cosy nights\nextra line"
    assert fake.prompts == ["Subject for candles:"]
    assert fake.calls[0]["params"].seed == 3
    # LangChain's stop words reach our backend's params
    assert as_langchain(fake).invoke("Subject:", stop=["\n"]) == "Candles for cosy nights"


def test_a_langchain_chat_model_is_a_genpersona_backend() -> None:
    backend = LangChainChatBackend(FakeListChatModel(responses=["Hello!", "Bye"]), model="lc-fake")
    first = backend.chat([ChatMessage(role="system", content="Be kind"),
                          ChatMessage(role="user", content="Hi")])  # fmt: skip
    assert first.text == "Hello!" and first.model == "lc-fake" and first.backend == "langchain"
    assert backend.complete("anything").text == "Bye"
    assert backend.prompt_style == "chat"


def test_the_pipeline_accepts_a_langchain_backed_model() -> None:
    """The request model is backend-agnostic: a LangChain backend plugs into ``generate``."""
    from genpersona.agent.pipeline import generate

    backend = LangChainChatBackend(
        FakeListChatModel(responses=["Fresh picks for your home"] * 6),
        model="lc-fake",
    )
    request = ContentRequest(brand="giftloft", kind="subject_line", brief="spring", n=1)
    draft = generate(request, llm=backend, submit=False)
    assert draft.rationale.backend == "langchain"
    [variant] = draft.variants
    assert variant.content.subject == "Fresh picks for your home" and not variant.is_fallback
