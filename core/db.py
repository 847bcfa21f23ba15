"""Connections the request path reuses: the database's (handed back during long waits)
and the cache's redis-py client."""

import functools
import uuid
from collections.abc import Callable, Hashable
from datetime import datetime

from django.core.cache import DEFAULT_CACHE_ALIAS, BaseCache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import Field, Model, QuerySet, signals
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute


def release_connection() -> None:
    """Hand the database connection back (to the pool, on PostgreSQL) before a long wait
    on the network, such as a model call; the next query takes one again. Inside a
    transaction the connection is kept: closing it would end the transaction."""
    if not connection.in_atomic_block:
        connection.close()


def reconnect() -> None:
    """After the database dropped this thread's connection (a restart, a failover, an
    administrator's terminate): hand it back and have the pool test the idle ones, so
    the next query gets a live connection rather than another dead one from the pool."""
    connection.close()
    pool = getattr(connection, "pool", None)  # PostgreSQL with a pool; None elsewhere
    if pool is not None:
        pool.check()


def cache_backend() -> BaseCache:
    """The default cache itself (`django.core.cache.cache` is a proxy to it)."""
    return caches[DEFAULT_CACHE_ALIAS]


def redis_client(backend: BaseCache) -> object | None:
    """A redis-py client on the cache's connection pool when the cache is Redis, else
    None. Django's RedisCache builds a new client for every call, and redis-py's
    constructor copies its table of reply callbacks (about 0.1 ms, a tenth of a bare
    request); the API's own round trips (rate limit, webhook-endpoint check) reuse one
    per backend instead. Django keeps a backend per thread, so it is never shared."""
    if not isinstance(backend, RedisCache):
        return None
    client = backend.__dict__.get("_reused_client")
    if client is None:
        client = backend.__dict__["_reused_client"] = backend._cache.get_client(write=True)
    return client


# --- Statements built once per process ---------------------------------------------------
# On the API's hot path Django's ORM spent longer compiling the same few statements than
# PostgreSQL spent running them. These two helpers build a statement's SQL once and then
# only bind values, with the fields' own conversions, as the ORM would.


# Fields of exactly these classes hand PostgreSQL a value of these types unchanged: their
# get_db_prep_save (some nine calls a field) is skipped for such values and for None.
_AS_IS = {
    models.CharField: (str,),
    models.TextField: (str,),
    models.UUIDField: (uuid.UUID,),
    models.BooleanField: (bool,),
}  # not integers: Django's backend binds them typed (Int2, Int4, ...)


def _unchanged(field: Field, alias: str) -> tuple[type, ...]:
    """The types `field` passes to the database as they are; () when none is known to."""
    if connections[alias].vendor != "postgresql":
        return ()
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    return _AS_IS.get(type(field), ())


def _prepared(instance: Model, field: Field, kinds: tuple[type, ...], target: object) -> object:
    value = field.pre_save(instance, True)
    if value is None or type(value) in kinds:
        return value
    return field.get_db_prep_save(value, target)


@functools.cache
def _insert_sql(
    model: type[Model], alias: str
) -> tuple[str, tuple[tuple[Field, tuple], ...], bool]:
    fields = tuple(f for f in model._meta.concrete_fields if not (f.primary_key and f.db_returning))
    generated = model._meta.pk.db_returning  # an auto-increment key comes back
    quote = connections[alias].ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608 - names from the model
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if generated:
        sql += f" RETURNING {quote(model._meta.pk.column)}"
    return sql, tuple((f, _unchanged(f, alias)) for f in fields), generated


def insert_row(instance: Model, using: str = DEFAULT_DB_ALIAS) -> Model:
    """INSERT of one new row, as `instance.save()` does it (each field's pre_save, such as
    auto_now_add, and its conversion for the database), from SQL built once per model.
    Sends no model signals: for models nothing subscribes to."""
    write_together([insert_statement(instance, using)], using)
    return instance


class Statement:
    """One write for `write_together`: SQL, its parameters, and, for an INSERT whose key
    the database generates, the instance that receives it."""

    __slots__ = ("params", "receiver", "sql")

    def __init__(self, sql: str, params: list, receiver: Model | None = None) -> None:
        self.sql, self.params, self.receiver = sql, params, receiver


def insert_statement(instance: Model, using: str = DEFAULT_DB_ALIAS) -> Statement:
    """The INSERT `insert_row` sends, for `write_together`. Runs the fields' pre_save
    now: auto_now_add times are set on the instance as this returns (and the instance
    counts as stored once the write is done)."""
    sql, fields, generated = _insert_sql(type(instance), using)
    target = connections[using]
    values = [_prepared(instance, f, kinds, target) for f, kinds in fields]
    instance._state.adding, instance._state.db = False, using
    return Statement(sql, values, instance if generated else None)


def writes_are_one_statement(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether `write_together` sends its writes as one statement, all or none even
    outside a transaction (PostgreSQL)."""
    return connections[using].vendor == "postgresql"


def write_together(statements: list[Statement], using: str = DEFAULT_DB_ALIAS) -> None:
    """Sends the writes in order; on PostgreSQL as one statement (each a data-modifying
    WITH query: one round trip instead of one each, and all or none), elsewhere one
    after the other. The writes must not need to see each other's rows (PostgreSQL runs
    them on one snapshot); foreign keys are checked at commit, as Django declares them."""
    target = connections[using]
    with target.cursor() as cursor:
        if not writes_are_one_statement(using) or len(statements) == 1:
            for statement in statements:
                cursor.execute(statement.sql, statement.params)
                if statement.receiver is not None:
                    statement.receiver.pk = cursor.fetchone()[0]
            return
        parts = [f"w{i} AS ({s.sql})" for i, s in enumerate(statements)]
        # Only numbered names and the statements' own SQL go into the text.
        keys = [f"(SELECT * FROM w{i})" for i, s in enumerate(statements) if s.receiver]  # noqa: S608
        sql = f"WITH {', '.join(parts)} SELECT {', '.join(keys) or '1'}"
        cursor.execute(sql, [param for s in statements for param in s.params])
        row = cursor.fetchone()
    for key, statement in zip(row, (s for s in statements if s.receiver), strict=False):
        statement.receiver.pk = key


def write_if(guard: Statement, statements: list[Statement], using: str = DEFAULT_DB_ALIAS) -> bool:
    """PostgreSQL only (see `writes_are_one_statement`): `guard`, a statement that yields
    at most one row (an UPDATE ... RETURNING, say), and the INSERTs of `statements`,
    which are written only if it yields one; all in one statement, so a write that first
    had to look its parent row up costs one round trip, not two. Returns whether the
    guard's row was there (when it was not, nothing was written)."""
    inserts = [f"w{i} AS ({_from_guard(s.sql)})" for i, s in enumerate(statements)]
    # Only numbered names and the statements' own SQL go into the text.
    keys = [f"(SELECT * FROM w{i})" for i, s in enumerate(statements) if s.receiver]  # noqa: S608
    written = ", ".join(inserts)
    sql = f"WITH g AS ({guard.sql}), {written} SELECT (SELECT count(*) FROM g)"  # noqa: S608
    sql = ", ".join([sql, *keys])
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [*guard.params, *(p for s in statements for p in s.params)])
        matched, *row = cursor.fetchone()
    if not matched:
        return False
    for key, statement in zip(row, (s for s in statements if s.receiver), strict=True):
        statement.receiver.pk = key
    return True


def _from_guard(sql: str) -> str:
    """`INSERT INTO t (a, b) VALUES (%s, %s) [RETURNING ...]` as the INSERT of one row
    per row of the guard `g`: `INSERT INTO t (a, b) SELECT %s, %s FROM g [RETURNING ...]`
    (PostgreSQL types the values by their columns, as it does VALUES')."""
    head, found, rest = sql.partition(" VALUES (")
    values, closed, tail = rest.partition(")")
    if not (head.startswith("INSERT INTO ") and found and closed and "(" not in values):
        raise ValueError(f"Not an INSERT of one row of parameters: {sql}")
    return f"{head} SELECT {values} FROM g{tail}"  # noqa: S608 - the statement's own text


class Prepared:
    """A queryset of one shape compiled to SQL once; each call binds new values.

    `build(**samples, **shape)` gives the queryset: a call's values for `sample` names
    take the samples' places among the compiled parameters, so each sample must be
    distinct (a fresh UUID, an unlikely number) and appear in the query as given. The
    sample names a call leaves out are left out of `build`'s call too (optional filters),
    and any other keyword is part of the query's shape (a page size, which Django writes
    into the SQL): each combination is compiled once. No
    select_related: rows become instances of the queryset's model with the columns it
    selects, through the fields' converters, as the ORM's own iteration makes them, and
    its annotations as attributes."""

    def __init__(self, build: Callable[..., QuerySet], **sample: object) -> None:
        self._build, self._sample = build, sample
        self._compiled: dict[tuple, tuple] = {}

    def _compile(self, using: str, key: tuple, bound: frozenset, shape: dict) -> tuple:
        sample = {name: value for name, value in self._sample.items() if name in bound}
        queryset = self._build(**sample, **shape).using(using)
        compiler = queryset.query.get_compiler(using)
        sql, params = compiler.as_sql()
        klass_info = compiler.klass_info
        if klass_info is None or klass_info.get("related_klass_infos"):
            raise TypeError("Prepared takes a plain queryset of one model")
        names = {}
        for name, value in sample.items():
            names[value] = names[_db_value(value, using)] = name
        slots = [names.get(p) if isinstance(p, Hashable) else None for p in params]
        if set(sample) - set(slots):
            raise ValueError(f"Sample values not found among the parameters: {params}")
        selected = [compiler.select[i][0] for i in klass_info["select_fields"]]
        converters = compiler.get_converters([col for col, _, _ in compiler.select])
        attnames = [col.target.attname for col in selected]
        make = _plain_maker(queryset.model, attnames) or functools.partial(
            queryset.model.from_db, field_names=attnames
        )
        annotations = tuple(compiler.annotation_col_map.items())
        self._compiled[key] = compiled = (
            sql,
            params,
            slots,
            make,
            compiler,
            converters,
            annotations,
        )
        return compiled

    def __call__(self, using: str = DEFAULT_DB_ALIAS, **values: object) -> list[Model]:
        bound = frozenset(name for name in values if name in self._sample)
        shape = {k: v for k, v in values.items() if k not in self._sample}
        key = (using, bound, *sorted(shape.items()))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compile(using, key, bound, shape)
        sql, params, slots, make, compiler, converters, annotations = compiled
        arguments = [
            param if slot is None else _db_value(values[slot], using)
            for param, slot in zip(params, slots, strict=True)
        ]
        with connections[using].cursor() as cursor:
            cursor.execute(sql, arguments)
            rows = cursor.fetchall()
        if converters:
            rows = compiler.apply_converters(rows, converters)
        if not annotations:
            return [make(using, values=row) for row in rows]
        made = []
        for row in rows:  # annotations become attributes, as the ORM sets them
            instance = make(using, values=row)
            instance.__dict__.update((name, row[at]) for name, at in annotations)
            made.append(instance)
        return made


def _plain_maker(model: type[Model], attnames: list[str]) -> Callable[..., Model] | None:
    """Rows of `attnames` made into instances of `model` as Model.from_db makes them,
    without the call per field that Model.__init__ spends: the values go into the
    instance's __dict__, where __init__ would put them (columns left out stay deferred
    and load on access, as the ORM's). Only for a model whose construction has nothing
    more to it: no from_db or __init__ of its own, no pre_init or post_init receivers,
    fields behind Django's plain attribute descriptors (as the statement is built). None
    otherwise."""
    if model.from_db.__func__ is not Model.from_db.__func__ or model.__init__ is not Model.__init__:
        return None
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        return None
    if any(type(model.__dict__.get(name)) not in _PLAIN for name in attnames):
        return None
    new, state = model.__new__, ModelState

    def make(using: str, values: tuple) -> Model:
        instance = new(model)
        instance.__dict__.update(zip(attnames, values, strict=False))  # past: extra columns
        instance._state = state()
        instance._state.adding, instance._state.db = False, using
        return instance

    return make


_PLAIN = (DeferredAttribute, ForeignKeyDeferredAttribute)


def _db_value(value: object, using: str) -> object:
    if isinstance(value, uuid.UUID) and connections[using].vendor == "sqlite":
        return value.hex  # SQLite keeps UUIDs as char(32)
    if isinstance(value, datetime):  # as a DateTimeField's lookups bind it (text on SQLite)
        return connections[using].ops.adapt_datetimefield_value(value)
    return value
