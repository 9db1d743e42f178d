"""Checking and storing an uploaded CSV list on PostgreSQL at the speed of COPY: the file is streamed by
``COPY ... FROM STDIN (FORMAT csv)`` straight into the list's own rows table (``rowstore``), in the file's shape,
while this process checks the same bytes as they go by, a block at a time (the two run at once, on two cores).

Most rows of a list are plain (a Vietnamese mobile number as usually written, every value present, short and
not padded): one regular expression over a block tells them apart and gives their recipients, whose repeats a set
finds. The other rows (padded, quoted, invalid, repeated) are checked one by one by ``recipients.check_row``, as
the Python path does; only those whose stored cells differ from what the check says (a problem, a duplicate, a
phone or value to normalise) are rewritten afterwards, with one UPDATE. Rows of empty cells are deleted.

The answers are those of the Python path (``recipients.check_row`` and ``lists._mark_duplicates``), which stays
for SQLite, XLSX and the CSV files that PostgreSQL's CSV reader would read differently from Python's: a blank
line inside the file, a quote inside an unquoted cell, a line ``\\.``, rows of different lengths, a NUL byte, a
byte that is not UTF-8. For those ``check_and_store`` rolls back what it stored and answers None, and the caller uses
the Python path.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import operator
import re
import tempfile
from collections import Counter

import psycopg
from django.db import connection, transaction
from psycopg.copy import QueuedLibpqWriter

from broadcasts.personal import recipients, rowstore
from broadcasts.personal.models import DROP_SEPARATORS, PHONE_SEPARATORS, VALUE_COLUMNS, to_e164
from broadcasts.personal.rendering import VALUE_MAX
from oa_platform.phones import InvalidPhone

# Bytes per COPY write: large enough that the per-write overhead is nothing next to PostgreSQL's parsing, small
# enough that memory stays flat (one chunk in memory at a time).
COPY_CHUNK = 1 << 20
# Rewritten rows held in memory before they go to a temporary file (a file of odd rows stays flat too).
FIXES_IN_MEMORY = 8 << 20
# What Python's str.strip() removes (every character for which str.isspace() is true): a plain cell starts and
# ends with none of them, so it is stored as the Python path would store it (a test checks the list is complete).
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
# The three first national digits of every Vietnamese mobile number, valid or not (as recipients.VN_MOBILE_RE).
_MOBILE_PREFIXES = [f"{first}{rest:02d}" for first in "35789" for rest in range(100)]
# The longest citizen id kept (recipients.check_row keeps its first 128 characters).
REF_MAX = 128
# A Vietnamese mobile number without separators (recipients.VN_MOBILE_RE): its nine national digits, one a line.
_NATIONAL = re.compile(b"^" + recipients.VN_MOBILE.encode() + b"$", re.MULTILINE)
# The first three digits of a national number (a key of a phone list).
_PREFIX = operator.itemgetter(slice(0, 3))


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
    """The data bytes in chunks, checked for anything that PostgreSQL reads differently (else _UsePython).
    Trailing blank lines are dropped (COPY refuses an empty line; the Python path skips it, and at the end of the
    file it numbers nothing). UTF-8 is checked by COPY itself (a file in another encoding fails it and goes to
    the Python path, which names the likely encodings)."""
    carry = b""  # the unfinished cell at the end of the previous chunk (for the quote check)
    last = b""  # the previous chunk's last byte (for the end marker check)
    held = b""  # newlines at the end of the previous chunk, written only if data follows
    chunk = first
    while chunk:
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


def _any_of(chars: str) -> list[bytes]:
    """Regular expressions (bytes) matching one of ``chars`` in UTF-8, one per encoded length (a look-behind
    needs alternatives of one width)."""
    by_width: dict[int, list[bytes]] = {}
    for char in chars:
        encoded = char.encode()
        by_width.setdefault(len(encoded), []).append(re.escape(encoded))
    return [b"|".join(alternatives) for _width, alternatives in sorted(by_width.items())]


def _plain_cell(longest: int) -> bytes:
    """A cell stored as written: 1 to ``longest`` bytes (so at most as many characters), no quote, not starting
    or ending with what str.strip() removes."""
    spaces = _any_of(WHITESPACE)
    ahead = b"(?!" + b"|".join(spaces) + b")"
    behind = b"".join(b"(?<!" + alternatives + b")" for alternatives in spaces)
    return ahead + b'[^,"\\r\\n]{1,%d}' % longest + behind


def _line_pattern(header: recipients.Header, width: int, *, spaced: bool = False) -> re.Pattern:
    """A plain line (see the module): its recipient captured, as the duplicate key. A Vietnamese mobile number
    written 0912345678, 84912345678 or +84912345678 (recipients.VN_MOBILE_RE): its nine national digits (whose
    first three the caller checks against the valid prefixes: an alternation of them here costs more than the
    rest of the line); a citizen id: the cell. ``spaced``: a phone whose digits may be parted by one separator
    (0912 345 678, 0912.345.678), captured whole (the caller drops the separators and checks the rest)."""
    cells = []
    for position in range(width):
        if position != header.index[header.recipient]:
            cells.append(_plain_cell(VALUE_MAX))
        elif header.recipient == recipients.PHONE and spaced:
            cells.append(b"(\\+?[0-9](?:[0-9]|[" + re.escape(PHONE_SEPARATORS.encode()) + b"](?=[0-9])){8,16})")
        elif header.recipient == recipients.PHONE:
            cells.append(recipients.VN_MOBILE.encode())
        else:
            cells.append(b"(" + _plain_cell(REF_MAX) + b")")
    return re.compile(b"^" + b",".join(cells) + b"\\r?$", re.MULTILINE)


def _copy_text(value) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class _Checker:
    """Checks the data bytes of a CSV list as they are COPYed (``feed`` each chunk, then ``finish``): the
    number of rows, the invalid ones and their problems, and the rows to rewrite once stored (``fixes``, in
    COPY text format: number, phone, citizen id, problems, the values) or to delete (``blank``). Memory: the
    block being read, the recipients seen (for duplicates) and FIXES_IN_MEMORY of rewritten rows."""

    def __init__(self, header: recipients.Header, width: int, placeholders: list[str], *, vietnam_only: bool):
        self.header, self.width, self.placeholders, self.vietnam_only = header, width, placeholders, vietnam_only
        self.line = _line_pattern(header, width)
        self.spaced = _line_pattern(header, width, spaced=True) if header.recipient == recipients.PHONE else None
        # the keys of a phone list whose first three digits are a valid prefix (any key of a citizen id list)
        self.valid = (
            {prefix.encode() for prefix in _valid_prefixes()}.issuperset
            if header.recipient == recipients.PHONE
            else lambda _prefixes: True
        )
        self.recipient = header.index[header.recipient]
        self.value_at = [header.index[name] for name in placeholders]
        self.seen: set[bytes] = set()
        self.number = rowstore.FIRST_ROW  # of the next row
        self.total = self.invalid = 0
        self.problems: Counter[str] = Counter()
        self.fixes = tempfile.SpooledTemporaryFile(max_size=FIXES_IN_MEMORY, mode="w+", encoding="utf-8")
        self.fixed = 0
        self.blank: list[int] = []
        self.pending = b""

    def feed(self, chunk: bytes) -> None:
        data = self.pending + chunk
        cut = _record_end(data)
        self.pending = data[cut:]
        if cut:
            self._block(data[:cut])

    def finish(self) -> None:
        if self.pending:
            self._block(self.pending)
        self.fixes.seek(0)

    def _block(self, block: bytes) -> None:
        if b'"' in block:
            try:
                text = block.decode()
            except UnicodeDecodeError as exc:
                raise recipients.not_utf8() from exc
            try:
                for cells in csv.reader(io.StringIO(text, newline="")):
                    if not self._take(self._plain_key(cells)):
                        self._row(cells)
            except csv.Error as exc:  # a cell too long for the csv module: the Python path refuses the file
                raise _UsePython from exc
            return
        keys = self.line.findall(block)
        lines = block.count(b"\n") + (not block.endswith(b"\n"))
        if len(keys) != lines and self.spaced is not None:  # phones written with spaces, dots or hyphens?
            keys = self._spaced_keys(block, lines)
        if len(keys) == lines:
            new = set(keys)
            # every line plain, every recipient new and, for phones, every prefix valid
            if len(new) == lines and self.seen.isdisjoint(new) and self.valid(map(_PREFIX, new)):
                self.seen |= new
                self.number += lines
                self.total += lines
                return
        for line in block.split(b"\n")[:lines]:
            match = self.line.match(line)
            if self._take(match and match.group(1)):
                continue
            try:
                text = line.removesuffix(b"\r").decode()
            except UnicodeDecodeError as exc:
                raise recipients.not_utf8() from exc
            self._row(text.split(",") if text else [])

    def _take(self, key: bytes | None) -> bool:
        """Count a plain row whose recipient is ``key`` (None: the row is not plain) when that recipient is new and,
        for a phone, of a valid prefix. False: the row is to be checked by ``_row``."""
        if key is None or key in self.seen or not self.valid((_PREFIX(key),)):
            return False
        self.seen.add(key)
        self.number += 1
        self.total += 1
        return True

    def _spaced_keys(self, block: bytes, lines: int) -> list[bytes]:
        """The national numbers of a block whose every line is plain but for separators in its phone (stored as
        written: readers drop them); fewer keys than lines when that is not so."""
        phones = self.spaced.findall(block)
        if len(phones) != lines:
            return phones
        return _NATIONAL.findall(b"\n".join(phones).translate(None, PHONE_SEPARATORS.encode()))

    def _plain_key(self, cells: list[str]) -> bytes | None:
        """The recipient of a row read by the csv module (a block with quoted cells) when the row is plain but
        for its quotes (see the module), else None."""
        if len(cells) != self.width:
            return None
        for at in self.value_at:
            value = cells[at]
            if not value or len(value) > VALUE_MAX or value != value.strip():
                return None
        recipient = cells[self.recipient]
        if recipient != recipient.strip():
            return None
        if self.header.recipient != recipients.PHONE:
            return recipient.encode() if recipient and len(recipient) <= REF_MAX else None
        match = recipients.VN_MOBILE_RE.match(recipient.translate(DROP_SEPARATORS))
        return None if match is None else match.group(1).encode()

    def _row(self, cells: list[str]) -> None:
        """A row that is not plain: checked as the Python path checks it."""
        number = self.number
        self.number += 1
        if len(cells) != self.width:
            raise _UsePython  # an empty line inside the file, or a row of another length: COPY refuses it
        if not any(cell.strip() for cell in cells):
            self.blank.append(number)  # skipped, as the Python path skips it (its number stays taken)
            return
        row = recipients.check_row(
            cells, self.header, placeholders=self.placeholders, vietnam_only=self.vietnam_only, seen=None
        )
        self.total += 1
        key = (row.phone.removeprefix("+84") or row.citizen_ref).encode()
        if not row.problems:
            if key in self.seen:
                row.problems.append(recipients.DUPLICATE)
            else:
                self.seen.add(key)
        if row.problems:
            self.invalid += 1
            self.problems.update(problem.split(":")[0] for problem in row.problems)
        values = [row.values.get(name) for name in self.placeholders]
        stored = cells[self.recipient]
        as_stored = (
            to_e164(stored) == row.phone if self.header.recipient == recipients.PHONE else stored == row.citizen_ref
        ) and all(cells[at] == value for at, value in zip(self.value_at, values, strict=True))
        if row.problems or not as_stored:
            fields = [number, row.phone, row.citizen_ref, json.dumps(row.problems) if row.problems else None, *values]
            self.fixes.write("\t".join(_copy_text(field) for field in fields) + "\n")
            self.fixed += 1


def _record_end(data: bytes) -> int:
    """Where the last complete row of ``data`` (which starts at the start of a row) ends: after its newline,
    outside a quoted cell. 0: none yet."""
    end = data.rfind(b"\n")
    if b'"' in data:
        while end >= 0 and data.count(b'"', 0, end) % 2:
            end = data.rfind(b"\n", 0, end)
    return end + 1


def check_and_store(
    *, list_id: int, fileobj, placeholders: list[str], vietnam_only: bool
) -> tuple[int, int, Counter] | None:
    """Check a CSV list and store its rows (ListRow, no channel planned yet, no index yet) on PostgreSQL. Returns
    the number of rows (blank lines aside), of invalid rows, and the count per problem code, or None when the file
    must be checked by the Python path (nothing stays stored). Raises recipients.FileRefused as the Python path does
    (a header without a recipient column, an unknown or a missing column; a block that is not UTF-8).

    Memory: one chunk of the file (COPY_CHUNK) at a time, the recipients seen and FIXES_IN_MEMORY of rows to
    rewrite (the rest in a temporary file)."""
    fileobj.seek(0)
    try:
        cells, first = _read_header(fileobj)
    except _UsePython:
        return None
    header = recipients.check_header(cells, placeholders)
    width = len(cells)
    if width != len(header.index) or len(header.index) != len(placeholders) + 1:
        return None  # empty header cells, or both a phone and a citizen_id column: the Python path
    # each column of the file goes into its column of the list's table: the recipient, or its placeholder's
    targets = {header.recipient: header.recipient if header.recipient == recipients.PHONE else "citizen_ref"}
    targets |= dict(zip(placeholders, VALUE_COLUMNS, strict=False))
    columns = ", ".join(targets[name] for name, _position in sorted(header.index.items(), key=lambda kv: kv[1]))
    table = rowstore.name(list_id)
    checker = _Checker(header, width, placeholders, vietnam_only=vietnam_only)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # an empty recipient cell is '' (NOT NULL column), as the Python path stores it
            copy_sql = f"COPY {table} ({columns}) FROM STDIN (FORMAT csv, FORCE_NOT_NULL ({targets[header.recipient]}))"
            # the COPY's bytes go out from a thread of psycopg's while this one checks the next block
            raw = cursor.cursor
            with raw.copy(copy_sql, writer=QueuedLibpqWriter(raw)) as copy:
                for chunk in _chunks(fileobj, first):
                    checker.feed(chunk)
                    copy.write(chunk)
                checker.finish()
            _rewrite(cursor, table, checker, len(placeholders))
    except (_UsePython, psycopg.errors.DataError):
        # ragged rows, an empty line inside the file, a NUL byte, not UTF-8: the savepoint is rolled back
        return None
    finally:
        checker.fixes.close()
    return checker.total, checker.invalid, checker.problems


def _rewrite(cursor, table: str, checker: _Checker, values: int) -> None:
    """The stored rows that are not as the check says: rewritten (one COPY into a temporary table, one UPDATE)
    or, rows of empty cells, deleted."""
    if checker.blank:
        cursor.execute(f"DELETE FROM {table} WHERE number = ANY(%s)", [checker.blank])
    if not checker.fixed:
        return
    columns = VALUE_COLUMNS[:values]
    fixes = f"{table}_fixes"
    cursor.execute(
        f"CREATE TEMPORARY TABLE {fixes} (number integer, phone text, citizen_ref text, problems jsonb"
        f"{''.join(f', {c} text' for c in columns)}) ON COMMIT DROP"
    )
    with cursor.copy(f"COPY {fixes} FROM STDIN") as copy:
        while block := checker.fixes.read(COPY_CHUNK):
            copy.write(block)
    assigned = ", ".join(f"{c} = f.{c}" for c in ("phone", "citizen_ref", "problems", *columns))
    cursor.execute(f"ANALYZE {fixes}")
    cursor.execute(f"UPDATE {table} r SET {assigned} FROM {fixes} f WHERE r.number = f.number")
    cursor.execute(f"DROP TABLE {fixes}")
