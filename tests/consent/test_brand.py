"""Customer pages carry the company's name, logo and colour from settings, never Tillit's
brand; a colour that white text cannot be read on is refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from tillit.app import create_app
from tillit.config import load_settings
from tillit.consent.links import create_link

from .conftest import ACTOR, SECRET

LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
    '<rect width="40" height="20"/></svg>'
)


@pytest.fixture
def branded(settings, engine, tmp_path):
    (tmp_path / "logo.svg").write_text(LOGO)
    own = settings.model_copy(
        update={
            "company_name": "Nordlys Handel",
            "company_colour": "#0b3d91",
            "company_logo": tmp_path / "logo.svg",
        }
    )
    app = create_app(own)
    with TestClient(app, base_url="https://tillit.example.com") as client:
        yield client
    app.state.engine.dispose()


def test_the_preference_centre_shows_the_company_not_tillit(branded, session, anna):
    token = create_link(session=session, customer_id=anna, secret_key=SECRET, actor=ACTOR).token
    session.commit()
    page = branded.get(f"/p/{token}")
    assert page.status_code == 200
    header = page.text.split("<main", 1)[0]
    assert "Nordlys Handel" in header and 'src="/brand/logo"' in header
    assert "Tillit" not in header.split("</title>", 1)[1]  # the bar shows the company
    assert "· Nordlys Handel</title>" in page.text
    assert 'href="/brand.css"' in page.text


def test_the_brand_colour_and_logo_are_served(branded):
    css = branded.get("/brand.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "--brand: #0b3d91" in css.text
    logo = branded.get("/brand/logo")
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/svg+xml"
    assert logo.text == LOGO


def test_without_a_logo_none_is_served(client):
    answer = client.get("/brand/logo", headers={"accept": "application/json"})
    assert answer.status_code == 404


def test_unreadable_colours_and_other_logo_files_are_refused():
    with pytest.raises(ValidationError, match=r"4\.5:1"):
        load_settings(company_colour="#7fb3ff")  # light blue under white text
    with pytest.raises(ValidationError, match="company_colour"):
        load_settings(company_colour="blue")
    with pytest.raises(ValidationError, match="logo"):
        load_settings(company_logo="logo.gif")
    assert load_settings(company_colour="#0B3D91").company_colour == "#0b3d91"
