"""The 2026.12.5 structure features on fixed lines: the skeleton model, the structure
features, a preheader that repeats its subject, and the previous scorer still loadable."""

from __future__ import annotations

import pytest

from genpersona.agent.quality import (
    FEATURES,
    FUNCTION_WORDS,
    LEXICAL_FEATURES,
    PREVIOUS_MODEL_PATH,
    assess,
    features,
    lexical_features,
    load_model,
)
from genpersona.agent.quality_ranking import copy_quality
from genpersona.agent.quality_structure import (
    STRUCTURE_FEATURES,
    fit_structure,
    load_structure,
    pair_repeat,
    skeleton,
    structure_features,
)
from genpersona.types.content import Variant, VariantContent

HEADLINES = [
    "Fresh bunting for your next garden party",
    "A little something for the tree this year",
    "Lanterns for the long evenings ahead",
    "Your windowsill has been waiting for this",
    "Candles for the darker evenings",
    "Gifts for the friend who has everything",
]


def _f(text: str, name: str) -> float:
    return features(text)[FEATURES.index(name)]


def test_the_skeleton_keeps_function_words_and_classes_content_words() -> None:
    sk = skeleton("A set of regency cakes, baking!", FUNCTION_WORDS)
    assert sk == ["<s>", "a", "<w>", "of", "<w>", "<s>", ",", "<ing>", "!", "</s>"]


def test_a_line_built_like_the_headlines_scores_above_one_no_headline_is_built_like() -> None:
    model = fit_structure(HEADLINES * 3, FUNCTION_WORDS, "test")
    like = structure_features("Blankets for the colder nights", FUNCTION_WORDS, model)
    odd = structure_features("Of the for a, the and for", FUNCTION_WORDS, model)
    assert like[0] > odd[0] and like[1] > odd[1]  # struct_mean, struct_min


def test_the_shipped_skeleton_model_reads_a_pile_of_words_as_odder_than_a_sentence() -> None:
    model = load_structure()
    assert model.lines > 1000
    sentence = "Lanterns for the long evenings ahead"
    pile = "Lanterns evenings long ahead the for"
    assert _f(sentence, "struct_mean") > _f(pile, "struct_mean")


def test_reader_full_stop_noun_pile_and_purpose_tail() -> None:
    assert _f("Your windowsill has been waiting for this", "addresses_reader") == 1.0
    assert _f("A bag to keep the little girl warm this winter", "addresses_reader") == 0.0
    assert _f("White or yellow, for the winter garden party.", "ends_period") == 1.0
    assert _f("Running low on candles and lanterns?", "ends_period") == 0.0
    assert _f("White or yellow, for the winter garden party.", "comma_for") == 1.0
    assert _f("Tea for two, and a cake stand to match", "comma_for") == 0.0
    assert _f("Regency cake stand tea set", "noun_pile") == 1.0
    assert _f("Tea for two, and a cake stand to match", "noun_pile") < 0.5


def test_pair_repeat_reads_a_preheader_that_says_its_subject_again() -> None:
    subject = "A brand new year's resolution."
    repeat = "Fresh in a box, a brand new year's resolution to buy the new year's resolution."
    assert pair_repeat(subject, repeat, FUNCTION_WORDS) > 0.5
    assert (
        pair_repeat(subject, "Glass jars and paper labels, ready by Friday.", FUNCTION_WORDS) == 0
    )
    assert pair_repeat(subject, "", FUNCTION_WORDS) == 0.0


def test_a_repeating_preheader_ranks_below_one_that_complements_the_subject() -> None:
    subject = "Fresh candles for the winter evenings"
    good = Variant(index=0, content=VariantContent(
        subject=subject, preheader="Glass holders and warm light for the table."))  # fmt: skip
    bad = Variant(index=1, content=VariantContent(
        subject=subject, preheader="Fresh candles, for the winter evenings."))  # fmt: skip
    q_good, q_bad = copy_quality(good, []), copy_quality(bad, [])
    assert q_bad.repeat == pytest.approx(1.0) and q_good.repeat == 0.0
    assert q_bad.quality < q_good.quality


def test_the_previous_scorer_is_loadable_and_reads_its_own_features() -> None:
    previous = load_model(PREVIOUS_MODEL_PATH)
    current = load_model()
    assert previous.version == "copy-quality-2026.12.4" and previous.features == LEXICAL_FEATURES
    assert current.features == FEATURES == LEXICAL_FEATURES + STRUCTURE_FEATURES
    line = "Lanterns for the long evenings ahead"
    assert features(line, LEXICAL_FEATURES) == lexical_features(line)
    # both versions read the same line, each with its own weights
    assert assess(line, [], model=previous).sendable != assess(line, []).sendable
