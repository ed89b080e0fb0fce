"""The company's promises to its customers, measured against what Tillit recorded it did.

``catalogue`` (kinds, parameters, the default promises and their texts), ``models`` (the
tables), ``measure`` (the Ibis evaluation of every kind over the analytics model), ``slo`` (kept
share, intervals, error budget and burn rate), ``store`` (a measurement round and what the faces
read), ``rules`` (the promises the contact policy enforces as company rules).
"""
