from collections import Counter

from tillit.customers.importer import parse_row
from tillit.customers.service import Defaults
from tillit.demo.generator import generate_customers
from tillit.demo.loader import ensure_demo_staff

DEFAULTS = Defaults(country="DK", language="en", time_zone="Europe/Copenhagen")


def test_generator_is_deterministic_valid_and_covers_five_countries():
    rows = list(generate_customers(2000, seed=7))
    assert rows == list(generate_customers(2000, seed=7))
    assert all(row["email"].endswith("@example.com") for row in rows)
    parsed = [parse_row(n, row, DEFAULTS) for n, row in enumerate(rows)]
    assert not [p for p in parsed if isinstance(p, list)]  # every row imports cleanly
    countries = Counter(row["country"] for row in rows)
    assert set(countries) == {"DK", "SE", "NO", "NL", "GB"}
    assert min(countries.values()) > 150
    assert {row["locale"] for row in rows} == {"da-DK", "sv-SE", "nb-NO", "nl-NL", "en-GB"}


def test_demo_staff_are_created_once(sessions, engine, tmp_path):
    login = ensure_demo_staff(sessions=sessions, data_dir=tmp_path)
    assert login.email == "admin@example.com" and len(login.password) >= 12
    assert ensure_demo_staff(sessions=sessions, data_dir=tmp_path) == login
