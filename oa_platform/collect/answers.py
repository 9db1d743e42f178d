"""Checking answers: one pure function for every way in (the API, the web form page, the chat dialogue).

``answer_clean`` takes a JSON value (the API, the web page) and returns the value to store or raises
``AnswerError`` with a translated reason; ``answer_from_text`` reads what a citizen typed in chat into such a
value first. No database access here: area codes are looked up through the ``area_path`` callable the caller
passes (code -> "province/ward" path, None when unknown).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping

from django.utils.translation import gettext as _

from oa_platform.phones import InvalidPhone, normalize_phone

# Short text fits one line of a phone screen form; long text bounds what staff read and what a row weighs.
SHORT_TEXT_MAX = 200
LONG_TEXT_MAX = 2000
# A number's histogram has this many bins between the question's min and max.
NUMBER_BINS = 10
# A submission full of made-up keys gets this many of them named back, not a copy of its whole body.
MAX_NAMED_UNKNOWN = 20
YES_WORDS = {"có", "co", "c", "yes", "y", "đúng", "dung", "是", "有", "对", "1"}
NO_WORDS = {"không", "khong", "k", "ko", "no", "n", "sai", "否", "不", "没有", "不是", "0"}

AreaPath = Callable[[str], "str | None"]


class AnswerError(ValueError):
    """An answer that cannot be stored; ``str()`` is the reason, in the active language."""


def _no_areas(code: str) -> str | None:
    return None


def option_keys(question) -> list[str]:
    return [option["key"] for option in question.options or []]


def answer_clean(question, value, *, area_path: AreaPath = _no_areas):
    """The value to store for ``question`` (an object with type, options, min_value, max_value), or None for
    "not answered" (None, "" or an empty list). Raises AnswerError for a value of the wrong type or out of range."""
    if value is None or value == "" or value == []:
        return None
    kind = question.type
    if kind in ("short_text", "long_text"):
        if not isinstance(value, str):
            raise AnswerError(_("Cần một đoạn chữ."))
        value = value.strip()
        limit = SHORT_TEXT_MAX if kind == "short_text" else LONG_TEXT_MAX
        if len(value) > limit:
            raise AnswerError(_("Dài quá %(limit)s ký tự.") % {"limit": limit})
        return value or None
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise AnswerError(_("Cần một con số."))
        if question.min_value is not None and value < question.min_value:
            raise AnswerError(_("Số nhỏ nhất là %(min)s.") % {"min": f"{question.min_value:g}"})
        if question.max_value is not None and value > question.max_value:
            raise AnswerError(_("Số lớn nhất là %(max)s.") % {"max": f"{question.max_value:g}"})
        return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)
    if kind == "choice":
        if not isinstance(value, str) or value not in option_keys(question):
            raise AnswerError(_("Không có lựa chọn này."))
        return value
    if kind == "multiple":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise AnswerError(_("Cần một danh sách lựa chọn."))
        keys = option_keys(question)
        unknown = [v for v in value if v not in keys]
        if unknown:
            raise AnswerError(_("Không có lựa chọn này."))
        return [k for k in keys if k in set(value)]  # the form's order, each once
    if kind == "date":
        if not isinstance(value, str) or len(value) > 10:
            raise AnswerError(_("Cần một ngày (ngày/tháng/năm)."))
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise AnswerError(_("Cần một ngày (ngày/tháng/năm).")) from None
    if kind == "phone":
        if not isinstance(value, str):
            raise AnswerError(_("Cần một số điện thoại."))
        try:
            return normalize_phone(value) or None
        except InvalidPhone:
            raise AnswerError(_("Số điện thoại không hợp lệ.")) from None
    if kind == "area":
        if not isinstance(value, str) or len(value) > 20 or area_path(value) is None:
            raise AnswerError(_("Không có địa bàn này."))
        return value
    if kind == "yes_no":
        if not isinstance(value, bool):
            raise AnswerError(_("Cần trả lời có hoặc không."))
        return value
    raise AnswerError(_("Loại câu hỏi không rõ."))  # pragma: no cover - types are checked when a form is saved


def answers_clean(questions: Iterable, raw, *, area_path: AreaPath = _no_areas) -> tuple[dict, dict]:
    """Every answer of a submission checked: (clean answers by question key, errors by key). A key that is
    no question of the form, and a required question left unanswered, are errors too."""
    if not isinstance(raw, Mapping):
        return {}, {"answers": _("Cần một đối tượng JSON: mã câu hỏi -> câu trả lời.")}
    by_key = {q.key: q for q in questions}
    clean, errors = {}, {}
    unknown = [key for key in raw if key not in by_key]
    for key in unknown[:MAX_NAMED_UNKNOWN]:
        errors[str(key)[:60]] = _("Không có câu hỏi này trong biểu mẫu.")
    for key, question in by_key.items():
        try:
            value = answer_clean(question, raw.get(key), area_path=area_path)
        except AnswerError as exc:
            errors[key] = str(exc)
            continue
        if value is None:
            if question.required:
                errors[key] = _("Câu hỏi bắt buộc.")
            continue
        clean[key] = value
    return clean, errors


_DATE_TEXT = re.compile(r"^\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})\s*$")


def answer_from_text(question, text: str, *, language: str = "vi"):
    """What a citizen typed in chat as the JSON value ``answer_clean`` takes: a number ("7", "7,5"), an option
    by its number or its label, several options ("1, 3"), a date dd/mm/yyyy, có/không (yes/no, 是/否)."""
    text = (text or "").strip()
    kind = question.type
    if kind == "number":
        if not re.fullmatch(r"-?\d{1,15}([.,]\d{1,6})?", text):
            raise AnswerError(_("Cần một con số."))
        number = float(text.replace(",", "."))
        return int(number) if number.is_integer() else number
    if kind in ("choice", "multiple"):
        parts = [text] if kind == "choice" else [p for p in re.split(r"[,;、，\s]+", text) if p]
        keys = [_option_from_text(question, part) for part in parts]
        if kind == "multiple" and len(parts) > 1 and None in keys:
            keys = [_option_from_text(question, text)]  # one label with spaces in it
        if None in keys or not keys:
            raise AnswerError(_("Không có lựa chọn này. Trả lời bằng số thứ tự của lựa chọn."))
        return keys[0] if kind == "choice" else keys
    if kind == "date":
        match = _DATE_TEXT.match(text)
        if not match:
            raise AnswerError(_("Cần một ngày (ngày/tháng/năm)."))
        day, month, year = (int(g) for g in match.groups())
        try:
            return dt.date(year, month, day).isoformat()
        except ValueError:
            raise AnswerError(_("Cần một ngày (ngày/tháng/năm).")) from None
    if kind == "yes_no":
        word = text.lower().rstrip(".!。！")
        if word in YES_WORDS:
            return True
        if word in NO_WORDS:
            return False
        raise AnswerError(_("Cần trả lời có hoặc không."))
    return text


def _option_from_text(question, text: str) -> str | None:
    options = question.options or []
    text = text.strip().rstrip(".")
    if text.isdigit() and 1 <= int(text) <= len(options):
        return options[int(text) - 1]["key"]
    folded = text.casefold()
    for option in options:
        labels = [option["key"], option.get("label_vi", ""), option.get("label_en", ""), option.get("label_zh", "")]
        if any(label and label.casefold() == folded for label in labels):
            return option["key"]
    return None


def answer_buckets(question, value, *, area_path: AreaPath = _no_areas) -> list[str]:
    """The tally buckets one stored answer counts in: "" (answered) plus its option(s), yes/no, the number's
    bin, or the area's province code."""
    if value is None:
        return []
    found = [""]
    kind = question.type
    if kind == "choice":
        found.append(value)
    elif kind == "multiple":
        found.extend(value)
    elif kind == "yes_no":
        found.append("yes" if value else "no")
    elif kind == "number":
        found.append(number_bin(question, value))
    elif kind == "area":
        path = area_path(value) or value
        found.append(path.split("/", 1)[0])
    return found


def number_bin(question, value) -> str:
    """A number's histogram bin: with a min and a max, the start of one of NUMBER_BINS equal bins; else the
    number itself (rounded down to a whole number)."""
    low, high = question.min_value, question.max_value
    if low is not None and high is not None and high > low:
        width = (high - low) / NUMBER_BINS
        index = min(int((value - low) // width), NUMBER_BINS - 1)
        return f"{low + index * width:g}"
    return f"{math.floor(value):d}"


def number_bin_label(question, start: str) -> str:
    """What a bin of number_bin shows: its range ("2.9–4.8") where the question has a min and a max, else the
    whole number it counts."""
    low, high = question.min_value, question.max_value
    if low is not None and high is not None and high > low:
        return f"{start}–{min(float(start) + (high - low) / NUMBER_BINS, high):g}"
    return start
