"""Training entry points: pretrain on the Upworthy archive, update on a brand's outcomes.

Models are stored under ``<home>/learning/clickmodel/<version>/`` with a ``LATEST``
pointer; embeddings are cached under ``<home>/learning/embeddings/``. Every entry
point trains a *candidate* version and hands it to the promotion gate (``gate.py``):
``LATEST`` moves only when the candidate ranks held-out outcomes better than the
current model (or with ``force``). Held-out data is never trained on:

- pretraining holds out the Upworthy tests from week ``GATE_FROM_WEEK`` on;
- a brand's CSV totals hold out the groups whose hash falls in ``BRAND_HOLDOUT_SHARE``;
- a brand's exposures hold out the customers (per campaign) whose hash falls in it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from genpersona.clickmodel.embed_cache import EmbeddingCache, embedder_version
from genpersona.clickmodel.features import (
    CustomerFeatures,
    extra_terms,
    features_from,
    featurize,
)
from genpersona.clickmodel.gate import (
    GateDecision,
    Units,
    clicked_pairs,
    compare,
    group_pairs,
    record,
    rule,
)
from genpersona.clickmodel.model import (
    ClickModel,
    ClickScorer,
    loaded_model,
    relative_targets,
    within_group,
)
from genpersona.embeddings.base import Embedder
from genpersona.errors import LearningInputError
from genpersona.settings import Settings

UPWORTHY_FILE = "upworthy_headline_tests.parquet"
#: weeks (YYYYWW) the archive's maintainers say may not be randomized: 2013-06-25..2014-01-10
UNRANDOMIZED_WEEKS = (201326, 201402)
#: chosen by evals/learning on the last quarter of the training weeks
DEFAULT_ALPHA = 30.0
#: pretraining leaves the Upworthy tests from this week on (the last ~15%, 570 tests) out,
#: so every pretrained model is judged on the same tests it never saw
GATE_FROM_WEEK = 201502
UPWORTHY_HOLDOUT = f"upworthy-weeks>={GATE_FROM_WEEK}"
#: share of a brand's groups (CSV) or customers (exposures) held out to judge updates
BRAND_HOLDOUT_SHARE = 0.3
CSV_HOLDOUT = "brand-csv-groups-hash30"
EXPOSURE_HOLDOUT = "brand-exposures-hash30"


class OutcomeExample(BaseModel):
    """One piece of copy's exposure totals; ``group`` = the choice it competed in."""

    text: str = Field(min_length=1)
    impressions: int = Field(gt=0)
    clicks: int = Field(ge=0)
    group: str


class ExposureExample(BaseModel):
    """One logged exposure of a brand's copy: what was shown, to whom, and whether it was
    clicked within the attribution window (``learning.clickdata`` reads them)."""

    text: str = Field(min_length=1)
    recipe_id: str | None = None
    customer: CustomerFeatures | None = None
    clicked: int = Field(ge=0, le=1)
    #: the choice it competed in: the campaign
    group: str
    #: what the hold-out split hashes: the customer (so one customer's rows stay together)
    unit: str


def held_out(key: str, share: float = BRAND_HOLDOUT_SHARE) -> bool:
    """A fixed, seedless split: the same key is held out in every run and every version."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64 < share


def model_root(settings: Settings) -> Path:
    return settings.home_dir / "learning" / "clickmodel"


_CACHES: dict[tuple[str, int], EmbeddingCache] = {}


def embeddings_root(home: Path) -> Path:
    return home / "learning" / "embeddings"


def embedding_cache(settings: Settings, embedder: Embedder) -> EmbeddingCache:
    """One cache per (home, embedder) per process: its file is read once (and again
    after another process replaced or an erase dropped it)."""
    root = embeddings_root(settings.home_dir)
    key = (str(root), id(embedder))
    if key not in _CACHES:
        _CACHES[key] = EmbeddingCache(root, embedder)
    return _CACHES[key]


def load_upworthy(data_dir: Path) -> pd.DataFrame:
    path = Path(data_dir) / UPWORTHY_FILE
    if not path.exists():
        raise LearningInputError(
            f"the Upworthy archive {path} is absent",
            fix="point GENPERSONA_DATA_DIR (or --data) at the folder holding "
            f"{UPWORTHY_FILE} (see shared/data/README.md)",
            path=str(path),
        )
    d = pd.read_parquet(path)
    d = d[~d.test_week.between(*UNRANDOMIZED_WEEKS)]
    d = d[(d.impressions > 0) & d.headline.notna()]
    d = d.assign(headline=d.headline.astype(str).str.strip())
    return d[d.headline.str.len() > 0].reset_index(drop=True)


def pretrain(
    settings: Settings,
    embedder: Embedder,
    *,
    data_dir: Path | None = None,
    alpha: float = DEFAULT_ALPHA,
    before_week: int | None = None,
    force: bool = False,
) -> tuple[ClickModel, GateDecision]:
    """A candidate trained on the archive before ``GATE_FROM_WEEK`` (and ``before_week``),
    gated on the tests from that week on."""
    d = load_upworthy(data_dir or settings.data_dir)
    hold = d[d.test_week >= GATE_FROM_WEEK].reset_index(drop=True)
    d = d[d.test_week < GATE_FROM_WEEK]
    if before_week is not None:
        d = d[d.test_week < before_week]
    d = d.reset_index(drop=True)
    cache = embedding_cache(settings, embedder)
    x = featurize(d.headline.tolist(), cache)
    target, weight = relative_targets(d.impressions, d.clicks, d.clickability_test_id)
    x = within_group(x, d.clickability_test_id.to_numpy(), weight)
    model = ClickModel.fit(
        x,
        target,
        weight,
        alpha=alpha,
        base_rate=float(d.clicks.sum() / d.impressions.sum()),
        embedder=embedder_version(embedder),
        source=f"upworthy:{len(d)}",
    )
    model.meta.holdouts = [UPWORTHY_HOLDOUT]
    x_hold = featurize(hold.headline.tolist(), cache)
    groups = hold.clickability_test_id.to_numpy()
    n, c = hold.impressions.to_numpy(), hold.clicks.to_numpy()
    heads = hold.headline.tolist()

    def units(m: ClickModel) -> Units:
        return group_pairs(m.score(x_hold), groups, n, c, heads)

    decision = _gate(settings, model, units, UPWORTHY_HOLDOUT, force=force)
    return model, decision


def _current(settings: Settings) -> ClickModel | None:
    root = model_root(settings)
    return loaded_model(root) if (root / "LATEST").exists() else None


def _gate(
    settings: Settings,
    candidate: ClickModel,
    units: Callable[[ClickModel], Units],
    holdout: str,
    *,
    force: bool,
    current: ClickModel | None = None,
) -> GateDecision:
    """Save the candidate, judge it against ``LATEST`` on ``holdout``, record the decision."""
    root = model_root(settings)
    current = current if current is not None else _current(settings)
    candidate.save(root, latest=False)
    decision = GateDecision(
        promote=False,
        holdout=holdout,
        candidate_version=candidate.meta.version,
        current_version=current.meta.version if current is not None else None,
        reason="",
    )
    # the brand hold-outs are fixed hashes no version ever trains on; the Upworthy one is
    # only respected by models that record it (older ones were trained on every week)
    comparable = current is not None and (
        current.meta.embedder == candidate.meta.embedder
        and current.text_dim == candidate.text_dim
        and (holdout in current.meta.holdouts or holdout != UPWORTHY_HOLDOUT)
    )
    try:
        cand_units = units(candidate)
        cur_units = units(current) if current is not None and comparable else None
        cand, cur, d_low, d_high = compare(cand_units, cur_units)
    except LearningInputError as exc:
        decision.reason = exc.message
    else:
        decision.candidate, decision.current = cand, cur
        decision.diff_low, decision.diff_high = d_low, d_high
        decision.promote, decision.reason = rule(cand, cur, d_low, d_high)
        if current is not None and not comparable:
            decision.reason = (
                f"current model {current.meta.version} was not trained with {holdout} left "
                "out (or uses another embedder), so it cannot be compared fairly: the "
                "candidate is promoted"
            )
    if force and not decision.promote:
        decision.promote, decision.forced = True, True
        decision.reason = f"forced; the gate said: {decision.reason}"
    return record(root, decision)


def _base(settings: Settings) -> ClickModel:
    return loaded_model(model_root(settings))


def update_on_outcomes(
    settings: Settings,
    embedder: Embedder,
    examples: list[OutcomeExample],
    *,
    source: str,
    weight: float = 1.0,
    force: bool = False,
) -> tuple[ClickModel, GateDecision]:
    """A candidate: the latest model plus a brand's copy totals (exact ridge update) from
    the groups not held out; gated on the held-out groups."""
    if not examples:
        raise LearningInputError(
            "no outcomes to update the click model on",
            fix="deliver some copy and collect clicks first, or check the file's rows",
        )
    bad = [i for i, e in enumerate(examples) if e.clicks > e.impressions]
    if bad:
        raise LearningInputError(
            f"rows {bad[:5]} have more clicks than impressions",
            fix="count unique clicking exposures, at most one per impression",
        )
    base = _base(settings)
    cache = embedding_cache(settings, embedder)
    hold = np.array([held_out(f"csv|{e.group}") for e in examples])
    train = [e for e, h in zip(examples, hold, strict=True) if not h]
    test = [e for e, h in zip(examples, hold, strict=True) if h]
    model = base
    if train:
        x = featurize([e.text for e in train], cache)
        groups = np.array([e.group for e in train])
        target, w = relative_targets(
            np.array([e.impressions for e in train]), np.array([e.clicks for e in train]), groups
        )
        # the brand-only columns are 0 for copy totals (no recipe, no customer)
        x = np.hstack([x, np.zeros((len(train), len(base.meta.extra_names)))])
        x = within_group(x, groups, w)
        model = base.update(x, target, w * weight, source=source)
    else:
        empty = np.zeros((0, base.xtwx.shape[0]))
        model = base.update(empty, np.zeros(0), np.zeros(0), source=source)
    model.meta.holdouts = sorted({*base.meta.holdouts, CSV_HOLDOUT})
    x_test = featurize([e.text for e in test], cache) if test else np.zeros((0, base.text_dim))
    t_groups = np.array([e.group for e in test])
    t_n = np.array([e.impressions for e in test])
    t_c = np.array([e.clicks for e in test])
    t_texts = [e.text for e in test]

    def units(m: ClickModel) -> Units:
        return group_pairs(m.score(x_test), t_groups, t_n, t_c, t_texts)

    return model, _gate(settings, model, units, CSV_HOLDOUT, force=force, current=base)


def working_response(clicked: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(target, weight) of 0/1 exposures: one logistic (IRLS) step from each group's rate,
    target (y - p0) / (p0 (1 - p0)) with weight p0 (1 - p0). In expectation the target is
    the row's log-odds relative to its group (to first order), in the same inverse-variance
    units as ``relative_targets`` of aggregated rows, so both can share one ridge."""
    y = np.asarray(clicked, dtype=float)
    _, inv = np.unique(np.asarray(groups), return_inverse=True)
    p0 = (np.bincount(inv, weights=y) + 0.5) / (np.bincount(inv) + 1.0)
    p = p0[inv]
    w = p * (1 - p)
    return (y - p) / w, w


def _uncached_features(texts: list[str], embedder: Embedder) -> np.ndarray:
    """Features of copy written for one customer, embedded without the on-disk cache: the
    cache outlives erasure, and vectors of personal copy should not (the Upworthy headlines
    and CSV totals are not personal and are cached)."""
    return features_from(embedder.embed(texts), texts)


def update_on_exposures(
    settings: Settings,
    embedder: Embedder,
    examples: list[ExposureExample],
    *,
    source: str,
    force: bool = False,
) -> tuple[ClickModel, GateDecision]:
    """A candidate: the latest model plus the brand's logged exposures (copy text, recipe,
    customer features, click or not) of the customers not held out, with the brand-only
    recipe and customer columns; gated on the held-out customers' exposures."""
    if not examples:
        raise LearningInputError(
            "no exposures to update the click model on",
            fix="deliver the campaign's approved copy and collect clicks first "
            "(holdout and generic-copy exposures are not used)",
        )
    base = _base(settings)
    hold = np.array([held_out(f"exp|{e.group}|{e.unit}") for e in examples])
    train = [e for e, h in zip(examples, hold, strict=True) if not h]
    test = [e for e, h in zip(examples, hold, strict=True) if h]
    terms = [extra_terms(e.recipe_id, e.customer) for e in train]
    names = base.names_with(terms)
    if train:
        groups = np.array([e.group for e in train])
        target, w = working_response(np.array([e.clicked for e in train]), groups)
        text = _uncached_features([e.text for e in train], embedder)
        extras = np.zeros((len(train), len(names)))
        index = {n: j for j, n in enumerate(names)}
        for i, row in enumerate(terms):
            for name, value in row.items():
                extras[i, index[name]] = value
        x = within_group(np.hstack([text, extras]), groups, w)
        model = base.update(x, target, w, source=source, extra_names=names)
    else:
        width = base.text_dim + len(names)
        model = base.update(
            np.zeros((0, width)), np.zeros(0), np.zeros(0), source=source, extra_names=names
        )
    model.meta.holdouts = sorted({*base.meta.holdouts, EXPOSURE_HOLDOUT})
    x_test = (
        _uncached_features([e.text for e in test], embedder)
        if test
        else np.zeros((0, base.text_dim))
    )
    t_recipes = [e.recipe_id for e in test]
    t_people = [e.customer for e in test]
    t_groups = np.array([e.group for e in test])
    t_y = np.array([e.clicked for e in test])

    def units(m: ClickModel) -> Units:
        z = m.score(x_test) + m.extra_score(t_recipes, t_people)
        return clicked_pairs(z, t_groups, t_y)

    return model, _gate(settings, model, units, EXPOSURE_HOLDOUT, force=force, current=base)


def predict_ctr(
    texts: list[str],
    *,
    settings: Settings,
    embedder: Embedder,
    recipe_ids: list[str | None] | None = None,
    customers: list[CustomerFeatures | None] | None = None,
) -> list[float]:
    """Predicted click rates for ranking candidates (the latest model, loaded once)."""
    scorer = ClickScorer(loaded_model(model_root(settings)), embedding_cache(settings, embedder))
    return scorer.predict_ctr(texts, recipe_ids, customers)
