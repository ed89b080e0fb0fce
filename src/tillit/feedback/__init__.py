"""Stored customer feedback and its themes: the persistence and service layer over
``tillit.insight`` (which stays pure)."""
