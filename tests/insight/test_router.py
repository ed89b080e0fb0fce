from tillit.demo.feedback_comments import demo_feedback
from tillit.insight import FeedbackComment, analyse
from tillit.insight.embeddings import E5Embedder
from tillit.insight.router import ThemeRouter, hashed_features


def test_hashed_features_are_stable_and_unit_length() -> None:
    first = hashed_features(["Pakken kom for sent"], ["da"])
    second = hashed_features(["Pakken kom for sent"], ["da"])
    assert (first == second).all()
    assert abs(float((first**2).sum()) - 1.0) < 1e-5


def test_router_round_trips_falls_back_to_e5_and_keeps_the_one_sentiment(e5: E5Embedder) -> None:
    demo = [FeedbackComment(c.comment_id, c.text, c.locale, nps=c.nps) for c in demo_feedback()]
    built = analyse(demo[:300], embedder=e5, theme_count=8, calibrate=False)
    assert built.theme_space is not None
    codes = [i.language.language for i in built.insights]
    router = ThemeRouter.train(
        [c.text for c in demo[:300]], codes, [i.theme_id for i in built.insights]
    )
    router = ThemeRouter.from_bytes(router.to_bytes())

    later = demo[300:360]
    routed = analyse(
        later, embedder=e5, themes=built.themes, theme_space=built.theme_space, router=router
    )
    plain = analyse(later, embedder=e5, themes=built.themes, theme_space=built.theme_space)
    # Some comments are routed, the unsure rest assigned by e5; every comment is embedded,
    # because its sentiment is the shipped head's over its own vector, as without a router.
    confident = [
        p >= router.min_confidence
        for _, p in router.predict(
            [c.text for c in later], [i.language.language for i in routed.insights]
        )
    ]
    assert 0 < sum(confident) < len(later)
    assert len(routed.vectors) == len(later)
    assert [(i.sentiment.label, i.sentiment.score) for i in routed.insights] == [
        (i.sentiment.label, i.sentiment.score) for i in plain.insights
    ]
    same = sum(
        a.theme_id == b.theme_id for a, b in zip(routed.insights, plain.insights, strict=True)
    )
    assert same / len(later) >= 0.9
    assert sum(t.size for t in routed.themes) >= 300


def test_embedder_caches_identical_texts(e5: E5Embedder) -> None:
    vectors = e5.embed(["Tak for hjælpen!", "Tak for hjælpen!", "Bedankt!"])
    assert (vectors[0] == vectors[1]).all() and vectors.shape == (3, 384)
