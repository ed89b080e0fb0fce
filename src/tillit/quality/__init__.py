"""Data quality per source and field, in eight dimensions (see docs/events.md, "Data quality").

``measure(session=…)`` aggregates in the database and runs the field validators once per
distinct value; the page and ``tillit quality`` only render its ``QualityReport``.
"""

from tillit.quality.service import DIMENSIONS, FieldQuality, QualityReport, SourceQuality, measure

__all__ = ["DIMENSIONS", "FieldQuality", "QualityReport", "SourceQuality", "measure"]
