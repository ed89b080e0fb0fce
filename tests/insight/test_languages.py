import pytest

from tillit.insight import UnsupportedLanguageError, detect_language
from tillit.insight.languages import UNKNOWN, language_from_locale


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tak for hjælpen, I er søde!", "da"),
        ("Takk for hjelpen, dere er kjempeflinke!", "nb"),
        ("Tack för hjälpen, ni är jättesnälla!", "sv"),
        ("Bedankt voor de hulp, jullie zijn geweldig!", "nl"),
        ("Thanks for the help, you were great!", "en"),
        ("Leveringen var forsinket og ingen svarede på min mail.", "da"),
        ("Leveringen var forsinket og ingen svarte på e-posten min.", "nb"),
    ],
)
def test_detects_each_workspace_language(text: str, expected: str) -> None:
    assert detect_language(text).language == expected


def test_locale_prior_decides_an_ambiguous_danish_bokmal_sentence() -> None:
    text = "Pakken kom for sent."
    assert detect_language(text, locale="da-DK").language == "da"
    assert detect_language(text, locale="nb_NO").language == "nb"
    assert detect_language(text, locale="no").language == "nb"


def test_prior_does_not_overrule_clear_evidence() -> None:
    guess = detect_language("Het pakket kwam veel te laat aan.", locale="da-DK")
    assert guess.language == "nl"
    assert guess.confidence > 0.5


def test_restricting_languages_limits_the_answer() -> None:
    guess = detect_language("Tack för hjälpen!", languages=("da", "nb"))
    assert guess.best_guess in {"da", "nb"}
    assert {code for code, _ in guess.alternatives} <= {"da", "nb"}


def test_confidences_sum_to_one() -> None:
    guess = detect_language("Great service")
    assert guess.confidence + sum(p for _, p in guess.alternatives) == pytest.approx(1.0)


def test_unsupported_language_is_refused() -> None:
    with pytest.raises(UnsupportedLanguageError):
        detect_language("Bonjour", languages=("fr",))


def test_locale_mapping() -> None:
    assert language_from_locale("nl-BE") == "nl"
    assert language_from_locale("nn-NO") == "nb"
    assert language_from_locale("de-DE") is None
    assert language_from_locale(None) is None


def test_a_short_unclear_text_is_unknown_without_hints() -> None:
    guess = detect_language("Pakken kom")
    assert guess.language == UNKNOWN
    # The likeliest language is still named, for the lexicon and the theme space.
    assert guess.best_guess == guess.alternatives[0][0]
    assert {code for code, _ in guess.alternatives} == {"en", "da", "sv", "nb", "nl"}


def test_a_long_text_is_never_unknown() -> None:
    guess = detect_language("Pakken kom en uke for sent, og ingen svarte på e-posten min.")
    assert guess.language == "nb"


def test_locale_country_and_earlier_comments_decide_a_short_text() -> None:
    assert detect_language("Pakken kom", locale="nb-NO").language == "nb"
    assert detect_language("Pakken kom", locale="da-DK").language == "da"
    # The channel's country alone is weaker evidence than the locale, but enough together
    # with the customer's earlier comments.
    assert detect_language("Pakken kom", country="no", earlier=("nb", "nb")).language == "nb"
    assert detect_language("Pakken kom", country="DK", earlier=("da",)).language == "da"
    # Earlier comments in another language do not overrule a clear sentence.
    clear = detect_language("Het pakket kwam veel te laat aan.", earlier=("da",) * 10)
    assert clear.language == "nl"


def test_country_prior_is_weaker_than_the_locale() -> None:
    text = "Pakken kom for sent."
    guess = detect_language(text, locale="da-DK", country="NO")
    assert guess.language == "da"
