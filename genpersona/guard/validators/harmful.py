"""Harmful content: hateful, violent, harassing or sexual text never reaches a customer.

Two layers, because each misses what the other sees. A lexicon catches the plain
words and stock phrases ("I hate humans", "kill yourself") exactly and explains
itself with a span. A semantic check compares each sentence with a few
prototype sentences per category in the shipped MiniLM space and catches the
paraphrases a word list cannot ("people like you should disappear"). Its
thresholds (0.62 for every category) were set by hand and are NOT yet calibrated on a
labelled innocent set; the chat eval (``evals/chat``) and the fixed-line tests are what
they were checked against so far (docs/experiments/chat.md).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

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
#: cosine similarity at or above which a sentence counts as the category (set by hand, not
#: calibrated yet: see the module docstring)
THRESHOLDS: dict[Category, float] = {
    "hate": 0.62,
    "violence": 0.62,
    "harassment": 0.62,
    "sexual": 0.62,
}
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


def harmful_categories(text: str, embed: Embed | None = None) -> list[tuple[Category, str]]:
    """(category, evidence) for a text: used on customers' messages too (to decline abuse)."""
    found = [(cat, m.group()) for cat, rx in LEXICON_RE.items() for m in rx.finditer(text)]
    if embed is not None and not found:
        parts = [s for _, _, s in sentences(text)] or [text]
        for part, scores in zip(parts, semantic_scores(parts, embed), strict=True):
            for cat, score in scores.items():
                if score >= THRESHOLDS[cat]:
                    found.append((cat, part))
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
    if opts.embed is None or out:
        return out
    spans = sentences(f.text)
    for (s, e, _), scores in zip(
        spans, semantic_scores([t for _, _, t in spans], opts.embed), strict=True
    ):
        cat = max(scores, key=lambda c: scores[c])
        if scores[cat] >= THRESHOLDS[cat]:
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
