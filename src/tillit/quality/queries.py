"""The SQL behind the quality report: one observation set, aggregated in the database.

An *observation* is one value of one field, from one source, for one record:

* ``identity``: a row of ``identity`` (source = its ``source`` column without ``source:``,
  field = its type, record = the customer),
* ``traits``: a key of an identify call's ``traits`` (source = the event source, record = the
  event),
* ``profile``: a customer's locale, time zone, country, name and each key of ``traits``.

SQLite and PostgreSQL differ only in how JSON objects are taken apart (``json_each`` and
``jsonb_each``); the rest is portable SQL.
Only constants of this module are formatted into the SQL (never input), hence the S608
waiver; values are bound parameters.
"""

# ruff: noqa: S608

from __future__ import annotations

from sqlalchemy import bindparam, text
from sqlalchemy.sql.elements import TextClause

from tillit.storage.base import UtcDateTime

_SOURCE = (
    "CASE WHEN i.source LIKE 'source:%' THEN substr(i.source, 8) "
    "ELSE coalesce(i.source, 'unknown') END"
)
_PROFILE_COLUMNS = ("locale", "time_zone", "country", "name")

# JSON object members: (FROM item, key, value as text, kind) per dialect.
_SQLITE_JSON = {
    "each": "json_each({doc})",
    "value": "CASE WHEN t.type IN ('true', 'false') THEN t.type ELSE CAST(t.value AS TEXT) END",
    "kind": (
        "CASE t.type WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number' "
        "WHEN 'true' THEN 'boolean' WHEN 'false' THEN 'boolean' ELSE t.type END"
    ),
}
_POSTGRES_JSON = {
    "each": (
        "jsonb_each(CASE WHEN jsonb_typeof({doc}) = 'object' THEN {doc} ELSE '{{}}'::jsonb END)"
    ),
    "value": "t.value #>> '{}'",
    "kind": "CASE jsonb_typeof(t.value) WHEN 'string' THEN 'text' ELSE jsonb_typeof(t.value) END",
}


def _json(dialect: str) -> dict[str, str]:
    return _POSTGRES_JSON if dialect == "postgresql" else _SQLITE_JSON


def _traits_doc(dialect: str) -> str:
    return (
        "e.payload -> 'traits'"
        if dialect == "postgresql"
        else "json_extract(e.payload, '$.traits')"
    )


def observations(dialect: str) -> str:
    """A SELECT of (origin, source, field, customer_id, record, value, kind, seen_at)."""
    j = _json(dialect)
    parts = [
        f"SELECT 'identity' AS origin, {_SOURCE} AS source, i.type AS field, "
        "i.customer_id AS customer_id, i.customer_id AS record, i.value AS value, "
        "'text' AS kind, i.created_at AS seen_at FROM identity i",
        f"SELECT 'traits', s.name, t.key, e.customer_id, e.id, {j['value']}, {j['kind']}, "
        "e.timestamp FROM event e JOIN event_source s ON s.id = e.source_id "
        f"CROSS JOIN {j['each'].format(doc=_traits_doc(dialect))} t "
        "WHERE e.type = 'identify'",
        *(
            f"SELECT 'profile', 'profile', '{column}', c.id, c.id, c.{column}, 'text', "
            "c.updated_at FROM customer c"
            for column in _PROFILE_COLUMNS
        ),
        f"SELECT 'profile', 'profile', t.key, c.id, c.id, {j['value']}, {j['kind']}, "
        f"c.updated_at FROM customer c CROSS JOIN {j['each'].format(doc='c.traits')} t",
    ]
    return "\nUNION ALL\n".join(parts)


_FILLED = "o.value IS NOT NULL AND o.value <> '' AND o.kind <> 'null'"


def values_query(dialect: str) -> TextClause:
    """Distinct non-empty values per field, with how many are recent and on a reachable,
    active customer: the validators then run once per distinct value, in Python.

    Reachable is looked up per observation through the identity table's customer index (a
    join to a set of reachable customers left SQLite scanning that whole set for every
    observation: minutes at 10,000 customers)."""
    return text(
        f"""
        WITH o AS ({observations(dialect)})
        SELECT o.origin, o.source, o.field, o.value, o.kind,
               CASE WHEN o.seen_at >= :current_since THEN 1 ELSE 0 END AS fresh,
               CASE WHEN EXISTS (
                   SELECT 1 FROM identity r JOIN customer rc ON rc.id = r.customer_id
                   WHERE r.customer_id = o.customer_id AND r.type IN ('email', 'phone')
                     AND rc.status = 'active'
               ) THEN 1 ELSE 0 END AS usable,
               count(*) AS n
        FROM o
        WHERE {_FILLED}
        GROUP BY o.origin, o.source, o.field, o.value, o.kind, 6, 7
        """
    ).bindparams(bindparam("current_since", type_=UtcDateTime()))


def filled_query(dialect: str) -> TextClause:
    """Records that have the field filled, per source and field."""
    return text(
        f"""
        WITH o AS ({observations(dialect)})
        SELECT o.origin, o.source, o.field,
               count(DISTINCT CASE WHEN {_FILLED} THEN o.record END) AS filled
        FROM o GROUP BY o.origin, o.source, o.field
        """
    )


def records_query() -> TextClause:
    """Records per source: customers with an identity from it, identify calls, profiles."""
    return text(
        f"""
        SELECT 'identity', {_SOURCE}, count(DISTINCT i.customer_id) FROM identity i GROUP BY 2
        UNION ALL
        SELECT 'traits', s.name, count(*) FROM event e JOIN event_source s ON s.id = e.source_id
        WHERE e.type = 'identify' GROUP BY s.name
        UNION ALL
        SELECT 'profile', 'profile', count(*) FROM customer
        """
    )


def consistency_query(dialect: str) -> TextClause:
    """Per source and field: customers whose field another source also holds, and of those,
    how many have one value in every source (compared trimmed, lower case, without spaces
    and dashes)."""
    normal = "lower(replace(replace(trim(o.value), ' ', ''), '-', ''))"
    return text(
        f"""
        WITH o AS ({observations(dialect)}),
        held AS (
            SELECT DISTINCT o.origin, o.source, o.field, o.customer_id, {normal} AS v
            FROM o WHERE o.customer_id IS NOT NULL AND {_FILLED}
              AND o.kind NOT IN ('object', 'array')
        ),
        per_person AS (
            SELECT customer_id, field, count(DISTINCT source) AS sources,
                   count(DISTINCT v) AS distinct_values
            FROM held GROUP BY customer_id, field
        )
        SELECT h.origin, h.source, h.field, count(DISTINCT h.customer_id) AS shared,
               count(DISTINCT CASE WHEN p.distinct_values = 1 THEN h.customer_id END) AS agree
        FROM held h JOIN per_person p ON p.customer_id = h.customer_id AND p.field = h.field
        WHERE p.sources >= 2
        GROUP BY h.origin, h.source, h.field
        """
    )


def used_fields_query(dialect: str) -> TextClause:
    """Field names present in events since ``since``: keys of traits and properties, and
    user_id / anonymous_id when events carry them."""
    j = _json(dialect)
    properties = (
        "e.payload -> 'properties'"
        if dialect == "postgresql"
        else "json_extract(e.payload, '$.properties')"
    )
    return text(
        f"""
        SELECT DISTINCT t.key FROM event e CROSS JOIN {j["each"].format(doc=_traits_doc(dialect))} t
        WHERE e.timestamp >= :since
        UNION
        SELECT DISTINCT t.key FROM event e CROSS JOIN {j["each"].format(doc=properties)} t
        WHERE e.timestamp >= :since
        UNION
        SELECT 'user_id' FROM event e WHERE e.timestamp >= :since AND e.user_id IS NOT NULL
        UNION
        SELECT 'anonymous_id' FROM event e
        WHERE e.timestamp >= :since AND e.anonymous_id IS NOT NULL
        """
    ).bindparams(bindparam("since", type_=UtcDateTime()))
