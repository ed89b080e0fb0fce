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
