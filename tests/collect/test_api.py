"""The forms API: create (201 with id), respond (201; 200 for the same client id; 400 naming each invalid
answer; 409 closed round or a reused client id), results; scopes; and each bad input of issue 16, with
nothing half-stored."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.apps import apps
from django.utils import timezone

from oa_platform.collect.models import Form, Response
from oa_platform.collect.services import rounds_open_due
from oa_platform.models import ApiToken
from tests import factories
from tests.collect.builders import GOOD, QUESTIONS, make_form

pytestmark = pytest.mark.django_db


def rows() -> dict:
    return {
        m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.app_label in {"collect", "oa_platform"}
    }


@pytest.fixture
def client_a(api_client, tenant_a):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {tenant_a.token}")
    return api_client


def forms_url(tenant) -> str:
    return f"/api/v1/accounts/{tenant.account.slug}/forms/"


def submit(client, tenant, form, answers, *, client_id=None, citizen_id="cd-1"):
    body = {"citizen_id": citizen_id, "client_id": str(client_id or uuid.uuid4()), "answers": answers}
    return client.post(f"{forms_url(tenant)}{form.pk}/responses/", body, format="json")


def test_a_form_is_created_from_json_and_answers_201_with_its_id(client_a, tenant_a):
    body = {
        "key": "vaccination",
        "title_vi": "Đăng ký tiêm chủng",
        "questions": [
            {"key": "age", "type": "number", "label_vi": "Tuổi", "required": True, "min": 0, "max": 120},
            {"key": "dose", "type": "choice", "label_vi": "Mũi", "options": ["Mũi 1", "Mũi 2"]},
        ],
    }
    response = client_a.post(forms_url(tenant_a), body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    form = Form.objects.get(pk=data["id"])
    assert form.account == tenant_a.account
    assert [o["key"] for o in data["questions"][1]["options"]] == ["mui-1", "mui-2"]
    assert data["round"]["closes_at"] is None  # a round without dates is open now
    assert data["url"] == f"/f/{tenant_a.account.slug}/{form.pk}/"
    # the same key again is a conflict
    assert client_a.post(forms_url(tenant_a), body, format="json").status_code == 409


def test_responses_201_then_200_for_the_same_client_id_and_results_count_them(client_a, tenant_a):
    form = make_form(tenant_a.account)
    client_id = uuid.uuid4()
    first = submit(client_a, tenant_a, form, GOOD, client_id=client_id)
    assert first.status_code == 201, first.content
    assert first.json()["status"] == "created"
    again = submit(client_a, tenant_a, form, GOOD, client_id=client_id)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert again.json()["status"] == "duplicate"
    submit(client_a, tenant_a, form, GOOD | {"damage": "total"}, citizen_id="cd-2")
    results = client_a.get(f"{forms_url(tenant_a)}{form.pk}/results/").json()
    assert results["responded"] == 2
    damage = next(q for q in results["questions"] if q["key"] == "damage")
    assert [(c["value"], c["count"]) for c in damage["counts"]] == [("none", 0), ("partial", 1), ("total", 1)]
    assert Response.objects.count() == 2


def test_scopes_are_required_per_operation(api_client, tenant_a):
    form = make_form(tenant_a.account)
    reader = factories.make_token(tenant_a.account, scopes=[ApiToken.SCOPE_READ], name="reader")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {reader}")
    assert api_client.post(forms_url(tenant_a), {"key": "x"}, format="json").status_code == 403
    assert submit(api_client, tenant_a, form, GOOD).status_code == 403
    assert api_client.get(f"{forms_url(tenant_a)}{form.pk}/results/").status_code == 200
    responder = factories.make_token(tenant_a.account, scopes=[ApiToken.SCOPE_FORMS_RESPOND], name="responder")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {responder}")
    assert submit(api_client, tenant_a, form, GOOD).status_code == 201
    assert api_client.get(f"{forms_url(tenant_a)}{form.pk}/results/").status_code == 403


# --- the bad input of issue 16: a clear 4xx naming the problem, nothing stored  ---
@pytest.mark.parametrize(
    ("answers", "named"),
    [
        (GOOD | {"colour": "red"}, "colour"),  # an unknown question
        (GOOD | {"people": "four"}, "people"),  # a wrong type
        (GOOD | {"injured": "no"}, "injured"),  # a wrong type
        (GOOD | {"people": 21}, "people"),  # out of range
        (GOOD | {"people": 0}, "people"),  # out of range
        (GOOD | {"notes": "x" * 10_000}, "notes"),  # 10,000 characters
        (GOOD | {"damage": "flattened"}, "damage"),  # a choice that does not exist
        (GOOD | {"needs": ["food", "boats"]}, "needs"),  # a choice that does not exist
        ({k: v for k, v in GOOD.items() if k != "people"}, "people"),  # a required answer missing
    ],
)
def test_invalid_answers_are_400_naming_each(client_a, tenant_a, answers, named):
    form = make_form(tenant_a.account)
    before = rows()
    response = submit(client_a, tenant_a, form, answers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and named in error["fields"]["answers"]
    assert rows() == before


def test_two_invalid_answers_are_both_named(client_a, tenant_a):
    form = make_form(tenant_a.account)
    response = submit(client_a, tenant_a, form, GOOD | {"people": 99, "damage": "x"})
    assert set(response.json()["error"]["fields"]["answers"]) == {"people", "damage"}


def test_a_submission_after_the_round_closed_is_409_when_the_form_refuses_late_answers(client_a, tenant_a):
    now = timezone.now()
    form = make_form(
        tenant_a.account,
        late_policy=Form.LATE_REFUSE,
        round={"opens_at": now - dt.timedelta(days=1), "closes_at": now - dt.timedelta(minutes=1)},
    )
    before = rows()
    response = submit(client_a, tenant_a, form, GOOD)
    assert response.status_code == 409 and response.json()["error"]["code"] == "round_closed"
    assert rows() == before


def test_a_late_answer_is_stored_and_marked_when_the_form_accepts_it(client_a, tenant_a):
    now = timezone.now()
    form = make_form(
        tenant_a.account, round={"opens_at": now - dt.timedelta(days=1), "closes_at": now - dt.timedelta(minutes=1)}
    )
    response = submit(client_a, tenant_a, form, GOOD)
    assert response.status_code == 201 and response.json()["late"] is True


def test_another_accounts_form_id_is_404(client_a, tenant_a, tenant_b):
    form_b = make_form(tenant_b.account)
    before = rows()
    assert submit(client_a, tenant_a, form_b, GOOD).status_code == 404
    assert client_a.get(f"{forms_url(tenant_a)}{form_b.pk}/results/").status_code == 404
    assert client_a.get(f"{forms_url(tenant_a)}99999999999999999999999/results/").status_code == 404
    assert rows() == before


def test_a_replayed_client_id_with_other_answers_is_409_and_the_first_stands(client_a, tenant_a):
    form = make_form(tenant_a.account)
    client_id = uuid.uuid4()
    assert submit(client_a, tenant_a, form, GOOD, client_id=client_id).status_code == 201
    before = rows()
    response = submit(client_a, tenant_a, form, GOOD | {"people": 7}, client_id=client_id)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "client_id_reused" and "đầu tiên" in error["message"]  # "the first stands"
    assert rows() == before
    assert Response.objects.get().answers["people"] == 4


@pytest.mark.parametrize(
    "body",
    [
        {"key": "x", "title_vi": "t", "questions": []},
        {"key": "x", "title_vi": "t", "questions": [{"key": "a", "type": "colour", "label_vi": "a"}]},
        {
            "key": "x",
            "title_vi": "t",
            "questions": [{"key": "a", "type": "choice", "label_vi": "a", "options": ["one"]}],
        },
        {
            "key": "x",
            "title_vi": "t",
            "questions": [{"key": "a", "type": "number", "label_vi": "a", "min": 3, "max": 1}],
        },
        {
            "key": "x",
            "title_vi": "t",
            "questions": [{"key": "a", "type": "choice", "label_vi": "a", "options": [{}, 5]}],
        },
        {"key": "x", "title_vi": " ", "questions": QUESTIONS},
        {"key": "no spaces", "title_vi": "t", "questions": QUESTIONS},
        {
            "key": "x",
            "title_vi": "t",
            "questions": QUESTIONS,
            "round": {"opens_at": "2026-12-03T10:00:00Z", "closes_at": "2026-12-03T09:00:00Z"},
        },
    ],
)
def test_bad_forms_are_400_and_nothing_is_stored(client_a, tenant_a, body):
    before = rows()
    response = client_a.post(forms_url(tenant_a), body, format="json")
    assert response.status_code == 400, response.content
    assert rows() == before


def test_a_daily_check_in_is_created_from_json_and_its_beat_opens_the_rounds(client_a, tenant_a, time_machine):
    # given: the hospital's staff check-in: every day at 8:00 for 4 hours, a reminder at 9:00, topic "health"
    time_machine.move_to("2026-12-06 20:00:00+07:00", tick=False)
    body = {
        "key": "checkin",
        "title_vi": "Điểm danh sức khỏe",
        "questions": [{"key": "ok", "type": "yes_no", "label_vi": "Bạn khỏe không?", "required": True}],
        "schedule": {"repeat": "daily", "open_time": "08:00", "window_minutes": 240, "remind_time": "09:00"},
        "audience": {"kind": "followers", "topic": "health"},
    }
    response = client_a.post(forms_url(tenant_a), body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["repeat"] == "daily" and data["open_time"] == "08:00:00" and data["round"] is None
    # when: the beat runs at 8:00 the next morning
    time_machine.move_to("2026-12-07 08:00:05+07:00", tick=False)
    assert rounds_open_due() == 1
    # then: answers are taken
    answer = {"citizen_id": "bs-1", "client_id": str(uuid.uuid4()), "answers": {"ok": True}}
    assert client_a.post(f"{forms_url(tenant_a)}{data['id']}/responses/", answer, format="json").status_code == 201


@pytest.mark.parametrize(
    "extra",
    [
        {"schedule": {"repeat": "daily"}},
        {"schedule": {"repeat": "weekdays", "open_time": "08:00"}},
        {"schedule": {"repeat": "weekdays", "open_time": "08:00", "weekdays": [7]}},
        {"schedule": {"repeat": "hourly", "open_time": "08:00"}},
        {"audience": {"kind": "followers", "topic": "no-such-topic"}},
        {"audience": {"kind": "everyone"}},
        {"audience": {"kind": "followers", "area": "nowhere"}},
        {"audience": {"kind": "list", "phones": ["0912345678", "12"]}},
        {"audience": {"kind": "list", "phones": []}},
        {"schedule": {"repeat": "daily", "open_time": "08:00", "window_minutes": 60, "remind_time": "09:30"}},
    ],
)
def test_bad_schedules_and_audiences_are_400(client_a, tenant_a, extra):
    before = rows()
    body = {"key": "x", "title_vi": "t", "questions": QUESTIONS, **extra}
    assert client_a.post(forms_url(tenant_a), body, format="json").status_code == 400
    assert rows() == before


def test_questions_are_replaced_under_the_rules_that_protect_answers(client_a, tenant_a):
    form = make_form(tenant_a.account)
    assert submit(client_a, tenant_a, form, GOOD).status_code == 201
    url = f"{forms_url(tenant_a)}{form.pk}/questions/"
    fixed = [q | {"label_vi": "Họ và tên"} if q["key"] == "name" else q for q in QUESTIONS]
    extra = {"key": "roof", "type": "yes_no", "label_vi": "Mái nhà hỏng?"}
    response = client_a.put(url, {"questions": [*fixed, extra]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["questions"][0]["label_vi"] == "Họ và tên" and len(response.json()["questions"]) == 10
    # an answered question's type, and an answered option, stay
    retyped = [q | {"type": "short_text", "min": None, "max": None} if q["key"] == "people" else q for q in QUESTIONS]
    refused = client_a.put(url, {"questions": retyped}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "question_has_answers"
    damage = next(q for q in QUESTIONS if q["key"] == "damage")
    fewer = damage | {"options": [o for o in damage["options"] if o["key"] != "partial"]}
    refused = client_a.put(url, {"questions": [fewer if q["key"] == "damage" else q for q in QUESTIONS]}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "option_has_answers"
    assert form.questions.get(key="people").type == "number"
    assert client_a.put(url, {"questions": []}, format="json").status_code == 400


def test_the_audience_is_followers_in_an_area_or_a_list_of_phones(client_a, tenant_a):
    body = {"key": "flood", "title_vi": "Thiệt hại", "questions": QUESTIONS, "audience": {"area": "79"}}
    assert client_a.post(forms_url(tenant_a), body, format="json").status_code == 201
    body = {"key": "vaccine", "title_vi": "Tiêm", "questions": QUESTIONS}
    body["audience"] = {"kind": "list", "phones": ["0912 345 678", "+84912345678", "0987654321"]}
    assert client_a.post(forms_url(tenant_a), body, format="json").status_code == 201
    forms = {f.key: f for f in Form.objects.filter(account=tenant_a.account)}
    assert forms["flood"].audience_area.code == "79"
    assert forms["vaccine"].audience_phones == ["+84912345678", "+84987654321"]


def test_a_forms_schedule_and_audience_are_set_by_put(api_client, client_a, tenant_a, tenant_b, time_machine):
    # given: a form, and the hospital's staff check-in to set up
    time_machine.move_to("2026-12-06 15:00:00+07:00", tick=False)
    form = make_form(tenant_a.account, key="checkin")
    url = f"{forms_url(tenant_a)}{form.pk}/settings/"
    body = {
        "schedule": {"repeat": "weekdays", "weekdays": [0, 1, 2, 3, 4], "open_time": "08:00", "remind_time": "09:00"},
        "audience": {"kind": "staff"},
    }
    # when
    response = client_a.put(url, body, format="json")
    # then
    assert response.status_code == 200
    data = response.json()
    assert (data["repeat"], data["weekdays"], data["open_time"], data["remind_time"]) == (
        "weekdays",
        [0, 1, 2, 3, 4],
        "08:00:00",
        "09:00:00",
    )
    assert data["window_minutes"] == 24 * 60 and data["audience"] == {
        "kind": "staff",
        "topic": "",
        "area": "",
        "phones": 0,
    }
    # a list of phones: counted, never shown
    listed = client_a.put(url, {"audience": {"kind": "list", "phones": ["0912345678"]}}, format="json").json()
    assert listed["audience"]["phones"] == 1 and "0912345678" not in str(listed) and listed["repeat"] == "none"
    # bad input: 400, nothing changed
    before = Form.objects.values().get(pk=form.pk)
    for bad in (
        {"schedule": {"repeat": "daily"}},
        {"schedule": {"repeat": "daily", "open_time": "08:00", "window_minutes": 30, "remind_time": "09:00"}},
        {"audience": {"kind": "followers", "area": "nowhere"}},
        {"audience": {"kind": "list", "phones": ["abc"]}},
        {"audience": "staff"},
    ):
        assert client_a.put(url, bad, format="json").status_code == 400, bad
    assert Form.objects.values().get(pk=form.pk) == before
    # another account's form, or a token without forms:write
    other = make_form(tenant_b.account, key="other")
    assert client_a.put(f"{forms_url(tenant_a)}{other.pk}/settings/", body, format="json").status_code == 404
    reader = factories.make_token(tenant_a.account, scopes=[ApiToken.SCOPE_READ], name="reader")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {reader}")
    assert api_client.put(url, body, format="json").status_code == 403


def test_a_person_new_to_the_api_is_outside_the_audience_and_a_follower_inside(client_a, tenant_a):
    # given: a follower the agency's app knows as "known-1", and a person it names for the first time
    from oa_platform.services import citizen_get_or_create, follow_create

    form = make_form(tenant_a.account)
    known, _created = citizen_get_or_create(account=tenant_a.account, channel="web", external_id="known-1")
    follow_create(account=tenant_a.account, citizen=known)
    # when: both answer
    first = submit(client_a, tenant_a, form, GOOD, citizen_id="new-1")
    second = submit(client_a, tenant_a, form, GOOD, citizen_id="known-1")
    # then: both stored; only the follower counts within the audience
    assert (first.status_code, second.status_code) == (201, 201), (first.content, second.content)
    stored = dict(Response.objects.filter(form=form).values_list("citizen__external_id", "in_audience"))
    assert stored == {"new-1": False, "known-1": True}
    round_ = form.rounds.get()
    assert (round_.responded, round_.responded_in_audience) == (2, 1)
