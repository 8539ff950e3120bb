"""Load brand guides from YAML, turning every mistake into an error that names file, field and fix.

A guide that fails validation loads nothing: callers either get a complete,
checked ``BrandGuide`` or a ``BrandGuideError``. Loaded guides are cached by
(path, mtime, size) so the pipeline can call ``load_guide`` per request and
still reuse the compiled matchers built on the first check.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from genpersona.brands.guide import BrandGuide
from genpersona.errors import BrandGuideError, BrandNotFound
from genpersona.settings import Settings, get_settings

_CACHE: dict[tuple[str, int, int], BrandGuide] = {}
#: (guides folder, name) -> the guide file's resolved path: resolving costs a stat per
#: path component, and the pipeline loads the guide on every request
_PATHS: dict[tuple[str, str], str] = {}


class _GuideLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so pydantic validates them with a clear error
    (PyYAML would raise a bare ValueError on '2026-13-45')."""


_GuideLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SUFFIXES = (".yaml", ".yml")


def _guides_dir(settings: Settings | None) -> Path:
    return Path((settings or get_settings()).brand_guides_dir)


def guide_paths(settings: Settings | None = None) -> list[Path]:
    """Every guide file in the guides folder (files starting with '_' are not guides)."""
    folder = _guides_dir(settings)
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir() if p.suffix in SUFFIXES and not p.name.startswith("_")
    )


def resolve_guide_path(name_or_path: str | Path, settings: Settings | None = None) -> Path:
    """A path to an existing file, or the guide named ``name`` in the guides folder."""
    candidate = Path(name_or_path)
    looks_like_path = isinstance(name_or_path, Path) or any(
        s in str(name_or_path) for s in ("/", "\\")
    )
    if looks_like_path or candidate.suffix in SUFFIXES:
        if candidate.is_file():
            return candidate
        raise BrandNotFound(
            f"brand guide file {candidate} does not exist",
            fix="check the path, or pass a brand name such as 'giftloft' (see `genpersona brand list`)",
            brand=str(name_or_path),
        )
    folder = _guides_dir(settings)
    for suffix in SUFFIXES:
        path = folder / f"{name_or_path}{suffix}"
        if path.is_file():
            return path
    known = [p.stem for p in guide_paths(settings)]
    close = difflib.get_close_matches(str(name_or_path), known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise BrandNotFound(
        f"no brand guide named {name_or_path!r} in {folder}",
        fix=f"{hint}use one of: {', '.join(known) or '(none)'}; or add {folder}/{name_or_path}.yaml",
        brand=str(name_or_path),
        available=known,
    )


def load_guide(name_or_path: str | Path, settings: Settings | None = None) -> BrandGuide:
    """Load, validate and cache one guide. Raises BrandNotFound or BrandGuideError.

    One stat per call once the name is known, so an edited guide is picked up at once."""
    by_name = isinstance(name_or_path, str) and not any(c in name_or_path for c in "/\\.")
    name_key = (str((settings or get_settings()).brand_guides_dir), str(name_or_path))
    resolved = _PATHS.get(name_key) if by_name else None
    try:
        stat = os.stat(resolved) if resolved else None
    except OSError:
        stat = None  # moved or deleted: resolve the name again (and report it if gone)
    if resolved is None or stat is None:
        path = resolve_guide_path(name_or_path, settings)
        stat = path.stat()
        resolved = str(path.resolve())
        if by_name:
            _PATHS[name_key] = resolved
    key = (resolved, stat.st_mtime_ns, stat.st_size)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    path = Path(resolved)
    guide = parse_guide_text(path.read_text(encoding="utf-8"), path)
    _CACHE[key] = guide
    return guide


def list_guides(settings: Settings | None = None) -> list[BrandGuide]:
    """All valid guides; one broken file raises rather than silently disappearing."""
    return [load_guide(p, settings) for p in guide_paths(settings)]


def clear_guide_cache() -> None:
    _CACHE.clear()
    _PATHS.clear()


def parse_guide_text(text: str, path: Path) -> BrandGuide:
    """Parse YAML text as the guide stored at ``path`` (its stem is the guide id)."""
    file = str(path)
    try:
        data = yaml.load(text, Loader=_GuideLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise BrandGuideError(
            f"{file}: not valid YAML{where}: {getattr(exc, 'problem', exc)}",
            fix="fix the YAML syntax there (indentation, a missing ':' or an unquoted ':' inside text)",
            file=file,
            field=None,
            line=(mark.line + 1) if mark else None,
        ) from exc
    if not isinstance(data, dict):
        raise BrandGuideError(
            f"{file}: the top level must be a mapping of fields, got {type(data).__name__}",
            fix="start the file with 'name: ...', 'locale: ...', 'voice: [...]' lines",
            file=file,
            field=None,
        )
    stem = path.stem
    if "id" in data and data["id"] != stem:
        raise BrandGuideError(
            f"{file}: field 'id' is {data['id']!r} but the file is named {stem!r}",
            fix=f"set 'id: {stem}' or rename the file to {data['id']}.yaml (the id is the file stem)",
            file=file,
            field="id",
        )
    data = {**data, "id": stem}
    try:
        return BrandGuide.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(err) for err in exc.errors()]
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise BrandGuideError(
            f"{file}: field '{first['field']}': {first['problem']}{more}",
            fix=first["fix"],
            file=file,
            field=first["field"],
            problems=problems,
        ) from None


def _describe(err: ErrorDetails) -> dict[str, str]:
    """One pydantic error as {field, problem, fix} in a marketer's words."""
    loc = [str(p) for p in err.get("loc", ()) if not str(p).startswith("function-")]
    field = ".".join(loc) or "(top level)"
    typ = err.get("type", "")
    msg = str(err.get("msg", "")).removeprefix("Value error, ")
    name = loc[-1] if loc else ""
    if typ == "missing":
        fix = f"add '{name}:' to the guide"
    elif typ == "extra_forbidden":
        allowed = _allowed_fields(loc[:-1])
        close = difflib.get_close_matches(name, allowed, n=1)
        fix = (
            f"did you mean '{close[0]}'? " if close else ""
        ) + f"remove '{name}' or use one of: {', '.join(allowed)}"
    elif typ in {"literal_error", "enum"}:
        expected = err.get("ctx", {}).get("expected", "")
        fix = f"use one of {expected}"
    elif typ.startswith("date") or typ.startswith("datetime"):
        fix = "write dates as YYYY-MM-DD, e.g. 2026-12-24"
    elif typ == "string_pattern_mismatch":
        fix = f"the value must match {err.get('ctx', {}).get('pattern', '')}"
    elif typ in {"list_type", "dict_type", "string_type", "int_parsing", "bool_parsing"}:
        fix = f"'{name}' must be {typ.split('_')[0]}: {msg}"
    elif typ in {"greater_than", "greater_than_equal", "too_short"}:
        fix = msg[0].lower() + msg[1:] if msg else "use a larger value"
    else:
        fix = msg or "correct this value"
    return {"field": field, "problem": msg, "fix": fix}


def _allowed_fields(parent: list[str]) -> list[str]:
    """The field names allowed at ``parent`` (a loc path), for 'did you mean' hints."""
    model: type[BaseModel] | None = BrandGuide
    for part in parent:
        if model is None:
            break
        info = model.model_fields.get(part)
        if info is None:
            continue  # a dict key or list index: stay on the same model's item type
        model = _inner_model(info.annotation)
    return sorted(model.model_fields) if model else []


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found:
            return found
    return None
