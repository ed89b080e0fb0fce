"""Stored codes staff would otherwise read: a merge's reason, a data request's kind, a trait
whose value is a country or a language."""

from __future__ import annotations

from tillit.web.audit_words import changes
from tillit.web.staff_words import coded_value, data_request_kind, merge_reason


def test_a_merge_reason_reads_as_words() -> None:
    assert merge_reason("match: probability 0.9967") == "Matching: 99.67% likely the same person"
    assert merge_reason("match: probability 1.0000") == "Matching: 100% likely the same person"
    assert merge_reason("identify: shares email, user_id") == (
        "Both used e-mail, customer number (Identified event)"
    )
    assert merge_reason("Same person, confirmed by phone") == "Same person, confirmed by phone"


def test_trait_values_and_request_kinds_read_as_words() -> None:
    assert coded_value("country", "NO") == "Norway"
    assert coded_value("language", "da") == "Danish"
    assert coded_value("city", "NO") is None
    assert data_request_kind("erasure") == "Erasure: delete their data"
    assert changes(None, {"kind": "access", "reason": "match: probability 0.9990"}) == [
        "kind: Access: a copy of their data (export)",
        "reason: Matching: 99.9% likely the same person",
    ]
