"""Checking and storing an uploaded CSV list on PostgreSQL in a few set-based statements, never a Python loop per
row: the file is streamed into ``COPY ... FROM STDIN (FORMAT csv)`` (a temporary table of raw text, one column
per CSV column), the phones that are not plain Vietnamese mobiles (few) are checked by ``phonenumbers`` in
Python, and one ``INSERT ... SELECT`` computes each row's E.164 phone, its problems and the duplicates (a window
function) and stores the rows.

The answers are those of the Python path (``recipients.check_row`` and ``lists._mark_duplicates``), which stays
for SQLite, XLSX and the CSV files that PostgreSQL's CSV reader would read differently from Python's: a blank
line inside the file, a quote inside an unquoted cell, a line ``\\.``, rows of different lengths, a NUL byte.
For those ``check_and_store`` answers None before storing anything and the caller uses the Python path.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter

import psycopg
from django.db import connection, transaction

from broadcasts.personal import recipients
from broadcasts.personal.models import ListRow
from broadcasts.personal.rendering import VALUE_MAX
from oa_platform.phones import InvalidPhone

# Bytes per COPY write: large enough that the per-write overhead is nothing next to PostgreSQL's parsing, small
# enough that memory stays flat (one chunk in memory at a time).
COPY_CHUNK = 1 << 20
# work_mem of the statement that stores the rows (its sort by recipient finds the duplicates).
SORT_MEMORY = "256MB"
# Phones checked by phonenumbers per batch (the rows whose phone is not a plain Vietnamese mobile).
FIX_BATCH = 5000
# What Python's str.strip() removes (every character for which str.isspace() is true): btrim() gets the same
# set so a cell is trimmed exactly as the Python path trims it (a test checks the list is complete).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
BOM = codecs.BOM_UTF8
# A quoted cell (quotes inside it doubled). PostgreSQL and Python read one alike when it starts and ends a cell;
# a quote anywhere else (inside an unquoted cell, after a closing quote) they read differently.
_QUOTED = re.compile(rb'"(?:[^"]|"")*"')
_DELIMITERS = b",\r\n"
# "\." alone on a line ends COPY data: rows after it would be lost silently.
_END_MARKER = b"\\."
# What a placeholder name may be (rendering.PLACEHOLDER_RE's group): safe inside an SQL string literal.
SAFE_NAME = re.compile(r"[\w][\w \-]{0,49}")
# The three first national digits of every Vietnamese mobile number, valid or not (as recipients.VN_MOBILE_RE).
_MOBILE_PREFIXES = [f"{first}{rest:02d}" for first in "35789" for rest in range(100)]


class _UsePython(Exception):
    """PostgreSQL would read this file differently from Python's csv module: check it in Python."""


def _valid_prefixes() -> list[str]:
    """The mobile prefixes phonenumbers accepts (as recipients.phone_e164 decides them, one parse each)."""
    found = []
    for prefix in _MOBILE_PREFIXES:
        try:
            recipients.phone_e164(f"0{prefix}000000")
        except InvalidPhone:
            continue
        found.append(prefix)
    return found


def _read_header(fileobj) -> tuple[list[str], bytes]:
    """The header cells and the bytes after the header line (the first chunk of the data). Raises _UsePython
    when the header line cannot be read on its own (no newline in the first chunk, a quoted newline)."""
    first = fileobj.read(COPY_CHUNK)
    if first.startswith(BOM):
        first = first[len(BOM) :]
    end = first.find(b"\n")
    if end < 0:
        raise _UsePython
    try:
        line = first[: end + 1].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise recipients.not_utf8() from exc
    if line.count('"') % 2:  # a quoted cell going on past the first line
        raise _UsePython
    _check_quotes(first[: end + 1])
    records = list(csv.reader(io.StringIO(line, newline="")))
    if len(records) != 1:
        raise _UsePython
    return records[0], first[end + 1 :]


def _chunks(fileobj, first: bytes):
    """The data bytes in chunks, checked: valid UTF-8 (else FileRefused, naming the likely encodings), nothing
    that PostgreSQL reads differently (else _UsePython). Trailing blank lines are dropped (COPY refuses an
    empty line; the Python path skips it, and at the end of the file it numbers nothing)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    carry = b""  # the unfinished cell at the end of the previous chunk (for the quote check)
    last = b""  # the previous chunk's last byte (for the end marker check)
    held = b""  # newlines at the end of the previous chunk, written only if data follows
    chunk = first
    while chunk:
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise recipients.not_utf8() from exc
        if b"\x00" in chunk or _END_MARKER in last + chunk:
            raise _UsePython
        carry = _check_quotes(carry + chunk)
        last = chunk[-1:]
        body = chunk.rstrip(b"\r\n")
        if body:
            yield held + body
            held = chunk[len(body) :]
        else:
            held += chunk
        chunk = fileobj.read(COPY_CHUNK)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise recipients.not_utf8() from exc
    if held:  # the last line's own line ending (PostgreSQL refuses a file mixing \r\n and \n)
        yield held[:2] if held.startswith(b"\r\n") else held[:1]


def _check_quotes(seen: bytes) -> bytes:
    """Raise _UsePython if a quote of ``seen`` (which starts at the start of a cell) is not where both readers
    agree. Returns the unfinished last cell, to be checked with the next chunk (at most CSV_FIELD_MAX bytes)."""
    if b'"' not in seen:
        cut = max(seen.rfind(b","), seen.rfind(b"\n"), seen.rfind(b"\r"))
        return seen[cut + 1 :]
    end = 0
    for match in _QUOTED.finditer(seen):
        start, end = match.span()
        if start and seen[start - 1] not in _DELIMITERS:
            raise _UsePython
        if end == len(seen):  # perhaps a doubled quote cut in two by the chunk: check it with the next one
            return _carry(seen[start:])
        if seen[end] not in _DELIMITERS:
            raise _UsePython
    opening = seen.find(b'"', end)
    if opening >= 0:  # a quoted cell that goes on in the next chunk
        if opening and seen[opening - 1] not in _DELIMITERS:
            raise _UsePython
        return _carry(seen[opening:])
    cut = max(seen.rfind(b",", end), seen.rfind(b"\n", end), seen.rfind(b"\r", end))
    return seen[cut + 1 :] if cut >= 0 else seen[end:]


def _carry(cell: bytes) -> bytes:
    if len(cell) > recipients.CSV_FIELD_MAX:
        raise _UsePython  # the Python path refuses the file (a cell too long for its csv reader)
    return cell


def _trim(column: str) -> str:
    return f"coalesce(btrim({column}, %(ws)s), '')"


def check_and_store(
    *, list_id: int, fileobj, placeholders: list[str], vietnam_only: bool
) -> tuple[int, int, Counter] | None:
    """Check a CSV list and store its rows (ListRow, no channel planned yet) on PostgreSQL. Returns the number
    of rows (blank lines aside), of invalid rows, and the count per problem code, or None when the file must
    be checked by the Python path (nothing was stored). Raises recipients.FileRefused as the Python path does
    (not UTF-8, a header without a recipient column, an unknown or a missing column).

    Memory: one chunk of the file (COPY_CHUNK) and one batch of unusual phones (FIX_BATCH) at a time; the rows
    live in a temporary table dropped before returning."""
    fileobj.seek(0)
    try:
        cells, first = _read_header(fileobj)
    except _UsePython:
        return None
    header = recipients.check_header(cells, placeholders)
    width = len(cells)
    stage = f"personal_copy_{list_id}"
    columns = ", ".join(f"c{i}" for i in range(width))
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {stage} (n bigint GENERATED ALWAYS AS IDENTITY, "
                f"{', '.join(f'c{i} text' for i in range(width))}) ON COMMIT DROP"
            )
            with cursor.copy(f"COPY {stage} ({columns}) FROM STDIN (FORMAT csv)") as copy:
                for chunk in _chunks(fileobj, first):
                    copy.write(chunk)
            counts = _store(cursor, stage, list_id, header, width, placeholders, vietnam_only)
            cursor.execute(f"DROP TABLE {stage}")
    except (_UsePython, psycopg.errors.DataError):
        # ragged rows, an empty line inside the file, a NUL byte: the savepoint is rolled back, nothing stored
        return None
    return counts


def _store(cursor, stage, list_id, header, width, placeholders, vietnam_only) -> tuple[int, int, Counter]:
    # Placeholder names are written into the SQL as string literals: they are words, spaces and hyphens
    # (rendering.PLACEHOLDER_RE), never a quote or a %; refuse anything else rather than trust the caller.
    if not all(SAFE_NAME.fullmatch(name) for name in placeholders):
        raise ValueError("a placeholder name outside rendering.PLACEHOLDER_RE")
    params = {"ws": WHITESPACE, "list": list_id, "max": VALUE_MAX, "prefixes": _valid_prefixes()}
    recipient = f"c{header.index[header.recipient]}"
    is_phone = header.recipient == recipients.PHONE
    # phones that are not a plain Vietnamese mobile: landlines, foreign numbers, typos; few in a real list
    fixes = f"{stage}_phones"
    cursor.execute(f"CREATE TEMPORARY TABLE {fixes} (n bigint PRIMARY KEY, phone text) ON COMMIT DROP")
    # JIT compiling these expressions costs more than it saves (0.6 s measured on 1,000,000 rows); the duplicate
    # check sorts every row's recipient in memory (~200 MB for 1,000,000 rows) instead of spilling to disk.
    cursor.execute(f"SET LOCAL jit = off; SET LOCAL work_mem = '{SORT_MEMORY}'")
    national = (
        "CASE WHEN d LIKE '0%%' THEN substr(d, 2) WHEN d LIKE '+84%%' THEN substr(d, 4) "
        "WHEN d LIKE '84%%' THEN substr(d, 3) END"
    )
    mobile = "(length(nat) = 9 AND translate(nat, '0123456789', '') = '' AND left(nat, 1) IN ('3','5','7','8','9'))"
    # every trimmed cell once (OFFSET 0 keeps PostgreSQL from inlining the expressions into each use)
    trimmed = ", ".join(f"{_trim(f'c{i}')} AS t{i}" for i in range(width))
    cells = f"SELECT n, {trimmed}, translate({_trim(recipient)}, ' .-()', '') AS d FROM {stage} OFFSET 0"
    # a mobile number written plainly (0912345678, 84912345678, +84912345678), most rows of a list, is told
    # apart by a few cheap comparisons before the trimming and the rest of the check (half the time of the scan)
    plain = (
        f"(({recipient} LIKE '0_________' OR {recipient} LIKE '84_________' OR {recipient} LIKE '+84_________') "
        f"AND translate(substr({recipient}, 2), '0123456789', '') = '' "
        f"AND substr({recipient}, length({recipient}) - 8, 1) "
        "IN ('3','5','7','8','9'))"
    )
    raw = f"SELECT n, {_trim(recipient)} AS raw FROM {stage} WHERE NOT {plain} OFFSET 0"
    phones = f"SELECT n, raw, translate(raw, ' .-()', '') AS d FROM ({raw}) c"
    if is_phone:
        with connection.connection.cursor(name=f"{stage}_odd") as odd:
            odd.execute(
                f"SELECT n, raw FROM (SELECT n, raw, {national} AS nat FROM ({phones} OFFSET 0) p "
                f"OFFSET 0) q WHERE raw <> '' AND NOT coalesce({mobile}, false)",
                {"ws": WHITESPACE},
            )
            odd_rows = 0
            while batch := odd.fetchmany(FIX_BATCH):
                odd_rows += len(batch)
                found = []
                for n, raw in batch:
                    try:
                        found.append((n, recipients.phone_e164(raw)))
                    except InvalidPhone:
                        found.append((n, ""))
                with cursor.copy(f"COPY {fixes} (n, phone) FROM STDIN") as copy:
                    for row in found:
                        copy.write_row(row)
        cursor.execute(f"ANALYZE {fixes}")
    else:
        odd_rows = 0
    index = header.index
    values = [(name, f"t{index[name]}") for name in placeholders]
    # the row's problems in the order check_row gives them: the recipient's, then each placeholder's
    if is_phone:
        phone = (
            f"CASE WHEN raw = '' THEN '' WHEN {mobile} THEN CASE WHEN left(nat, 3) = ANY(%(prefixes)s) "
            f"THEN '+84' || nat ELSE '' END ELSE coalesce(f.phone, '') END"
        )
        recipient_problem = (
            f"CASE WHEN raw = '' THEN '{recipients.NO_RECIPIENT}' WHEN phone = '' THEN '{recipients.INVALID_PHONE}' "
            + (f"WHEN phone NOT LIKE '+84%%' THEN '{recipients.FOREIGN_PHONE}' " if vietnam_only else "")
            + "END"
        )
        ref = "''"
    else:
        phone = "''"
        recipient_problem = f"CASE WHEN raw = '' THEN '{recipients.NO_RECIPIENT}' END"
        ref = "left(raw, 128)"
    value_problems = [
        f"CASE WHEN {t} = '' THEN '{recipients.MISSING_VALUE}:{name}' "
        f"WHEN length({t}) > %(max)s THEN '{recipients.TOO_LONG}:{name}' END"
        for name, t in values
    ]
    all_values = ", ".join(f"'{name}', {t}" for name, t in values)
    good_values = ", ".join(
        f"'{name}', CASE WHEN {t} <> '' AND length({t}) <= %(max)s THEN {t} END" for name, t in values
    )
    blank = " AND ".join(f"t{i} = ''" for i in range(width))
    problems_array = f"array_remove(ARRAY[{', '.join([recipient_problem, *value_problems])}]::text[], NULL)"
    checked = (
        f"SELECT t.*, {problems_array} AS problems FROM ("
        f"SELECT c.*, {phone} AS phone, {ref} AS ref FROM ("
        f"SELECT c.*, t{recipient[1:]} AS raw, {national} AS nat FROM ({cells}) c "
        f"WHERE NOT ({blank}) OFFSET 0) c LEFT JOIN {fixes} f USING (n) OFFSET 0) t OFFSET 0"
    )
    if not odd_rows:  # the join costs 0.8 s per 1,000,000 rows even with nothing to join
        checked = checked.replace(f"LEFT JOIN {fixes} f USING (n) ", "").replace("coalesce(f.phone, '')", "''")
    key = "CASE WHEN phone <> '' THEN phone ELSE 'id:' || ref END"
    cursor.execute(
        f"""
        INSERT INTO {ListRow._meta.db_table}
            (recipient_list_id, number, phone, citizen_ref, personalisation, problems, channel, cost)
        SELECT %(list)s, n + 1, phone, ref,
            CASE WHEN cardinality(problems) = 0 THEN jsonb_build_object({all_values})
                ELSE jsonb_strip_nulls(jsonb_build_object({good_values})) END,
            CASE WHEN cardinality(problems) > 0 THEN to_jsonb(problems)
                WHEN row_number() OVER (PARTITION BY cardinality(problems) = 0, {key} COLLATE "C" ORDER BY n) > 1
                THEN '["{recipients.DUPLICATE}"]'::jsonb
                ELSE '[]'::jsonb END,
            '', 0
        FROM ({checked}) r
        """,
        params,
    )
    total = cursor.rowcount
    # the invalid rows (one scan) and the count per problem code ("" for the number of invalid rows)
    cursor.execute(
        f"""WITH bad AS (SELECT problems FROM {ListRow._meta.db_table}
                WHERE recipient_list_id = %s AND problems <> '[]'::jsonb)
            SELECT '', count(*) FROM bad
            UNION ALL SELECT split_part(p, ':', 1), count(*) FROM bad, jsonb_array_elements_text(bad.problems) p
            GROUP BY 1""",
        [list_id],
    )
    problems = Counter(dict(cursor.fetchall()))
    return total, problems.pop(""), problems
