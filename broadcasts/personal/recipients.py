"""Reading an uploaded list of recipients, streaming, and checking each row. No ORM here.

A list is a CSV file (UTF-8, with or without a BOM) or an XLSX workbook (its first sheet, read by openpyxl in
read-only mode, row by row): a header row with ``phone`` or ``citizen_id`` and one column per placeholder,
then one row per person. Neither format is ever loaded whole: memory stays flat whatever the row count.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from broadcasts.personal.rendering import VALUE_MAX
from oa_platform.phones import InvalidPhone, normalize_phone

PHONE = "phone"
CITIZEN_ID = "citizen_id"
RECIPIENT_COLUMNS = (PHONE, CITIZEN_ID)
# A cell longer than this stops the csv module (a 10,000-character value is reported per row before that).
CSV_FIELD_MAX = 100_000
# A spreadsheet opens a cell starting with one of these as a formula: exports prefix it with an apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Row problems (codes; the console translates them).
INVALID_PHONE = "invalid_phone"
FOREIGN_PHONE = "foreign_phone"
MISSING_VALUE = "missing_value"
TOO_LONG = "too_long"
DUPLICATE = "duplicate"
NO_RECIPIENT = "no_recipient"


# A Vietnamese mobile number in any usual spelling: 0912 345 678, +84912345678, 84-912-345-678.
VN_MOBILE = r"(?:\+?84|0)([35789][0-9]{8})"  # its nine national digits captured
VN_MOBILE_RE = re.compile(f"^{VN_MOBILE}$")
SEPARATORS = str.maketrans("", "", " .-()")
# Whether a Vietnamese mobile prefix (the first three national digits) is valid, as phonenumbers says: its
# metadata decides a 9-digit mobile number's validity by those digits alone, so one parse per prefix (about
# 100 of them) gives the same answers as a parse per row, 20 times faster on a large list.
_VN_PREFIX_VALID: dict[str, bool] = {}


def phone_e164(raw: str) -> str:
    """``normalize_phone`` with a fast path for Vietnamese mobile numbers. Raises InvalidPhone."""
    match = VN_MOBILE_RE.match(raw.translate(SEPARATORS))
    if match is None:
        return normalize_phone(raw)
    national = match.group(1)
    prefix = national[:3]
    if prefix not in _VN_PREFIX_VALID:
        try:
            normalize_phone("+84" + national)
        except InvalidPhone:
            _VN_PREFIX_VALID[prefix] = False
        else:
            _VN_PREFIX_VALID[prefix] = True
    if not _VN_PREFIX_VALID[prefix]:
        raise InvalidPhone("not a valid phone number")
    return "+84" + national


class FileRefused(ValueError):
    """The whole file is refused (nothing is stored); the message says why and what to do."""


def _is_xlsx(head: bytes, file_name: str) -> bool:
    return head.startswith(b"PK\x03\x04") or file_name.lower().endswith((".xlsx", ".xlsm"))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone typed into a number cell: 84912345678.0
    return str(value)


def is_csv(fileobj, file_name: str) -> bool:
    """Whether read_table would read the file as CSV (not empty, not a workbook, not UTF-16)."""
    head = fileobj.read(4)
    fileobj.seek(0)
    return bool(head) and not _is_xlsx(head, file_name) and not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def read_table(fileobj, file_name: str) -> Iterator[list[str]]:
    """The rows of the file (the header first) as lists of text. Raises FileRefused: empty file, another
    encoding than UTF-8, a malformed CSV or a file that is not a workbook."""
    head = fileobj.read(4)
    fileobj.seek(0)
    if not head:
        raise FileRefused(_("The file is empty."))
    if _is_xlsx(head, file_name):
        return _read_xlsx(fileobj)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRefused(_("The file is in UTF-16. Save it as CSV UTF-8 (comma delimited) and upload it again."))
    return _read_csv(fileobj)


def not_utf8() -> FileRefused:
    return FileRefused(
        _(
            "The file is not UTF-8 (it may be Windows-1258, Windows-1252 or TCVN3). "
            "Save it as CSV UTF-8 (comma delimited) and upload it again."
        )
    )


def _read_csv(fileobj) -> Iterator[list[str]]:
    csv.field_size_limit(CSV_FIELD_MAX)
    text = io.TextIOWrapper(fileobj, encoding="utf-8-sig", newline="")
    try:
        yield from csv.reader(text)
    except UnicodeDecodeError as exc:
        raise not_utf8() from exc
    except csv.Error as exc:
        raise FileRefused(_("The CSV file is malformed: %(error)s") % {"error": exc}) from exc
    finally:
        text.detach()


def _read_xlsx(fileobj) -> Iterator[list[str]]:
    try:
        workbook = load_workbook(fileobj, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise FileRefused(_("The file is not a valid XLSX workbook.")) from exc
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_text(value) for value in row]
    finally:
        workbook.close()


@dataclass(frozen=True)
class Header:
    recipient: str  # PHONE or CITIZEN_ID
    index: dict[str, int]  # column name -> position


def check_header(row: list[str], placeholders: list[str]) -> Header:
    """The header: a recipient column, a column for every placeholder, nothing unknown. Raises FileRefused."""
    names = [cell.strip().lower() for cell in row]
    while names and not names[-1]:
        names.pop()  # trailing empty cells of a spreadsheet
    index = {}
    for position, name in enumerate(names):
        if name in index:
            raise FileRefused(_("The column %(name)s appears twice.") % {"name": name})
        index[name] = position
    recipient = next((c for c in RECIPIENT_COLUMNS if c in index), None)
    if recipient is None:
        raise FileRefused(_("The first row must name a phone or a citizen_id column."))
    unknown = [n for n in names if n not in (*RECIPIENT_COLUMNS, *placeholders)]
    if unknown:
        raise FileRefused(
            _("Unknown column: %(names)s. The template's placeholders are: %(placeholders)s")
            % {"names": ", ".join(unknown), "placeholders": ", ".join(placeholders)}
        )
    missing = [p for p in placeholders if p not in index]
    if missing:
        raise FileRefused(_("No column for the placeholder: %(names)s") % {"names": ", ".join(missing)})
    return Header(recipient=recipient, index=index)


@dataclass
class CheckedRow:
    phone: str = ""
    citizen_ref: str = ""
    values: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def check_row(
    row: list[str], header: Header, *, placeholders: list[str], vietnam_only: bool, seen: set[str] | None
) -> CheckedRow:
    """One data row: the recipient (E.164 phone or citizen id), the placeholder values and every problem
    ("invalid_phone", "foreign_phone", "missing_value:<name>", "too_long:<name>", "duplicate", "no_recipient").
    ``seen`` holds the recipients of earlier rows; a valid recipient is added to it (None: no duplicate check,
    the caller finds duplicates itself)."""
    cells = {name: (row[i].strip() if i < len(row) else "") for name, i in header.index.items()}
    checked = CheckedRow()
    raw = cells.get(header.recipient, "")
    if not raw:
        checked.problems.append(NO_RECIPIENT)
    elif header.recipient == PHONE:
        try:
            checked.phone = phone_e164(raw)
        except InvalidPhone:
            checked.problems.append(INVALID_PHONE)
        else:
            if vietnam_only and not checked.phone.startswith("+84"):
                checked.problems.append(FOREIGN_PHONE)
    else:
        checked.citizen_ref = raw[:128]
    for name in placeholders:
        value = cells.get(name, "")
        if not value:
            checked.problems.append(f"{MISSING_VALUE}:{name}")
        elif len(value) > VALUE_MAX:
            checked.problems.append(f"{TOO_LONG}:{name}")
        else:
            checked.values[name] = value
    who = checked.phone or (f"id:{checked.citizen_ref}" if checked.citizen_ref else "")
    if seen is None:
        return checked
    if who and who in seen:
        checked.problems.append(DUPLICATE)
    elif who and not checked.problems:
        seen.add(who)
    return checked


def safe_cell(value: str) -> str:
    """A value as written to an exported CSV or spreadsheet: a leading = + - @ (or tab, CR) gets an apostrophe
    so no spreadsheet runs it as a formula."""
    value = str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value
