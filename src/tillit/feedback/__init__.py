"""Stored customer feedback and its themes: the persistence and service layer over
``tillit.insight`` (which stays pure). Importing the package registers the erasure and
export hooks with the consent area."""

from tillit.feedback import privacy as _privacy  # noqa: F401  (registers eraser + exporter)
