"""The console's form builder: an editor creates a form (key from the title), adds, edits, moves and removes
questions through the same services as the API; a form with answers refuses to lose an answered question or
change its type, with the reason on the page and nothing changed."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.template.loader import get_template
from django.urls import reverse

from oa_platform.collect.models import Form
from oa_platform.collect.services import response_submit
from tests import factories
from tests.collect.builders import GOOD, make_form

pytestmark = pytest.mark.django_db

NEW = {
    "title_vi": "Khảo sát ngập lụt",
    "title_en": "Flood survey",
    "late_policy": "accept",
    "retention_days": "30",
    "type": "choice",
    "label_vi": "Mức nước",
    "required": "on",
    "options": "Thấp\nCao\n",
}


def test_an_editor_creates_a_form_with_its_first_question(client, tenant_a):
    client.force_login(tenant_a.editor)
    url = reverse("staff:form-new", args=[tenant_a.account.slug])
    assert client.get(url).status_code == 200
    response = client.post(url, NEW)
    form = Form.objects.get(account=tenant_a.account)
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:form-questions", args=[tenant_a.account.slug, form.pk])
    assert form.key == "khao-sat-ngap-lut"
    assert form.retention_days == 30 and form.title_en == "Flood survey"
    (question,) = form.questions.all()
    assert question.type == "choice" and question.required
    assert [o["label_vi"] for o in question.options] == ["Thấp", "Cao"]
    # not open, nobody told, until its questions and audience are ready and a round is opened
    assert form.rounds.count() == 0
    assert 'id="not-open"' in client.get(response["Location"]).content.decode()


def test_bad_input_is_shown_and_nothing_is_stored(client, tenant_a):
    client.force_login(tenant_a.editor)
    url = reverse("staff:form-new", args=[tenant_a.account.slug])
    response = client.post(url, NEW | {"options": "Chỉ một"})
    assert response.status_code == 400
    assert "hai" in response.content.decode() or "two" in response.content.decode()
    assert client.post(url, NEW | {"title_vi": ""}).status_code == 400
    assert client.post(url, NEW | {"retention_days": "-3"}).status_code == 400
    assert not Form.objects.filter(account=tenant_a.account).exists()
    # a taken key is a clear error, not a 500
    client.post(url, NEW)
    assert client.post(url, NEW).status_code == 400
    assert Form.objects.filter(account=tenant_a.account).count() == 1


def test_add_edit_move_and_delete_questions(client, tenant_a):
    client.force_login(tenant_a.editor)
    client.post(reverse("staff:form-new", args=[tenant_a.account.slug]), NEW)
    form = Form.objects.get(account=tenant_a.account)
    url = reverse("staff:form-questions", args=[tenant_a.account.slug, form.pk])
    assert client.post(url, {"type": "number", "label_vi": "Số người", "min": "1", "max": "20"}).status_code == 302
    assert client.post(url, {"type": "short_text", "label_vi": "Ghi chú"}).status_code == 302
    assert [q.label_vi for q in form.questions.all()] == ["Mức nước", "Số người", "Ghi chú"]
    people = form.questions.get(label_vi="Số người")
    assert (people.min_value, people.max_value) == (1, 20)
    # min and max only for numbers: refused with the reason
    response = client.post(url, {"type": "short_text", "label_vi": "X", "min": "3"})
    assert response.status_code == 400 and form.questions.count() == 3
    move = reverse("staff:form-question-move", args=[tenant_a.account.slug, form.pk, people.pk])
    client.post(move, {"action": "up"})
    assert [q.label_vi for q in form.questions.all()] == ["Số người", "Mức nước", "Ghi chú"]
    edit = reverse("staff:form-question-edit", args=[tenant_a.account.slug, form.pk, people.pk])
    assert "Số người" in client.get(edit).content.decode()
    client.post(edit, {"type": "number", "label_vi": "Số người trong nhà", "label_en": "People", "max": "30"})
    people.refresh_from_db()
    assert (people.label_vi, people.label_en, people.max_value, people.key) == (
        "Số người trong nhà",
        "People",
        30,
        people.key,
    )
    client.post(move, {"action": "delete"})
    assert [q.label_vi for q in form.questions.all()] == ["Mức nước", "Ghi chú"]


def test_a_form_with_answers_refuses_to_lose_an_answered_question_or_change_its_type(client, tenant_a):
    form = make_form(tenant_a.account, key="flood")
    citizen = factories.make_follower(tenant_a.account, channel="generic", display_name="Người 1", phone="0912345678")
    response_submit(form=form, citizen=citizen, client_id=uuid.uuid4(), answers=GOOD)
    client.force_login(tenant_a.editor)
    damage = form.questions.get(key="damage")
    move = reverse("staff:form-question-move", args=[tenant_a.account.slug, form.pk, damage.pk])
    page = client.get(client.post(move, {"action": "delete"}, follow=False)["Location"]).content.decode()
    assert form.questions.filter(key="damage").exists()
    assert "answers" in page or "trả lời" in page
    edit = reverse("staff:form-question-edit", args=[tenant_a.account.slug, form.pk, damage.pk])
    response = client.post(edit, {"type": "short_text", "label_vi": "Mức thiệt hại"})
    assert response.status_code == 400
    damage.refresh_from_db()
    assert damage.type == "choice"
    # labels may still be fixed, and questions added
    labels = "\n".join(o["label_vi"] for o in damage.options)
    assert (
        client.post(edit, {"type": "choice", "label_vi": "Mức thiệt hại (sửa)", "options": labels}).status_code == 302
    )
    damage.refresh_from_db()
    assert damage.label_vi == "Mức thiệt hại (sửa)"
    url = reverse("staff:form-questions", args=[tenant_a.account.slug, form.pk])
    assert client.post(url, {"type": "yes_no", "label_vi": "Cần hỗ trợ?"}).status_code == 302


def test_only_editors_build_forms(client, tenant_a):
    client.force_login(tenant_a.broadcaster)
    assert client.get(reverse("staff:form-new", args=[tenant_a.account.slug])).status_code == 403


@pytest.mark.parametrize(
    "name", ["new.html", "questions.html", "round.html", "details.html", "_question_fields.html", "_errors.html"]
)
def test_templates_have_no_inline_script_style_or_handler(name):
    source = open(get_template(f"staff/formbuild/{name}").origin.name, encoding="utf-8").read()
    assert not re.search(r"<script(?![^>]*\bsrc=)|style=|\son[a-z]+=", source)


def test_a_round_opens_at_day_first_dates_in_the_account_zone(client, tenant_a, time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC), tick=False)
    form = make_form(tenant_a.account, key="flood")
    client.force_login(tenant_a.editor)
    url = reverse("staff:form-round", args=[tenant_a.account.slug, form.pk])
    page = client.get(url).content.decode()
    assert tenant_a.account.timezone in page
    response = client.post(
        url, {"opens_date": "10/12/2026", "opens_time": "08:00", "closes_date": "11/12/2026", "closes_time": "17:30"}
    )
    assert response.status_code == 302
    latest = form.rounds.order_by("-id").first()
    tz = tenant_a.account.tzinfo
    assert latest.opens_at == dt.datetime(2026, 12, 10, 8, 0, tzinfo=tz)
    assert latest.closes_at == dt.datetime(2026, 12, 11, 17, 30, tzinfo=tz)
    count = form.rounds.count()
    # month 13 (a month-first date) and a close before the open are refused, nothing stored
    assert client.post(url, {"opens_date": "12/13/2026", "opens_time": "08:00"}).status_code == 400
    bad = client.post(url, {"opens_date": "10/12/2026", "opens_time": "08:00", "closes_date": "09/12/2026"})
    assert bad.status_code == 400
    # no opening date: open now (a second round at the very same minute is refused, not a 500)
    assert client.post(url, {}).status_code == 400
    time_machine.move_to(dt.datetime(2026, 12, 3, 9, 1, tzinfo=dt.UTC), tick=False)
    assert client.post(url, {}).status_code == 302
    assert form.rounds.count() == count + 1
    assert form.rounds.order_by("-id").first().opens_at == dt.datetime(2026, 12, 3, 9, 1, tzinfo=dt.UTC)


def test_the_audience_is_followers_of_one_topic_or_staff(client, tenant_a):
    client.force_login(tenant_a.editor)
    url = reverse("staff:form-new", args=[tenant_a.account.slug])
    topic = tenant_a.account.topics.first()
    assert topic.label("vi") in client.get(url).content.decode()
    client.post(url, NEW | {"key": "a", "audience": "followers", "topic": topic.key})
    client.post(url, NEW | {"key": "b", "audience": "staff", "topic": topic.key})
    forms = {f.key: (f.audience, f.audience_topic) for f in Form.objects.filter(account=tenant_a.account)}
    assert forms == {"a": ("followers", topic.key), "b": ("staff", "")}
    assert client.post(url, NEW | {"key": "c", "topic": "no-such-topic"}).status_code == 400
    assert client.post(url, NEW | {"key": "d", "audience": "everyone"}).status_code == 400
    assert not Form.objects.filter(key__in=["c", "d"]).exists()


def test_options_are_typed_with_their_translations_and_keep_their_keys_when_edited(client, tenant_a):
    client.force_login(tenant_a.editor)
    slug = tenant_a.account.slug
    body = NEW | {"key": "tiem", "options": "Đã tiêm | Vaccinated | 已接种\nChưa tiêm | Not yet\n"}
    assert client.post(reverse("staff:form-new", args=[slug]), body).status_code == 302
    form = Form.objects.get(account=tenant_a.account, key="tiem")
    question = form.questions.get()
    assert [(o["label_vi"], o["label_en"], o["label_zh"]) for o in question.options] == [
        ("Đã tiêm", "Vaccinated", "已接种"),
        ("Chưa tiêm", "Not yet", ""),
    ]
    keys = [o["key"] for o in question.options]
    edit = reverse("staff:form-question-edit", args=[slug, form.pk, question.pk])
    assert "Đã tiêm | Vaccinated | 已接种\nChưa tiêm | Not yet" in client.get(edit).content.decode()
    # a Chinese label added to the second: the keys stay (answers keep pointing at them)
    changed = {
        "type": "choice",
        "label_vi": "Mức nước",
        "options": "Đã tiêm | Vaccinated | 已接种\nChưa tiêm | Not yet | 未接种",
    }
    assert client.post(edit, changed).status_code == 302
    question.refresh_from_db()
    assert [o["key"] for o in question.options] == keys and question.options[1]["label_zh"] == "未接种"


def test_titles_late_policy_and_retention_change_after_answers(client, tenant_a):
    form = make_form(tenant_a.account, key="flood")
    citizen = factories.make_follower(tenant_a.account, channel="generic")
    response_submit(form=form, citizen=citizen, client_id=uuid.uuid4(), answers=GOOD)
    client.force_login(tenant_a.editor)
    url = reverse("staff:form-details", args=[tenant_a.account.slug, form.pk])
    assert 'value="Báo cáo thiệt hại do lũ"' in client.get(url).content.decode()
    body = {
        "title_vi": "Báo cáo thiệt hại do lũ lụt",
        "title_en": "Flood report",
        "title_zh": "",
        "late_policy": "refuse",
    }
    assert client.post(url, body | {"retention_days": "30"}).status_code == 302
    form.refresh_from_db()
    assert (form.title_vi, form.title_en, form.late_policy, form.retention_days) == (
        "Báo cáo thiệt hại do lũ lụt",
        "Flood report",
        "refuse",
        30,
    )
    assert client.post(url, body | {"retention_days": ""}).status_code == 302
    form.refresh_from_db()
    assert form.retention_days is None
    # bad input: 400 with the reason, nothing changed
    for bad in ({"title_vi": " "}, {"late_policy": "maybe"}, {"retention_days": "0"}, {"retention_days": "1.5"}):
        response = client.post(url, body | {"retention_days": "7"} | bad)
        assert response.status_code == 400 and 'role="alert"' in response.content.decode()
    form.refresh_from_db()
    assert form.retention_days is None and form.late_policy == "refuse"
