"""P(click | copy text, recipe, customer features): ridge on within-test relative click rates.

Why relative: in the Upworthy archive (and in a brand's campaigns) most of the
variation in click rate is between tests — the topic, the image, the day, the
audience — and none of it is in the copy we choose among. The model therefore
learns each variant's log-odds *relative to its test's mean*, weighted by how
precisely the variant's rate was measured, and ``predict_ctr`` puts that lift on
a base rate. Ridge is updatable exactly: the pretrained model keeps its normal
equations (X'WX, X'Wy), and a brand's own outcomes are added to them, so
``update`` is the same fit as training on both at once.

Recipes and customer features (RFM tier, lifecycle stage, order count) enter as
*brand-only* columns after the text features (``features.extra_terms``): the
Upworthy archive has no customers and no recipes, so those columns are all zero
in pretraining and are fitted only when a brand's exposures are added
(``train.update_on_exposures``). They get their own, stronger ridge penalty
(``extra_alpha``), so a few hundred exposures move them a little and the text
part, learned from 18,000 headlines, stays. ``score`` on text features alone
(what ranking passes) is the model for an average customer.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from genpersona.clickmodel.embed_cache import EmbeddingCache, embedder_version
from genpersona.clickmodel.features import CustomerFeatures, extra_matrix, extra_terms, featurize
from genpersona.errors import ClickModelMissing, LearningInputError

FORMAT_VERSION = 1
#: ridge penalty of the brand-only columns: the prior sd of a recipe or customer term is
#: 1/sqrt(10) = 0.32 in log-odds (the rows' weights are inverse variances)
EXTRA_ALPHA = 10.0
log = logging.getLogger(__name__)


class ClickModelMeta(BaseModel):
    version: str
    embedder: str
    alpha: float
    base_rate: float
    n_train: int
    trained_at: str
    sources: list[str]
    #: each recipe's own fitted offset (the ``recipe=R`` columns), read by ranking
    recipe_offsets: dict[str, float] = {}
    #: names of the brand-only columns that follow the text features (``extra_terms``)
    extra_names: list[str] = []
    extra_alpha: float = EXTRA_ALPHA
    #: the hold-out sets this model's training rows left out (``gate.py``); a model can be
    #: compared fairly with another only on a hold-out both left out
    holdouts: list[str] = []


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

    @property
    def text_dim(self) -> int:
        return int(self.xtwx.shape[0]) - len(self.meta.extra_names)

    def _solve(self) -> None:
        penalty = np.full(self.xtwx.shape[0], self.meta.alpha)
        penalty[self.text_dim :] = self.meta.extra_alpha
        self.coef = np.linalg.solve(self.xtwx + np.diag(penalty), self.xtwy)
        extra = self.coef[self.text_dim :]
        self.meta.recipe_offsets = {
            name.removeprefix("recipe="): round(float(c), 6)
            for name, c in zip(self.meta.extra_names, extra, strict=True)
            if name.startswith("recipe=") and "|" not in name
        }

    def names_with(self, rows: list[dict[str, float]]) -> list[str]:
        """The model's brand-only column names plus any new ones in ``rows`` (appended)."""
        known = set(self.meta.extra_names)
        new = sorted({k for r in rows for k in r} - known)
        return [*self.meta.extra_names, *new]

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
        self,
        features: np.ndarray,
        target: np.ndarray,
        weight: np.ndarray,
        *,
        source: str,
        extra_names: list[str] | None = None,
    ) -> ClickModel:
        """A new version trained on everything so far plus these rows.

        ``features`` are the text features, followed by the brand-only columns named
        ``extra_names`` when given (the model's own names first, new ones appended: see
        ``names_with``); the normal equations grow by zero rows for the new names."""
        x = np.asarray(features, dtype=float)
        w = np.asarray(weight, dtype=float)
        names = list(self.meta.extra_names if extra_names is None else extra_names)
        if names[: len(self.meta.extra_names)] != self.meta.extra_names:
            raise LearningInputError(
                "the brand-only columns must start with the model's own, in its order",
                fix="build them with ClickModel.names_with",
            )
        size = self.text_dim + len(names)
        if x.shape[1] != size:
            raise LearningInputError(
                f"rows have {x.shape[1]} columns, the model needs {size}",
                fix="featurize with the model's embedder and its brand-only column names",
            )
        xtwx = np.zeros((size, size))
        xtwy = np.zeros(size)
        old = self.xtwx.shape[0]
        xtwx[:old, :old] = self.xtwx
        xtwy[:old] = self.xtwy
        meta = self.meta.model_copy(
            update={
                "version": _new_version(),
                "n_train": self.meta.n_train + len(x),
                "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "sources": [*self.meta.sources, source],
                "extra_names": names,
            }
        )
        return ClickModel(xtwx + (x * w[:, None]).T @ x, xtwy + (x * w[:, None]).T @ target, meta)

    def score(self, features: np.ndarray) -> np.ndarray:
        """Relative log-odds: only differences between candidates mean anything. Text
        features alone (what ranking passes) score an average customer; the full width
        (text + brand-only columns) uses every term."""
        x = np.asarray(features, dtype=float)
        if x.shape[1] == self.text_dim:
            return x @ self.coef[: self.text_dim]
        return x @ self.coef

    def extra_score(
        self,
        recipe_ids: list[str | None],
        customers: list[CustomerFeatures | None] | None = None,
    ) -> np.ndarray:
        """The brand-only terms (recipe offsets, recipe x customer, customer) per row."""
        extras = extra_matrix(self.meta.extra_names, recipe_ids, customers)
        return extras @ self.coef[self.text_dim :]

    def interaction_score(self, recipe_id: str, customers: list[CustomerFeatures | None]) -> float:
        """Mean over ``customers`` of the recipe's customer-dependent terms only (not its own
        offset, not the customers' main effects): how much better the recipe suits these
        customers than an average audience."""
        if not customers:
            return 0.0
        index = {n: j for j, n in enumerate(self.meta.extra_names)}
        coef = self.coef[self.text_dim :]
        total = 0.0
        for person in customers:
            for name, value in extra_terms(recipe_id, person).items():
                if "|" in name and name in index:
                    total += value * float(coef[index[name]])
        return total / len(customers)

    def predict_ctr_from_features(
        self,
        features: np.ndarray,
        recipe_ids: list[str | None] | None = None,
        customers: list[CustomerFeatures | None] | None = None,
    ) -> np.ndarray:
        z = self.score(features)
        if recipe_ids is not None:
            z = z + self.extra_score(recipe_ids, customers)
        return self.ctr_of_scores(z)

    def ctr_of_scores(self, z: np.ndarray) -> np.ndarray:
        """The base rate moved by relative log-odds ``z``."""
        b = np.log(self.meta.base_rate / (1 - self.meta.base_rate))
        return 1.0 / (1.0 + np.exp(-(b + np.asarray(z, dtype=float))))

    # --- persistence ----------------------------------------------------------------
    def save(self, root: Path, *, latest: bool = True) -> Path:
        """Write the version's folder; ``latest=False`` keeps ``LATEST`` where it is (a
        candidate the promotion gate has not let through, see ``gate.py``)."""
        folder = root / self.meta.version
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / "normal_equations.npz", xtwx=self.xtwx, xtwy=self.xtwy)
        (folder / "meta.json").write_text(self.meta.model_dump_json(indent=2), encoding="utf-8")
        if latest:
            set_latest(root, self.meta.version)
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


def set_latest(root: Path, version: str) -> None:
    """Point ``LATEST`` at a stored version (atomically: temp file + rename)."""
    tmp = root / "LATEST.tmp"
    tmp.write_text(version, encoding="utf-8")
    tmp.replace(root / "LATEST")


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


_REPORTED: set[str] = set()


def model_if_trained(root: Path) -> ClickModel | None:
    """The latest model, or None when none was trained (or it is unreadable): callers that
    only *use* the model (ranking, priors) then omit its term instead of failing. Logged
    once per root, so an untrained home says so without flooding the log."""
    if not (root / "LATEST").exists():
        if str(root) not in _REPORTED:
            _REPORTED.add(str(root))
            log.info("no click model under %s: its ranking and prior terms are omitted", root)
        return None
    try:
        return loaded_model(root)
    except ClickModelMissing as exc:
        if str(root) not in _REPORTED:
            _REPORTED.add(str(root))
            log.warning("click model unusable, its terms are omitted: %s", exc)
        return None


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
        self,
        texts: list[str],
        recipe_ids: list[str | None] | None = None,
        customers: list[CustomerFeatures | None] | None = None,
    ) -> list[float]:
        if not texts:
            return []
        return self.model.predict_ctr_from_features(
            featurize(texts, self.cache), recipe_ids, customers
        ).tolist()
