"""Forms, rounds and submissions: idempotent by client id, one response per person per round, tallies kept as
answers arrive, the rules that protect answers already given, recurring rounds, retention."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oa_platform.collect.models import Form, Response, Round, Submission, Tally
from oa_platform.collect.services import (
    form_create,
    form_questions_update,
    response_submit,
    responses_purge_expired,
    round_open,
    rounds_open_due,
    rounds_remind_due,
)
from oa_platform.errors import Conflict, ValidationFailed
from oa_platform.models import Message
from tests import factories
from tests.collect.builders import GOOD, QUESTIONS, make_form

pytestmark = pytest.mark.django_db


def tallies(round_) -> dict:
    return {(t.question.key, t.bucket): t.count for t in Tally.objects.filter(round=round_).select_related("question")}


def test_a_form_is_created_with_its_questions_and_an_open_round(tenant_a):
    factories.make_follower(tenant_a.account)
    form = make_form(tenant_a.account)
    assert [q.key for q in form.questions.all()] == [q["key"] for q in QUESTIONS]
    round_ = form.rounds.get()
    assert round_.is_open() and round_.audience_count == 1
    with pytest.raises(Conflict):
        make_form(tenant_a.account, key=form.key)


@pytest.mark.parametrize(
    "bad",
    [
        [],
        [{"key": "a", "type": "colour", "label_vi": "x"}],
        [{"key": "a", "type": "choice", "label_vi": "x", "options": ["only one"]}],
        [{"key": "a", "type": "number", "label_vi": "x", "min": 5, "max": 1}],
        [{"key": "a", "type": "short_text", "label_vi": "x", "options": ["a", "b"]}],
        [{"key": "a", "type": "short_text", "label_vi": "x"}, {"key": "a", "type": "yes_no", "label_vi": "y"}],
        [{"key": "a", "type": "short_text", "label_vi": " "}],
    ],
)
def test_bad_forms_are_refused_and_nothing_is_stored(tenant_a, bad):
    with pytest.raises(ValidationFailed):
        form_create(account=tenant_a.account, key="bad", title_vi="t", questions=bad)
    assert not Form.objects.exists()


def test_the_same_client_id_stores_one_response_and_other_answers_under_it_are_refused(tenant_a):
    form = make_form(tenant_a.account)
    citizen = factories.make_citizen(account=tenant_a.account)
    client_id = uuid.uuid4()
    first = response_submit(form=form, citizen=citizen, client_id=client_id, answers=GOOD)
    again = response_submit(form=form, citizen=citizen, client_id=str(client_id), answers=dict(GOOD))
    assert (first.status, again.status) == ("created", "duplicate")
    assert again.response.pk == first.response.pk
    with pytest.raises(Conflict) as caught:
        response_submit(form=form, citizen=citizen, client_id=client_id, answers=GOOD | {"people": 9})
    assert caught.value.code == "client_id_reused"
    assert Response.objects.get().answers["people"] == 4
    assert Round.objects.get().responded == 1
    assert tallies(form.rounds.get())[("people", "")] == 1


def test_tallies_follow_answers_and_an_edit_moves_them(tenant_a):
    form = make_form(tenant_a.account)
    round_ = form.rounds.get()
    a, b = (factories.make_citizen(account=tenant_a.account) for _ in range(2))
    response_submit(form=form, citizen=a, client_id=uuid.uuid4(), answers=GOOD)
    response_submit(form=form, citizen=b, client_id=uuid.uuid4(), answers=GOOD | {"damage": "total", "needs": []})
    counts = tallies(round_)
    assert counts[("damage", "partial")] == 1 and counts[("damage", "total")] == 1
    assert counts[("needs", "water")] == 1 and counts[("needs", "")] == 1
    assert counts[("injured", "no")] == 2
    # when: a edits their answer in the open round (a new client id)
    edited = response_submit(form=form, citizen=a, client_id=uuid.uuid4(), answers=GOOD | {"damage": "total"})
    # then: one response still, the counts moved
    assert edited.status == "updated"
    counts = tallies(round_)
    assert counts[("damage", "partial")] == 0 and counts[("damage", "total")] == 2
    round_.refresh_from_db()
    assert round_.responded == 2 and Response.objects.count() == 2 and Submission.objects.count() == 3


def test_a_submission_costs_the_same_few_queries_however_many_responses_exist(tenant_a):
    form = make_form(tenant_a.account)
    for _ in range(3):
        response_submit(
            form=form, citizen=factories.make_citizen(account=tenant_a.account), client_id=uuid.uuid4(), answers=GOOD
        )
    citizens = [factories.make_citizen(account=tenant_a.account) for _ in range(2)]
    costs = []
    for citizen in citizens:
        with CaptureQueriesContext(connection) as queries:
            response_submit(form=form, citizen=citizen, client_id=uuid.uuid4(), answers=GOOD)
        costs.append(len(queries))
        assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert costs[0] == costs[1] <= 12


def test_invalid_answers_name_each_problem_and_store_nothing(tenant_a):
    form = make_form(tenant_a.account)
    citizen = factories.make_citizen(account=tenant_a.account)
    bad = GOOD | {"people": 50, "damage": "flooded", "zzz": 1, "notes": "x" * 10_000}
    with pytest.raises(ValidationFailed) as caught:
        response_submit(form=form, citizen=citizen, client_id=uuid.uuid4(), answers=bad)
    assert set(caught.value.fields["answers"]) == {"people", "damage", "zzz", "notes"}
    assert not Response.objects.exists() and not Submission.objects.exists() and not Tally.objects.exists()


def test_late_answers_are_marked_or_refused_as_the_form_says(tenant_a):
    now = timezone.now()
    accept = make_form(
        tenant_a.account, round={"opens_at": now - dt.timedelta(hours=2), "closes_at": now - dt.timedelta(hours=1)}
    )
    refuse = make_form(
        tenant_a.account,
        late_policy=Form.LATE_REFUSE,
        round={"opens_at": now - dt.timedelta(hours=2), "closes_at": now - dt.timedelta(hours=1)},
    )
    citizen = factories.make_citizen(account=tenant_a.account)
    late = response_submit(form=accept, citizen=citizen, client_id=uuid.uuid4(), answers=GOOD)
    assert late.response.is_late
    with pytest.raises(Conflict) as caught:
        response_submit(form=refuse, citizen=citizen, client_id=uuid.uuid4(), answers=GOOD)
    assert caught.value.code == "round_closed"
    # a late answer cannot be edited either
    with pytest.raises(Conflict):
        response_submit(form=accept, citizen=citizen, client_id=uuid.uuid4(), answers=GOOD | {"people": 2})
    future = make_form(tenant_a.account, round={"opens_at": now + dt.timedelta(hours=1)})
    with pytest.raises(Conflict):
        response_submit(form=future, citizen=citizen, client_id=uuid.uuid4(), answers=GOOD)


def _specs(**changes):
    specs = [dict(q) for q in QUESTIONS]
    for spec in specs:
        spec.update(changes.get(spec["key"], {}))
    return specs


def test_a_form_with_answers_gains_questions_and_fixes_labels_but_keeps_types_and_answered_options(tenant_a):
    form = make_form(tenant_a.account)
    response_submit(
        form=form, citizen=factories.make_citizen(account=tenant_a.account), client_id=uuid.uuid4(), answers=GOOD
    )
    # allowed: a typo fixed, a new question, an unanswered option removed
    damage = next(q for q in QUESTIONS if q["key"] == "damage")
    options = [o for o in damage["options"] if o["key"] != "none"]
    extra = {"key": "roof", "type": "yes_no", "label_vi": "Mái nhà hỏng?"}
    form_questions_update(
        form=form, questions=[*_specs(name={"label_vi": "Họ và tên"}, damage={"options": options}), extra]
    )
    assert form.questions.get(key="name").label_vi == "Họ và tên"
    assert form.questions.count() == len(QUESTIONS) + 1
    # refused: a type change, an answered option removed, an answered question removed
    with pytest.raises(Conflict):
        form_questions_update(form=form, questions=_specs(people={"type": "short_text", "min": None, "max": None}))
    with pytest.raises(Conflict):
        form_questions_update(
            form=form, questions=_specs(damage={"options": [options[1], {"key": "new", "label_vi": "Mới"}]})
        )
    with pytest.raises(Conflict):
        form_questions_update(form=form, questions=[q for q in QUESTIONS if q["key"] != "people"])
    assert form.questions.get(key="people").type == "number"
    # a question nobody answered may still change type
    form_questions_update(form=form, questions=_specs(since={"type": "short_text"}))
    assert form.questions.get(key="since").type == "short_text"


def test_a_daily_round_opens_at_its_local_time_once(tenant_a, time_machine):
    form = make_form(tenant_a.account)
    Form.objects.filter(pk=form.pk).update(
        repeat=Form.REPEAT_DAILY, open_time=dt.time(8, 0), window_minutes=240, remind_time=dt.time(9, 0)
    )
    # 07:59 in Hà Nội: nothing yet
    time_machine.move_to("2026-12-07 07:59:00+07:00", tick=False)
    assert rounds_open_due() == 0
    time_machine.move_to("2026-12-07 08:00:30+07:00", tick=False)
    assert rounds_open_due() == 1
    assert rounds_open_due() == 0
    opened = form.rounds.order_by("-opens_at").first()
    assert opened.opens_at == dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)
    assert opened.closes_at == dt.datetime(2026, 12, 7, 5, 0, tzinfo=dt.UTC)
    assert opened.remind_at == dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)
    # weekdays only: Saturday is skipped
    Form.objects.filter(pk=form.pk).update(repeat=Form.REPEAT_WEEKDAYS, repeat_weekdays="0,1,2,3,4")
    time_machine.move_to("2026-12-12 08:10:00+07:00", tick=False)
    assert rounds_open_due() == 0


def test_a_round_closing_before_it_opens_is_refused(tenant_a):
    form = make_form(tenant_a.account)
    now = timezone.now()
    with pytest.raises(ValidationFailed):
        round_open(form=form, opens_at=now, closes_at=now - dt.timedelta(minutes=1))


def test_responses_older_than_the_forms_retention_are_deleted(tenant_a, time_machine):
    time_machine.move_to("2026-12-01 10:00:00+07:00", tick=False)
    kept = make_form(tenant_a.account)
    purged = make_form(tenant_a.account, retention_days=2)
    citizen = factories.make_citizen(account=tenant_a.account)
    for form in (kept, purged):
        response_submit(form=form, citizen=citizen, client_id=uuid.uuid4(), answers=GOOD)
    time_machine.move_to("2026-12-02 10:00:00+07:00", tick=False)
    assert responses_purge_expired() == 0
    time_machine.move_to("2026-12-03 10:00:01+07:00", tick=False)
    assert responses_purge_expired() == 1
    assert list(Response.objects.values_list("form_id", flat=True)) == [kept.pk]


def test_a_daily_check_in_tells_its_audience_at_8_and_reminds_the_others_at_9(tenant_a, time_machine, settings):
    # given: the hospital's staff check-in, daily at 8:00 with a 9:00 reminder, three followers
    settings.PUBLIC_BASE_URL = "https://oa.example.gov.vn"
    people = [factories.make_follower(tenant_a.account, channel="generic") for _ in range(3)]
    time_machine.move_to("2026-12-06 12:00:00+07:00", tick=False)
    form = make_form(tenant_a.account, key="checkin")
    Form.objects.filter(pk=form.pk).update(
        repeat=Form.REPEAT_DAILY, open_time=dt.time(8, 0), window_minutes=600, remind_time=dt.time(9, 0)
    )
    form.refresh_from_db()
    form.rounds.update(announced_at=dt.datetime(2026, 12, 6, 5, tzinfo=dt.UTC))  # the form's first round, told
    # when: 8:00 the next day, the round opens and everyone is told, with the link
    time_machine.move_to("2026-12-07 08:00:10+07:00", tick=False)
    assert rounds_open_due() == 1
    opened = Message.objects.filter(sender=Message.SENDER_SYSTEM)
    assert opened.count() == 3
    assert f"https://oa.example.gov.vn/f/{tenant_a.account.slug}/{form.pk}/" in opened.first().text
    # one answers before 9:00
    response_submit(form=form, citizen=people[0], client_id=uuid.uuid4(), answers=GOOD)
    assert rounds_remind_due() == 0
    # then at 9:00 the two others are reminded, once
    time_machine.move_to("2026-12-07 09:00:05+07:00", tick=False)
    assert rounds_remind_due() == 1
    assert rounds_remind_due() == 0
    reminded = Message.objects.filter(sender=Message.SENDER_SYSTEM, text__startswith="Nhắc")
    assert sorted(m.conversation.citizen_id for m in reminded) == sorted(p.pk for p in people[1:])


def _cost_of_one_more(account, prior: int) -> list[str]:
    form = make_form(account, key=f"cost-{prior}")
    for _ in range(prior):
        citizen = factories.make_citizen(account=account)
        response_submit(form=form, citizen=citizen, client_id=uuid.uuid4(), answers=GOOD)
    citizen = factories.make_citizen(account=account)
    with CaptureQueriesContext(connection) as queries:
        result = response_submit(form=form, citizen=citizen, client_id=uuid.uuid4(), answers=GOOD)
    assert result.status == "created" and Round.objects.get(form=form).responded == prior + 1
    return [q["sql"] for q in queries.captured_queries]


def test_the_cost_of_a_submission_is_pinned_and_the_same_after_1_or_50_responses(tenant_a):
    # given: one form with 1 response and one with 50
    # when: one more submission to each
    after_one, after_fifty = _cost_of_one_more(tenant_a.account, 1), _cost_of_one_more(tenant_a.account, 50)
    # then: the same statements, so many and no more (counters kept as answers arrive: nothing re-scans responses).
    # On PostgreSQL: the client id, the questions, the current round, the indexed check that the person is in the
    # round's audience, then one statement storing the response, its submission, the tallies and the round's
    # counters, in a savepoint (two more); elsewhere each write is a statement of its own (eleven in all).
    assert len(after_one) == len(after_fifty) == (7 if connection.vendor == "postgresql" else 11), after_fifty
    assert not any("COUNT(" in sql.upper() for sql in after_fifty)


def test_a_citizen_created_with_the_submission_needs_no_audience_or_personal_link_lookup(tenant_a):
    # given: a form for the followers of a topic, and a person created in this very request
    form = make_form(tenant_a.account)
    citizen = factories.make_citizen(account=tenant_a.account)
    # when
    with CaptureQueriesContext(connection) as queries:
        result = response_submit(form=form, citizen=citizen, client_id=uuid.uuid4(), answers=GOOD, citizen_created=True)
    # then: stored, counted outside the audience, without reading follows, memberships or personal links
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    assert not any(name in tables for name in ("oa_platform_follow", "oa_platform_membership", "answerlink"))
    assert result.status == "created" and not result.response.in_audience
    round_ = Round.objects.get(form=form)
    assert (round_.responded, round_.responded_in_audience) == (1, 0)


def test_a_client_id_raced_in_by_another_person_stores_nothing_of_the_second(tenant_a, monkeypatch):
    # given: one person's answer stored under a client id
    from oa_platform.collect import services

    form = make_form(tenant_a.account)
    first, second = (factories.make_citizen(account=tenant_a.account) for _ in range(2))
    client_id = uuid.uuid4()
    response_submit(form=form, citizen=first, client_id=client_id, answers=GOOD)
    before = tallies(Round.objects.get(form=form))
    # when: another person's submission of the same client id comes in before it was visible (the first look
    # finds nothing; the insert then meets the stored one)
    looks = iter([None])
    seen = services._submission_seen
    monkeypatch.setattr(services, "_submission_seen", lambda cid: next(looks, None) or seen(cid))
    again = response_submit(form=form, citizen=second, client_id=client_id, answers=GOOD)
    # then: the first submission is the answer, and nothing of the second is stored or counted
    assert again.status == "duplicate" and again.response.citizen_id == first.pk
    assert list(Response.objects.filter(form=form).values_list("citizen_id", flat=True)) == [first.pk]
    round_ = Round.objects.get(form=form)
    assert round_.responded == 1 and tallies(round_) == before


def test_a_second_answer_of_the_same_person_replaces_the_first_and_moves_the_tallies(tenant_a):
    # given: a person's first answer, stored by the one-statement path
    form = make_form(tenant_a.account)
    citizen = factories.make_citizen(account=tenant_a.account)
    response_submit(form=form, citizen=citizen, client_id=uuid.uuid4(), answers=GOOD | {"damage": "none"})
    # when: their second answer under a new client id
    second = response_submit(form=form, citizen=citizen, client_id=uuid.uuid4(), answers=GOOD | {"damage": "total"})
    # then: one response, counted once, its tallies moved from the old option to the new
    round_ = Round.objects.get(form=form)
    assert second.status == "updated" and Response.objects.filter(form=form).count() == 1
    assert round_.responded == 1 and Submission.objects.filter(response=second.response).count() == 2
    counts = tallies(round_)
    assert counts.get(("damage", "none"), 0) == 0 and counts[("damage", "total")] == 1
