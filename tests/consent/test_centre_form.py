"""The preference form: a wrong field comes back beside itself with every other change kept,
quick choices (quiet-hour presets, pause for a month) and the summary told back after saving."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from tillit.consent.preferences import current_preferences, pause_until, preference_history
from tillit.vocabulary import OutboundChannel

from .test_pages import _form_token, _link

CHANGES = {
    "channel_email": "on",
    "cap_email_count": "1",
    "cap_email_period": "week",
    "quiet": "21:00-08:00",
    "topics": ["news"],
    "dialogues": "on",
    "language": "da",
    "lang": "da",
}


def _post(client, token: str, **fields):
    csrf = _form_token(client.get(f"/p/{token}").text)
    return client.post(
        f"/p/{token}/preferences",
        data={"csrf_token": csrf, **CHANGES, **fields},
        follow_redirects=False,
    )


def test_a_mistyped_time_zone_is_shown_beside_the_field_and_keeps_every_other_change(
    client, session, anna
) -> None:
    token = _link(session, anna)
    page = _post(client, token, time_zone="Europe/Copenhagn")
    assert page.status_code == 422
    assert page.headers["content-language"] == "da"
    html = page.text
    assert re.search(
        r'<select id="time_zone" name="time_zone" aria-invalid="true" '
        r'aria-describedby="time_zone-error">',
        html,
    )
    assert '<p class="field-error" id="time_zone-error">Vælg din tidszone på listen.</p>' in html
    assert 'role="alert"' in html and 'href="#time_zone"' in html
    # Every other change is still in the form, as the customer left it.
    assert 'id="cap_email_count" name="cap_email_count" value="1"' in html
    assert re.search(r'<option value="week" selected>pr\. uge</option>', html)
    assert re.search(r'value="21:00-08:00" id="quiet-2100-0800" checked', html)
    assert not re.search(r'id="channel_sms" name="channel_sms" checked', html)
    assert re.search(r'id="topic_news" name="topics" value="news" checked', html)
    assert not re.search(r'id="topic_offers" name="topics" value="offers" checked', html)
    assert "aria-invalid" not in html.replace('id="time_zone" name="time_zone" aria-invalid', "")
    assert preference_history(session=session, customer_id=anna) == []  # nothing saved
    session.rollback()


def test_the_time_zone_is_picked_from_a_list_with_the_customers_country_first(
    client, session, anna
) -> None:
    html = client.get(f"/p/{_link(session, anna)}").text
    picker = re.search(r'<select id="time_zone".*?</select>', html, re.S)
    assert picker is not None
    zones = re.findall(r'<option value="([^"]+)"', picker.group(0))
    assert zones[0] == "Europe/Copenhagen" and len(zones) > 400
    assert "US/Eastern" not in zones and "Etc/GMT+5" not in zones  # aliases only confuse
    assert '<option value="Europe/Copenhagen" selected>Danmark-tid</option>' in picker.group(0)
    assert '<input id="time_zone"' not in html  # no free text


def test_saving_tells_back_what_changes_in_the_customers_language(client, session, anna) -> None:
    token = _link(session, anna)
    saved = _post(client, token, time_zone="Europe/Copenhagen")
    assert saved.status_code == 303
    assert saved.headers["location"].endswith("#saved")
    page = client.get(saved.headers["location"])
    status = re.search(
        r'<div class="notice saved" id="saved" role="status".*?</div>', page.text, re.S
    )
    assert status is not None
    assert "Dine valg er gemt." in status.group(0)
    assert "Vi sender dig e-mails højst én gang om ugen, aldrig mellem 21:00 og 08:00." in (
        status.group(0)
    )
    assert "SMS: vi kontakter dig ikke på denne måde." in status.group(0)
    # The zone and language the form showed, posted back untouched, are no news.
    assert "følger" not in status.group(0) and "Vi skriver til dig på" not in status.group(0)
    prefs = current_preferences(session=session, customer_id=anna)
    assert prefs.quiet_hours is not None and prefs.quiet_hours.start.hour == 21
    session.rollback()  # SQLite: release the read transaction before the app writes again
    # Saving the same choices again changes nothing, and says so.
    again = client.get(_post(client, token, time_zone="Europe/Copenhagen").headers["location"])
    assert "Intet blev ændret: det var allerede dine valg." in again.text


def test_pause_for_a_month_is_one_click(client, session, anna) -> None:
    token = _link(session, anna)
    saved = _post(client, token, pause="month", lang="en")
    today = datetime.now(ZoneInfo("Europe/Copenhagen")).date()
    prefs = current_preferences(session=session, customer_id=anna)
    assert prefs.paused_until == pause_until("month", today=today)
    session.rollback()
    page = client.get(saved.headers["location"])
    assert "We will send you nothing until" in page.text
    assert re.search(r'name="pause" value="keep" checked', page.text)  # the pause stays
    kept = _post(client, token, pause="keep")
    assert kept.status_code == 303
    assert current_preferences(session=session, customer_id=anna).paused_until == (
        prefs.paused_until
    )


def test_a_pause_in_the_past_is_refused_beside_the_date(client, session, anna) -> None:
    token = _link(session, anna)
    page = _post(client, token, pause="date", paused_until="2020-01-01")
    assert page.status_code == 422
    assert 'id="paused_until-error">Vælg en dag efter i dag.</p>' in page.text
    assert 'value="2020-01-01" aria-invalid="true"' in page.text


def test_pause_choices_count_calendar_months() -> None:
    assert pause_until("week", today=date(2026, 12, 28)) == date(2027, 1, 4)
    assert pause_until("month", today=date(2027, 1, 31)) == date(2027, 2, 28)
    assert pause_until("three_months", today=date(2026, 11, 30)) == date(2027, 2, 28)


def test_the_untouched_form_saves_nothing(client, session, anna) -> None:
    """Posted as shown, the defaults (all channels, every topic, the profile's zone and
    language) stay defaults: no new version, and the customer is told nothing changed."""
    token = _link(session, anna)
    html = client.get(f"/p/{token}").text
    topics = re.findall(r'name="topics" value="([^"]+)" checked', html)
    shown = {f"channel_{c}": "on" for c in OutboundChannel} | {"quiet": "none", "pause": "none"}
    saved = client.post(
        f"/p/{token}/preferences",
        data={
            "csrf_token": _form_token(html),
            **shown,
            "time_zone": "Europe/Copenhagen",
            "language": "da",
            "topics": topics,
            "dialogues": "on",
            "lang": "da",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303 and "version=" not in saved.headers["location"]
    assert preference_history(session=session, customer_id=anna) == []
    session.rollback()
    assert "Intet blev ændret" in client.get(saved.headers["location"]).text
