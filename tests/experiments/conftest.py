"""Experiments on a real database: a customer maker and a running experiment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tillit.audit.service import Actor
from tillit.customers.models import Customer
from tillit.experiments.definitions import parse_definition
from tillit.experiments.service import create_experiment, start_experiment
from tillit.storage.session import SessionFactory

ACTOR = Actor.system("tests")


def definition(key: str = "checkout-copy", **changes: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": "Checkout button copy",
        "hypothesis": "Saying 'Pay now' instead of 'Continue' raises completed orders.",
        "variants": [
            {"key": "control", "weight": 1, "description": "Continue"},
            {"key": "pay-now", "weight": 1, "description": "Pay now"},
        ],
        "primary_goal": "order-completed",
        "secondary_goals": ["revenue"],
        "guardrails": ["refund-requested"],
        **changes,
    }


@pytest.fixture
def make_customer(sessions: SessionFactory) -> Callable[..., int]:
    def make(name: str = "Astrid Lund") -> int:
        with sessions() as session, session.begin():
            customer = Customer(name=name, locale="sv", time_zone="Europe/Stockholm", traits={})
            session.add(customer)
            session.flush()
            return customer.id

    return make


@pytest.fixture
def running(sessions: SessionFactory) -> Callable[..., str]:
    """Create and start an experiment; returns its key."""

    def start(key: str = "checkout-copy", **changes: Any) -> str:
        with sessions() as session, session.begin():
            create_experiment(
                session=session,
                definition=parse_definition(definition(key, **changes)),
                actor=ACTOR,
            )
            start_experiment(session=session, key=key, actor=ACTOR)
        return key

    return start
