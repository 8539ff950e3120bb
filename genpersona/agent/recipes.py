"""Copy recipes: each candidate is written from one named angle (``prompts/recipes.yaml``).

A recipe is angle x template version x exemplar policy, and its id is stored on the
variant (``VariantContent.recipe_id``), so outcomes can be credited to a recipe (the
learning loop treats recipes as arms). One angle per candidate keeps a small base
model on one idea per line instead of listing everything it was told.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from genpersona.errors import PromptTemplateError, UnknownRecipeError
from genpersona.types.content import ContentKind

_LOCK = threading.Lock()
_CACHE: dict[Path, tuple[float, RecipeBook]] = {}


class RecipeExample(BaseModel):
    background: str
    #: the interest the example's angle is about (fills the recipe's ``focus``)
    interest: str = ""
    subject: str = ""
    preheader: str = ""
    headline: str = ""
    subheadline: str = ""


class Recipe(BaseModel):
    angle: str
    needs_history: bool = False
    brief: str
    #: the angle about one interest, with an ``{interest}`` slot ("new {interest} that have
    #: just arrived"): generic angles made generic lines, so the customer's interest is in it
    focus: str = ""
    subject_line: list[RecipeExample] = Field(default_factory=list)
    hero: list[RecipeExample] = Field(default_factory=list)

    def examples(self, kind: ContentKind) -> list[RecipeExample]:
        return list(self.subject_line if kind == "subject_line" else self.hero)

    def brief_for(self, interest: str) -> str:
        """The angle line for one interest (the plain brief when there is none, or no
        ``focus``: anonymous visitors, opted-out customers)."""
        if not interest or "{interest}" not in self.focus:
            return self.brief
        return self.focus.replace("{interest}", interest)


class RecipeBook(BaseModel):
    version: str
    recipes: dict[str, Recipe]

    def named(self, names: Sequence[str]) -> list[Recipe]:
        """The recipes called ``names``, in that order; an unknown name is an error (a
        campaign asking for an angle the prompts do not have must not silently get others)."""
        unknown = [n for n in names if n not in self.recipes]
        if unknown:
            raise UnknownRecipeError(
                f"unknown recipe(s) {', '.join(map(repr, unknown))}",
                fix="use names from prompts/recipes.yaml: " + ", ".join(sorted(self.recipes)),
                unknown=unknown,
                known=sorted(self.recipes),
            )
        return [self.recipes[n] for n in dict.fromkeys(names)]

    def for_candidates(
        self, n: int, personalized: bool, start: int = 0, only: Sequence[str] = ()
    ) -> list[Recipe]:
        """n recipes, all distinct while there are enough; history-based angles only for
        customers with a history. ``start`` rotates the order per request (from its key),
        so the angle a customer sees first is not always the same. ``only`` restricts the
        pool to those recipes (a campaign's ``recipes:``); a customer without history
        for whom all of them need one gets the book's general recipes instead, since a
        "because you often buy" line for a first-time buyer would be made up."""
        pool = [r for r in self.recipes.values() if personalized or not r.needs_history]
        if only:
            chosen = [r for r in self.named(only) if personalized or not r.needs_history]
            pool = chosen or pool
        if not pool:
            raise PromptTemplateError(
                "recipes.yaml has no recipe usable for this request",
                fix="add at least one recipe with needs_history: false to prompts/recipes.yaml",
            )
        k = start % len(pool)
        rotated = pool[k:] + pool[:k]
        return [rotated[i % len(rotated)] for i in range(n)]


def recipe_id(recipe: Recipe, template_version: str, exemplar_policy: str) -> str:
    """``<angle>/<template header version>/<exemplar policy>`` (no content hash: ids are
    arms a human reads; the full template version is stored on the draft)."""
    header = template_version.split("+", 1)[0]
    return f"{recipe.angle}/{header}/{exemplar_policy}"[:64]


def load_recipes(prompts_dir: Path) -> RecipeBook:
    """The recipe book of a prompts folder, re-read when the file changes."""
    path = prompts_dir / "recipes.yaml"
    if not path.exists():
        raise PromptTemplateError(
            f"no recipes file {path}",
            fix="add prompts/recipes.yaml (see the project's prompts folder for the format)",
            path=str(path),
        )
    mtime = path.stat().st_mtime
    with _LOCK:
        cached = _CACHE.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        book = RecipeBook(
            version=str(raw.get("version", "0")),
            recipes={
                name: Recipe(angle=name, **spec)
                for name, spec in (raw.get("recipes") or {}).items()
            },
        )
    except (TypeError, ValueError) as exc:
        raise PromptTemplateError(
            f"prompts/recipes.yaml does not validate: {exc}",
            fix="each recipe needs a brief and lists of examples with background and copy fields",
            path=str(path),
        ) from exc
    with _LOCK:
        _CACHE[path] = (mtime, book)
    return book
