import numpy as np
import pytest

from tillit.insight import (
    CalibrationError,
    SentimentCalibrator,
    label_from_csat,
    label_from_nps,
    score_sentiment,
)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Super hurtig levering og venlig personale, tak!", "da", "positive"),
        ("Appen krasjer hele tiden, helt elendig.", "nb", "negative"),
        ("Personalen var otrevliga och jag är besviken.", "sv", "negative"),
        ("Het pakket kwam te laat, erg teleurgesteld.", "nl", "negative"),
        ("Fantastic service, the staff were so helpful.", "en", "positive"),
        ("Jag har en fråga om min beställning.", "sv", "neutral"),
    ],
)
def test_lexicon_sentiment_in_all_five_languages(text: str, language: str, expected: str) -> None:
    assert score_sentiment(text, language=language).label == expected


def test_explanation_names_the_words_that_drove_the_score() -> None:
    result = score_sentiment("Vriendelijk personeel maar de app crasht.", language="nl")
    phrases = dict(result.explanation)
    assert phrases["vriendelijk"] > 0
    assert phrases["crasht"] < 0


def test_negation_flips_polarity() -> None:
    plain = score_sentiment("The staff were helpful.", language="en")
    negated = score_sentiment("The staff were not helpful.", language="en")
    assert plain.label == "positive"
    assert negated.label == "negative"
    assert negated.explanation[0][0] == "¬helpful"


def test_weak_labels_from_scores() -> None:
    assert [label_from_nps(s) for s in (0, 6, 7, 8, 9, 10)] == [
        "negative",
        "negative",
        "neutral",
        "neutral",
        "positive",
        "positive",
    ]
    assert [label_from_csat(s) for s in (1, 3, 5)] == ["negative", "neutral", "positive"]
    with pytest.raises(ValueError):
        label_from_nps(11)


def test_calibrator_learns_a_separable_direction() -> None:
    rng = np.random.default_rng(1)
    positives = rng.normal(1.0, 0.3, size=(40, 3))
    negatives = rng.normal(-1.0, 0.3, size=(40, 3))
    features = np.vstack([positives, negatives])
    labels = ["positive"] * 40 + ["negative"] * 40
    calibrator = SentimentCalibrator().fit(features, labels)
    lexical = [score_sentiment("", language="en")] * 2
    predicted = calibrator.predict(np.array([[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]]), lexical)
    assert [p.label for p in predicted] == ["positive", "negative"]
    assert predicted[0].score > 0.8 and predicted[1].score < -0.8
    assert predicted[0].calibrated


def test_calibrator_refuses_one_sided_data() -> None:
    with pytest.raises(CalibrationError):
        SentimentCalibrator().fit(np.zeros((20, 2)), ["positive"] * 20)


def test_swedish_uses_the_vendored_vader_lexicon() -> None:
    result = score_sentiment("En underbar upplevelse.", language="sv")
    assert result.label == "positive"
    assert "underbar" in dict(result.explanation)
