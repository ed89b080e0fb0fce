"""Event properties (``payload.properties`` as JSON text) read the same way on both engines."""

from __future__ import annotations

import re
from collections.abc import Iterable

import ibis.expr.types as ir
import orjson

# What a property filter may name: a quote or an empty name breaks the JSON path the engines
# compile (sqlglot fails to tokenize it: a 500, found by the API fuzz test), and no tracker
# sends such names. The same characters as a trait's name in a segment rule.
PROPERTY_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
PROPERTY_NAME_RULE = "letters, digits, '_', '.' and '-', 1 to 100 characters"


def bad_property_names(names: Iterable[object]) -> list[str]:
    """The names in ``names`` a filter may not use."""
    return [str(n) for n in names if not PROPERTY_NAME.fullmatch(str(n))]


def event_property(events: ir.Table, name: str) -> ir.Value:
    """A property as JSON; cast it (``.cast("float64")``) for a number. Not unwrap_as or
    ``.str``, which Ibis runs as Python UDFs on Spark."""
    return events.payload.cast("json")["properties"][name]


def property_is(events: ir.Table, name: str, wanted: str) -> ir.BooleanValue:
    """A property equals ``wanted`` (as text). Cast to a string, a JSON string keeps its quotes
    on DuckDB (``"FREE"``) and loses them on Spark (``FREE``), so both spellings match."""
    text = event_property(events, name).cast("string")
    return text.isin([wanted, orjson.dumps(wanted).decode()])
