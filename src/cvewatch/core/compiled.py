"""A one-parameter ORM lookup compiled to SQL once per database connection, then only run.

Django compiles a queryset's SQL every time it is evaluated: for a `select_related` join that is about a
million instructions, more than the rest of a request's authentication. A lookup on the hot path of every
request (an API token's) runs the same SQL with one new value, so `CompiledLookup` keeps the ORM's own
compilation — the SQL, its column converters and its related-object populators — per connection and builds
the instances exactly as evaluating the queryset would. Its answer is the queryset's: the row is read on
every call, nothing of it is kept.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler

M = TypeVar("M", bound=Model)

# The value the queryset is built with to find its parameter's place; never sent to the database.
_MARKER = "\x00cvewatch-compiled-lookup\x00"


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    params: tuple[Any, ...]  # the compiled parameters: constants, and the value at `position`
    position: int
    compiler: SQLCompiler
    converters: dict[int, Any]
    model: type[Model]
    init_list: list[str]
    start: int
    end: int
    populators: list[Any]
    annotations: dict[str, int]


class CompiledLookup(Generic[M]):
    """`build(value)` is a queryset that uses `value` once, as a parameter (e.g. `filter(key=value)`); `get(v)`
    is the one instance `build(v)` finds (its related objects and annotations loaded as the queryset says),
    or None. The value, a str, goes to the database as it is: a lookup that would transform it (`iexact`,
    `contains`) is refused when compiled.

    More than one row is a programming error (the lookup must be by a unique key): ValueError.
    """

    def __init__(self, build: Callable[[str], QuerySet[M]]) -> None:
        self.build = build
        self._template: QuerySet[M] | None = None  # build(_MARKER), never evaluated
        self._plans: weakref.WeakKeyDictionary[BaseDatabaseWrapper, _Plan] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, value: str) -> M | None:
        queryset = self._template
        if queryset is None:
            queryset = self._template = self.build(_MARKER)
        connection = connections[queryset.db]
        plan = self._plans.get(connection)
        if plan is None:
            plan = self._compile(queryset, connection)
        with connection.cursor() as cursor:
            params = plan.params
            cursor.execute(plan.sql, (*params[: plan.position], value, *params[plan.position + 1 :]))
            rows = cursor.fetchmany(2)
        if not rows:
            return None
        if len(rows) > 1:
            raise ValueError(f"{type(self).__name__}: more than one row for one value")
        if plan.converters:
            rows = list(plan.compiler.apply_converters(rows, plan.converters))
        row = rows[0]
        # As django.db.models.query.ModelIterable builds each instance.
        instance = plan.model.from_db(queryset.db, plan.init_list, row[plan.start : plan.end])
        for populator in plan.populators:
            populator.populate(row, instance)
        for name, position in plan.annotations.items():
            setattr(instance, name, row[position])
        return instance  # type: ignore[return-value]

    def _compile(self, queryset: QuerySet[M], connection: BaseDatabaseWrapper) -> _Plan:
        with self._lock:  # once per connection; a clone, as compiling sets up the query it compiles
            compiler = queryset.query.clone().get_compiler(connection=connection)
            sql, params = compiler.as_sql()
        if list(params).count(_MARKER) != 1:
            raise ValueError(f"{type(self).__name__}: the value must be exactly one of the query's parameters")
        select, klass_info = compiler.select, compiler.klass_info
        assert klass_info is not None  # a model queryset (not values()) always has one
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        plan = _Plan(
            sql=sql,
            params=tuple(params),
            position=list(params).index(_MARKER),
            compiler=compiler,
            converters=compiler.get_converters([column for column, _, _ in select]),
            model=klass_info["model"],
            init_list=[column.target.attname for column, _, _ in select[start:end]],
            start=start,
            end=end,
            populators=get_related_populators(klass_info, select, queryset.db),
            annotations=dict(compiler.annotation_col_map or {}),
        )
        with self._lock:
            self._plans[connection] = plan
        return plan
