"""A JSON object's top-level value by one literal key, as text, on SQLite and PostgreSQL.

``column[key]`` builds a JSON *path* from the key on SQLite (``$."key"``), so a key holding a
quote broke the query or walked into nested objects (``address"."city``), and SQLite's paths
cannot quote a ``"`` at all. Here the key is a bound value compared with each key as it is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class json_text_at(FunctionElement[str]):
    """``json_text_at(document, key)``: the value under ``key`` as text (as PostgreSQL's
    ``->>`` gives it: strings bare, numbers and booleans spelled out), or NULL."""

    type = String()
    inherit_cache = True
    name = "json_text_at"

    def __init__(self, document: ColumnElement[Any] | QueryableAttribute[Any], key: str) -> None:
        super().__init__(document, bindparam(None, key, type_=String()))


@compiles(json_text_at, "postgresql")
def _postgresql(element: json_text_at, compiler: SQLCompiler, **kw: Any) -> str:
    document, key = element.clauses
    return f"({compiler.process(document, **kw)} ->> {compiler.process(key, **kw)})"


@compiles(json_text_at, "sqlite")
def _sqlite(element: json_text_at, compiler: SQLCompiler, **kw: Any) -> str:
    document, key = element.clauses
    # Only compiled SQL is spliced in: the document's column and the key's bind placeholder.
    return (
        "(SELECT CASE type WHEN 'null' THEN NULL WHEN 'true' THEN 'true' "  # noqa: S608
        "WHEN 'false' THEN 'false' ELSE CAST(value AS TEXT) END "
        f"FROM json_each({compiler.process(document, **kw)}) "
        f"WHERE key = {compiler.process(key, **kw)})"
    )
