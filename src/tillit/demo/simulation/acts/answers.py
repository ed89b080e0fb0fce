"""What a simulated person answers to a question: scores that follow their latent
satisfaction, choices that follow their latent wishes, and comments in their own language
(the five-language demo comments, matched to the score)."""

from __future__ import annotations

import random
from functools import cache

from tillit.demo.feedback_comments import demo_feedback
from tillit.demo.simulation.population import Person
from tillit.dialogues.catalogue import SCALES
from tillit.dialogues.models import Question, QuestionVersion
from tillit.dialogues.responses import Answer

NEVER = {
    "en": "Never call me at dinner time.",
    "da": "Ring aldrig til mig ved spisetid.",
    "sv": "Ring mig aldrig vid middagstid.",
    "nb": "Ikke ring meg ved middagstid.",
    "nl": "Bel me nooit tijdens het avondeten.",
}


@cache
def _comments() -> dict[tuple[str, bool], tuple[str, ...]]:
    """Demo comments per (language, detractor or not)."""
    found: dict[tuple[str, bool], list[str]] = {}
    for comment in demo_feedback():
        found.setdefault((comment.language, comment.nps <= 6), []).append(comment.text)
    return {key: tuple(texts) for key, texts in found.items()}


def comment(rng: random.Random, person: Person, score: int) -> str | None:
    texts = _comments().get((person.language, score <= 6))
    return rng.choice(texts) if texts and rng.random() < 0.6 else None


def answer(
    rng: random.Random, person: Person, question: Question, version: QuestionVersion
) -> Answer | None:
    """None for a question this simulation does not answer (free text without a prompt)."""
    if question.type in SCALES:
        low, high = SCALES[question.type]
        felt = rng.gauss(person.satisfaction, 1.8) / 10  # 0..1
        score = max(low, min(high, round(low + felt * (high - low))))
        nps_like = round(felt * 10)
        return Answer(score=score, follow_up=comment(rng, person, nps_like))
    options = [str(option["value"]) for option in version.options]
    kind = question.relationship_kind
    if kind == "never":
        return Answer(text=NEVER.get(person.language, NEVER["en"]))
    if kind == "topics":
        return Answer(choices=tuple(person.topics))
    if kind == "channels":
        return Answer(choices=("email", "sms") if person.sms else ("email",))
    if question.key == "recovery":
        return Answer(choices=("yes",) if rng.random() < 0.75 else ("no",))
    if options:
        return Answer(choices=(rng.choice(options),))
    return None
