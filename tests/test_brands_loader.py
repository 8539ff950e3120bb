"""Brand guide loading: the shipped guides validate; malformed guides fail precisely and load nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from genpersona.brands.loader import clear_guide_cache, list_guides, load_guide
from genpersona.errors import BrandGuideError, BrandNotFound
from genpersona.guard.lint import lint_guide
from genpersona.settings import Settings

MINIMAL = """\
name: Tiny Shop
version: "2026.11.1"
locale: en-GB
voice: [warm]
"""


@pytest.fixture
def guides_dir(tmp_path: Path) -> Path:
    clear_guide_cache()
    d = tmp_path / "guides"
    d.mkdir()
    (d / "tiny.yaml").write_text(MINIMAL, encoding="utf-8")
    return d


def _settings(d: Path) -> Settings:
    return Settings(brand_guides_dir=d)


def test_shipped_guides_load_and_lint_clean() -> None:
    ids = {g.id for g in list_guides()}
    assert {"giftloft", "northbank", "plainspoken-18f"} <= ids
    gift = load_guide("giftloft")
    assert gift.name == "The Gift Loft" and gift.locale == "en-GB"
    assert len(gift.knowledge) >= 12
    assert gift.fallbacks["subject_line"] and gift.examples["subject_line"].dont
    for g in list_guides():
        report = lint_guide(g, g.id)
        assert report.ok, [f.model_dump() for f in report.findings]


def test_minimal_guide_gets_defaults(guides_dir: Path) -> None:
    g = load_guide("tiny", _settings(guides_dir))
    assert g.id == "tiny"
    assert g.style.max_caps_words == 0 and "free" in g.claims.triggers
    assert load_guide("tiny", _settings(guides_dir)) is g  # cached until the file changes


def test_guides_are_immutable(guides_dir: Path) -> None:
    g = load_guide("tiny", _settings(guides_dir))
    with pytest.raises(ValidationError):
        g.name = "Other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("extra", "field", "fix_part"),
    [
        ("banned_term: [cheap]\n", "banned_term", "did you mean 'banned_terms'"),
        (
            "limits:\n  subject_line: {max_chars: -3}\n",
            "limits.subject_line.max_chars",
            "greater than 0",
        ),
        (
            "claims:\n  registry:\n    - {id: x, wording: 10% off, valid_from: 2026-13-45}\n",
            "claims.registry.0.valid_from",
            "YYYY-MM-DD",
        ),
        (
            "patterns:\n  - {id: bad, pattern: '(unclosed', message: m}\n",
            "patterns.0.pattern",
            "does not compile",
        ),
        (
            "claims:\n  registry:\n    - {id: x, wording: 10% off, valid_from: 2026-12-01, valid_until: 2026-11-01}\n",
            "claims.registry.0",
            "before valid_from",
        ),
        ("examples:\n  subjectline: {do: [hi]}\n", "examples.subjectline", "subject_line"),
    ],
)
def test_malformed_guide_names_file_field_and_fix(
    guides_dir: Path, extra: str, field: str, fix_part: str
) -> None:
    path = guides_dir / "broken.yaml"
    path.write_text(MINIMAL + extra, encoding="utf-8")
    with pytest.raises(BrandGuideError) as err:
        load_guide("broken", _settings(guides_dir))
    exc = err.value
    assert exc.data["file"] == str(path)
    assert exc.data["field"].startswith(field)
    assert fix_part in exc.fix or fix_part in exc.message
    assert str(path) in exc.message


def test_wrong_locale_lists_allowed_values(guides_dir: Path) -> None:
    (guides_dir / "loc.yaml").write_text(MINIMAL.replace("en-GB", "fr-FR"), encoding="utf-8")
    with pytest.raises(BrandGuideError) as err:
        load_guide("loc", _settings(guides_dir))
    assert err.value.data["field"] == "locale"
    assert "en-GB" in err.value.fix and "en-US" in err.value.fix


def test_missing_field_and_yaml_syntax(guides_dir: Path) -> None:
    (guides_dir / "noname.yaml").write_text(
        MINIMAL.replace("name: Tiny Shop\n", ""), encoding="utf-8"
    )
    with pytest.raises(BrandGuideError) as err:
        load_guide("noname", _settings(guides_dir))
    assert err.value.data["field"] == "name" and "add 'name:'" in err.value.fix
    (guides_dir / "syntax.yaml").write_text(MINIMAL + "voice: [unclosed\n", encoding="utf-8")
    with pytest.raises(BrandGuideError) as err:
        load_guide("syntax", _settings(guides_dir))
    assert err.value.data["line"] is not None and "YAML" in err.value.message


def test_id_must_match_file_stem(guides_dir: Path) -> None:
    (guides_dir / "shop.yaml").write_text("id: other\n" + MINIMAL, encoding="utf-8")
    with pytest.raises(BrandGuideError) as err:
        load_guide("shop", _settings(guides_dir))
    assert err.value.data["field"] == "id"


def test_broken_file_loads_nothing_and_keeps_previous(guides_dir: Path) -> None:
    settings = _settings(guides_dir)
    good = load_guide("tiny", settings)
    path = guides_dir / "tiny.yaml"
    path.write_text(MINIMAL + "style: {max_emoji: lots}\n", encoding="utf-8")
    with pytest.raises(BrandGuideError):
        load_guide("tiny", settings)
    with pytest.raises(BrandGuideError):
        list_guides(settings)  # a broken guide is an error, never silently skipped
    assert path.read_text(encoding="utf-8").startswith("name: Tiny Shop")  # the file is untouched
    assert good.name == "Tiny Shop"


def test_unknown_brand_suggests_close_name(guides_dir: Path) -> None:
    with pytest.raises(BrandNotFound) as err:
        load_guide("tinny", _settings(guides_dir))
    assert "did you mean 'tiny'" in err.value.fix
    with pytest.raises(BrandNotFound):
        load_guide(guides_dir / "absent.yaml")
