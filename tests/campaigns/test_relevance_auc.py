"""The relevance score against the simulator's latent truth: the demo's people each have a
hidden interest per product category and view products accordingly. A campaign on one category,
scored from the events Tillit stored, should rank the truly interested above the rest (AUC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
from sqlalchemy import select

from tillit.campaigns import relevance
from tillit.campaigns.definitions import parse_definition
from tillit.campaigns.service import _events
from tillit.customers.models import Customer
from tillit.demo.simulation.options import Options
from tillit.demo.simulation.population import CATEGORIES
from tillit.demo.simulation.run import ACTS, simulate, truth_path

from .helpers import definition

NOW = (datetime.now(UTC) - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
SMALL = Options(customers=300, days=90, seed=11)
EVENT_ACTS = tuple(
    act for act in ACTS if act[0] in ("Store records", "Events on six channels", "Profiles")
)


def category_campaign(category: str, days: int, saturation: int = 10) -> object:
    return parse_definition(
        definition(
            topics=["offers"],
            relevance={
                "min_score": 0.5,
                "topic_weight": 0.0,
                "window_days": days,
                "signals": [
                    {
                        "topic": "offers",
                        "event": "Product Viewed",
                        "property": "category",
                        "value": category,
                        "weight": 1.0,
                        "saturation": saturation,
                        "label": {"en": f"looked at {category}"},
                    }
                ],
            },
            content={"en": {"subject": "s", "body": "b"}},
            fallback_language="en",
        )
    )


def relevance_auc(sessions, truth: list[dict], days: int, now: datetime = NOW) -> dict[str, float]:
    """Per category: AUC of the score against 'hidden interest above the median'."""
    owner = {}
    for person in truth:
        for customer_id in person.get("customer_ids", []):
            owner[customer_id] = person
    with sessions() as session:
        ids = [i for i in session.scalars(select(Customer.id).order_by(Customer.id)) if i in owner]
        found = {}
        for category in CATEGORIES:
            spec = category_campaign(category, days)
            events = _events(session, spec, ids, now)
            counts = relevance.signal_counts(events, spec, len(ids), now)
            chose = np.zeros((len(ids), 1), dtype=np.bool_)
            scores = relevance.score(spec, chose, counts).score
            interest = np.array([owner[i]["interests"][category] for i in ids])
            found[category] = relevance.auc(scores, interest > np.median(interest))
    return found


def test_the_score_ranks_the_truly_interested_first(sessions, settings, defaults, tmp_path: Path):
    own = settings.model_copy(update={"data_dir": tmp_path})
    report = simulate(
        sessions=sessions, settings=own, defaults=defaults, options=SMALL, now=NOW, acts=EVENT_ACTS
    )
    assert report.simulated
    truth = [orjson.loads(line) for line in truth_path(tmp_path).read_bytes().splitlines()]
    found = relevance_auc(sessions, truth, days=SMALL.days)
    mean = sum(found.values()) / len(found)
    print(f"relevance AUC per category: {found}; mean {mean:.3f}")
    assert mean > 0.65, found
    assert min(found.values()) > 0.6, found


def test_auc_counts_ties_as_half() -> None:
    assert relevance.auc([0.1, 0.9], [False, True]) == 1.0
    assert relevance.auc([0.5, 0.5], [False, True]) == 0.5
    assert relevance.auc([0.3, 0.1, 0.5], [False, True, True]) == 0.5
