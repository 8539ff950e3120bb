"""Learning evals: Upworthy replay, click-model pairwise accuracy, estimator validity.

    python -m evals.learning.run [--data DIR] [--seeds 3] [--sample 0.5] [--only replay,click,ope]
                                 [--embedder minilm|fake] [--config JSON]
                                 [--truth observed,shrunk] [--json]

Priors and the click model are fitted on tests before ``SPLIT_WEEK``; replay and
pairwise accuracy are scored on tests from it on (same tests for every policy
and baseline, in the same run). Targets from the issue are checked at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable

import numpy as np

from evals.learning import clickmodel_eval, estimators, replay
from evals.learning.data import DEFAULT_PATH, SPLIT_WEEK, load, to_tests
from genpersona.clickmodel.embed_cache import EmbeddingCache, embedder_version
from genpersona.clickmodel.features import featurize
from genpersona.embeddings.factory import get_embedder
from genpersona.learning.thompson import BetaPrior, PolicyConfig, fit_grouped_prior
from genpersona.settings import get_settings

TARGETS = {
    "replay_full_ts_prior": 0.895,
    "replay_10pct_ts_clickmodel": 0.83,
    "click_significant": 0.68,
    "click_all": 0.60,
    "coverage_snips": 0.90,
    "coverage_dr": 0.90,
}


def _scores(d, tests, model, cache) -> np.ndarray:
    """(B, K) click-model scores per arm, minus the test's mean score."""
    scores = dict(zip(d.headline, model.score(featurize(d.headline.tolist(), cache)), strict=False))
    out = np.zeros(tests.mask.shape)
    for i, heads in enumerate(tests.headlines):
        s = np.array([scores[h] for h in heads])
        out[i, : len(s)] = s - s.mean()
    return out


def _calibration(
    train_d, train_tests, cache, alpha: float, embedder: str
) -> tuple[float, np.ndarray]:
    """Slope of the realised relative log-odds on cross-fitted scores (two folds of the
    training tests), and the cross-fitted scores themselves: how much to trust the
    model as a prior, measured on data it was not fitted on."""
    fold = np.array([int(t[-1], 16) % 2 for t in train_tests.ids])
    fold_of = dict(zip(train_tests.ids, fold, strict=True))
    row_fold = train_d.clickability_test_id.map(fold_of).to_numpy()
    x = featurize(train_d.headline.tolist(), cache)
    scores = np.zeros(train_tests.mask.shape)
    for f in (0, 1):
        fit_rows = row_fold != f
        m = clickmodel_eval.fit_click_model(
            train_d[fit_rows].reset_index(drop=True), x[fit_rows], alpha, embedder
        )
        part = train_tests.subset(fold == f)
        scores[fold == f] = _scores(train_d[~fit_rows], part, m, cache)
    n, c, mask = train_tests.impressions, train_tests.clicks, train_tests.mask
    p = (c + 0.5) / (n + 1)
    logit = np.where(mask, np.log(p / (1 - p)), 0.0)
    w = np.where(mask, np.minimum(1 / (1 / (c + 0.5) + 1 / (n - c + 0.5)), 200), 0.0)
    rel = logit - (w * logit).sum(1, keepdims=True) / w.sum(1, keepdims=True)
    slope = float((w * rel * scores).sum() / (w * scores**2).sum())
    return max(slope, 0.0), scores


def _ts(
    prior: BetaPrior, cfg: PolicyConfig, lift: np.ndarray | None = None
) -> Callable[[np.ndarray, np.ndarray], Callable]:
    """Thompson sampling for one bucket of tests (rows), with its slice of the lift."""

    def make(rows: np.ndarray, mask: np.ndarray) -> Callable:
        arm_lift = None if lift is None else lift[rows][:, : mask.shape[1]]
        return replay.thompson(mask, prior, cfg, lift=arm_lift)

    return make


def run_replay(
    d,
    seeds: int,
    sample: float,
    cache,
    model,
    cfg: PolicyConfig | None = None,
    parts: tuple[str, ...] = ("observed", "shrunk"),
) -> dict[str, dict[str, float]]:
    tests = to_tests(d)
    train = tests.subset(tests.week < SPLIT_WEEK)
    test = tests.subset(tests.week >= SPLIT_WEEK)
    if sample < 1:
        test = test.subset(np.random.default_rng(0).random(len(test.ids)) < sample)
    emb = embedder_version(cache.embedder)
    slope, train_scores = _calibration(
        d[d.test_week < SPLIT_WEEK].reset_index(drop=True), train, cache, model.meta.alpha, emb
    )
    lift = np.exp(slope * _scores(d[d.test_week >= SPLIT_WEEK], test, model, cache))
    train_lift = np.exp(slope * train_scores)
    cfg = cfg or PolicyConfig(draws=100)
    flat_cfg = cfg.model_copy(update={"center_on_pooled": False})
    # the replayed world's arms have these rates; its history (the training tests) has
    # rates made the same way, and the EB prior is fitted on that history
    denoised = fit_grouped_prior(train.impressions, train.clicks, train.mask)
    worlds = {
        "observed": (test.ctr, train.ctr),
        "shrunk": (
            replay.shrunk_truth(test, denoised.strength),
            replay.shrunk_truth(train, denoised.strength),
        ),
    }
    out: dict[str, dict[str, float]] = {"_info": {"tests": float(len(test.ids))}}
    for truth_name, (truth, history) in worlds.items():
        if truth_name not in parts:
            continue
        big = np.full(train.impressions.shape, 1e6)
        prior = fit_grouped_prior(big, history * big, train.mask, denoise=False)
        # the click-model prior's strength: the spread left once the lift is accounted for
        resid = np.clip(history / train_lift, 0, 1)
        cm_prior = fit_grouped_prior(big, resid * big, train.mask, denoise=False)
        out["_info"][f"prior_{truth_name}"] = prior.strength
        out["_info"][f"clickmodel_prior_{truth_name}"] = cm_prior.strength
        out["_info"]["lift_slope"] = slope
        policies: dict[str, Callable[[np.ndarray, np.ndarray], Callable]] = {
            "even_split": lambda rows, m: replay.even(m),
            "explore_then_commit_10": lambda rows, m: replay.explore_then_commit(m, 0.10),
            "explore_then_commit_20": lambda rows, m: replay.explore_then_commit(m, 0.20),
            "thompson": _ts(BetaPrior.uniform(), flat_cfg),
            "thompson_fitted_prior": _ts(prior, cfg),
            "thompson_clickmodel_prior": _ts(cm_prior, cfg, lift),
        }
        for traffic in (1.0, 0.1):
            for name, make in policies.items():
                shares = [
                    replay.replay(test, truth, make, traffic=traffic, seed=s) for s in range(seeds)
                ]
                key = f"{truth_name}/{int(traffic * 100)}pct/{name}"
                out[key] = {
                    "oracle_share": float(np.mean([x[0] for x in shares])),
                    "best_arm_share": float(np.mean([x[1] for x in shares])),
                    "oracle_share_sd": float(np.std([x[0] for x in shares])),
                }
                print(
                    f"  {key:55s} {out[key]['oracle_share']:.4f} "
                    f"best-arm {out[key]['best_arm_share']:.3f}",
                    flush=True,
                )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=str(DEFAULT_PATH))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sample", type=float, default=0.5, help="share of replay tests to use")
    ap.add_argument("--only", default="replay,click,ope")
    ap.add_argument("--embedder", default=None, help="minilm (default setting) or fake")
    ap.add_argument(
        "--config", default="{}", help="PolicyConfig overrides as JSON, e.g. '{\"floor\": 0}'"
    )
    ap.add_argument("--truth", default="observed,shrunk", help="replay worlds to run")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    parts = set(args.only.split(","))
    started = time.perf_counter()
    report: dict[str, object] = {
        "scorers": {
            "replay": replay.SCORER_VERSION,
            "click": clickmodel_eval.SCORER_VERSION,
            "ope": estimators.SCORER_VERSION,
        },
        "split_week": SPLIT_WEEK,
    }
    checks: dict[str, float] = {}
    if parts & {"replay", "click"}:
        try:
            d = load(args.data)
        except FileNotFoundError as exc:
            print(f"skipping Upworthy parts: {exc}")
            parts -= {"replay", "click"}
        else:
            settings = get_settings()
            embedder = get_embedder(args.embedder, settings)
            cache = EmbeddingCache(settings.home_dir / "learning" / "embeddings", embedder)
            print(f"embedder {embedder_version(embedder)}; {len(cache)} cached vectors", flush=True)
    if "click" in parts or "replay" in parts:
        train = d[d.test_week < SPLIT_WEEK].reset_index(drop=True)
        x_train = featurize(train.headline.tolist(), cache)
        alpha = clickmodel_eval.tune_alpha(train, x_train, embedder_version(embedder))
        model = clickmodel_eval.fit_click_model(train, x_train, alpha, embedder_version(embedder))
    if "click" in parts:
        print("click model pairwise accuracy (test weeks >= split):", flush=True)
        click = clickmodel_eval.run(d, SPLIT_WEEK, cache)
        for name, acc in click.items():
            print(f"  {name:24s} {json.dumps(acc)}")
        report["click"] = click
        checks["click_significant"] = click["click_model"]["significant_pairs"]
        checks["click_all"] = click["click_model"]["all_pairs"]
    if "replay" in parts:
        print(f"Upworthy replay ({args.seeds} seeds, sample {args.sample}):", flush=True)
        cfg = PolicyConfig.model_validate({"draws": 100, **json.loads(args.config)})
        print(f"policy config: {cfg.model_dump()}", flush=True)
        truths = tuple(args.truth.split(","))
        rep = run_replay(d, args.seeds, args.sample, cache, model, cfg, parts=truths)
        report["replay"] = rep
        if "observed" in truths:
            checks["replay_full_ts_prior"] = max(
                rep["observed/100pct/thompson_fitted_prior"]["oracle_share"],
                rep["observed/100pct/thompson_clickmodel_prior"]["oracle_share"],
            )
            checks["replay_10pct_ts_clickmodel"] = rep["observed/10pct/thompson_clickmodel_prior"][
                "oracle_share"
            ]
    if "ope" in parts:
        print("estimator validity (200 seeds):", flush=True)
        ope = estimators.run(200)
        for name, row in ope.items():
            print(f"  {name:6s} {json.dumps(row)}")
        report["ope"] = ope
        checks["coverage_snips"] = ope["snips"]["coverage"]
        checks["coverage_dr"] = ope["dr"]["coverage"]
    missed = [k for k, v in checks.items() if v < TARGETS[k]]
    print("targets:")
    for k, v in checks.items():
        print(f"  {k:30s} {v:.4f} (target >= {TARGETS[k]}) {'ok' if v >= TARGETS[k] else 'MISSED'}")
    print(f"done in {time.perf_counter() - started:.0f}s")
    if args.json:
        print(json.dumps(report, indent=2))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
