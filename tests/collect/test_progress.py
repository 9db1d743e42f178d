"""Responded within the audience over the audience (never above 100%), apart from answers of people outside it
(someone who got a shared link): kept by counters as answers arrive, with one indexed audience check per
submission whose cost does not grow with the responses; on the results page, in the API and in the live block."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oa_platform.collect.audience import audience_citizens, audience_has
from oa_platform.collect.models import Form, Response
from oa_platform.collect.selectors import round_results
from oa_platform.collect.services import form_settings_update, response_submit, responses_erase_for_citizen
from oa_platform.models import Membership, Topic
from oa_platform.services import follow_create, subscriptions_set
from tests import factories
from tests.collect.builders import GOOD, make_form

pytestmark = pytest.mark.django_db


def answer(form, citizen):
    return response_submit(form=form, citizen=citizen, client_id=uuid.uuid4(), answers=GOOD)


def counts(form) -> dict:
    round_ = form.rounds.get()
    results = round_results(form=form, round_=round_)
    keys = ("audience", "responded", "responded_in_audience", "responded_outside", "percent")
    return {key: results[key] for key in keys}


def test_answers_from_outside_the_audience_are_counted_apart_and_never_push_progress_over_100(tenant_a):
    # given: a form for the account's two followers
    a = tenant_a.account
    insiders = [factories.make_follower(a) for _ in range(2)]
    form = make_form(a)
    # when: one follower and three people who got a shared link answer
    answer(form, insiders[0])
    for _ in range(3):
        answer(form, factories.make_citizen(account=a))
    # then: 1 of 2 in the audience (50%), 3 from outside
    assert counts(form) == {
        "audience": 2,
        "responded": 4,
        "responded_in_audience": 1,
        "responded_outside": 3,
        "percent": 50,
    }
    # and an edit of an answer moves nothing
    answer(form, insiders[0])
    assert counts(form)["responded_in_audience"] == 1


def test_someone_who_joined_the_audience_after_the_round_opened_keeps_the_bar_at_100(tenant_a):
    a = tenant_a.account
    first = factories.make_follower(a)
    form = make_form(a)  # audience counted at opening: 1
    late_joiner = factories.make_follower(a)
    answer(form, first)
    answer(form, late_joiner)
    got = counts(form)
    assert got["audience"] == 1 and got["responded_in_audience"] == 1 and got["percent"] == 100


def test_the_check_agrees_with_the_audience_for_followers_staff_and_lists(tenant_a, tenant_b):
    a = tenant_a.account
    Topic.objects.get_or_create(account=a, key="health", defaults={"label_vi": "Y tế"})
    people = [factories.make_follower(a, phone=f"+8491234560{i}") for i in range(3)]
    subscriptions_set(follow=people[0].follows.get(account=a), topic_keys=["health"], area_codes=None)
    own = factories.make_citizen(account=a, channel="generic", phone="+84912345609")  # of A's channel, no follow
    stranger = factories.make_citizen(account=tenant_b.account, channel="generic", phone="+84912345601")
    follow_create(account=tenant_b.account, citizen=people[2])  # also follows B: changes nothing for A
    staff = Membership.objects.get(user=tenant_a.editor, account=a)
    staff.test_citizen = people[1]
    staff.save(update_fields=["test_citizen"])
    everyone = [*people, own, stranger]
    audiences = [
        {"kind": "followers"},
        {"kind": "followers", "topic": "health"},
        {"kind": "staff"},
        {"kind": "list", "phones": ["0912345600", "0912345609", "0912345601"]},
    ]
    form = make_form(a)
    for audience in audiences:
        form_settings_update(form=form, schedule=None, audience=audience)
        form.refresh_from_db()
        expected = set(audience_citizens(form).values_list("pk", flat=True))
        assert expected, audience
        assert {c.pk for c in everyone if audience_has(form, c)} == expected, audience


@pytest.mark.parametrize("kind", ["followers", "staff", "list"])
def test_a_submission_checks_the_audience_in_the_same_few_queries_however_many_responses_exist(tenant_a, kind):
    # given: an audience of 40 people, 3 of whom answered
    a = tenant_a.account
    people = [factories.make_follower(a, phone=f"+849123{i:05d}") for i in range(40)]
    if kind == "staff":
        for person in people:
            user = factories.make_staff(a, Membership.ROLE_EDITOR)
            Membership.objects.filter(user=user).update(test_citizen=person)
    audience = {"kind": kind, "phones": [p.phone for p in people]} if kind == "list" else {"kind": kind}
    form = make_form(a, audience=audience)
    assert form.rounds.get().audience_count == 40

    def cost(person) -> int:
        with CaptureQueriesContext(connection) as queries:
            answer(form, person)
        assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
        return len(queries)

    for person in people[:3]:
        answer(form, person)
    few = cost(people[3])
    # when: 30 more answered
    for person in people[4:34]:
        answer(form, person)
    # then: the next submission costs the same
    assert cost(people[34]) == few <= 13
    assert counts(form)["responded_in_audience"] == 35


def test_changing_the_audience_recounts_who_of_the_respondents_is_in_it(tenant_a):
    a = tenant_a.account
    followers = [factories.make_follower(a, phone=f"+8491234570{i}") for i in range(2)]
    outsider = factories.make_citizen(account=a, channel="generic", phone="+84912345709")
    form = make_form(a)
    answer(form, followers[0])
    answer(form, outsider)
    assert counts(form)["responded_in_audience"] == 1
    # when: the audience becomes a list of the outsider's and the second follower's phones
    form_settings_update(
        form=form, schedule=None, audience={"kind": "list", "phones": ["+84912345709", "+84912345701"]}
    )
    # then
    assert counts(form) | {"audience": 2} == {
        "audience": 2,
        "responded": 2,
        "responded_in_audience": 1,
        "responded_outside": 1,
        "percent": 50,
    }
    assert Response.objects.get(citizen=outsider).in_audience
    assert not Response.objects.get(citizen=followers[0]).in_audience


def test_erasing_a_respondent_takes_them_out_of_the_right_counter(tenant_a):
    a = tenant_a.account
    insider = factories.make_follower(a)
    outsider = factories.make_citizen(account=a)
    form = make_form(a)
    answer(form, insider)
    answer(form, outsider)
    responses_erase_for_citizen(account=a, citizen=outsider)
    assert counts(form)["responded_outside"] == 0 and counts(form)["responded_in_audience"] == 1
    responses_erase_for_citizen(account=a, citizen=insider)
    assert counts(form)["responded"] == 0 and counts(form)["responded_in_audience"] == 0


def test_the_results_page_the_live_block_the_list_and_the_api_show_both(client, api_client, tenant_a):
    a = tenant_a.account
    insiders = [factories.make_follower(a) for _ in range(4)]
    form = make_form(a, key="checkin")
    answer(form, insiders[0])
    for _ in range(6):
        answer(form, factories.make_citizen(account=a))
    client.force_login(tenant_a.editor)
    for path in (f"/staff/{a.slug}/forms/{form.pk}/", f"/staff/{a.slug}/forms/{form.pk}/live/"):
        html = client.get(path).content.decode()
        assert 'id="collect-responded">1<' in html and 'max="4" value="1"' in html
        assert 'id="collect-outside">6<' in html and "(25%)" in html
    listing = client.get(f"/staff/{a.slug}/forms/").content.decode()
    assert "1 / 4" in listing and "6 ngoài danh sách" in listing
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {tenant_a.token}")
    body = api_client.get(f"/api/v1/accounts/{a.slug}/forms/{form.pk}/results/").json()
    assert (body["audience"], body["responded"], body["responded_in_audience"]) == (4, 7, 1)
    assert (body["responded_outside"], body["percent"]) == (6, 25)


def test_staff_audience_counts_a_staff_members_chat_identity(tenant_a):
    a = tenant_a.account
    me = factories.make_citizen(account=a, channel="generic")
    Membership.objects.filter(user=tenant_a.manager, account=a).update(test_citizen=me)
    form = make_form(a, audience={"kind": Form.AUDIENCE_STAFF})
    answer(form, me)
    answer(form, factories.make_citizen(account=a, channel="generic"))
    assert counts(form) == {
        "audience": 1,
        "responded": 2,
        "responded_in_audience": 1,
        "responded_outside": 1,
        "percent": 100,
    }
