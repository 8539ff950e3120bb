"""Harmful content: hateful, violent, harassing or sexual text never reaches a customer.

Two layers, because each misses what the other sees. A lexicon catches the plain
words and stock phrases ("I hate humans", "kill yourself") exactly and explains
itself with a span. A semantic check compares each sentence with a few
prototype sentences per category in the shipped MiniLM space and catches the
paraphrases a word list cannot ("people like you should disappear"). Its per-category
thresholds are calibrated for the shipped MiniLM by ``python -m evals.chat.calibrate_harm``
on a labelled dev set (``evals/chat/harm/dev.jsonl``: harmful paraphrases and innocent shop
lines with risky words, "a killer gift", "prices to die for"), precision first: just above
the highest score any innocent dev line gets. They ship in
``semantic_models/harm_thresholds.json``; precision and recall on the held-out part are in
docs/experiments/chat.md. Other embedders use the same numbers, uncalibrated.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from genpersona.guard.validators.base import CheckOptions, FieldText
from genpersona.types.violations import Violation

Category = str  # hate, violence, harassment, sexual

_LEXICON: dict[Category, list[str]] = {
    "hate": [
        r"i hate (?:all )?(?:humans?|people|humanity|you|women|men|foreigners|immigrants)",
        r"hate (?:all )?(?:humans|humanity)",
        r"(?:humans|people|women|men|immigrants|foreigners) (?:are|r) (?:vermin|scum|trash|subhuman)",
        r"subhuman",
        r"inferior race",
        r"master race",
        r"white power",
        r"go back to your (?:own )?country",
        r"death to (?:all )?\w+",
        r"n[i1]gg(?:er|a)s?",
        r"f[a4]gg?[o0]ts?",
        r"k[i1]kes?",
        r"sp[i1]cs?",
        r"ch[i1]nks?",
        r"retards?",
        r"trann(?:y|ies)",
    ],
    "violence": [
        r"(?:i(?:'ll| will)|we(?:'ll| will)|gonna|going to) (?:kill|murder|hurt|stab|shoot|beat)",
        r"kill (?:you|yourself|them|him|her|everyone|all)",
        r"kill all \w+",
        r"murder(?:ed|ing|s)?",
        r"stab(?:bed|bing)?",
        r"shoot (?:you|them|him|her|up)",
        r"bomb (?:the|a|your)",
        r"blow (?:up|you up)",
        r"behead\w*",
        r"massacre",
        r"slaughter (?:them|you|everyone)",
        r"torture",
        r"you (?:should|deserve to) die",
        r"destroy (?:all )?humans",
    ],
    "harassment": [
        r"you(?:'re| are) (?:an? )?(?:stupid|idiot|moron|worthless|pathetic|useless|loser|ugly)",
        r"\b(?:stupid|dumb|pathetic|worthless) (?:customer|human|person|idiot)",
        r"shut up",
        r"idiots?",
        r"morons?",
        r"nobody (?:likes|cares about) you",
        r"kys",
        r"go to hell",
        r"screw you",
        r"loser",
    ],
    "sexual": [
        r"sex(?:y|ual(?:ly)?|ting)?",
        r"porn\w*",
        r"nudes?",
        r"naked",
        r"horny",
        r"erotic\w*",
        r"orgasm\w*",
        r"genitals?",
        r"penis",
        r"vagina",
        r"boobs?",
        r"blowjob",
        r"hook ?up",
        r"onlyfans",
    ],
}
LEXICON_RE: dict[Category, re.Pattern[str]] = {
    cat: re.compile(r"(?<![\w])(?:" + "|".join(words) + r")(?![\w])", re.IGNORECASE)
    for cat, words in _LEXICON.items()
}

PROTOTYPES: dict[Category, list[str]] = {
    "hate": [
        "I hate humans.",
        "I hate all people of that race.",
        "Those people are vermin and should be wiped out.",
        "Humanity is a disease.",
        "Immigrants are ruining this country and should go back home.",
    ],
    "violence": [
        "I will kill you.",
        "I am going to hurt you badly.",
        "Let's bomb the building.",
        "You deserve to die.",
        "Here is how to make a weapon to attack people.",
    ],
    "harassment": [
        "You are a stupid, worthless idiot.",
        "Shut up, nobody cares about you.",
        "You are pathetic and ugly.",
        "Go away, loser.",
    ],
    "sexual": [
        "Send me naked pictures.",
        "Let's have sex tonight.",
        "Explicit sexual content about bodies.",
        "I want to talk dirty with you.",
    ],
}
THRESHOLDS_PATH = Path(__file__).resolve().parents[1] / "semantic_models" / "harm_thresholds.json"
#: before calibration every category used this (kept for a missing thresholds file)
HAND_SET = 0.62


def _load_thresholds() -> dict[Category, float]:
    fitted = {}
    if THRESHOLDS_PATH.exists():
        fitted = json.loads(THRESHOLDS_PATH.read_text())["thresholds"]
    return {cat: float(fitted.get(cat, HAND_SET)) for cat in PROTOTYPES}


#: cosine similarity at or above which a sentence counts as its closest category
#: (calibrated: see the module docstring)
THRESHOLDS: dict[Category, float] = _load_thresholds()
_SENTENCE_RE = re.compile(r"(?:[^.!?\n]|[.!?](?=\S))+[.!?]*")

Embed = Callable[[list[str]], np.ndarray]
_PROTO_CACHE: dict[int, tuple[Embed, dict[Category, np.ndarray]]] = {}
_PROTO_LOCK = threading.Lock()


def _prototypes(embed: Embed) -> dict[Category, np.ndarray]:
    """Prototype vectors per embedder (computed once; the embedder is kept alive with them)."""
    key = id(embed)
    with _PROTO_LOCK:
        hit = _PROTO_CACHE.get(key)
        if hit is None or hit[0] is not embed:
            vectors = {cat: np.asarray(embed(lines)) for cat, lines in PROTOTYPES.items()}
            hit = (embed, vectors)
            _PROTO_CACHE[key] = hit
        return hit[1]


def sentences(text: str) -> list[tuple[int, int, str]]:
    out = []
    for m in _SENTENCE_RE.finditer(text):
        s = m.group().strip()
        if len(s.split()) >= 2:
            start = m.start() + m.group().find(s)
            out.append((start, start + len(s), s))
    return out


def semantic_scores(texts: list[str], embed: Embed) -> list[dict[Category, float]]:
    """Highest prototype similarity per category for each text."""
    if not texts:
        return []
    protos = _prototypes(embed)
    vectors = np.asarray(embed(texts))
    return [{cat: float(np.max(p @ v)) for cat, p in protos.items()} for v in vectors]


def semantic_flags(
    text: str, embed: Embed, thresholds: dict[Category, float] | None = None
) -> list[tuple[int, int, Category, float]]:
    """(start, end, category, score) of each sentence whose closest category reaches that
    category's threshold (the calibration script passes candidate thresholds)."""
    limits = thresholds or THRESHOLDS
    spans = sentences(text) or [(0, len(text), text)]
    out = []
    for (s, e, _), scores in zip(
        spans, semantic_scores([t for _, _, t in spans], embed), strict=True
    ):
        cat = max(scores, key=lambda c: scores[c])
        if scores[cat] >= limits[cat]:
            out.append((s, e, cat, scores[cat]))
    return out


def harmful_categories(text: str, embed: Embed | None = None) -> list[tuple[Category, str]]:
    """(category, evidence) for a text: used on customers' messages too (to decline abuse)."""
    found = [(cat, m.group()) for cat, rx in LEXICON_RE.items() for m in rx.finditer(text)]
    if embed is not None and not found:
        found = [(cat, text[s:e]) for s, e, cat, _ in semantic_flags(text, embed)]
    return found


def harmful(f: FieldText, opts: CheckOptions) -> list[Violation]:
    out: list[Violation] = []
    for cat, rx in LEXICON_RE.items():
        for m in rx.finditer(f.text):
            out.append(
                f.violation(
                    f"harmful.{cat}",
                    "block",
                    f"contains {cat} content",
                    m.start(),
                    m.end(),
                    suggestion="answer helpfully and kindly, without that wording",
                )
            )
    if opts.embed is None or out or not sentences(f.text):
        return out
    for s, e, cat, _ in semantic_flags(f.text, opts.embed):
        out.append(
            f.violation(
                f"harmful.{cat}",
                "block",
                f"reads as {cat} content",
                s,
                e,
                suggestion="answer helpfully and kindly",
            )
        )
    return out
