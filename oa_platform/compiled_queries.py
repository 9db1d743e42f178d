"""Querysets compiled to SQL once per process and run again with new values (the chat's per-message reads).

Django turns a queryset into SQL on every evaluation: about 0.3 ms of CPU for a one-row lookup on the
benchmark machine, 0.6 ms with a join, several times what PostgreSQL spends answering it. The chat API runs
the same few lookups for every message, only with other values. A ``CompiledQuery`` lets the ORM build the
queryset once, with marker values, remembers where each marker landed in the parameter list, and later runs
the stored SQL with the caller's values put in those places. The rows go through the compiler's own
converters, as ``values_list()`` would, so PostgreSQL and SQLite give the same Python values.

Limits: only for querysets whose SQL does not depend on the values: equality filters on strings and integers
(``__in`` lists, ``None`` and ``__isnull`` compile to other SQL; they may appear only with constant values).
Each marker must reach the parameter list unchanged and exactly once (checked when compiling). The SQL is
kept per database alias, and models are not expected to change at run time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import NotSupportedError, connections, transaction
from django.db.models import Model, QuerySet, signals
from django.db.models.sql import InsertQuery


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: dict[str, int]  # marker name -> index in params
    compiler: Any  # the SQLCompiler that produced ``sql``: its select list gives the converters


class CompiledQuery:
    """``build(**markers)`` must return a ``values_list()`` queryset; ``rows(**values)`` runs it with ``values``.

    ``markers``: one distinctive value per argument of ``build``, of the type the real values will have
    (e.g. ``"\\x00external_id"`` for a string, ``-730_001`` for an id)."""

    def __init__(self, build: Callable[..., QuerySet], **markers: str | int):
        self._build = build
        self._markers = markers
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, using: str) -> _Compiled:
        queryset = self._build(**self._markers).using(using)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = {}
        for name, marker in self._markers.items():
            found = [i for i, p in enumerate(params) if type(p) is type(marker) and p == marker]
            if len(found) != 1:
                raise ValueError(f"marker {name!r} appears {len(found)} times in the compiled parameters")
            slots[name] = found[0]
        return _Compiled(sql=sql, params=tuple(params), slots=slots, compiler=compiler)

    def compiled(self, using: str = "default") -> _Compiled:
        compiled = self._compiled.get(using)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(using) or self._compile(using)
                self._compiled[using] = compiled
        return compiled

    def rows(self, using: str = "default", **values: str | int) -> list[tuple]:
        if values.keys() != self._markers.keys():
            raise TypeError(f"expected values for {sorted(self._markers)}, got {sorted(values)}")
        compiled = self.compiled(using)
        params = list(compiled.params)
        for name, index in compiled.slots.items():
            value = values[name]
            if type(value) is not type(self._markers[name]):
                raise TypeError(f"{name} must be {type(self._markers[name]).__name__}")
            params[index] = value
        with connections[using].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        return list(compiled.compiler.results_iter(results=[rows], tuple_expected=True))

    def first(self, using: str = "default", **values: str | int) -> tuple | None:
        rows = self.rows(using, **values)
        return rows[0] if rows else None


class CompiledInsert:
    """``model.objects.create(**values)`` with its INSERT compiled once per process (per database alias).

    The SQL is what ``Model.save()`` sends for a new row (the ORM's insert compiler builds it once, with
    ``RETURNING`` the primary key); each call prepares every field's value the same way the compiler does
    (``pre_save(add=True)`` then ``get_db_prep_save``). Falls back to ``objects.create`` while anything listens
    to the model's pre_save/post_save signals, or on a backend that cannot return the new key.
    """

    def __init__(self, model: type[Model]):
        self.model = model
        meta = model._meta
        self._fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
        self._returning = list(meta.db_returning_fields)
        self._sql: dict[str, str] = {}

    def _compile(self, using: str) -> str | None:
        connection = connections[using]
        if not connection.features.can_return_columns_from_insert:
            return None
        sample = self.model()
        query = InsertQuery(self.model)
        query.insert_values(self._fields, [sample])
        compiler = query.get_compiler(using=using)
        compiler.returning_fields = self._returning
        [(sql, params)] = compiler.as_sql()
        # Only plain SQL with one placeholder per field is reused: _params() must give what the ORM sent.
        ours = self._params(sample, connection)
        if (
            len(params) != len(ours)
            or any(type(a) is not type(b) for a, b in zip(params, ours, strict=True))
            or sql.count("%s") != len(ours)
            or list(compiler.returning_params)
        ):
            return None
        return sql

    def _params(self, obj: Model, connection) -> list:
        return [field.get_db_prep_save(field.pre_save(obj, True), connection=connection) for field in self._fields]

    def _sql_for(self, using: str) -> str | None:
        if using not in self._sql:
            self._sql[using] = self._compile(using)
        return self._sql[using]

    def _listened(self) -> bool:
        return signals.pre_save.has_listeners(self.model) or signals.post_save.has_listeners(self.model)

    def create(self, using: str = "default", **values) -> Model:
        return self.insert(self.model(**values), using)

    def insert(self, obj: Model, using: str = "default") -> Model:
        """Insert the new instance ``obj`` (as ``obj.save(force_insert=True)`` would) and return it."""
        sql = None if self._listened() else self._sql_for(using)
        if sql is None:
            obj.save(using=using, force_insert=True)
            return obj
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(sql, self._params(obj, connection))
            returned = cursor.fetchone()
        return self.stored(obj, returned, using)

    def stored(self, obj: Model, returned, using: str = "default") -> Model:
        """Mark ``obj`` saved with the values ``RETURNING`` gave (its primary key)."""
        for field, value in zip(self._returning, returned, strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = using
        return obj

    def statement(self, obj: Model, using: str = "default", *, exprs: dict[str, str] | None = None) -> tuple[str, list]:
        """The INSERT of the new instance ``obj`` as (sql, params), to run inside a larger statement (a
        PostgreSQL ``WITH`` of several writes: one round trip, atomic without BEGIN/COMMIT). It returns the
        primary key (give it to ``stored``).

        ``exprs``: field attname -> SQL used instead of that field's value, e.g. ``"(SELECT id FROM inbound)"``
        for a key another part of the statement returns: trusted SQL written in the code, never input, and
        without "%". Raises NotSupportedError where ``insert`` would not use the compiled SQL (signal
        listeners, a backend that cannot return the key): run it alone then."""
        sql = None if self._listened() else self._sql_for(using)
        if sql is None:
            raise NotSupportedError(f"{self.model.__name__}: no compiled INSERT to compose")
        params = self._params(obj, connections[using])
        exprs = exprs or {}
        unknown = set(exprs) - {field.attname for field in self._fields}
        if unknown:
            raise ValueError(f"not insertable fields of {self.model.__name__}: {sorted(unknown)}")
        if any("%" in expr for expr in exprs.values()):  # would shift the placeholders that follow it
            raise ValueError("exprs are trusted SQL without '%'")
        if not exprs:
            return sql, params
        # _compile() checked that VALUES holds exactly one placeholder per field, in field order.
        head, values_keyword, tail = sql.partition(" VALUES (")
        pieces = tail.split("%s")
        parts, kept = [pieces[0]], []
        for field, value, piece in zip(self._fields, params, pieces[1:], strict=True):
            if field.attname in exprs:
                parts.append(exprs[field.attname])
            else:
                parts.append("%s")
                kept.append(value)
            parts.append(piece)
        return head + values_keyword + "".join(parts), kept


def writes_together(
    parts: list[tuple[str, tuple[str, list]]], select: str, using: str = "default", *, savepoint: bool = True
) -> tuple:
    """Run several writes as one PostgreSQL statement, ``WITH name AS (sql), ... SELECT select``, and return
    its row. One round trip, and atomic without BEGIN/COMMIT. Inside a caller's transaction it runs in a
    savepoint, so that a failure (e.g. a unique constraint) rolls back this statement only; ``savepoint=False``
    when the caller's block rolls back as a whole on any failure anyway (saves two round trips).

    ``parts``: (name, (sql, params)) in order; later parts and ``select`` may read earlier parts' RETURNING
    rows, e.g. ``(SELECT id FROM inbound)``."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise NotSupportedError("data-modifying WITH needs PostgreSQL")
    sql = "WITH " + ", ".join(f"{name} AS ({statement[0]})" for name, statement in parts) + f" SELECT {select}"
    params = [param for _name, statement in parts for param in statement[1]]
    with transaction.atomic(using=using) if savepoint and connection.in_atomic_block else nullcontext():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
