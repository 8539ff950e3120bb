"""Experiment: a fine-tuned MiniLM classifier for copy quality (not shipped).

    python -m evals.copy.finetune cv [--layers 1 2 6] [--lrs 3e-5 1e-4] [--epochs 4]
    python -m evals.copy.finetune heldout --layers K --lr LR --epochs E --alpha A [--feats]
    python -m evals.copy.finetune cost --layers K

Why: the shipped scorer (copy-quality-2026.12.5) is a logistic regression over 29
lexical/structure features and the line's *frozen* MiniLM vector. Its held-out-4 misses
are short plain sendable lines rejected and awkward lines with a headline's shape passed
(docs/experiments/copy-quality.md, "Session 8 - scorer"). A frozen mean-pooled sentence
vector is made for similarity, not for grammaticality; fine-tuning MiniLM's top
transformer layers on the same labels lets the token-level states decide. This script
asks whether that helps, on exactly the data ``evals.copy.train`` builds (same positives,
generated negatives, guides' don'ts, dev rows of ``train.DEV_SETS``, dev weight 20, shop
weight 20: the shipped semantic head's grid point) and the same five dev folds (seed 7).

What is trained: the last ``K`` of MiniLM's 6 layers (``K`` = 6: the whole model with its
embeddings) plus a linear head on the mean-pooled output (with ``--feats``, the head also
reads the 29 standardised features). The frozen layers' output is computed once per line
and cached, so a fold trains only the unfrozen layers. Weighted BCE (the train script's
sample weights), AdamW, 10 % warm-up then a constant rate (so the snapshot after epoch e
is what e epochs give), batch 32, seed 7.

``cv``: for every (K, lr, feats) and every epoch 1..E, out-of-fold probabilities on dev;
each is also blended with the shipped LR's out-of-fold probability (same folds), ``p =
alpha * p_ft + (1 - alpha) * p_lr`` for alpha in ALPHAS; the decision is as in
``train._cv``: probability times the context rules' factor (``train.context_keep``),
at the threshold with the best out-of-fold balanced accuracy. ``alpha`` = 0 is the
shipped scorer's own dev CV (82.4 % when this was written). Everything is chosen here.

``heldout``: the chosen configuration fitted on all generated data and all dev, then
held-out part 4 scored once (accuracy, precision, recall at the CV threshold), beside the
LR refitted the same way (the shipped scorer's coefficients, before its bias shift).

``cost``: CPU ms per line, batches of 64 lines, one thread: the frozen MiniLM pass as the
product runs it (``MiniLMEmbedder.embed``), the fine-tuned model run alone, and the
unfrozen layers alone on top of shared frozen states.

Weights go to /tmp/finetune/, never into the repository. The skeleton model
(``quality_structure.json``) is read as shipped: ``train.py`` refits it from the same
spare headlines before training, deterministically; this script checks it is identical
instead of writing it.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import random
import statistics
import time
from pathlib import Path

for _k, _v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "TOKENIZERS_PARALLELISM": "false"}.items():  # fmt: skip
    os.environ.setdefault(_k, _v)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from evals.copy import train as T  # noqa: E402
from evals.copy.labelled import load  # noqa: E402

OUT = Path("/tmp/finetune")
ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: the shipped semantic head's grid point (quality_model.json trained_on)
SHIPPED = {"C": 0.5, "dev_weight": 20.0, "shop_weight": 20.0}
MAX_TOKENS = 48
N_LAYERS = 6


def build() -> dict:
    """The generated data and dev rows exactly as ``train.train`` builds them."""
    from genpersona.agent.quality import FUNCTION_WORDS, QUALITY_VERSION
    from genpersona.agent.quality_structure import STRUCTURE_PATH, fit_structure

    rng = random.Random(7)
    pos, spare = T.positives(T.DATA / "upworthy_headline_tests.parquet", rng)
    shipped = json.loads(STRUCTURE_PATH.read_text(encoding="utf-8"))
    refit = json.loads(
        json.dumps(fit_structure(spare, FUNCTION_WORDS, QUALITY_VERSION).model_dump())
    )
    if refit != shipped:
        raise SystemExit("quality_structure.json differs from the train script's refit")
    n_up = min(T.UPWORTHY_LINES, len(pos))
    vocab = T.vocabulary(T.DATA / "online_retail.parquet", rng)
    neg = T.negatives(pos, vocab, rng, len(pos))
    neg += [T.pushy(rng, vocab[:3000]) for _ in range(len(pos) // 10)]
    words = T.headline_words(pos)
    for _ in range(len(pos) // 8):
        items = rng.sample(words, rng.randint(2, 5))
        neg.append(T._case(rng.choice([", ", ", ", " | ", "; "]).join(items), rng))
    neg += T.guide_donts()
    gen_texts = pos + neg
    gen_y = np.array([1] * len(pos) + [0] * len(neg))
    gen_w = T.gen_weights(len(gen_y), n_up, len(pos) - n_up, SHIPPED["shop_weight"])
    dev = T.dev_rows()
    return {
        "gen_texts": gen_texts,
        "gen_y": gen_y,
        "gen_w": gen_w,
        "dev": dev,
        "dev_texts": [r["text"] for r in dev],
        "dev_y": np.array([int(bool(r["sendable"])) for r in dev]),
        "dev_keep": np.array([T.context_keep(r) for r in dev]),
    }


def folds(n: int) -> list[np.ndarray]:
    idx = np.arange(n)
    np.random.default_rng(7).shuffle(idx)  # as train._cv
    return np.array_split(idx, 5)


def pick_threshold(probs: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """(balanced accuracy, threshold) as train._cv picks it."""
    gold = gold.astype(bool)
    scored = [
        (T.balanced_accuracy(probs >= t, gold), -abs(t - T.SENDABLE_THRESHOLD), t)
        for t in T.THRESHOLDS
    ]
    acc, _, t = max(scored)
    return acc, t


# ---------------------------------------------------------------- the encoder


def load_bert():  # type: ignore[no-untyped-def]
    from transformers import AutoModel, AutoTokenizer

    from genpersona.embeddings.minilm import packaged_model_dir

    path = packaged_model_dir()
    tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    bert = AutoModel.from_pretrained(str(path), local_files_only=True, attn_implementation="eager")
    bert.eval()
    return tok, bert


def tokenize(tok, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[no-untyped-def]
    enc = tok(texts, padding="max_length", truncation=True, max_length=MAX_TOKENS,
              return_tensors="pt")  # fmt: skip
    return enc["input_ids"], enc["attention_mask"]


def additive(mask: torch.Tensor) -> torch.Tensor:
    return (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min


def run_layer(layer, h: torch.Tensor, am: torch.Tensor) -> torch.Tensor:  # type: ignore[no-untyped-def]
    out = layer(h, attention_mask=am)  # transformers 5 returns the tensor, 4 a tuple
    return out[0] if isinstance(out, tuple) else out


def mean_pool(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask[:, :, None].float()
    return (h * m).sum(1) / m.sum(1).clamp(min=1e-9)


@torch.no_grad()
def frozen_states(bert, ids: torch.Tensor, mask: torch.Tensor, upto: int, bs: int = 256):  # type: ignore[no-untyped-def]
    """Output of the first ``upto`` layers (0: the embeddings) for every line, trimmed to
    the longest line, and the frozen model's normalised mean-pooled vector."""
    L = int(mask.sum(1).max())
    ids, mask = ids[:, :L], mask[:, :L]
    states, vecs = [], []
    for i in range(0, len(ids), bs):
        m = mask[i : i + bs]
        h = bert.embeddings(input_ids=ids[i : i + bs])
        out_upto = h if upto == 0 else None
        for j, layer in enumerate(bert.encoder.layer):
            h = run_layer(layer, h, additive(m))
            if j + 1 == upto:
                out_upto = h
        states.append(out_upto)
        vecs.append(nn.functional.normalize(mean_pool(h, m), dim=-1))
    return torch.cat(states), mask, torch.cat(vecs).numpy()


class Tower(nn.Module):
    """MiniLM's last ``k`` layers (k = 6: with its embeddings) and a linear head on the
    mean-pooled output (plus standardised features when ``n_feat``)."""

    def __init__(self, bert, k: int, n_feat: int = 0) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.k = k
        self.emb = copy.deepcopy(bert.embeddings) if k == N_LAYERS else None
        self.layers = nn.ModuleList(copy.deepcopy(list(bert.encoder.layer[N_LAYERS - k :])))
        self.head = nn.Linear(384 + n_feat, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, feats: torch.Tensor | None = None):  # type: ignore[no-untyped-def]
        h = self.emb(input_ids=x) if self.emb is not None else x
        am = additive(mask)
        for layer in self.layers:
            h = run_layer(layer, h, am)
        z = mean_pool(h, mask) * 10.0  # the pooled output is small; scaled for the head's lr
        if feats is not None:
            z = torch.cat([z, feats], dim=1)
        return self.head(z).squeeze(-1)


def fit_tower(bert, k: int, X, M, F, y, w, lr: float, epochs: int, on_epoch=None, seed: int = 7):  # type: ignore[no-untyped-def]
    """Train a Tower on inputs ``X`` (frozen states, or token ids for k = 6), masks ``M``,
    features ``F`` (or None), labels ``y``, weights ``w``; ``on_epoch(e, tower)`` after each."""
    torch.manual_seed(seed)
    tower = Tower(bert, k, 0 if F is None else F.shape[1])
    opt = torch.optim.AdamW(
        [
            {
                "params": [p for n, p in tower.named_parameters() if not n.startswith("head")],
                "lr": lr,
            },  # fmt: skip
            {"params": tower.head.parameters(), "lr": 1e-3},
        ],
        weight_decay=0.01,
    )
    bs = 32
    n = len(y)
    steps = epochs * math.ceil(n / bs)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm))
    yt = torch.tensor(y, dtype=torch.float32)
    wt = torch.tensor(w / w.mean(), dtype=torch.float32)
    gen = np.random.default_rng(seed)
    for e in range(epochs):
        tower.train()
        for b in np.array_split(gen.permutation(n), math.ceil(n / bs)):
            bt = torch.from_numpy(b)
            m = M[bt]
            L = int(m.sum(1).max())
            xb = X[bt][:, :L]
            logits = tower(xb, m[:, :L], None if F is None else F[bt])
            loss = (wt[bt] * nn.functional.binary_cross_entropy_with_logits(
                logits, yt[bt], reduction="none")).mean()  # fmt: skip
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if on_epoch is not None:
            tower.eval()
            on_epoch(e + 1, tower)
    tower.eval()
    return tower


@torch.no_grad()
def predict(tower: Tower, X, M, F=None, bs: int = 256) -> np.ndarray:  # type: ignore[no-untyped-def]
    out = []
    for i in range(0, len(M), bs):
        m = M[i : i + bs]
        L = int(m.sum(1).max())
        out.append(torch.sigmoid(tower(X[i : i + bs][:, :L], m[:, :L],
                                       None if F is None else F[i : i + bs])))  # fmt: skip
    return torch.cat(out).numpy()


# ---------------------------------------------------------------- data for one run


def prepare(d: dict, bert, tok, k: int, extra_texts: list[str] = ()) -> dict:  # type: ignore[no-untyped-def]
    texts = d["gen_texts"] + d["dev_texts"] + list(extra_texts)
    ids, mask = tokenize(tok, texts)
    t0 = time.perf_counter()
    states, mask, vecs = frozen_states(bert, ids, mask, N_LAYERS - k)
    print(f"  frozen pass over {len(texts)} lines: {time.perf_counter() - t0:.0f} s", flush=True)
    X = ids[:, : mask.shape[1]] if k == N_LAYERS else states
    lex = np.array([T.features(t) for t in texts], dtype=np.float32)
    return {"X": X, "M": mask, "vecs": vecs, "lex": lex}


def lr_probs(lexv_train, y, w, lexv_test, C: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    return T._fit(lexv_train, y, w, C).predict_proba(lexv_test)[:, 1]


def standardise(F: np.ndarray, rows: np.ndarray) -> torch.Tensor:
    mu, sd = F[rows].mean(0), F[rows].std(0) + 1e-6
    return torch.tensor((F - mu) / sd, dtype=torch.float32)


def cv(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    d = build()
    tok, bert = load_bert()
    n_gen, n_dev = len(d["gen_y"]), len(d["dev_y"])
    print(f"generated {n_gen} lines ({int(d['gen_y'].sum())} positive), dev {n_dev} rows",
          flush=True)  # fmt: skip
    fs = folds(n_dev)
    dev_y, keep = d["dev_y"], d["dev_keep"]
    results: list[dict] = []
    lr_oof = None
    for k in args.layers:
        P = prepare(d, bert, tok, k)
        lexv = np.hstack([P["lex"], P["vecs"]])
        if lr_oof is None:  # the shipped scorer's dev CV on the same folds
            lr_oof = np.zeros(n_dev)
            for f in range(5):
                tr = np.concatenate([fs[j] for j in range(5) if j != f])
                rows = np.concatenate([np.arange(n_gen), n_gen + tr])
                y = np.concatenate([d["gen_y"], dev_y[tr]])
                w = np.concatenate([d["gen_w"], np.full(len(tr), SHIPPED["dev_weight"])])
                lr_oof[fs[f]] = lr_probs(lexv[rows], y, w, lexv[n_gen + fs[f]], SHIPPED["C"])
            acc, t = pick_threshold(lr_oof * keep, dev_y)
            print(f"shipped LR (C 0.5, dev 20, shop 20), same folds: dev 5-fold balanced "
                  f"accuracy {100 * acc:.1f}% at {t}", flush=True)  # fmt: skip
            np.save(OUT / f"lr_oof_k{k}.npy", lr_oof)
        for lr in args.lrs:
            for use_feats in args.feats:
                oof = {e: np.zeros(n_dev) for e in range(1, args.epochs + 1)}
                t0 = time.perf_counter()
                for f in range(5):
                    tr = np.concatenate([fs[j] for j in range(5) if j != f])
                    rows = np.concatenate([np.arange(n_gen), n_gen + tr])
                    test = n_gen + fs[f]
                    y = np.concatenate([d["gen_y"], dev_y[tr]])
                    w = np.concatenate([d["gen_w"], np.full(len(tr), SHIPPED["dev_weight"])])
                    F = standardise(P["lex"], rows) if use_feats else None

                    def on_epoch(e, tower, test=test, F=F, f=f, oof=oof, P=P):  # type: ignore[no-untyped-def]
                        oof[e][fs[f]] = predict(tower, P["X"][test], P["M"][test],
                                                None if F is None else F[test])  # fmt: skip

                    fit_tower(bert, k, P["X"][rows], P["M"][rows],
                              None if F is None else F[rows], y, w, lr, args.epochs, on_epoch)  # fmt: skip
                    print(f"  k={k} lr={lr} feats={use_feats} fold {f + 1}/5 "
                          f"{time.perf_counter() - t0:.0f} s", flush=True)  # fmt: skip
                for e in range(1, args.epochs + 1):
                    np.save(OUT / f"oof_k{k}_lr{lr}_f{int(use_feats)}_e{e}.npy", oof[e])
                    for a in ALPHAS:
                        p = a * oof[e] + (1 - a) * lr_oof
                        acc, t = pick_threshold(p * keep, dev_y)
                        results.append({"k": k, "lr": lr, "feats": use_feats, "epochs": e,
                                        "alpha": a, "dev_cv_bal_acc": round(100 * acc, 2),
                                        "threshold": t})  # fmt: skip
                    row = [r for r in results if r["k"] == k and r["lr"] == lr
                           and r["feats"] == use_feats and r["epochs"] == e]  # fmt: skip
                    print(f"k={k} lr={lr} feats={use_feats} epochs={e}: "
                          + "  ".join(f"alpha {r['alpha']}: {r['dev_cv_bal_acc']:.1f}% "
                                      f"@{r['threshold']}" for r in row), flush=True)  # fmt: skip
                tag = f"k{'-'.join(map(str, args.layers))}_lr{'-'.join(map(str, args.lrs))}"
                (OUT / f"cv_results_{tag}.json").write_text(json.dumps(results, indent=1))
    best = max(results, key=lambda r: (r["dev_cv_bal_acc"], -r["alpha"]))
    print("best:", json.dumps(best))


def heldout(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    d = build()
    tok, bert = load_bert()
    rows4 = load("heldout4")
    n_gen, n_dev = len(d["gen_y"]), len(d["dev_y"])
    k = args.layers[0]
    P = prepare(d, bert, tok, k, [r["text"] for r in rows4])
    train_rows = np.arange(n_gen + n_dev)
    test = np.arange(n_gen + n_dev, n_gen + n_dev + len(rows4))
    y = np.concatenate([d["gen_y"], d["dev_y"]])
    w = np.concatenate([d["gen_w"], np.full(n_dev, SHIPPED["dev_weight"])])
    lexv = np.hstack([P["lex"], P["vecs"]])
    p_lr = lr_probs(lexv[train_rows], y, w, lexv[test], SHIPPED["C"])
    F = standardise(P["lex"], train_rows) if args.feats[0] else None
    t0 = time.perf_counter()
    tower = fit_tower(bert, k, P["X"][train_rows], P["M"][train_rows],
                      None if F is None else F[train_rows], y, w, args.lr[0], args.epochs)  # fmt: skip
    print(f"  fitted on {len(y)} lines in {time.perf_counter() - t0:.0f} s", flush=True)
    torch.save(tower.state_dict(), OUT / f"tower_k{k}.pt")
    p_ft = predict(tower, P["X"][test], P["M"][test], None if F is None else F[test])
    keep = np.array([T.context_keep(r) for r in rows4])
    gold = np.array([bool(r["sendable"]) for r in rows4])
    out = {}
    for name, p, t in (
        ("LR refit (shipped scorer's fit)", p_lr, args.lr_threshold),
        (
            f"chosen: alpha {args.alpha}",
            args.alpha * p_ft + (1 - args.alpha) * p_lr,
            args.threshold,
        ),
    ):
        pred = p * keep >= t
        tp = int((pred & gold).sum())
        out[name] = {
            "threshold": t,
            "accuracy_pct": round(100 * float((pred == gold).mean()), 1),
            "precision_pct": round(100 * tp / max(1, int(pred.sum())), 1),
            "recall_pct": round(100 * tp / max(1, int(gold.sum())), 1),
            "model_outputs_accuracy_pct": round(
                100
                * float((pred == gold)[[r["source"].startswith("model") for r in rows4]].mean()),
                1,
            ),  # fmt: skip
            "written_accuracy_pct": round(
                100
                * float(
                    (pred == gold)[[not r["source"].startswith("model") for r in rows4]].mean()
                ),
                1,
            ),  # fmt: skip
        }
    print(json.dumps(out, indent=1))
    p_bl = args.alpha * p_ft + (1 - args.alpha) * p_lr
    print(
        "# rows the chosen configuration gets wrong (p_chosen, p_ft, p_lr, source, reason | line)"
    )
    for r, a, b, c, kp in zip(rows4, p_bl, p_ft, p_lr, keep, strict=True):
        if (a * kp >= args.threshold) != bool(r["sendable"]):
            print(f"{a * kp:.2f} {b * kp:.2f} {c * kp:.2f} {r['source'][:5]} {r['reason']} | "
                  f"{r['text']}")  # fmt: skip


def cost(args: argparse.Namespace) -> None:
    """CPU ms per line, batches of 64 dev lines, one thread, median of ``--repeats``."""
    torch.set_num_threads(1)
    from genpersona.embeddings.minilm import MiniLMEmbedder

    texts = [r["text"] for r in T.dev_rows()][: 64 * 4]
    batches = [texts[i : i + 64] for i in range(0, len(texts), 64)]
    tok, bert = load_bert()
    emb = MiniLMEmbedder()
    k = args.layers[0]
    tower = Tower(bert, k)
    path = OUT / f"tower_k{k}.pt"
    if path.exists():
        tower.load_state_dict(torch.load(path), strict=False)
    tower.eval()

    def timed(fn) -> float:  # type: ignore[no-untyped-def]
        for b in batches[:1]:
            fn(b)  # warm-up
        per = []
        for _ in range(args.repeats):
            for b in batches:
                t0 = time.process_time()
                fn(b)
                per.append(1000 * (time.process_time() - t0) / len(b))
        return statistics.median(per)

    @torch.no_grad()
    def full(b: list[str]) -> None:  # the fine-tuned model alone: frozen layers + unfrozen ones
        ids, m = tokenize(tok, b)
        L = int(m.sum(1).max())
        ids, m = ids[:, :L], m[:, :L]
        h = bert.embeddings(input_ids=ids)
        for layer in bert.encoder.layer[: N_LAYERS - k]:
            h = run_layer(layer, h, additive(m))
        torch.sigmoid(tower(ids if k == N_LAYERS else h, m))

    states = {}
    for b in batches:
        ids, m = tokenize(tok, b)
        L = int(m.sum(1).max())
        s, mm, _ = frozen_states(bert, ids[:, :L], m[:, :L], N_LAYERS - k)
        states[id(b)] = (s, mm)

    @torch.no_grad()
    def top(b: list[str]) -> None:  # only the unfrozen layers, on shared frozen states
        s, mm = states[id(b)]
        torch.sigmoid(tower(s, mm))

    out = {
        "load_before": os.getloadavg()[0],
        "frozen MiniLM (MiniLMEmbedder.embed), ms/line": round(timed(emb.embed), 2),
        f"fine-tuned k={k} alone (tokenise + 6 layers + head), ms/line": round(timed(full), 2),
        f"unfrozen top {k} layer(s) + head on shared states, ms/line": round(timed(top), 2),
        "load_after": os.getloadavg()[0],
    }
    n_top = sum(p.numel() for p in tower.parameters())
    out[f"trained parameters (k={k})"] = n_top
    out["shipped size float32 MB"] = round(4 * n_top / 1e6, 1)
    out["shipped size float16 MB"] = round(2 * n_top / 1e6, 1)
    if path.exists():
        out["saved state_dict MB"] = round(path.stat().st_size / 1e6, 1)
    print(json.dumps(out, indent=1))


def compare(args: argparse.Namespace) -> None:
    """Paired bootstrap (2,000 resamples of the 899 dev rows) of the out-of-fold balanced
    accuracy: a saved fine-tuned run blended at ``--alpha`` and ``--threshold`` against
    the shipped LR at 0.35, both from the cv runs' saved out-of-fold probabilities."""
    d = build()
    k, lr, e = args.layers[0], args.lr[0], args.epochs
    ft = np.load(OUT / f"oof_k{k}_lr{lr}_f{int(args.feats[0])}_e{e}.npy")
    lr_oof = np.load(OUT / f"lr_oof_k{k}.npy")
    gold, keep = d["dev_y"].astype(bool), d["dev_keep"]
    a = (args.alpha * ft + (1 - args.alpha) * lr_oof) * keep >= args.threshold
    b = lr_oof * keep >= T.SENDABLE_THRESHOLD
    rng = np.random.default_rng(7)
    diffs = []
    for _ in range(2000):
        i = rng.integers(0, len(gold), len(gold))
        diffs.append(T.balanced_accuracy(a[i], gold[i]) - T.balanced_accuracy(b[i], gold[i]))
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    print(
        f"k={k} lr={lr} epochs={e} alpha={args.alpha} @{args.threshold}: "
        f"{100 * T.balanced_accuracy(a, gold):.1f}% vs shipped LR "
        f"{100 * T.balanced_accuracy(b, gold):.1f}%; difference 95% interval "
        f"[{100 * lo:+.1f}, {100 * hi:+.1f}] points (threshold and alpha picked on these rows)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["cv", "heldout", "cost", "compare"])
    ap.add_argument("--layers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--lrs", "--lr", dest="lr", type=float, nargs="+", default=[3e-5, 1e-4])
    ap.add_argument("--feats", type=int, nargs="+", default=[0], help="0/1 per run")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--threshold", type=float, default=T.SENDABLE_THRESHOLD)
    ap.add_argument("--lr-threshold", type=float, default=T.SENDABLE_THRESHOLD)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    args.lrs = args.lr
    args.feats = [bool(f) for f in args.feats]
    {"cv": cv, "heldout": heldout, "cost": cost, "compare": compare}[args.mode](args)


if __name__ == "__main__":
    main()
