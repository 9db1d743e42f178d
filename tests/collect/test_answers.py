"""The one answer check (API, web page, chat): types, ranges, options, text read from chat."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from oa_platform.collect.answers import (
    LONG_TEXT_MAX,
    AnswerError,
    answer_buckets,
    answer_clean,
    answer_from_text,
    answers_clean,
)

OPTIONS = [{"key": "a", "label_vi": "Táo", "label_en": "Apple", "label_zh": "苹果"}, {"key": "b", "label_vi": "Lê"}]


def q(kind, key="q", required=False, options=(), low=None, high=None):
    return SimpleNamespace(key=key, type=kind, required=required, options=list(options), min_value=low, max_value=high)


@pytest.mark.parametrize(
    ("question", "value", "expected"),
    [
        (q("short_text"), "  hi ", "hi"),
        (q("number", low=0, high=10), 7, 7),
        (q("number", low=0, high=10), 7.5, 7.5),
        (q("number"), 3.0, 3),
        (q("choice", options=OPTIONS), "b", "b"),
        (q("multiple", options=OPTIONS), ["b", "a", "b"], ["a", "b"]),
        (q("date"), "2026-12-03", "2026-12-03"),
        (q("phone"), "0912 345 678", "+84912345678"),
        (q("yes_no"), False, False),
        (q("short_text"), "", None),
        (q("multiple", options=OPTIONS), [], None),
    ],
)
def test_valid_answers_are_stored_in_one_shape(question, value, expected):
    assert answer_clean(question, value) == expected


@pytest.mark.parametrize(
    ("question", "value"),
    [
        (q("short_text"), 5),
        (q("long_text"), "x" * 10_000),
        (q("number", low=0, high=10), 11),
        (q("number", low=0, high=10), -1),
        (q("number"), "7"),
        (q("number"), True),
        (q("number"), float("nan")),
        (q("choice", options=OPTIONS), "c"),
        (q("choice", options=OPTIONS), ["a"]),
        (q("multiple", options=OPTIONS), ["a", "zz"]),
        (q("multiple", options=OPTIONS), "a"),
        (q("date"), "2026-02-30"),
        (q("date"), "03/12/2026"),
        (q("phone"), "12"),
        (q("area"), "99999"),
        (q("yes_no"), "yes"),
    ],
)
def test_invalid_answers_raise_with_a_reason(question, value):
    with pytest.raises(AnswerError) as caught:
        answer_clean(question, value)
    assert str(caught.value)


def test_area_answers_are_checked_through_the_lookup_given():
    paths = {"01": "01", "00004": "01/00004"}
    question = q("area")
    assert answer_clean(question, "00004", area_path=paths.get) == "00004"
    assert answer_buckets(question, "00004", area_path=paths.get) == ["", "01"]


def test_a_submission_names_each_bad_answer_unknown_keys_and_missing_required_ones():
    questions = [q("number", "n", required=True, low=0, high=5), q("short_text", "t", required=True), q("yes_no", "y")]
    clean, errors = answers_clean(questions, {"n": 9, "zzz": 1, "y": True})
    assert clean == {"y": True}
    assert set(errors) == {"n", "t", "zzz"}
    assert answers_clean(questions, ["not", "a", "dict"])[1].keys() == {"answers"}


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        (q("number"), "7,5", 7.5),
        (q("number"), "12", 12),
        (q("choice", options=OPTIONS), "2", "b"),
        (q("choice", options=OPTIONS), "apple", "a"),
        (q("choice", options=OPTIONS), "苹果", "a"),
        (q("multiple", options=OPTIONS), "1, 2", ["a", "b"]),
        (q("date"), "3/12/2026", "2026-12-03"),
        (q("yes_no"), "Có", True),
        (q("yes_no"), "no", False),
        (q("yes_no"), "否", False),
    ],
)
def test_chat_text_is_read_into_the_same_values(question, text, expected):
    assert answer_from_text(question, text) == expected


@pytest.mark.parametrize(
    ("question", "text"),
    [(q("number"), "bảy"), (q("choice", options=OPTIONS), "3"), (q("date"), "2026-13-01"), (q("yes_no"), "maybe")],
)
def test_chat_text_that_means_nothing_raises(question, text):
    with pytest.raises(AnswerError):
        answer_from_text(question, text)


def test_buckets_of_numbers_fall_in_ten_bins_between_min_and_max():
    question = q("number", low=0, high=100)
    assert answer_buckets(question, 0) == ["", "0"]
    assert answer_buckets(question, 55) == ["", "50"]
    assert answer_buckets(question, 100) == ["", "90"]
    assert answer_buckets(q("multiple", options=OPTIONS), ["a", "b"]) == ["", "a", "b"]
    assert answer_buckets(q("yes_no"), True) == ["", "yes"]
    assert LONG_TEXT_MAX < 10_000
