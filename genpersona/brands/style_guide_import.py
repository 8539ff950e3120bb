"""Compile the 18F Content Guide (Markdown) into a checkable brand guide.

The guide's own sentences become rules: "**email**, not e-mail" becomes a
preferred term, "Words to avoid" bullets become banned terms (warnings when the
guide says "unless ..."), "Avoid _x_" sentences in the inclusive-language page
become banned terms, "_A_ instead of _B_" becomes a preferred term, trademark
lists become generic-word substitutions, and punctuation advice that a regex
can check (ampersands, double spaces, slashes, the % sign) becomes pattern
rules. Nothing is hand-added to the rule lists: a rule in the output can be
traced to a line of the source (``reason`` says which page).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from genpersona.brands.guide import BrandGuide
from genpersona.errors import BrandGuideError

BOLD = re.compile(r"\*\*(.+?)\*\*")
ITALIC = re.compile(r"(?<![\w*])_([^_]+?)_(?![\w*])")
BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
PAREN = re.compile(r"\(([^()]*)\)")

# Lines the importer writes for the fallback and example slots (not rules).
DEFAULT_FALLBACKS = {
    "subject_line": ["An update you can use", "Here's what changed this month"],
    "hero": ["Find what you need, in plain language"],
    "chat_answer": [
        "I can't answer that reliably here. Please use the contact page and a person will reply."
    ],
}


def _pages(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        raise BrandGuideError(
            f"style guide folder {folder} does not exist",
            fix="point the importer at the folder holding the 18F Markdown pages",
            file=str(folder),
            field=None,
        )
    pages = {
        p.stem: _strip_front_matter(p.read_text(encoding="utf-8")) for p in folder.glob("*.md")
    }
    if "specific-words-and-phrases" not in pages:
        raise BrandGuideError(
            f"{folder} has no specific-words-and-phrases.md",
            fix="use the 18F content guide folder (it holds the word list page)",
            file=str(folder),
            field=None,
        )
    return pages


def _strip_front_matter(text: str) -> str:
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end > 0:
            return text[end + 4 :]
    return text


def _clean(term: str) -> str:
    term = term.strip().strip(",;:").strip()
    # keep the dots of abbreviations ("U.S.", "D.C."), drop a sentence's full stop
    return term if re.search(r"\w\.\w", term) else term.rstrip(".").strip()


def _split_alternatives(text: str) -> list[str]:
    parts = re.split(r",\s*(?:or\s+)?|\s+or\s+", text)
    return [p for p in (_clean(x) for x in parts) if p]


def _word_list(text: str, out: dict[str, list[Any]]) -> None:
    """specific-words-and-phrases: accepted forms, 'not X' forms, 'Never X', casing."""
    for line in text.splitlines():
        m = BULLET.match(line)
        if not m:
            continue
        body = m.group(1)
        bolds = [_clean(b) for b in BOLD.findall(body)]
        if not bolds:
            continue
        use = bolds[0]
        reason = "18F word list"
        not_part = re.search(r"\*\*,?\s+not\s+(.+)$", body)
        if not_part:
            wrong = [w for w in _split_alternatives(not_part.group(1)) if w.lower() != "the"]
            accepted = {b.lower() for b in bolds}
            case_sensitive = any(w.lower() in accepted or w.isupper() for w in wrong)
            _add_preferred(out, use, wrong, reason, case_sensitive)
            continue
        never = re.search(r"Never\s+_([^_]+)_", body)
        if never:
            _add_preferred(out, use, [_clean(never.group(1))], reason, False)
        avoid = re.search(r"Avoid all iterations of _([^_]+)_", body)
        if avoid:
            out["banned_terms"].append(
                {"term": _clean(avoid.group(1)), "reason": reason, "severity": "warn"}
            )
        if "%" in body and "percent" in use:
            out["patterns"].append(
                {
                    "id": "percent_sign",
                    "pattern": r"(\d)\s?%",
                    "message": "spell out 'percent' instead of the % sign",
                    "replacement": r"\1 percent",
                    "severity": "warn",
                }
            )
            continue
        rest = BOLD.sub("", body).strip(" ,.")
        plain_bullet = not rest or "lowercase" in rest or "unless part of" in rest
        for b in bolds:
            if " " in b or "." in b or not re.search(r"[a-z]", b):
                continue
            mixed = any(c.isupper() for c in b[1:])
            if mixed or (b.islower() and plain_bullet):
                exceptions = [
                    _clean(i)
                    for i in ITALIC.findall(body)
                    if i.lower() != b.lower() and b.lower() in i.lower()
                ]
                _add_casing(out, b, exceptions)


def _add_preferred(
    out: dict[str, list[Any]], use: str, wrong: list[str], reason: str, case_sensitive: bool
) -> None:
    """One rule per wrong form (the first, most specific source wins); forms with symbols
    a word matcher cannot see ("he/she") become regex patterns."""
    taken = {w.lower() for p in out["preferred_terms"] for w in p["instead_of"]}
    taken |= {p.lower() for p in out.setdefault("_pattern_sources", [])}
    words, pats = [], []
    for w in wrong:
        if not w or w == use or w.lower() in taken:
            continue
        if re.search(r"[/&+]", w):
            pats.append(r"(?<![\w/])" + re.escape(w) + r"(?![\w/])")
            out["_pattern_sources"].append(w)
        else:
            words.append(w)
    if words or pats:
        rule: dict[str, Any] = {"use": use, "instead_of": words, "reason": reason}
        if pats:
            rule["patterns"] = pats
        rule["case_sensitive"] = case_sensitive
        out["preferred_terms"].append(rule)


def _add_casing(out: dict[str, list[Any]], term: str, exceptions: list[str]) -> None:
    for rule in out["casing"]:
        if rule["term"] == term:
            rule["exceptions"] = sorted({*rule["exceptions"], *exceptions})
            return
    out["casing"].append({"term": term, "exceptions": exceptions, "severity": "warn"})


def _plain_language(text: str, out: dict[str, list[Any]]) -> None:
    """'Words to avoid' and figurative-language bullets, and 'use X instead of Y'."""
    body = text.split("## When to use")[0]
    for line in body.splitlines():
        m = BULLET.match(line)
        if not m or "[" in m.group(1):
            continue
        item = m.group(1)
        paren = PAREN.search(item)
        note = paren.group(1) if paren else ""
        head = PAREN.sub("", item).strip()
        terms = _split_alternatives(head)
        suggestion = None
        use = re.search(r"use\s+_([^_]+)_", note)
        if use:
            suggestion = f"use '{_clean(use.group(1))}'"
        elif note:
            suggestion = note[0].upper() + note[1:]
        conditional = "unless" in note or not use and bool(note) and "instead" not in note
        for term in terms:
            out["banned_terms"].append(
                {
                    "term": term,
                    "reason": "18F plain language: words to avoid",
                    "suggestion": suggestion,
                    "severity": "warn" if conditional else "block",
                }
            )
    for a, b in re.findall(r"_([^_]+)_ instead of _([^_]+)_", body):
        _add_preferred(out, _clean(a), [_clean(b)], "18F plain language", False)


def _inclusive(text: str, out: dict[str, list[Any]]) -> None:
    sentences = re.split(r"(?<=[.!?])\s+|\n", text)
    for s in sentences:
        s = s.strip(" -*")
        if re.match(r"Avoid\b", s) or "Avoid the term" in s:
            conditional = " as a " in s or "unless" in s
            for term in ITALIC.findall(s):
                out["banned_terms"].append(
                    {
                        "term": _clean(term),
                        "reason": "18F inclusive language",
                        "severity": "warn" if conditional else "block",
                    }
                )
    for uses, wrongs in re.findall(
        r"use ((?:_[^_]+_(?: or )?)+) instead of ((?:_[^_]+_(?: and )?)+)", text
    ):
        targets = ITALIC.findall(uses)
        _add_preferred(
            out,
            _clean(targets[0]),
            [_clean(w) for w in ITALIC.findall(wrongs)],
            "18F inclusive language",
            False,
        )
    for prefer, wrong in re.findall(r"We prefer ((?:_[^_]+_(?: or )?)+) to _([^_]+)_", text):
        _add_preferred(
            out, _clean(ITALIC.findall(prefer)[0]), [_clean(wrong)], "18F inclusive language", False
        )
    for a, rest in re.findall(r"use _([^_]+)_, not ((?:_[^_]+_(?: or )?)+)", text):
        _add_preferred(
            out,
            _clean(a),
            [_clean(w) for w in ITALIC.findall(rest)],
            "18F inclusive language",
            False,
        )
    for a, b in re.findall(r"\(for example, _([^_]+)_, not _([^_]+)_\)", text):
        _add_preferred(out, _clean(a), [_clean(b)], "18F inclusive language", False)
    for a, b in re.findall(r"_([^_]+)_ instead of _([^_]+)_", text):
        _add_preferred(out, _clean(a), [_clean(b)], "18F inclusive language", False)


def _trademarks(text: str, out: dict[str, list[Any]]) -> None:
    for line in text.splitlines():
        m = BULLET.match(line)
        if not m:
            continue
        tm = re.match(r"([^()]+?)\s*\(([^()]+)\)\s*$", m.group(1))
        if tm:
            generic = _split_alternatives(tm.group(2))[0]
            _add_preferred(
                out, generic, [tm.group(1).strip()], "18F trademarks: use a generic word", False
            )


def _punctuation(text: str, out: dict[str, list[Any]]) -> None:
    if "Never two spaces" in text:
        out["patterns"].append(
            {
                "id": "double_space",
                "pattern": r"(?<=\S) {2,}(?=\S)",
                "replacement": " ",
                "message": "separate sentences with a single space",
                "severity": "warn",
            }
        )
    if "instead of an ampersand" in text:
        out["patterns"].append(
            {
                "id": "ampersand",
                "pattern": r"(?<=\s)(?:&|\+)(?=\s)",
                "replacement": "and",
                "message": "use 'and' instead of an ampersand or plus sign",
                "severity": "warn",
            }
        )
    if "Avoid using the slash" in text:
        out["patterns"].append(
            {
                "id": "slash",
                "pattern": r"(?<=[A-Za-z])/(?=[A-Za-z])",
                "message": "avoid the slash; use words or commas",
                "severity": "warn",
            }
        )


def _voice(text: str) -> list[str]:
    section = text.split("## Our voice", 1)[-1].split("##", 1)[0]
    return [m.group(1).strip() for line in section.splitlines() if (m := BULLET.match(line))]


def import_style_guide(
    folder: Path,
    *,
    guide_id: str = "plainspoken-18f",
    name: str = "Plainspoken (18F Content Guide)",
    version: str = "2026.11.1",
) -> dict[str, Any]:
    """Return the guide as plain data (validated), ready to dump as YAML."""
    pages = _pages(folder)
    out: dict[str, list[Any]] = {
        "banned_terms": [],
        "preferred_terms": [],
        "casing": [],
        "patterns": [],
    }
    _word_list(pages["specific-words-and-phrases"], out)
    if "plain-language" in pages:
        _plain_language(pages["plain-language"], out)
    if "inclusive-language" in pages:
        _inclusive(pages["inclusive-language"], out)
    if "trademarks-and-brands" in pages:
        _trademarks(pages["trademarks-and-brands"], out)
    if "punctuation" in pages:
        _punctuation(pages["punctuation"], out)
    for sentence in re.findall(
        r"Don't capitalize _([^_,]+),?_", pages.get("capitalization", "").replace("’", "'")
    ):
        _add_casing(out, _clean(sentence), [])
    for m in re.finditer(
        r"Don't capitalize _([^_]+)_ or _([^_]+)_",
        pages.get("capitalization", "").replace("’", "'"),
    ):
        for t in m.groups():
            _add_casing(out, _clean(t), [])
    _dedupe(out)
    out.pop("_pattern_sources", None)
    voice = _voice(pages.get("voice-and-tone", "")) or ["friendly", "straightforward"]
    example = "We created this guide for reference on an as-needed basis."
    wrong_examples = [p["instead_of"][0] for p in out["preferred_terms"][:3]]
    data: dict[str, Any] = {
        "id": guide_id,
        "name": name,
        "version": version,
        "description": "Compiled by `genpersona brand import-style-guide` from the 18F Content Guide "
        "(CC0, content-guide.18f.gov). Rules trace to the page named in each 'reason'.",
        "locale": "en-US",
        "voice": [v.lower() for v in voice],
        "examples": {
            "subject_line": {
                "do": ["Log in to see your updated forms"],
                "dont": [f"Read about {w} on our homepage" for w in wrong_examples],
            },
            "hero": {"do": [example], "dont": ["Leverage our robust, innovative platform"]},
        },
        "fallbacks": DEFAULT_FALLBACKS,
        "banned_terms": out["banned_terms"],
        "preferred_terms": out["preferred_terms"],
        "casing": out["casing"],
        "patterns": out["patterns"],
        # 18F copy states statistics, not offers: percentages are not claims here (the % sign
        # itself is handled by the guide's percent rule); prices and promise words still are.
        "claims": {"check_percentages": False},
        "limits": {
            "subject_line": {"max_chars": 70, "max_words": 12},
            "hero": {"max_chars": 90, "max_words": 15},
            "chat_answer": {"max_chars": 800, "max_words": 140},
        },
        "style": {
            "max_caps_words": 1,
            "max_exclamations": 1,
            "max_emoji": 0,
            "allowed_caps": ["U.S.", "DC", "FY", "README", "USWDS", "FAQ", "OK", "GSA", "TTS"],
        },
    }
    BrandGuide.model_validate(data)  # never write a guide that would not load
    return data


def _dedupe(out: dict[str, list[Any]]) -> None:
    seen: set[str] = set()
    banned = []
    for b in out["banned_terms"]:
        key = b["term"].lower()
        if key not in seen:
            seen.add(key)
            banned.append(b)
    preferred_use = {p["use"].lower() for p in out["preferred_terms"]}
    out["banned_terms"] = [b for b in banned if b["term"].lower() not in preferred_use]


def write_guide(data: dict[str, Any], path: Path) -> Path:
    header = (
        "# GENERATED by `genpersona brand import-style-guide` from the 18F Content Guide.\n"
        "# Re-run the importer rather than editing by hand (or copy it to a new id first).\n"
    )
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(header + body, encoding="utf-8")
    return path
