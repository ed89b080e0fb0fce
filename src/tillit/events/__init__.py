"""Omnichannel events: the Segment-compatible tracking model, ingestion, the lake, imports."""
