"""P(click | copy text, recipe): a ridge model on within-test relative click rates.

Why relative: in the Upworthy archive (and in a brand's campaigns) most of the
variation in click rate is between tests — the topic, the image, the day, the
audience — and none of it is in the copy we choose among. The model therefore
learns each variant's log-odds *relative to its test's mean*, weighted by how
precisely the variant's rate was measured, and ``predict_ctr`` puts that lift on
a base rate. Ridge is updatable exactly: the pretrained model keeps its normal
equations (X'WX, X'Wy), and a brand's own outcomes are added to them, so
``update`` is the same fit as training on both at once.

Customer features are not modelled yet: the pretraining data has none, and a
brand's logs are too small to learn interactions from on their own.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from genpersona.errors import ClickModelMissing, LearningInputError
from genpersona.learning.clickmodel.embed_cache import EmbeddingCache, embedder_version
from genpersona.learning.clickmodel.features import featurize

FORMAT_VERSION = 1


class ClickModelMeta(BaseModel):
    version: str
    embedder: str
    alpha: float
    base_rate: float
    n_train: int
    trained_at: str
    sources: list[str]
    recipe_offsets: dict[str, float] = {}


def relative_targets(
    impressions: np.ndarray, clicks: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(target, weight): each variant's log-odds minus its group's weighted mean; weight =
    inverse variance of the log-odds estimate, capped so one huge test cannot dominate."""
    n = np.asarray(impressions, dtype=float)
    c = np.asarray(clicks, dtype=float)
    if np.any(c > n) or np.any(n <= 0):
        raise LearningInputError(
            "every variant needs impressions > 0 and clicks <= impressions",
            fix="drop variants that were never shown; count unique clicks",
        )
    p = (c + 0.5) / (n + 1.0)
    logit = np.log(p / (1 - p))
    w = np.minimum(1.0 / (1.0 / (c + 0.5) + 1.0 / (n - c + 0.5)), 200.0)
    _, inv = np.unique(np.asarray(groups), return_inverse=True)
    mean = np.bincount(inv, weights=w * logit) / np.bincount(inv, weights=w)
    return logit - mean[inv], w


def within_group(x: np.ndarray, groups: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Features minus their group's weighted mean: the fixed-effects ("within") regression.

    Targets are relative to the test, so features must be too; otherwise whatever
    makes a whole test click more (its topic) leaks into the coefficients as noise.
    """
    x = np.asarray(x, dtype=float)
    _, inv = np.unique(np.asarray(groups), return_inverse=True)
    w = np.asarray(weight, dtype=float)
    sums = np.zeros((inv.max() + 1, x.shape[1]))
    np.add.at(sums, inv, x * w[:, None])
    means = sums / np.bincount(inv, weights=w)[:, None]
    return x - means[inv]


class ClickModel:
    """Coefficients plus the normal equations they came from (for exact updates)."""

    def __init__(self, xtwx: np.ndarray, xtwy: np.ndarray, meta: ClickModelMeta) -> None:
        self.xtwx = xtwx
        self.xtwy = xtwy
        self.meta = meta
        self._solve()

    def _solve(self) -> None:
        d = self.xtwx.shape[0]
        self.coef = np.linalg.solve(self.xtwx + self.meta.alpha * np.eye(d), self.xtwy)

    @classmethod
    def fit(
        cls,
        features: np.ndarray,
        target: np.ndarray,
        weight: np.ndarray,
        *,
        alpha: float,
        base_rate: float,
        embedder: str,
        source: str,
    ) -> ClickModel:
        x = np.asarray(features, dtype=float)
        w = np.asarray(weight, dtype=float)
        meta = ClickModelMeta(
            version=_new_version(),
            embedder=embedder,
            alpha=alpha,
            base_rate=base_rate,
            n_train=len(x),
            trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
            sources=[source],
        )
        return cls((x * w[:, None]).T @ x, (x * w[:, None]).T @ target, meta)

    def update(
        self, features: np.ndarray, target: np.ndarray, weight: np.ndarray, *, source: str
    ) -> ClickModel:
        """A new version trained on everything so far plus these rows."""
        x = np.asarray(features, dtype=float)
        w = np.asarray(weight, dtype=float)
        meta = self.meta.model_copy(
            update={
                "version": _new_version(),
                "n_train": self.meta.n_train + len(x),
                "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "sources": [*self.meta.sources, source],
            }
        )
        return ClickModel(
            self.xtwx + (x * w[:, None]).T @ x, self.xtwy + (x * w[:, None]).T @ target, meta
        )

    def score(self, features: np.ndarray) -> np.ndarray:
        """Relative log-odds: only differences between candidates mean anything."""
        return np.asarray(features, dtype=float) @ self.coef

    def predict_ctr_from_features(
        self, features: np.ndarray, recipe_ids: list[str | None] | None = None
    ) -> np.ndarray:
        z = self.score(features)
        if recipe_ids is not None:
            z = z + np.array([self.meta.recipe_offsets.get(r or "", 0.0) for r in recipe_ids])
        b = np.log(self.meta.base_rate / (1 - self.meta.base_rate))
        return 1.0 / (1.0 + np.exp(-(b + z)))

    # --- persistence ----------------------------------------------------------------
    def save(self, root: Path) -> Path:
        folder = root / self.meta.version
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / "normal_equations.npz", xtwx=self.xtwx, xtwy=self.xtwy)
        (folder / "meta.json").write_text(self.meta.model_dump_json(indent=2), encoding="utf-8")
        (root / "LATEST").write_text(self.meta.version, encoding="utf-8")
        return folder

    @classmethod
    def load(cls, root: Path, version: str | None = None) -> ClickModel:
        latest = root / "LATEST"
        if version is None:
            if not latest.exists():
                raise ClickModelMissing(
                    f"no click model has been trained under {root}",
                    fix="run `genpersona learn train` (it pretrains on the Upworthy archive)",
                    path=str(root),
                )
            version = latest.read_text(encoding="utf-8").strip()
        folder = root / version
        try:
            meta = ClickModelMeta.model_validate_json((folder / "meta.json").read_text("utf-8"))
            with np.load(folder / "normal_equations.npz", allow_pickle=False) as data:
                return cls(np.asarray(data["xtwx"]), np.asarray(data["xtwy"]), meta)
        except (OSError, ValueError, KeyError) as exc:
            raise ClickModelMissing(
                f"click model {version} under {root} is unreadable: {exc}",
                fix="run `genpersona learn train` again to write a fresh version",
                path=str(folder),
            ) from exc


def _new_version() -> str:
    return "cm-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")


# --- process-wide loading ---------------------------------------------------------------
_LOADED: dict[tuple[str, str], ClickModel] = {}
_LOCK = threading.Lock()


def loaded_model(root: Path) -> ClickModel:
    """The latest model under ``root``, loaded once per process (reloaded when LATEST moves)."""
    latest = root / "LATEST"
    version = latest.read_text(encoding="utf-8").strip() if latest.exists() else ""
    key = (str(root), version)
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = ClickModel.load(root, version or None)
        return _LOADED[key]


class ClickScorer:
    """What ranking needs: texts in, predicted CTRs out (features cached on disk)."""

    def __init__(self, model: ClickModel, cache: EmbeddingCache) -> None:
        if embedder_version(cache.embedder) != model.meta.embedder:
            raise LearningInputError(
                f"click model {model.meta.version} was trained on {model.meta.embedder} "
                f"embeddings, the configured embedder is {embedder_version(cache.embedder)}",
                fix="set GENPERSONA_EMBEDDER to the model's embedder or retrain with "
                "`genpersona learn train`",
            )
        self.model = model
        self.cache = cache

    def predict_ctr(
        self, texts: list[str], recipe_ids: list[str | None] | None = None
    ) -> list[float]:
        if not texts:
            return []
        return self.model.predict_ctr_from_features(
            featurize(texts, self.cache), recipe_ids
        ).tolist()
