"""A round's responses as CSV or XLSX (openpyxl). Every text cell that a spreadsheet would read as a formula
(starting with = + - @, or a tab or carriage return) is prefixed with ' so it is shown, never run. Phones are
masked as everywhere else staff look."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from oa_platform.collect.models import Form, Response, Round, option_label
from oa_platform.phones import mask_phone

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows read from the database at a time while writing: bounds memory whatever the number of responses.
CHUNK = 2000


def safe_cell(value):
    """``value`` as a spreadsheet shows it and never evaluates it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _answer_text(question, value, language: str):
    if value is None:
        return ""
    if question.type == "choice":
        option = next((o for o in question.options if o["key"] == value), None)
        return option_label(option, language) if option else value
    if question.type == "multiple":
        labels = {o["key"]: option_label(o, language) for o in question.options}
        return "; ".join(labels.get(v, v) for v in value)
    if question.type == "yes_no":
        return _("Có") if value else _("Không")
    if question.type == "phone":
        return mask_phone(value)
    return value


def rows(*, form: Form, round_: Round, language: str) -> Iterator[list]:
    """The header, then one row per response of the round (oldest first)."""
    questions = list(form.questions.all())
    yield [_("Thời điểm gửi"), _("Người trả lời"), _("Số điện thoại"), _("Trễ hạn")] + [
        q.label(language) for q in questions
    ]
    responses = Response.objects.filter(round=round_).select_related("citizen").order_by("created_at", "pk")
    for response in responses.iterator(chunk_size=CHUNK):
        citizen = response.citizen
        sent = timezone.localtime(response.updated_at, form.account.tzinfo).strftime("%d/%m/%Y %H:%M")
        row = [sent, str(citizen), mask_phone(citizen.phone), _("Có") if response.is_late else ""]
        row += [_answer_text(q, response.answers.get(q.key), language) for q in questions]
        yield [safe_cell(cell) for cell in row]


def as_csv(**kwargs) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows(**kwargs):
        writer.writerow(row)
    return ("\ufeff" + out.getvalue()).encode()  # the BOM: Excel opens UTF-8 (Vietnamese) correctly


def as_xlsx(**kwargs) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Câu trả lời"))
    for row in rows(**kwargs):
        sheet.append([cell if isinstance(cell, int | float | str) else str(cell) for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
