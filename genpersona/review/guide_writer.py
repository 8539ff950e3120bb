"""Append a preferred term to a brand guide YAML without losing the marketer's comments.

The guide is a file people edit by hand, so it is changed as text: the new
entry is appended to the ``preferred_terms`` block (or the block is added),
the guide's ``version`` is bumped, and the result must load as a valid
``BrandGuide`` containing the new rule before it replaces the file
(atomically). If the text edit cannot be made safely, nothing is written.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import date
from pathlib import Path

from genpersona.brands.loader import clear_guide_cache, parse_guide_text, resolve_guide_path
from genpersona.errors import BrandGuideError
from genpersona.settings import Settings

_KEY = re.compile(r"^preferred_terms:\s*(?P<rest>.*)$")
_TOP_LEVEL = re.compile(r"^[A-Za-z_]")
_VERSION = re.compile(r"^version:\s*['\"]?(?P<y>\d{4})\.(?P<m>\d{1,2})\.(?P<n>\d+)['\"]?\s*$")


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _entry_lines(use: str, instead_of: str, reason: str, indent: str) -> list[str]:
    return [
        f"{indent}- use: {_q(use)}",
        f"{indent}  instead_of: [{_q(instead_of)}]",
        f"{indent}  reason: {_q(reason)}",
    ]


def _append_entry(lines: list[str], use: str, instead_of: str, reason: str) -> list[str] | None:
    """The lines with the new entry at the end of the preferred_terms block; None if odd."""
    for i, line in enumerate(lines):
        match = _KEY.match(line)
        if not match:
            continue
        rest = match.group("rest").split("#", 1)[0].strip()
        if rest in ("[]", "null", "~"):
            entry = _entry_lines(use, instead_of, reason, "  ")
            return lines[:i] + ["preferred_terms:", *entry] + lines[i + 1 :]
        if rest:
            return None  # a non-empty inline list: leave it to a human
        end = i + 1
        indent: str | None = None
        while end < len(lines) and not _TOP_LEVEL.match(lines[end]):
            stripped = lines[end].lstrip()
            if indent is None and stripped.startswith("- "):
                indent = lines[end][: len(lines[end]) - len(stripped)]
            end += 1
        while end > i + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
            end -= 1  # blank lines and column-0 comments belong to the next key
        entry = _entry_lines(use, instead_of, reason, indent if indent is not None else "  ")
        return lines[:end] + entry + lines[end:]
    return [*lines, "", "preferred_terms:", *_entry_lines(use, instead_of, reason, "  ")]


def _bump_version(lines: list[str], today: date) -> list[str]:
    for i, line in enumerate(lines):
        match = _VERSION.match(line)
        if match:
            y, m, n = int(match["y"]), int(match["m"]), int(match["n"])
            new = (
                f"{y}.{m:02d}.{n + 1}"
                if (y, m) == (today.year, today.month)
                else (f"{today.year}.{today.month:02d}.1")
            )
            return lines[:i] + [f'version: "{new}"'] + lines[i + 1 :]
    return lines


def add_preferred_term(
    brand: str,
    use: str,
    instead_of: str,
    reason: str,
    settings: Settings | None = None,
    *,
    today: date | None = None,
) -> Path:
    """Add 'use X instead of Y' to the brand's guide; returns the file written.

    Raises ``BrandGuideError`` (and leaves the file untouched) when the result
    would not be a valid guide.
    """
    path = resolve_guide_path(brand, settings)
    original = path.read_text(encoding="utf-8")
    guide = parse_guide_text(original, path)
    for term in guide.preferred_terms:
        if term.use.lower() == use.lower() and instead_of.lower() in (
            w.lower() for w in term.instead_of
        ):
            return path  # already a rule: accepting twice changes nothing
    lines = original.splitlines()
    updated = _append_entry(lines, use, instead_of, reason)
    if updated is None:
        raise BrandGuideError(
            f"{path}: 'preferred_terms' is written as an inline list, which cannot be extended safely",
            fix="rewrite preferred_terms as a block list (one '- use: ...' item per line) and accept again",
            file=str(path),
            field="preferred_terms",
        )
    updated = _bump_version(updated, today or date.today())
    text = "\n".join(updated) + "\n"
    new_guide = parse_guide_text(text, path)  # raises BrandGuideError, file untouched
    if not any(t.use == use and instead_of in t.instead_of for t in new_guide.preferred_terms):
        raise BrandGuideError(
            f"{path}: the new preferred term {use!r} did not land in 'preferred_terms'",
            fix="check the indentation of the preferred_terms block and accept again",
            file=str(path),
            field="preferred_terms",
        )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    clear_guide_cache()
    return path
