"""Staff create a question in all five languages from the question editor."""

from __future__ import annotations

from sqlalchemy import func, select

from tillit.dialogues.models import Question

TEXTS = {
    "text_en": "How was your visit to the store?",
    "text_da": "Hvordan var dit besøg i butikken?",
    "text_sv": "Hur var ditt besök i butiken?",
    "text_nb": "Hvordan var besøket ditt i butikken?",
    "text_nl": "Hoe was je bezoek aan de winkel?",
}


def test_a_new_question_needs_every_language_and_then_appears(client, staff_csrf, sessions):
    with sessions() as session:
        before = session.scalar(select(func.count()).select_from(Question))
    form = {
        "csrf_token": staff_csrf,
        "key": "store_visit",
        "type": "rating",
        "priority": "3",
        "recontact_days": "60",
        "trigger_event": "Store Visited",
        "delay_hours": "2",
        **TEXTS,
    }
    missing = client.post("/staff/dialogues/questions", data={**form, "text_nl": ""})
    assert missing.status_code == 422 and "texts.nl" in missing.text
    assert 'value="Hvordan var dit besøg i butikken?"' in missing.text  # the form keeps input
    created = client.post("/staff/dialogues/questions", data=form, follow_redirects=False)
    assert created.status_code == 303
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Question)) == before + 1
        question = session.scalars(select(Question).where(Question.key == "store_visit")).one()
    assert (question.trigger_event, question.delay_hours, question.recontact_days) == (
        "Store Visited",
        2,
        60,
    )
    page = client.get("/staff/dialogues")
    assert "Hoe was je bezoek aan de winkel?" in page.text


def test_choices_need_a_label_in_every_language(client, staff_csrf):
    form = {
        "csrf_token": staff_csrf,
        "key": "favourite_aisle",
        "type": "single",
        **TEXTS,
        "options": "bakery | Bakery | Bageri | Bageri",
    }
    refused = client.post("/staff/dialogues/questions", data=form)
    assert refused.status_code == 422 and "line 1" in refused.text
    no_token = client.post("/staff/dialogues/questions", data={**form, "csrf_token": ""})
    assert no_token.status_code == 403
