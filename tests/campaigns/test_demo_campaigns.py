"""The simulated year runs three campaigns: their funnels hold members back for several
reasons, and the campaign with a blast slice compares relevance against it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tillit.campaigns import service
from tillit.demo.simulation.options import Options
from tillit.demo.simulation.run import ACTS, simulate

NOW = (datetime.now(UTC) - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
UNTIL_CAMPAIGNS = ACTS[: [title for title, _ in ACTS].index("Campaigns") + 1]


def test_the_demo_runs_campaigns_with_hold_backs_of_several_reasons(
    sessions, settings, defaults, tmp_path: Path
):
    own = settings.model_copy(update={"data_dir": tmp_path})
    report = simulate(
        sessions=sessions,
        settings=own,
        defaults=defaults,
        options=Options(customers=200, days=90, seed=3),
        now=NOW,
        acts=UNTIL_CAMPAIGNS,
    )
    assert report.simulated and report.counts["campaign messages scheduled"] > 0
    with sessions() as session:
        campaigns = service.list_campaigns(session=session)
        assert len(campaigns) == 3
        held: dict[str, int] = {}
        for campaign in campaigns:
            for reason, count in service.funnel(session=session, campaign=campaign).held.items():
                held[reason] = held.get(reason, 0) + count
        found = service.results(
            session=session, campaign=service.get_campaign(session=session, key="autumn-outdoor")
        )
    assert {"no_consent", "not_relevant", "holdout"} <= set(held), held
    assert len(held) >= 5, held
    assert found is not None and found.groups["blast"] > 0
    print(held, found.verdict)
