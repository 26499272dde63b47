"""Inserting many rows fast: PostgreSQL's COPY instead of one huge INSERT (the batch paths).

``bulk_create`` builds one INSERT with a placeholder per field and row: for the hundreds of
thousands of rows of a province's import its Python costs more than the database's work.
``copy_create(model, objs)`` takes the ids from the table's sequence in one query, sets them on
the objects and streams the rows with COPY (the database checks every constraint and fires
every trigger as for an INSERT). Elsewhere than PostgreSQL, or for a few rows, it is
``bulk_create``. The objects come back saved, with their ids, as from ``bulk_create``.

Must run inside the caller's transaction (the ids are taken, then used, in it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)
COPY_ABOVE = 200  # rows; below this bulk_create is as fast


# Fields whose Python value psycopg sends as it is (what get_db_prep_save would return, at a
# tenth of the cost per value): numbers, text, booleans, dates, aware datetimes, foreign ids.
_AS_IS = (
    models.AutoField,
    models.BigAutoField,
    models.IntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
    models.SmallIntegerField,
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.DateField,  # DateTimeField too (a subclass); values are aware (USE_TZ)
    models.ForeignKey,
)


def preparer(field: models.Field[Any, Any]) -> Any:
    """A function from an attribute's value to what the database is sent (PostgreSQL: as it
    is for the plain fields; elsewhere always Django's own preparation)."""
    if connection.vendor != "postgresql":
        return lambda v: field.get_db_prep_save(v, connection)
    if isinstance(field, models.ForeignKey):
        target = field.target_field
        if isinstance(target, _AS_IS) and not isinstance(target, models.ForeignKey):
            return lambda v: v
    elif isinstance(field, _AS_IS) and type(field).get_db_prep_save in _PLAIN_PREP:
        return lambda v: v
    return lambda v: field.get_db_prep_save(v, connection)


_PLAIN_PREP = {
    models.Field.get_db_prep_save,
}


def prepared_rows(objs: Sequence[Any], fields: Sequence[models.Field[Any, Any]]) -> list[list[Any]]:
    """Each object's values of ``fields``, as the database is sent them."""
    pairs = [(f.attname, preparer(f)) for f in fields]
    return [[prep(getattr(obj, name)) for name, prep in pairs] for obj in objs]


def uses_copy(n: int) -> bool:
    return connection.vendor == "postgresql" and n > COPY_ABOVE


def copy_create(model: type[M], objs: Sequence[M], *, with_ids: bool = True) -> Sequence[M]:
    """Insert ``objs`` (unsaved, no pk) and give them their ids; see the module docstring.

    ``with_ids=False``: the table gives the ids itself (a trigger numbers the rows), the
    objects' ids are then read back in insertion order (the caller holds the lock that keeps
    other writers out, e.g. the audit chain lock).
    """
    if not objs:
        return objs
    if not uses_copy(len(objs)):
        return model.objects.bulk_create(objs)  # type: ignore[attr-defined, no-any-return]
    if not connection.in_atomic_block:
        raise RuntimeError("copy_create must run inside the caller's transaction")
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = [f for f in meta.concrete_fields if with_ids or f is not pk]
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cur:
        if with_ids:
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, pk.column, len(objs)],
            )
            for obj, (new_id,) in zip(objs, cur.fetchall(), strict=True):
                obj.pk = new_id
        for obj in objs:  # what bulk_create does before saving: defaults, auto_now fields
            for f in fields:
                if f is not pk:
                    f.pre_save(obj, add=True)
        raw: Any = cur.cursor  # psycopg's cursor (errors as Django's: IntegrityError …)
        with (
            connection.wrap_database_errors,
            raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in prepared_rows(objs, fields):
                copy.write_row(row)
        if not with_ids:
            cur.execute(
                f"SELECT {connection.ops.quote_name(pk.column)} FROM {table} "
                f"ORDER BY {connection.ops.quote_name(pk.column)} DESC LIMIT %s",
                [len(objs)],
            )
            ids = [row[0] for row in cur.fetchall()][::-1]
            for obj, new_id in zip(objs, ids, strict=True):
                obj.pk = new_id
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs
