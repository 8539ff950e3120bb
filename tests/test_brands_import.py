"""The 18F style-guide importer: Markdown word rules become enforced guide rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from genpersona.brands.loader import load_guide
from genpersona.brands.style_guide_import import import_style_guide, write_guide
from genpersona.errors import BrandGuideError
from genpersona.guard.engine import autofix, check

WORDS = """---
title: Specific words
---
- **email**, not e-mail
- **U.S.**, not US or USA
- **GitHub**
- **federal**, unless part of a proper noun. For example, _Federal Bureau of Investigation_
- **percent** is preferred more than the % symbol.
"""
PLAIN = """## Words to avoid

- leverage (unless you use it in the financial sense)
- utilize (use _use_)
- in order to (use _to_)

**Don't use long words.** Use _buy_ instead of _purchase_.

## When to use legal terms
"""


@pytest.fixture
def mini_guide(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "specific-words-and-phrases.md").write_text(WORDS, encoding="utf-8")
    (src / "plain-language.md").write_text(PLAIN, encoding="utf-8")
    (src / "punctuation.md").write_text("Use _and_ instead of an ampersand.\n", encoding="utf-8")
    data = import_style_guide(src, guide_id="mini18f")
    return write_guide(data, tmp_path / "mini18f.yaml")


def test_word_rules_are_enforced(mini_guide: Path) -> None:
    g = load_guide(mini_guide)
    assert g.locale == "en-US"

    def ids(text: str) -> list[str]:
        return [v.rule_id for v in check(text, g, kind="hero").violations]

    assert ids("Send an e-mail") == ["preferred_term"]
    assert ids("Send an email") == []
    assert ids("The US office") == ["preferred_term"]
    assert ids("Tell us more") == []
    assert ids("Code on Github") == ["casing"]
    assert ids("Code on GitHub") == []
    assert ids("The Federal office") == ["casing"]
    assert ids("The Federal Bureau of Investigation") == []
    assert ids("We utilize forms") == ["banned_term"]
    assert check("We utilize forms", g, kind="hero").passed is False  # unconditional: blocks
    lev = check("We leverage data", g, kind="hero")
    assert [v.severity for v in lev.violations] == ["warn"]  # "unless ...": a warning
    assert ids("10% of users") == ["pattern.percent_sign"]
    assert ids("Forms & documents") == ["pattern.ampersand"]
    assert ids("Purchase a ticket") == ["preferred_term"]
    fixed, _ = autofix("Send an e-mail & a form in the US", g, kind="hero")
    assert fixed.headline == "Send an email and a form in the U.S."


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BrandGuideError) as err:
        import_style_guide(tmp_path / "nope")
    assert "does not exist" in err.value.message and err.value.fix


def test_real_18f_guide(shared_data: Path, tmp_path: Path) -> None:
    data = import_style_guide(shared_data / "style_guide_18f")
    assert len(data["banned_terms"]) >= 50 and len(data["preferred_terms"]) >= 25
    g = load_guide(write_guide(data, tmp_path / "plainspoken-18f.yaml"))
    assert "conversational" in g.voice
    report = check("Please utilize the e-mail form in order to apply", g, kind="hero")
    assert {"banned_term", "preferred_term"} <= {v.rule_id for v in report.violations}
    assert not report.passed
    # the committed guide is exactly what the importer produces from the real pages
    committed = load_guide("plainspoken-18f")
    assert [t.term for t in committed.banned_terms] == [t.term for t in g.banned_terms]
