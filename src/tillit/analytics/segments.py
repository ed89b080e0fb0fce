"""Segment definitions and their compilation to one Ibis expression over the information model.

A definition is a tree of rules (JSON, validated by pydantic): leaves about one person (a trait,
an identity present, an event count in a window, a goal reached, consent for a purpose, a
channel allowed or a topic chosen in their preferences, their last NPS group, a theme of their
comments, language, country, membership of another segment) combined with ``all`` (and),
``any`` (or) and ``not``. :func:`members` compiles the tree to one expression over
``Model.customers()``: each leaf becomes the set of ``person_id`` it holds for, left-joined as a
flag column, and the tree becomes one boolean over those flags. Joins rather than ``IN``
subqueries, because Spark refuses some subqueries under ``OR``/``NOT``; no SQL text, so the
same expression runs on DuckDB and on Spark.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from tillit.analytics.funnels import Funnel, Step, dropped_people
from tillit.analytics.goals import EventGoal, conversions
from tillit.analytics.tables import Model

MAX_DEPTH = 8  # nested all/any/not, and segments naming segments
NAME = Field(min_length=1, max_length=200)
WINDOW_DAYS = Field(default=None, ge=1, le=3650)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trait(_Rule):
    """A trait present, or equal to a value (compared as text: ``"42"`` matches 42)."""

    kind: Literal["trait"]
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    equals: str | None = None


class IdentityPresent(_Rule):
    kind: Literal["identity"]
    type: str = Field(min_length=1, max_length=32)  # email, phone, user_id, ...
    verified: bool | None = None  # None: verified or not


class EventCount(_Rule):
    """``Order Completed`` at least twice in 90 days (before the moment of evaluation)."""

    kind: Literal["events"]
    event: str = NAME
    at_least: int = Field(default=1, ge=1, le=1_000_000)
    at_most: int | None = Field(default=None, ge=1, le=1_000_000)
    within_days: int | None = WINDOW_DAYS  # None: ever

    @field_validator("at_most")
    @classmethod
    def _range(cls, value: int | None, info: Any) -> int | None:
        if value is not None and value < info.data.get("at_least", 1):
            raise ValueError("at_most must not be below at_least")
        return value


class GoalReached(_Rule):
    kind: Literal["goal"]
    goal: str = Field(min_length=1, max_length=64)  # an analytics_goal key
    within_days: int | None = WINDOW_DAYS


class ConsentGiven(_Rule):
    """The person's current decision for the purpose is ``granted``."""

    kind: Literal["consent"]
    purpose: str = Field(min_length=1, max_length=64)


class ChannelAllowed(_Rule):
    """The channel is on in their preferences (no preferences: every channel is on)."""

    kind: Literal["channel_allowed"]
    channel: Literal["email", "sms", "push", "phone", "post", "social", "in_app"]


class TopicChosen(_Rule):
    """The topic is among the ones they chose (no choice made: every topic)."""

    kind: Literal["topic_chosen"]
    topic: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


class NpsGroup(_Rule):
    """The group of their latest NPS answer: promoter 9-10, passive 7-8, detractor 0-6."""

    kind: Literal["nps_group"]
    group: Literal["promoter", "passive", "detractor"]


class CommentTheme(_Rule):
    kind: Literal["theme"]
    theme: str = Field(min_length=1, max_length=64)  # a theme key


class Language(_Rule):
    kind: Literal["language"]
    languages: list[str] = Field(min_length=1, max_length=50)


class Country(_Rule):
    kind: Literal["country"]
    countries: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] = Field(
        min_length=1, max_length=250
    )


class InSegment(_Rule):
    kind: Literal["segment"]
    segment: str = Field(min_length=1, max_length=64)  # another segment's key


class FunnelStepRule(_Rule):
    event: str = NAME
    filters: dict[str, str] = Field(default_factory=dict, max_length=20)
    within_seconds: int | None = Field(default=None, ge=1, le=3650 * 86400)


class FunnelDropped(_Rule):
    """Dropped out of a funnel at a step: reached the step before ``dropped_at`` (by some path
    within the windows) but never this one. Saved from the funnel page or API."""

    kind: Literal["funnel_dropped"]
    steps: list[FunnelStepRule] = Field(min_length=2, max_length=10)
    mode: Literal["ordered", "strict", "any"] = "ordered"
    within_seconds: int | None = Field(default=None, ge=1, le=3650 * 86400)
    dropped_at: int = Field(ge=2, le=10)

    @field_validator("dropped_at")
    @classmethod
    def _a_step(cls, value: int, info: Any) -> int:
        steps = info.data.get("steps")
        if steps is not None and value > len(steps):
            raise ValueError(f"the funnel has {len(steps)} steps")
        return value

    @model_validator(mode="after")
    def _answerable(self) -> FunnelDropped:
        self.funnel().check()  # a FunnelError is a ValueError: pydantic reports it
        return self

    def funnel(self) -> Funnel:
        return Funnel(
            steps=tuple(
                Step(s.event, dict(s.filters), _seconds(s.within_seconds)) for s in self.steps
            ),
            mode=self.mode,
            within=_seconds(self.within_seconds),
        )


class All(_Rule):
    kind: Literal["all"]
    rules: list[Rule] = Field(min_length=1, max_length=50)


class AnyOf(_Rule):
    kind: Literal["any"]
    rules: list[Rule] = Field(min_length=1, max_length=50)


class Not(_Rule):
    kind: Literal["not"]
    rule: Rule


Leaf = (
    Trait
    | IdentityPresent
    | EventCount
    | GoalReached
    | ConsentGiven
    | ChannelAllowed
    | TopicChosen
    | NpsGroup
    | CommentTheme
    | Language
    | Country
    | InSegment
    | FunnelDropped
)
Rule = Annotated[Leaf | All | AnyOf | Not, Field(discriminator="kind")]
All.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()
RULE: TypeAdapter[Any] = TypeAdapter(Rule)


def _seconds(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


def parse_rule(document: Any) -> Any:
    """A rule tree from JSON-like data; raises pydantic's ValidationError, whose ``loc`` names
    the offending place (``rules.1.events.at_least``)."""
    rule = RULE.validate_python(document)
    if _depth(rule) > MAX_DEPTH:
        raise ValueError(f"rules nest at most {MAX_DEPTH} deep")
    return rule


def _depth(rule: Any) -> int:
    if isinstance(rule, All | AnyOf):
        return 1 + max(_depth(r) for r in rule.rules)
    if isinstance(rule, Not):
        return 1 + _depth(rule.rule)
    return 1


def referenced_segments(rule: Any) -> set[str]:
    if isinstance(rule, InSegment):
        return {rule.segment}
    if isinstance(rule, All | AnyOf):
        return set().union(*(referenced_segments(r) for r in rule.rules))
    if isinstance(rule, Not):
        return referenced_segments(rule.rule)
    return set()


def referenced_goals(rule: Any) -> set[str]:
    if isinstance(rule, GoalReached):
        return {rule.goal}
    if isinstance(rule, All | AnyOf):
        return set().union(*(referenced_goals(r) for r in rule.rules))
    if isinstance(rule, Not):
        return referenced_goals(rule.rule)
    return set()


class UnknownReference(ValueError):
    """A rule names a segment or goal that does not exist, or segments name each other."""


SegmentLookup = Callable[[str], Any]  # segment key -> its current rule tree (KeyError if none)


class Compiler:
    """Compiles rule trees over one model at one moment ``now`` (windows end there)."""

    def __init__(
        self,
        model: Model,
        *,
        now: datetime,
        goals: Mapping[str, EventGoal],
        segments: SegmentLookup,
    ) -> None:
        self.model = model
        self.now = now
        self.goals = goals
        self.segments = segments
        self._flags: list[ir.Table] = []

    def members(self, rule: Any) -> ir.Table:
        """One column, ``person_id``: the people the rule holds for."""
        self._flags = []
        people = self.model.customers().select("person_id")
        predicate = self._predicate(rule, stack=())
        # Every leaf's people in one long table (person, leaf number), turned into one flag
        # column per leaf and joined once: a chain of one join per leaf nests the query as
        # deep as there are leaves, which overflows the SQL generator on large definitions.
        tagged = [f.mutate(leaf=ibis.literal(i, "int32")) for i, f in enumerate(self._flags)]
        hits = ibis.union(*tagged) if len(tagged) > 1 else tagged[0]
        flags = hits.group_by(flag_person=hits.person_id).aggregate(
            **{f"f{i}": (hits.leaf == i).any() for i in range(len(tagged))}
        )
        table = people.left_join(flags, people.person_id == flags.flag_person)
        return table.filter(_resolve_flags(predicate, table)).select("person_id")

    # -- the tree -------------------------------------------------------------------------

    def _predicate(self, rule: Any, stack: tuple[str, ...]) -> Any:
        """A small boolean tree over flag indexes; turned into an Ibis boolean once every
        flag is joined (a column is only usable on the table it belongs to)."""
        if isinstance(rule, All):
            return ("and", [self._predicate(r, stack) for r in rule.rules])
        if isinstance(rule, AnyOf):
            return ("or", [self._predicate(r, stack) for r in rule.rules])
        if isinstance(rule, Not):
            return ("not", [self._predicate(rule.rule, stack)])
        if isinstance(rule, InSegment):
            if rule.segment in stack:
                chain = " -> ".join((*stack, rule.segment))
                raise UnknownReference(f"segments name each other in a circle: {chain}")
            try:
                inner = self.segments(rule.segment)
            except KeyError as error:
                raise UnknownReference(f"no segment {rule.segment!r}") from error
            return self._predicate(inner, (*stack, rule.segment))
        self._flags.append(self._leaf(rule).select("person_id").distinct())
        return ("flag", len(self._flags) - 1)

    # -- leaves: each the people it holds for -----------------------------------------------

    def _leaf(self, rule: Any) -> ir.Table:
        method = getattr(self, f"_{rule.kind}")
        return method(rule)

    def _since(self, days: int | None) -> Any:
        return None if days is None else ibis.literal(self.now - timedelta(days=days))

    def _trait(self, rule: Trait) -> ir.Table:
        people = self.model.customers()
        value = people.traits.cast("json")[rule.name]
        text = value.cast("string")
        if rule.equals is None:
            return people.filter(text.notnull())
        # A JSON string keeps its quotes when cast on DuckDB but not on Spark: accept both.
        return people.filter((text == rule.equals) | (text == f'"{rule.equals}"'))

    def _identity(self, rule: IdentityPresent) -> ir.Table:
        ids = self.model.identities()
        ids = ids.filter(ids.type == rule.type)
        if rule.verified is not None:
            ids = ids.filter(ids.verified == rule.verified)
        return ids

    def _events(self, rule: EventCount) -> ir.Table:
        events = self.model.events()
        hits = events.filter((events.name == rule.event) & (events.timestamp <= self.now))
        since = self._since(rule.within_days)
        if since is not None:
            hits = hits.filter(hits.timestamp > since)
        counts = hits.group_by("person_id").aggregate(n=hits.count())
        wanted = counts.n >= rule.at_least
        if rule.at_most is not None:
            wanted &= counts.n <= rule.at_most
        return counts.filter(wanted)

    def _goal(self, rule: GoalReached) -> ir.Table:
        goal = self.goals.get(rule.goal)
        if goal is None:
            raise UnknownReference(f"no goal {rule.goal!r}")
        hits = conversions(self.model, goal)
        hits = hits.filter(hits.converted_at <= self.now)
        since = self._since(rule.within_days)
        if since is not None:
            hits = hits.filter(hits.converted_at > since)
        return hits

    def _funnel_dropped(self, rule: FunnelDropped) -> ir.Table:
        return dropped_people(self.model, rule.funnel(), rule.dropped_at, until=self.now)

    def _consent(self, rule: ConsentGiven) -> ir.Table:
        return granted(self.model, rule.purpose)

    def _channel_allowed(self, rule: ChannelAllowed) -> ir.Table:
        people = self.model.customers()
        prefs = self.model.preferences().select(pref_person="person_id", document="document")
        joined = people.left_join(prefs, people.person_id == prefs.pref_person)
        flag = joined.document.cast("json")["channels"][rule.channel].cast("string")
        return joined.filter(flag.isnull() | (flag != "false"))

    def _topic_chosen(self, rule: TopicChosen) -> ir.Table:
        people = self.model.customers()
        prefs = self.model.preferences().select(pref_person="person_id", document="document")
        joined = people.left_join(prefs, people.person_id == prefs.pref_person)
        topics = joined.document.cast("json")["topics"].cast("string")
        # The document is stored compact (orjson), so a chosen topic reads "topic" in the list.
        return joined.filter(topics.isnull() | topics.contains(f'"{rule.topic}"'))

    def _nps_group(self, rule: NpsGroup) -> ir.Table:
        answers = self.model.answers()
        nps = answers.filter((answers.question_type == "nps") & answers.score.notnull())
        nps = nps.filter(nps.answered_at <= self.now)
        last = nps.group_by("person_id").aggregate(answered_at=nps.answered_at.max())
        latest = nps.join(last, ["person_id", "answered_at"])
        # Two answers at the same instant: the higher score, the same on both engines.
        score = latest.group_by("person_id").aggregate(score=latest.score.max())
        low, high = {"promoter": (9, 10), "passive": (7, 8), "detractor": (0, 6)}[rule.group]
        return score.filter(score.score.between(low, high))

    def _theme(self, rule: CommentTheme) -> ir.Table:
        themes = self.model.comment_themes()
        return themes.filter((themes.theme_key == rule.theme) & themes.customer_id.notnull())

    def _language(self, rule: Language) -> ir.Table:
        people = self.model.customers()
        return people.filter(people.language.isin(rule.languages))

    def _country(self, rule: Country) -> ir.Table:
        people = self.model.customers()
        return people.filter(people.country.isin(rule.countries))


def granted(model: Model, purpose: str) -> ir.Table:
    """People whose current decision for ``purpose`` is granted."""
    state = model.consent_state()
    return state.filter((state.purpose_key == purpose) & (state.decision == "granted"))


def _resolve_flags(node: Any, table: ir.Table) -> Any:
    op, arg = node
    if op == "flag":
        return table[f"f{arg}"].fill_null(False)
    parts = [_resolve_flags(child, table) for child in arg]
    if op == "not":
        return ~parts[0]
    combined = parts[0]
    for part in parts[1:]:
        combined = (combined & part) if op == "and" else (combined | part)
    return combined
