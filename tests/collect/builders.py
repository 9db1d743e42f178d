"""Forms for tests: a flood-damage report with one question of every type."""

from __future__ import annotations

import itertools

from oa_platform.collect.services import form_create

_seq = itertools.count(1)

QUESTIONS = [
    {
        "key": "name",
        "type": "short_text",
        "label_vi": "Họ tên",
        "label_en": "Name",
        "label_zh": "姓名",
        "required": True,
    },
    {"key": "notes", "type": "long_text", "label_vi": "Ghi chú", "label_en": "Notes", "label_zh": "备注"},
    {
        "key": "people",
        "type": "number",
        "label_vi": "Số người trong nhà",
        "label_en": "People in the household",
        "label_zh": "家庭人数",
        "required": True,
        "min": 1,
        "max": 20,
    },
    {
        "key": "damage",
        "type": "choice",
        "label_vi": "Mức thiệt hại",
        "label_en": "Damage",
        "label_zh": "损失程度",
        "required": True,
        "options": [
            {"key": "none", "label_vi": "Không", "label_en": "None", "label_zh": "无"},
            {"key": "partial", "label_vi": "Một phần", "label_en": "Partial", "label_zh": "部分"},
            {"key": "total", "label_vi": "Toàn bộ", "label_en": "Total", "label_zh": "全部"},
        ],
    },
    {
        "key": "needs",
        "type": "multiple",
        "label_vi": "Cần hỗ trợ",
        "label_en": "Needs",
        "label_zh": "需要",
        "options": [
            {"key": "food", "label_vi": "Lương thực", "label_en": "Food", "label_zh": "食物"},
            {"key": "water", "label_vi": "Nước sạch", "label_en": "Water", "label_zh": "饮用水"},
            {"key": "shelter", "label_vi": "Chỗ ở", "label_en": "Shelter", "label_zh": "住所"},
        ],
    },
    {"key": "since", "type": "date", "label_vi": "Ngày bị ngập", "label_en": "Flooded since", "label_zh": "淹水日期"},
    {"key": "phone", "type": "phone", "label_vi": "Số điện thoại", "label_en": "Phone", "label_zh": "电话"},
    {"key": "area", "type": "area", "label_vi": "Địa bàn", "label_en": "Area", "label_zh": "地区"},
    {
        "key": "injured",
        "type": "yes_no",
        "label_vi": "Có người bị thương?",
        "label_en": "Anyone injured?",
        "label_zh": "有人受伤吗？",
    },
]

GOOD = {"name": "Nguyễn Văn A", "people": 4, "damage": "partial", "needs": ["water", "food"], "injured": False}


def make_form(account, *, questions=None, key=None, **kwargs):
    return form_create(
        account=account,
        key=key or f"flood-{next(_seq)}",
        title_vi="Báo cáo thiệt hại do lũ",
        title_en="Flood damage report",
        title_zh="洪水损失报告",
        questions=questions or QUESTIONS,
        **kwargs,
    )
