"""The customer steers: purposes and notices, the consent ledger, preferences, links,
unsubscribe, data requests and the contact-decision log. No web framework in here."""
