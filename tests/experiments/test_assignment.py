"""Assignment: deterministic, sticky, weighted as defined, and kept across identity merges."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from scipy import stats
from sqlalchemy import func, select

from tillit.errors import Conflict, NotFound
from tillit.experiments.assignment import (
    analysis_units,
    assign,
    assign_many,
    hashed_variant,
    split_check,
)
from tillit.experiments.definitions import parse_definition
from tillit.experiments.models import Experiment, Exposure
from tillit.experiments.service import create_experiment, get_experiment
from tillit.identity.merge import merge_profiles, unmerge
from tillit.storage.session import SessionFactory

from .conftest import ACTOR, definition


def _experiment(weights: dict[str, float], salt: str = "fixed-salt", key: str = "k") -> Experiment:
    return Experiment(
        key=key,
        salt=salt,
        variants=[{"key": name, "weight": weight} for name, weight in weights.items()],
    )


def test_weights_are_honoured_over_many_ids() -> None:
    """60,000 ids into 50/30/20: Pearson's chi-square against the weights finds no mismatch."""
    weights = {"control": 5.0, "a": 3.0, "b": 2.0}
    experiment = _experiment(weights)
    counts = Counter(hashed_variant(experiment, customer_id) for customer_id in range(1, 60_001))
    total = sum(weights.values())
    expected = [60_000 * weight / total for weight in weights.values()]
    result = stats.chisquare([counts[name] for name in weights], expected)
    assert result.pvalue > 0.01, (counts, result)
    # An unequal split is told apart: the same ids against equal weights are far off.
    assert stats.chisquare([counts[name] for name in weights]).pvalue < 1e-100


def test_assignment_is_deterministic_and_independent_between_experiments() -> None:
    first, second = _experiment({"control": 1, "b": 1}), _experiment({"control": 1, "b": 1})
    assert [hashed_variant(first, i) for i in range(500)] == [
        hashed_variant(second, i) for i in range(500)
    ]
    other = _experiment({"control": 1, "b": 1}, key="another")
    pairs = Counter((hashed_variant(first, i), hashed_variant(other, i)) for i in range(20_000))
    table = [
        [pairs[("control", "control")], pairs[("control", "b")]],
        [pairs[("b", "control")], pairs[("b", "b")]],
    ]
    assert stats.chi2_contingency(table).pvalue > 0.01  # one experiment says nothing of another


def test_serving_twice_returns_the_same_variant_and_logs_once(
    sessions: SessionFactory, make_customer: Callable[..., int], running: Callable[..., str]
) -> None:
    key, customer = running(), make_customer()
    with sessions() as session, session.begin():
        first = assign(session=session, key=key, customer_id=customer)
    with sessions() as session, session.begin():
        again = assign(session=session, key=key, customer_id=customer)
        assert session.scalar(select(func.count()).select_from(Exposure)) == 1
        hashed = hashed_variant(get_experiment(session=session, key=key), customer)
    assert first.first and not again.first
    assert again.variant == first.variant == hashed
    assert again.exposed_at == first.exposed_at


def test_only_a_running_experiment_serves(
    sessions: SessionFactory, make_customer: Callable[..., int]
) -> None:
    customer = make_customer()
    with sessions() as session, session.begin():
        create_experiment(session=session, definition=parse_definition(definition()), actor=ACTOR)
    with sessions() as session:
        with pytest.raises(Conflict, match="is draft"):
            assign(session=session, key="checkout-copy", customer_id=customer)
        with pytest.raises(NotFound, match="no experiment"):
            assign(session=session, key="nothing-here", customer_id=customer)


def _salt_splitting(first: int, second: int) -> str:
    """A salt under which the two profiles hash to different variants, so a test can tell the
    earliest exposure's variant from the survivor's own hash."""
    for n in range(1000):
        experiment = _experiment({"control": 1, "pay-now": 1}, salt=f"s{n}", key="checkout-copy")
        if hashed_variant(experiment, first) != hashed_variant(experiment, second):
            return f"s{n}"
    raise AssertionError("no salt splits them")


def test_after_a_merge_the_person_keeps_the_variant_of_their_earliest_exposure(
    sessions: SessionFactory, make_customer: Callable[..., int], running: Callable[..., str]
) -> None:
    early, survivor = make_customer("Astrid (app)"), make_customer("Astrid Lund")
    key = running(salt=_salt_splitting(early, survivor))
    with sessions() as session, session.begin():
        served = assign(session=session, key=key, customer_id=early)
        merge_profiles(session=session, from_id=early, into_id=survivor, reason="test", actor=ACTOR)
    with sessions() as session, session.begin():
        experiment = get_experiment(session=session, key=key)
        assert hashed_variant(experiment, survivor) != served.variant
        after = assign(session=session, key=key, customer_id=survivor)
        via_old_profile = assign(session=session, key=key, customer_id=early)
    assert after.variant == served.variant and not after.first
    assert after.exposed_at == served.exposed_at
    assert via_old_profile.customer_id == survivor and via_old_profile.variant == served.variant
    with sessions() as session:
        units = analysis_units(session=session, key=key)
    assert units.variants == {survivor: served.variant} and units.mixed == 0


def test_a_person_served_two_variants_is_left_out_and_counted(
    sessions: SessionFactory, make_customer: Callable[..., int], running: Callable[..., str]
) -> None:
    left, right, other = make_customer("Jonas"), make_customer("Jonas B."), make_customer("Eva")
    key = running(salt=_salt_splitting(left, right))
    with sessions() as session, session.begin():
        first = assign(session=session, key=key, customer_id=left)
        second = assign(session=session, key=key, customer_id=right)
        third = assign(session=session, key=key, customer_id=other)
        assert first.variant != second.variant
        merge = merge_profiles(
            session=session, from_id=right, into_id=left, reason="test", actor=ACTOR
        )
    with sessions() as session, session.begin():
        units = analysis_units(session=session, key=key)
        assert units.mixed == 1 and units.variants == {other: third.variant}
        # Served again, the person gets the earliest variant, and stays out of the analysis.
        assert assign(session=session, key=key, customer_id=right).variant == first.variant
        unmerge(session=session, merge_id=merge.id, actor=ACTOR)
    with sessions() as session:
        units, check = split_check(session=session, key=key)
    # Undone, they are two people again, each with the variant they were served.
    assert units.mixed == 0
    assert units.variants == {left: first.variant, right: second.variant, other: third.variant}
    assert sum(check.observed.values()) == 3 and not check.mismatch


def test_campaigns_assign_many_at_once_by_the_same_rules(
    sessions: SessionFactory, make_customer: Callable[..., int], running: Callable[..., str]
) -> None:
    key = running()
    customers = [make_customer(f"Person {n}") for n in range(30)]
    with sessions() as session, session.begin():
        single = assign(session=session, key=key, customer_id=customers[0])
        merge_profiles(
            session=session, from_id=customers[1], into_id=customers[2], reason="t", actor=ACTOR
        )
    with sessions() as session, session.begin():
        found = assign_many(session=session, key=key, customer_ids=customers)
    with sessions() as session, session.begin():
        again = assign_many(session=session, key=key, customer_ids=customers)
        experiment = get_experiment(session=session, key=key)
        rows = session.scalar(select(func.count()).select_from(Exposure))
    assert found == again and found[customers[0]] == single.variant
    assert found[customers[1]] == found[customers[2]] == hashed_variant(experiment, customers[2])
    assert rows == 29  # 30 profiles, two of them one person
    assert set(found.values()) == {"control", "pay-now"}
