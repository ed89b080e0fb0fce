"""Campaigns: messages that reach only the customers they are relevant to, on their own terms.

Definitions (:mod:`~tillit.campaigns.definitions`), the relevance score and its reasons in words
(:mod:`~tillit.campaigns.relevance`), planning (:mod:`~tillit.campaigns.planning`, pure) and the
stored campaigns with their funnel and results (:mod:`~tillit.campaigns.service`).
"""
