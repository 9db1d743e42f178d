"""The form builder's pages in Vietnamese show none of Django's untranslated English strings (the list of
tests/oa_platform/test_admin_vi_strings.py), and no English type labels or service errors: error states too."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse

from oa_platform.collect.services import response_submit
from tests import factories
from tests.collect.builders import GOOD, make_form
from tests.oa_platform.test_admin_vi_strings import VisibleText, english_on, vietnamese_client

pytestmark = pytest.mark.django_db

# English labels and messages of the collection code that must reach a Vietnamese editor translated.
ENGLISH = ("short text", "one choice", "yes / no", "accept, marked late", "cannot", "needs", "options")


def english_labels_on(response) -> list[str]:
    parser = VisibleText()
    parser.feed(response.content.decode())
    return sorted({f"{w!r} in {c!r}" for c in parser.chunks for w in ENGLISH if re.search(rf"\b{re.escape(w)}\b", c)})


def test_every_form_builder_page_in_vietnamese(tenant_a):
    slug = tenant_a.account.slug
    form = make_form(tenant_a.account, key="flood")
    citizen = factories.make_follower(tenant_a.account, channel="generic", display_name="Người 1", phone="0912345678")
    response_submit(form=form, citizen=citizen, client_id=uuid.uuid4(), answers=GOOD)
    damage = form.questions.get(key="damage")
    client = vietnamese_client(tenant_a.editor)
    pages = {
        "list": client.get(reverse("staff:forms", args=[slug])),
        "new": client.get(reverse("staff:form-new", args=[slug])),
        "new-error": client.post(
            reverse("staff:form-new", args=[slug]), {"title_vi": "X", "type": "choice", "label_vi": "Y"}
        ),
        "new-empty": client.post(reverse("staff:form-new", args=[slug]), {}),
        "questions": client.get(reverse("staff:form-questions", args=[slug, form.pk])),
        "add-error": client.post(
            reverse("staff:form-questions", args=[slug, form.pk]), {"type": "short_text", "label_vi": "Z", "min": "1"}
        ),
        "edit": client.get(reverse("staff:form-question-edit", args=[slug, form.pk, damage.pk])),
        "edit-refused": client.post(
            reverse("staff:form-question-edit", args=[slug, form.pk, damage.pk]), {"type": "number", "label_vi": "Z"}
        ),
    }
    pages["round"] = client.get(reverse("staff:form-round", args=[slug, form.pk]))
    pages["round-error"] = client.post(reverse("staff:form-round", args=[slug, form.pk]), {"opens_date": "12/13/2026"})
    schedule = reverse("staff:form-schedule", args=[slug, form.pk])
    pages["schedule"] = client.get(schedule)
    pages["schedule-wards"] = client.post(schedule, {"audience": "followers", "province": "79", "action": "wards"})
    daily = {"repeat": "daily", "open_time": "08:00", "window_hours": "1", "audience": "staff"}
    pages["schedule-bad-remind"] = client.post(schedule, daily | {"remind_time": "07:00"})
    pages["schedule-bad-phones"] = client.post(schedule, daily | {"audience": "list", "phones": "abc"})
    client.post(reverse("staff:form-question-move", args=[slug, form.pk, damage.pk]), {"action": "delete"})
    pages["delete-refused"] = client.get(reverse("staff:form-questions", args=[slug, form.pk]))
    assert {name: r.status_code for name, r in pages.items()} == {
        "list": 200,
        "new": 200,
        "new-error": 400,
        "new-empty": 400,
        "questions": 200,
        "add-error": 400,
        "edit": 200,
        "edit-refused": 400,
        "delete-refused": 200,
        "round": 200,
        "round-error": 400,
        "schedule": 200,
        "schedule-wards": 200,
        "schedule-bad-remind": 400,
        "schedule-bad-phones": 400,
    }
    assert "Không thể xoá câu hỏi đã có câu trả lời." in pages["delete-refused"].content.decode()
    assert "Không thể đổi loại" in pages["edit-refused"].content.decode()
    assert "Giờ nhắc phải nằm trong lúc đợt đang mở" in pages["schedule-bad-remind"].content.decode()
    assert "Không phải số điện thoại: abc" in pages["schedule-bad-phones"].content.decode()
    found = {name: english_on(r) + english_labels_on(r) for name, r in pages.items()}
    assert found == {name: [] for name in pages}


def test_the_checker_sees_english_labels(tenant_a):
    form = make_form(tenant_a.account, key="flood")
    client = vietnamese_client(tenant_a.editor)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("staff:form-questions", args=[tenant_a.account.slug, form.pk]))
    assert english_labels_on(page)
