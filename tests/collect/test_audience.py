"""A round's audience: followers of a topic in an area, a list of phones, the account's staff. The audience count,
the "not answered" list and the messages on opening and reminding all follow it; opening tells it through the
channel layer (a real loopback provider), in chunks that resume where a stopped run left off."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from oa_platform import live
from oa_platform.collect import announce
from oa_platform.collect.audience import audience_citizens, non_responders
from oa_platform.collect.models import Form, Round
from oa_platform.collect.services import (
    form_create,
    form_settings_update,
    response_submit,
    round_open,
    round_remind,
    rounds_open_due,
    rounds_remind_due,
)
from oa_platform.errors import Conflict, ValidationFailed
from oa_platform.models import Message, Topic
from tests import factories
from tests.broadcasts.conftest import follower
from tests.collect.builders import GOOD, QUESTIONS, make_form
from tests.fakes.fake_messaging_api import FakeMessagingApi
from tests.webhooks.conftest import make_channels

pytestmark = pytest.mark.django_db

HCM, HANOI, HCM_WARD = "79", "01", "25747"


@pytest.fixture
def province(tenant_a, tenant_b):
    """Followers of A (and one of B) in and out of Ho Chi Minh City, of the storm-flood topic or another."""
    a = tenant_a.account
    Topic.objects.get_or_create(account=a, key="storm-flood", defaults={"label_vi": "Bão lũ"})
    Topic.objects.get_or_create(account=a, key="health", defaults={"label_vi": "Y tế"})
    people = {
        "ward": follower(a, topics=["storm-flood"], areas=[HCM_WARD]),  # a ward of the province: in
        "home": follower(a, topics=["storm-flood"], areas=[], home=HCM_WARD),  # chose no area, lives there: in
        "hanoi": follower(a, topics=["storm-flood"], areas=[HANOI], home=HCM_WARD),  # chose elsewhere: out
        "health": follower(a, topics=["health"], areas=[HCM]),  # another topic: out
    }
    follower(tenant_b.account, areas=[HCM])  # another account: out
    return people


def test_followers_of_a_topic_in_an_area_are_the_audience_count_and_the_waiting_list(tenant_a, province):
    # given: the province's flood-damage form for storm-flood followers in Ho Chi Minh City
    form = make_form(tenant_a.account, key="flood", audience={"kind": "followers", "topic": "storm-flood", "area": HCM})
    round_ = form.rounds.get()
    # then
    assert round_.audience_count == 2
    assert set(audience_citizens(form)) == {province["ward"], province["home"]}
    # when one answers, only the other is waiting
    response_submit(form=form, citizen=province["ward"], client_id=uuid.uuid4(), answers=GOOD)
    assert list(non_responders(form=form, round_=round_)) == [province["home"]]


def test_a_list_of_phones_reaches_the_accounts_people_with_those_phones(tenant_a, tenant_b):
    a = tenant_a.account
    listed = factories.make_follower(a, channel="zalo", phone="0912345001")
    own = factories.make_citizen_of(a, channel="generic", phone="+84912345002")  # the account's own channel
    factories.make_follower(a, phone="0912345009")  # not on the list
    factories.make_follower(tenant_b.account, phone="0912345001")  # same phone, another account
    form = make_form(a, key="vaccine", audience={"kind": "list", "phones": ["0912 345 001", "+84912345002", ""]})
    assert form.audience_phones == ["+84912345001", "+84912345002"]
    assert set(audience_citizens(form)) == {listed, own}
    assert form.rounds.get().audience_count == 2


@pytest.mark.parametrize(
    ("audience", "named"),
    [
        ({"kind": "list", "phones": ["0912345001", "not a phone"]}, "not a phone"),
        ({"kind": "list", "phones": []}, ""),
        ({"kind": "followers", "area": "99999999"}, ""),
        ({"kind": "followers", "topic": "no-such-topic"}, ""),
        ({"kind": "everyone"}, ""),
    ],
)
def test_bad_audiences_are_refused_and_nothing_is_stored(tenant_a, audience, named):
    with pytest.raises(ValidationFailed) as caught:
        form_create(account=tenant_a.account, key="bad", title_vi="X", questions=QUESTIONS[:1], audience=audience)
    assert named in str(caught.value.fields["audience"])
    assert not Form.objects.filter(account=tenant_a.account).exists()


def test_a_round_opened_now_tells_its_audience_through_their_channel(tenant_a, django_capture_on_commit_callbacks):
    # given: two Zalo followers and a Zalo channel on a loopback provider
    with FakeMessagingApi(zalo_token="zalo-token", wechat_token="wechat-token") as api:
        make_channels(tenant_a.account, api.url)
        people = [factories.make_follower(tenant_a.account, channel="zalo") for _ in range(2)]
        form = make_form(tenant_a.account, key="flood", audience={"kind": "followers"})
        form.rounds.update(announced_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        # when: a new round opens now (the console's "open a round")
        with django_capture_on_commit_callbacks(execute=True):
            round_ = round_open(form=form)
        # then: each was sent the link and the way to answer in chat, through the provider
        assert len(api.sent) == 2
        texts = " ".join(str(s) for s in api.sent)
        assert f"/f/{tenant_a.account.slug}/{form.pk}/" in texts and "biểu mẫu flood" in texts
        round_.refresh_from_db()
        assert round_.announced_at is not None and round_.announce_cursor == max(p.pk for p in people)
        assert set(Message.objects.filter(delivery_status=Message.DELIVERY_SENT).values_list("channel", flat=True)) == {
            "zalo"
        }


def test_a_large_audience_is_told_in_chunks_that_resume_and_never_repeat(tenant_a, monkeypatch, time_machine):
    # given: 7 followers, chunks of 3, runs of 2 chunks
    time_machine.move_to("2026-12-07 08:00:00+07:00", tick=False)
    monkeypatch.setattr(announce, "TELL_CHUNK", 3)
    monkeypatch.setattr(announce, "TELL_CHUNKS_PER_RUN", 2)
    people = [factories.make_follower(tenant_a.account, channel="generic") for _ in range(7)]
    form = make_form(tenant_a.account, key="flood")  # its round opened now; its task did not run (no commit)
    round_ = form.rounds.get()
    # when: the beat ticks twice
    assert announce.rounds_tell_due()["announced"] == 0  # 6 told, one run
    round_.refresh_from_db()
    assert round_.announced_at is None and round_.announce_cursor == people[5].pk
    assert announce.rounds_tell_due()["announced"] == 1
    assert announce.rounds_tell_due()["announced"] == 0  # nothing left
    # then: everyone told exactly once
    told = Message.objects.filter(sender=Message.SENDER_SYSTEM).values_list("conversation__citizen_id", flat=True)
    assert sorted(told) == sorted(p.pk for p in people)


def test_a_round_to_come_is_told_when_it_opens_not_before(tenant_a, time_machine):
    time_machine.move_to("2026-12-07 07:00:00+07:00", tick=False)
    factories.make_follower(tenant_a.account, channel="generic")
    form = make_form(tenant_a.account, key="flood", round={"opens_at": dt.datetime(2026, 12, 7, 1, 30, tzinfo=dt.UTC)})
    assert announce.rounds_tell_due() == {"announced": 0, "reminded": 0, "nudged": 0}
    assert not Message.objects.exists()
    time_machine.move_to("2026-12-07 08:31:00+07:00", tick=False)
    assert announce.rounds_tell_due()["announced"] == 1
    assert Message.objects.get().text.startswith("Mời bạn trả lời")
    assert Round.objects.get(form=form).announced_at is not None


def test_the_hospitals_staff_check_in_daily_at_8_with_a_9_reminder(tenant_a, time_machine):
    # given: a hospital whose three staff have their test identities; a follower who is not staff
    account = tenant_a.account
    staff = []
    for i in range(3):
        user = factories.make_staff(account, role="editor", username=f"nurse{i}")
        member = user.memberships.get(account=account)
        member.test_citizen = factories.make_citizen_of(account, channel="generic")
        member.save(update_fields=["test_citizen"])
        staff.append(member.test_citizen)
    factories.make_follower(account, channel="generic")
    time_machine.move_to("2026-12-06 15:00:00+07:00", tick=False)
    form = make_form(account, key="checkin", round={"opens_at": dt.datetime(2026, 12, 6, 8, tzinfo=dt.UTC)})
    form.rounds.update(
        announced_at=dt.datetime(2026, 12, 6, 8, tzinfo=dt.UTC), closes_at=dt.datetime(2026, 12, 6, 9, tzinfo=dt.UTC)
    )
    form_settings_update(
        form=form,
        schedule={"repeat": "daily", "open_time": dt.time(8), "window_minutes": 10 * 60, "remind_time": dt.time(9)},
        audience={"kind": "staff"},
    )
    # when: 8:00 the next day
    time_machine.move_to("2026-12-07 08:00:20+07:00", tick=False)
    assert rounds_open_due() == 1
    round_ = form.rounds.get(opens_at=dt.datetime(2026, 12, 7, 1, tzinfo=dt.UTC))
    assert round_.audience_count == 3
    assert sorted(Message.objects.values_list("conversation__citizen_id", flat=True)) == sorted(s.pk for s in staff)
    response_submit(form=form, citizen=staff[0], client_id=uuid.uuid4(), answers=GOOD)
    # then: at 9:00 the two others are reminded, once
    time_machine.move_to("2026-12-07 09:00:20+07:00", tick=False)
    assert rounds_remind_due() == 1
    assert rounds_remind_due() == 0
    reminded = Message.objects.filter(text__startswith="Nhắc").values_list("conversation__citizen_id", flat=True)
    assert sorted(reminded) == sorted(s.pk for s in staff[1:])


@pytest.mark.parametrize(
    "schedule",
    [
        {"repeat": "daily", "open_time": None},
        {"repeat": "weekdays", "open_time": dt.time(8), "weekdays": []},
        {"repeat": "weekdays", "open_time": dt.time(8), "weekdays": [7]},
        {"repeat": "daily", "open_time": dt.time(8), "window_minutes": 60, "remind_time": dt.time(9)},
        {"repeat": "daily", "open_time": dt.time(8), "remind_time": dt.time(8)},
        {"repeat": "hourly", "open_time": dt.time(8)},
    ],
)
def test_bad_schedules_are_refused_and_the_form_is_unchanged(tenant_a, schedule):
    form = make_form(tenant_a.account, key="flood")
    with pytest.raises(ValidationFailed):
        form_settings_update(form=form, schedule=schedule, audience={"kind": "staff"})
    form.refresh_from_db()
    assert form.repeat == Form.REPEAT_NONE and form.audience == Form.AUDIENCE_FOLLOWERS


def test_remind_now_reaches_a_large_audience_in_chunks_and_is_not_started_twice(
    tenant_a, monkeypatch, django_capture_on_commit_callbacks
):
    # given: 7 followers who have not answered, chunks of 3, runs of one chunk
    monkeypatch.setattr(announce, "TELL_CHUNK", 3)
    monkeypatch.setattr(announce, "TELL_CHUNKS_PER_RUN", 1)
    people = [factories.make_follower(tenant_a.account, channel="generic") for _ in range(7)]
    form = make_form(tenant_a.account, key="flood")
    round_ = form.rounds.get()
    round_.announced_at = round_.opens_at
    round_.save()
    # when: staff press "remind them now": the first chunk at once (the queued run for the rest is held back)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert round_remind(form=form, round_=round_, base_url="https://staff.example") == 7
    assert [q.__qualname__.split(".")[0] for q in queued].count("tell_on_commit") == 1
    assert Message.objects.filter(text__startswith="Nhắc").count() == 3
    assert "https://staff.example/f/" in Message.objects.filter(text__startswith="Nhắc").first().text
    # pressing again while it is under way is refused
    with pytest.raises(Conflict):
        round_remind(form=form, round_=round_)
    # the beat carries it on should the run be lost, and finishes it once
    assert announce.rounds_tell_due()["nudged"] == 0  # 3 more
    assert announce.rounds_tell_due()["nudged"] == 1  # the last one
    assert announce.rounds_tell_due()["nudged"] == 0
    told = Message.objects.filter(text__startswith="Nhắc").values_list("conversation__citizen_id", flat=True)
    assert sorted(told) == sorted(p.pk for p in people)
    # once finished, staff may remind again (those still waiting)
    response_submit(form=form, citizen=people[0], client_id=uuid.uuid4(), answers=GOOD)
    with django_capture_on_commit_callbacks(execute=True):
        assert round_remind(form=form, round_=round_) == 6


def test_a_round_opened_now_is_told_to_its_whole_audience_by_runs_that_queue_the_next(
    tenant_a, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(announce, "TELL_CHUNK", 3)
    monkeypatch.setattr(announce, "TELL_CHUNKS_PER_RUN", 1)
    people = [factories.make_follower(tenant_a.account, channel="generic") for _ in range(8)]
    with django_capture_on_commit_callbacks(execute=True):
        form = make_form(tenant_a.account, key="flood")
    told = Message.objects.filter(sender=Message.SENDER_SYSTEM).values_list("conversation__citizen_id", flat=True)
    assert sorted(told) == sorted(p.pk for p in people)  # 3 runs of 3, each queued by the one before
    assert form.rounds.get().announced_at is not None


def test_a_round_that_closed_meanwhile_stops_being_told(tenant_a, time_machine, monkeypatch):
    monkeypatch.setattr(announce, "TELL_CHUNK", 2)
    monkeypatch.setattr(announce, "TELL_CHUNKS_PER_RUN", 1)
    time_machine.move_to("2026-12-07 08:00:00+07:00", tick=False)
    for _ in range(5):
        factories.make_follower(tenant_a.account, channel="generic")
    form = make_form(tenant_a.account, key="flood", round={"closes_at": dt.datetime(2026, 12, 7, 2, tzinfo=dt.UTC)})
    round_ = form.rounds.get()
    assert announce.round_tell(round_id=round_.pk, kind=announce.OPEN) == (2, False)
    time_machine.move_to("2026-12-07 09:00:01+07:00", tick=False)
    assert announce.round_tell(round_id=round_.pk, kind=announce.OPEN) == (0, True)
    assert Message.objects.count() == 2


@pytest.mark.parametrize(
    ("language", "opening", "title", "chat"),
    [
        ("vi", "Mời bạn trả lời biểu mẫu", "Báo cáo thiệt hại do lũ", 'gõ "biểu mẫu flood"'),
        ("en", "Please answer the form", "Flood damage report", 'type "form flood"'),
        ("zh-hans", "请填写表单", "洪水损失报告", "输入“表单 flood”"),
    ],
)
def test_each_person_is_told_in_their_language_with_the_way_to_answer_in_chat(tenant_a, language, opening, title, chat):
    person = factories.make_follower(tenant_a.account, channel="zalo", language=language)
    form = make_form(tenant_a.account, key="flood")
    announce.rounds_tell_due()
    text = Message.objects.get(conversation__citizen=person).text
    assert text.startswith(opening) and title in text and chat in text
    assert f"/f/{tenant_a.account.slug}/{form.pk}/p/" in text


def test_a_round_opened_now_wakes_the_open_chat_pages_of_its_audience_only(
    tenant_a, django_capture_on_commit_callbacks
):
    # given: two web followers, one with the chat page open (its socket joined their group), and the staff inbox
    layer = get_channel_layer()
    online, offline = (factories.make_follower(tenant_a.account, channel="web") for _ in range(2))
    page, inbox = async_to_sync(layer.new_channel)(), async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(live.citizen_group(tenant_a.account.pk, online.pk), page)
    async_to_sync(layer.group_add)(live.staff_group(tenant_a.account.pk), inbox)
    form = make_form(tenant_a.account, key="flood", audience={"kind": "followers"})
    form.rounds.update(announced_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        round_open(form=form)
    # then: the open page is told its own conversation changed (ids only); the inbox is not woken per person
    conversation = Message.objects.get(conversation__citizen=online).conversation_id
    event = async_to_sync(asyncio.wait_for)(layer.receive(page), 5)
    assert event == {"type": "conversation.changed", "conversation_id": conversation}
    assert Message.objects.filter(conversation__citizen=offline).count() == 1
    with pytest.raises(TimeoutError):
        async_to_sync(asyncio.wait_for)(layer.receive(inbox), 0.3)
