"""Campaign words for staff pages and for customers: each hold-back reason in plain words, the
funnel's steps, and what a customer reads about a message that was held."""

from __future__ import annotations

from tillit.campaigns import planning
from tillit.contact.reasons import CUSTOMER_LOG, STAFF_LABELS
from tillit.i18n import N_

STAFF_REASONS: dict[str, str] = {
    **STAFF_LABELS,
    "unknown_customer": "Profile no longer exists",
    planning.NOT_RELEVANT: "Not relevant to them",
    planning.NO_CONTENT: "No text in their language",
    planning.CAMPAIGN_FREQUENCY: "Had this campaign too recently",
    planning.HOLDOUT: "Hold-out (kept back to measure)",
}

FUNNEL_WORDS: dict[str, str] = {
    "audience": "In the audience",
    "allowed": "Allowed by the contact policy",
    "relevant": "Relevant (or in the blast slice)",
    "scheduled": "Scheduled",
    "sent": "Sent",
    "delivered": "Delivered",
    "opened": "Opened",
    "clicked": "Clicked",
    "goal_reached": "Reached the goal",
}

STATUS_WORDS = {"draft": "Draft", "approved": "Approved", "running": "Running", "done": "Done"}
GROUP_WORDS = {"relevant": "Chosen by relevance", "blast": "Blast slice", "holdout": "Hold-out"}

# What the customer reads beside a message we held back (msgids for the catalogs).
CUSTOMER_REASONS: dict[str, str] = {
    **CUSTOMER_LOG,
    planning.NOT_RELEVANT: N_("We did not think this message was relevant to you."),
    planning.NO_CONTENT: N_("We had no text for this message in your language."),
    planning.CAMPAIGN_FREQUENCY: N_("You had this message from us a short time before."),
    planning.HOLDOUT: N_(
        "You were in a small group that gets no message, so we can measure whether our "
        "messages help."
    ),
}
