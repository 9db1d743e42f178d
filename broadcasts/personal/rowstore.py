"""Where a recipient list's rows live. On PostgreSQL ``personal_listrow`` is partitioned by list: each list gets a
table of its own when it is created (``create``, called by ``RecipientList.save``), attached to the parent so
that the ORM reads every list through ``ListRow`` (PostgreSQL prunes to the one list a query names). A list's file
is COPYed straight into its table (``copy_check``): the table's own defaults give each row its list and its row
number, and it has no index while the rows go in (``index_create`` adds one afterwards). The purge empties and
drops the tables of lists past their retention or deleted (``drop``). Elsewhere (SQLite) there is one plain
table and these functions do nothing.
"""

from __future__ import annotations

from django.db import connection as default_connection
from django.db import transaction
from django.db.utils import OperationalError

PARENT = "personal_listrow"
# The first data row of a file is row 2 (the header is row 1), as the spreadsheet numbers it.
FIRST_ROW = 2
# Waited for at most this long by ``drop`` (dropping a partition locks the parent table for a moment): a busy
# parent is tried again at the next purge rather than queueing every reader of the rows behind the drop.
DROP_LOCK_TIMEOUT = "1s"


def name(list_id: int) -> str:
    return f"{PARENT}_{int(list_id)}"


def partitioned(connection=default_connection) -> bool:
    return connection.vendor == "postgresql"


def create(list_id: int, *, connection=default_connection) -> None:
    """The table of a new list's rows, attached to the parent (ATTACH takes a lock that readers and writers of
    the other lists' rows never wait for; two lists created at once attach one after the other)."""
    if not partitioned(connection):
        return
    table, list_id = name(list_id), int(list_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {table} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS);"
            # one sequence per list numbers its rows in file order (cached: one COPY takes them all)
            f"CREATE SEQUENCE {table}_number START {FIRST_ROW} CACHE 100000 OWNED BY {table}.number;"
            f"ALTER TABLE {table} ALTER recipient_list_id SET DEFAULT {list_id},"
            f" ALTER number SET DEFAULT nextval('{table}_number');"
            f"ALTER TABLE {PARENT} ATTACH PARTITION {table} FOR VALUES IN ({list_id})"
        )


def index_create(list_id: int) -> None:
    """Index a list's rows by number once they are stored (lookups and ordered reads of one list)."""
    if partitioned():
        with default_connection.cursor() as cursor:
            cursor.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {name(list_id)}_pk ON {name(list_id)} (number)")


def lists_stored() -> list[int]:
    """The ids of the lists whose rows have a table."""
    if not partitioned():
        return []
    with default_connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [PARENT],
        )
        return [int(relname.rsplit("_", 1)[1]) for (relname,) in cursor.fetchall()]


def drop(list_id: int) -> bool:
    """Empty a list's rows table at once (TRUNCATE locks that table only), then drop it if the parent can be
    locked within DROP_LOCK_TIMEOUT. Returns whether it was dropped (else the purge tries again next time;
    the rows are gone either way)."""
    table = name(list_id)
    with default_connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
        try:
            with transaction.atomic():
                cursor.execute(f"SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'")
                cursor.execute(f"DROP TABLE {table}")
        except OperationalError:
            return False
    return True
