import pytest

from tillit.customers.normalise import InvalidIdentity, normalise


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("email", "  Søren@EXAMPLE.com ", "søren@example.com"),
        ("email", "anna@Bücher.Example", "anna@xn--bcher-kva.example"),
        ("phone", "20 12 34 56", "+4520123456"),  # default region DK
        ("phone", "+46 70-123 45 67", "+46701234567"),
        ("phone", "0031 6 12345678", "+31612345678"),
        ("phone", "+44 7911 123456", "+447911123456"),
        ("loyalty_card", "tl-0000 1234", "TL00001234"),
        ("social_handle", "Instagram: @Kari_N", "instagram:kari_n"),
        ("user_id", "  U-123  ", "U-123"),
    ],
)
def test_values_are_normalised(kind, raw, expected):
    assert normalise(kind, raw, default_country="DK") == expected


@pytest.mark.parametrize(
    ("kind", "raw", "reason"),
    [
        ("email", "anna@", "e-mail"),
        ("email", "anna example.com", "e-mail"),
        ("phone", "12", "valid phone"),
        ("phone", "call me maybe", "phone"),
        ("social_handle", "no-network", "network:handle"),
        ("device_id", "   ", "empty"),
        ("user_id", "x" * 400, "at most"),
    ],
)
def test_invalid_values_say_why(kind, raw, reason):
    with pytest.raises(InvalidIdentity, match=reason):
        normalise(kind, raw, default_country="DK")


def test_the_default_region_decides_how_local_numbers_read():
    assert normalise("phone", "070-123 45 67", default_country="SE") == "+46701234567"
    with pytest.raises(InvalidIdentity):
        normalise("phone", "070-123 45 67", default_country="DK")


def test_the_fast_path_for_plain_e_mail_addresses_agrees_with_email_validator():
    """Generated addresses, valid and not (odd characters, dots and hyphens in the wrong place,
    IDNA and numeric labels, reserved names, overlong parts): wherever the fast path answers,
    it answers what email_validator's path does; it also answers for most plain addresses."""
    import random

    from email_validator import EmailNotValidError, validate_email

    from tillit.customers.normalise import _plain_email

    rng = random.Random(20261123)
    local_chars = "abcXYZ019._+-!#'~\"ø "
    labels = [
        "example",
        "Example",
        "mail",
        "b",
        "xn--bcher-kva",
        "xn--zz",
        "ab--cd",
        "-x",
        "x-",
        "123",
        "a" * 63,
        "a" * 64,
        "co",
        "DK",
        "invalid",
        "test",
        "local",
        "onion",
        "c0m",
    ]
    answered = agreed = 0
    for _ in range(20000):
        local = "".join(rng.choice(local_chars) for _ in range(rng.choice([1, 3, 8, 20, 70])))
        if rng.random() < 0.6:  # mostly plausible local parts, so the fast path is exercised
            local = rng.choice(["anna", "Kari.N", "jan+news", "x_y", "o-k", "a.b.c"])
        domain = ".".join(rng.choice(labels) for _ in range(rng.choice([1, 2, 2, 3])))
        text = f"{local}@{domain}"
        fast = _plain_email(text)
        if fast is None:
            continue
        answered += 1
        result = validate_email(text, check_deliverability=False, allow_smtputf8=True)
        assert fast == f"{result.local_part.lower()}@{result.ascii_domain.lower()}", text
        agreed += 1
    assert answered > 1000 and agreed == answered
    # Left to email_validator: reserved names and doubled dots (invalid there), and the valid
    # IDNA and one-letter top-level domains the fast path does not try to judge.
    for declined in ("a@example.invalid", "a..b@example.com", "a@b.xn--p1ai", "a@b.c"):
        assert _plain_email(declined) is None
    for invalid in ("a@example.invalid", "a..b@example.com"):
        with pytest.raises(EmailNotValidError):
            validate_email(invalid, check_deliverability=False, allow_smtputf8=True)
