"""The contact policy: may we send this message to this customer now, and why (not)?

Pure domain code: no database, no web framework. Two forms give identical answers:

- :func:`decide` decides one intended message for one customer (the reference), and
- :func:`decide_batch` decides one intended message for a columnar table of customers.

Errors: invalid inputs raise :class:`ValueError` (naive datetimes, unknown time zones,
a batch table that does not match :data:`STATE_SCHEMA`); nothing else is raised on purpose.
"""

from tillit.contact.batch import RESULT_SCHEMA, decide_batch
from tillit.contact.models import (
    DIALOGUE_PURPOSE,
    CappedSend,
    Check,
    CheckStatus,
    CompanyCap,
    CompanyPolicy,
    ConsentStatus,
    ContactState,
    Decision,
    FrequencyCap,
    Intent,
    Outcome,
    QuietHours,
)
from tillit.contact.policy import APPLIES, decide
from tillit.contact.reasons import (
    CHECK_ORDER,
    MESSAGES_EN,
    REASON_CODES,
    explain,
    explain_ids,
)
from tillit.contact.schema import STATE_SCHEMA, states_to_table

__all__ = [
    "APPLIES",
    "CHECK_ORDER",
    "DIALOGUE_PURPOSE",
    "MESSAGES_EN",
    "REASON_CODES",
    "RESULT_SCHEMA",
    "STATE_SCHEMA",
    "CappedSend",
    "Check",
    "CheckStatus",
    "CompanyCap",
    "CompanyPolicy",
    "ConsentStatus",
    "ContactState",
    "Decision",
    "FrequencyCap",
    "Intent",
    "Outcome",
    "QuietHours",
    "decide",
    "decide_batch",
    "explain",
    "explain_ids",
    "states_to_table",
]
