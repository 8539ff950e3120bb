"""The bounded re-ask loop on the fake LLM: fix, re-ask with the violations, fall back, or raise."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from genpersona.brands.loader import load_guide
from genpersona.errors import RetriesExhausted
from genpersona.guard.repair import (
    fallback_content,
    format_violations_for_prompt,
    generate_guarded,
    guarded_steps,
)
from genpersona.llm.fake import FakeLLM
from genpersona.types.content import VariantContent
from genpersona.types.violations import Violation

DAY = date(2026, 11, 22)


def producer(llm: FakeLLM):
    """What the pipeline does: prompt the model, listing the last attempt's violations."""

    def produce(attempt: int, violations: list[Violation]) -> VariantContent:
        prompt = "Write a subject line for The Gift Loft.\n"
        if violations:
            prompt += "Your last draft broke these rules:\n" + format_violations_for_prompt(
                violations
            )
        return VariantContent(subject=llm.complete(prompt).text.strip())

    return produce


def test_first_reply_breaks_a_rule_second_passes() -> None:
    guide = load_guide("giftloft")
    llm = FakeLLM(["The best teacups in Manchester", "Tea for two, in roses and regency green"])
    result = generate_guarded(producer(llm), guide, kind="subject_line", send_date=DAY)
    assert not result.is_fallback
    assert result.content.subject == "Tea for two, in roses and regency green"
    assert [a.passed for a in result.attempts] == [False, True]
    assert result.attempts[0].violations[0].rule_id == "claim.unregistered"
    assert result.reasked == 1
    # the re-ask prompt told the model exactly what broke
    assert "approved claim" in llm.prompts[1] and '"best"' in llm.prompts[1]
    assert "claim.unregistered" not in llm.prompts[1]  # no rule id for the model to parrot
    assert "broke" not in llm.prompts[0]


def test_stopped_before_a_reask_keeps_the_failed_attempt_and_no_fallback() -> None:
    """Sent None instead of a re-ask's content (the draft has enough other candidates),
    the loop ends with the failing attempt: not passed, not the guide's fallback line."""
    guide = load_guide("giftloft")
    steps = guarded_steps(guide, kind="subject_line", send_date=DAY)
    assert next(steps) == (1, [])
    number, violations = steps.send(VariantContent(subject="The best teacups in Manchester"))
    assert number == 2 and violations[0].rule_id == "claim.unregistered"
    with pytest.raises(StopIteration) as done:
        steps.send(None)
    result = done.value.value
    assert result.given_up and not result.is_fallback and not result.report.passed
    assert result.content.subject == "The best teacups in Manchester"
    assert len(result.attempts) == 1 and result.reasked == 0
    with pytest.raises(ValueError, match="before any attempt"):
        fresh = guarded_steps(guide, kind="subject_line", send_date=DAY)
        next(fresh)
        fresh.send(None)


def test_safe_fixes_avoid_a_reask() -> None:
    guide = load_guide("giftloft")
    llm = FakeLLM(["Your favorite e-mail about Xmas!!"])
    result = generate_guarded(producer(llm), guide, kind="subject_line", send_date=DAY)
    assert len(llm.calls) == 1 and not result.is_fallback
    assert result.content.subject == "Your favourite email about Christmas!"
    assert result.attempts[0].raw_text == "Your favorite e-mail about Xmas!!"
    assert len(result.attempts[0].fixes_applied) == 4


def test_all_replies_break_a_rule_gives_marked_fallback() -> None:
    guide = load_guide("giftloft")
    llm = FakeLLM(["We noticed you were browsing at 2am"])
    result = generate_guarded(
        producer(llm), guide, kind="subject_line", max_attempts=3, send_date=DAY
    )
    assert result.is_fallback
    assert result.content.subject in guide.fallbacks["subject_line"]
    assert result.report.passed
    assert len(result.attempts) == 3 and len(llm.calls) == 3
    assert all(not a.passed for a in result.attempts)


def test_no_fallback_raises_with_every_attempt() -> None:
    guide = load_guide("giftloft")
    llm = FakeLLM(["SALE!!!", "Cheap cheap cheap"])
    with pytest.raises(RetriesExhausted) as err:
        generate_guarded(
            producer(llm), guide, kind="subject_line", max_attempts=2, fallback=False, send_date=DAY
        )
    attempts = err.value.data["attempts"]
    assert [a["number"] for a in attempts] == [1, 2]
    assert attempts[0]["raw_text"] == "SALE!!!"
    assert {v["rule_id"] for v in attempts[1]["violations"]} >= {"banned_term"}
    assert "fallbacks" in err.value.fix
    assert err.value.to_dict()["data"]["brand"] == "giftloft"


def test_fallback_carries_channel_disclaimers() -> None:
    guide = load_guide("northbank")
    fb = fallback_content(guide, "subject_line", channel="email", send_date=DAY)
    assert fb is not None and fb.subject in guide.fallbacks["subject_line"]
    assert fb.preheader and "FSCS" in fb.preheader
    llm = FakeLLM(["Guaranteed returns, no risk!"])
    result = generate_guarded(
        producer(llm), guide, kind="subject_line", channel="email", max_attempts=2, send_date=DAY
    )
    assert result.is_fallback and result.report.passed


def test_pipeline_checks_pass_through() -> None:
    guide = load_guide("giftloft")
    llm = FakeLLM(["Tea for you, Margaret Thornton", "Tea for you"])
    result = generate_guarded(
        producer(llm),
        guide,
        kind="subject_line",
        send_date=DAY,
        canary="zz-canary-1",
        other_customer_markers=["Margaret Thornton"],
    )
    assert result.attempts[0].violations[0].rule_id == "leak.other_customer"
    assert result.content.subject == "Tea for you"


def test_format_violations_for_prompt() -> None:
    guide = load_guide("giftloft")
    from genpersona.guard.engine import check

    report = check("CHEAP teacups", guide, kind="subject_line", send_date=DAY)
    text = format_violations_for_prompt(report.blocking)
    lines = text.splitlines()
    assert 0 < len(lines) <= len(report.blocking)
    assert all(line.startswith("- The last try") for line in lines)
    # nothing a parroting model could copy that looks like internals
    assert "Fix:" not in text and "[" not in text
    assert not any(v.rule_id in text for v in report.blocking)
    assert check(text, guide, kind="chat_answer").blocking  # and if parroted, it is caught


def test_guide_without_fallback_raises_with_attempts(tmp_path) -> None:
    from genpersona.brands.guide import BrandGuide
    from genpersona.errors import NoFallbackLine

    guide = BrandGuide.model_validate(
        {"id": "nofb", "name": "No FB", "version": "2026.11.1", "locale": "en-GB", "voice": ["x"]}
    )
    assert fallback_content(guide, "hero") is None
    with pytest.raises(NoFallbackLine) as err:
        fallback_content(guide, "hero", required=True)
    assert "fallbacks: hero:" in err.value.fix
    llm = FakeLLM(["We noticed you"])
    with pytest.raises(RetriesExhausted) as exc:
        generate_guarded(producer(llm), guide, kind="subject_line", max_attempts=2, send_date=DAY)
    assert len(exc.value.data["attempts"]) == 2


def _eval_texts() -> list[tuple[str, str, str | None, date | None, str]]:
    """(brand, kind, channel, send_date, text) for every line of the guard eval sets."""
    import yaml

    root = Path(__file__).resolve().parents[1] / "evals" / "guard"
    out = []
    for path in sorted(root.glob("*/*.yaml")):
        spec = yaml.safe_load(path.read_text())
        for case in spec.get("violating", []) + spec.get("compliant", []):
            case = case if isinstance(case, dict) else {"text": case}
            text = case.get("text") or " ".join((case.get("content") or {}).values())
            brand, kind = case.get("brand", spec["brand"]), case.get("kind", spec["kind"])
            channel = case.get("channel", spec.get("channel"))
            out.append((brand, kind, channel, case.get("send_date", spec.get("send_date")), text))
    return out


def test_skipping_autofix_is_safe_exactly_when_autofix_would_change_nothing() -> None:
    """The repair loop skips autofix when ``autofix_would_change`` says no: over every line of
    the guard eval sets, in every kind and channel, with and without untidy spacing, a "no"
    must mean autofix returns the same content and no fixes."""
    from genpersona.guard.engine import as_content, autofix, autofix_would_change, check

    skipped = changed = 0
    for brand, kind, channel, send_date, text in _eval_texts():
        guide = load_guide(brand)
        channels = {channel, None, *guide.disclaimers}
        for variant in (text, f"{text} .", text.replace(" ", "  ", 1)):
            for ch in channels:
                for k in {kind, "subject_line", "hero", "chat_answer"}:
                    raw = as_content(variant, k)  # type: ignore[arg-type]
                    report = check(raw, guide, kind=k, channel=ch, send_date=send_date)  # type: ignore[arg-type]
                    fixed, fixes = autofix(raw, guide, kind=k, channel=ch, send_date=send_date)  # type: ignore[arg-type]
                    if autofix_would_change(raw, report, k):  # type: ignore[arg-type]
                        changed += 1
                    else:
                        skipped += 1
                        assert fixed == raw and fixes == [], (brand, k, ch, variant)
    assert skipped > 500 and changed > 500  # both branches are exercised
