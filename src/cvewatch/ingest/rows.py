"""Fast bulk writes for the importer: plain rows in, one statement stream out.

The ORM's bulk_create spends most of an import preparing values field by field; here each column gets one
adapter chosen once per engine, and rows go out with executemany (SQLite) or COPY (PostgreSQL). Values are
stored exactly as the ORM would store them, so models read them back unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from typing import Any

import orjson
from django.db import connection, models

Adapter = Callable[[Any], Any]


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _sqlite_datetime_text(value: datetime | None) -> str | None:
    # What Django's SQLite backend stores: naive UTC, str() format.
    if value is None:
        return None
    if value.tzinfo is UTC:  # the common case: str() of the naive value is its isoformat(" "), "+00:00" cut
        return value.isoformat(" ")[:-6]
    return str(value.astimezone(UTC).replace(tzinfo=None))


# A batch stamps every row with the same now; many records share their dates.
_sqlite_datetime = lru_cache(maxsize=4096)(_sqlite_datetime_text)


def _sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _sqlite_uuid(value: uuid.UUID) -> str:
    return value.hex


def _same(value: Any) -> Any:
    return value


@cache
def _adapters(
    vendor: str, model: type[models.Model], fields: tuple[str, ...], encoded: tuple[str, ...] = ()
) -> tuple[Adapter, ...]:
    sqlite = vendor == "sqlite"
    adapters: list[Adapter] = []
    for name in fields:
        field = model._meta.get_field(name)
        if name in encoded:
            adapters.append(_same)
        elif isinstance(field, models.JSONField):
            adapters.append(_json)
        elif isinstance(field, models.DateTimeField):
            adapters.append(_sqlite_datetime if sqlite else _same)
        elif isinstance(field, models.DateField):
            adapters.append(_sqlite_date if sqlite else _same)
        elif isinstance(field, models.UUIDField):
            adapters.append(_sqlite_uuid if sqlite else _same)
        else:
            adapters.append(_same)
    return tuple(adapters)


def _adapted(adapters: tuple[Adapter, ...], rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Rows with every value adapted, column by column (map runs in C: no per-value Python loop)."""
    rows = list(rows)
    if not rows:
        return []
    if any(len(row) != len(adapters) for row in rows):
        raise ValueError(f"every row must hold {len(adapters)} values")
    columns = [
        col if adapt is _same else map(adapt, col)
        for adapt, col in zip(adapters, zip(*rows, strict=True), strict=True)
    ]
    return list(zip(*columns, strict=True))


def adapt_row(model: type[models.Model], fields: Sequence[str]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function adapting one row of fields' values as insert_rows would (for insert_rows(ready=True)).

    Usable in the import's reading process (ingest/premerge.py): it needs the engine's name, no connection.
    """
    # One row's dates are seldom another's (a merged CVE's): no cache to miss.
    adapters = tuple(
        _sqlite_datetime_text if adapter is _sqlite_datetime else adapter
        for adapter in _adapters(connection.vendor, model, tuple(fields))
    )
    if all(adapter is _same for adapter in adapters):
        return tuple
    width = len(adapters)
    active = tuple((i, adapter) for i, adapter in enumerate(adapters) if adapter is not _same)

    def adapt(row: Sequence[Any]) -> tuple[Any, ...]:
        if len(row) != width:
            raise ValueError(f"every row must hold {width} values")
        values = list(row)
        for i, adapter in active:
            values[i] = adapter(values[i])
        return tuple(values)

    return adapt


def ids_for(model: type[models.Model], field: str, keys: Sequence[Any]) -> list[tuple[Any, int]]:
    """(key, pk) of the rows whose unique field is among keys: plain SQL, without the ORM's per-value work."""
    quote = connection.ops.quote_name
    table, column = quote(model._meta.db_table), quote(model._meta.get_field(field).column)
    pk = quote(model._meta.pk.column)
    found: list[tuple[Any, int]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(keys), 900):  # within every SQLite's limit of bound parameters
            chunk = keys[start : start + 900]
            cursor.execute(
                f"SELECT {column}, {pk} FROM {table} WHERE {column} IN ({', '.join(['%s'] * len(chunk))})",
                list(chunk),
            )
            found.extend(cursor.fetchall())
    return found


@cache
def _columns(model: type[models.Model], fields: tuple[str, ...]) -> tuple[str, ...]:
    quote = connection.ops.quote_name
    return tuple(quote(model._meta.get_field(name).column) for name in fields)


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
    encoded: tuple[str, ...] = (),
    ready: bool = False,
) -> int:
    """Inserts rows (values in the order of fields, as Python values); returns how many were sent.

    ignore_conflicts: rows that would violate a unique constraint are left out silently. encoded: JSON
    fields whose values are already their JSON text (as orjson.dumps writes it), sent as they are. ready:
    the rows are adapted already (adapt_row).
    """
    fields = tuple(fields)
    adapted = list(rows) if ready else _adapted(_adapters(connection.vendor, model, fields, encoded), rows)
    if not adapted:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(_columns(model, fields))
    with connection.cursor() as cursor:
        if ignore_conflicts:
            # Both engines know ON CONFLICT DO NOTHING; multi-row VALUES keeps PostgreSQL round trips few.
            row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
            step = max(1, 900 // len(fields))
            for start in range(0, len(adapted), step):
                chunk = adapted[start : start + step]
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(chunk))} "
                    "ON CONFLICT DO NOTHING",
                    [v for row in chunk for v in row],
                )
        elif connection.vendor == "postgresql":
            # COPY is the fastest way in; psycopg adapts each Python value for its column. The raw cursor's
            # errors are wrapped as Django's, like any other query's.
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in adapted:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", adapted)
    return len(adapted)


def update_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Updates rows by primary key: each row holds the values of fields, then the pk."""
    fields = tuple(fields)
    adapters = (*_adapters(connection.vendor, model, fields), _same)
    adapted = _adapted(adapters, rows)
    if not adapted:
        return 0
    quote = connection.ops.quote_name
    json_cast = "::jsonb" if connection.vendor == "postgresql" else ""
    assignments = ", ".join(
        f"{column} = %s{json_cast if isinstance(model._meta.get_field(name), models.JSONField) else ''}"
        for name, column in zip(fields, _columns(model, fields), strict=True)
    )
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(model._meta.pk.column)} = %s"
    with connection.cursor() as cursor:
        cursor.executemany(sql, adapted)
    return len(adapted)
