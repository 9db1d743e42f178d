"""Sending a list: the set-based in-app path (one statement per chunk, broadcasts.personal.inapp), what it leaves
to the per-message path (external channels, their fallback), idempotency, cancel mid-send, and the daily quota
in force (an account's ChannelConfig.daily_quota over the channel type's)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from broadcasts.personal import dispatch, inapp, lists, plan, sending
from broadcasts.personal.management.commands import bench_personal_send
from broadcasts.personal.models import Notification, PersonalSettings, RecipientList, StatusEvent
from broadcasts.personal.rendering import render
from broadcasts.personal.tasks import send_due
from broadcasts.services import Actor
from oa_platform import channel_types as ct
from oa_platform.models import ApiToken, Citizen, Conversation, Message
from oa_platform.services import token_issue
from tests.factories import set_quiet_hours
from tests.fakes.fake_provider import FakeProvider
from tests.personal.conftest import approved_list, approved_template, provider, web_person

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

HEADER = "phone,name,date,place\n"
NOW = "2026-12-01 10:00:00+07:00"


@pytest.fixture(autouse=True)
def _postgres_daytime(time_machine):
    if connection.vendor != "postgresql":
        pytest.skip("the set-based path is PostgreSQL's")
    time_machine.move_to(NOW, tick=False)


def _no_per_message_inapp(monkeypatch):
    """Fail if a message goes in-app one by one (the set-based statement must take every follower)."""

    def refuse(*args, **kwargs):
        raise AssertionError("in-app sent one by one")

    monkeypatch.setattr(sending, "_inapp", refuse)


def web_speaker(account, phone: str, language: str, n: int) -> Citizen:
    citizen = web_person(account, phone=phone, external_id=f"w{n}")
    Citizen.objects.filter(pk=citizen.pk).update(language=language)
    return citizen


# --- rendering in SQL  ---
@pytest.mark.parametrize(
    ("body", "values"),
    [
        ("Chào ((name)), ((date)) tại ((place)).", {"name": "An", "date": "05/12", "place": "Trạm 1"}),
        ("((Name)) và (( name )) – ((name))", {"name": "Bình"}),
        ("<b>((name))</b>", {"name": "<script>alert('x')</script>"}),
        ("((name)) ((date))", {"name": "((date))", "date": "%s %(x)s \\ ' \" ;--"}),
        ("no placeholder, 100% ((", {}),
        ("((a))((b))", {"a": "中文", "b": "emoji 🎉"}),
    ],
)
def test_sql_rendering_is_the_python_rendering(tenant_a, body, values):
    version = approved_template(tenant_a, body_vi=body, link="https://example.gov.vn/a?b=1%20")
    params: dict = {}
    rendered, ok = inapp.body_sql(version, language_sql="%(lang)s", values_sql="%(v)s::jsonb", params=params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {rendered}, {ok}", params | {"lang": "vi", "v": json.dumps(values)})
        text, complete = cursor.fetchone()
    assert text == f"{render(body, values)}\nhttps://example.gov.vn/a?b=1%20"
    assert complete is True


def test_a_blank_value_is_not_complete_in_sql(tenant_a):
    version = approved_template(tenant_a, body_vi="((name))")
    params: dict = {}
    _rendered, ok = inapp.body_sql(version, language_sql="'vi'", values_sql="%(v)s::jsonb", params=params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {ok}", params | {"v": json.dumps({"name": " \t"})})
        assert cursor.fetchone()[0] is False


# --- the set-based in-app path  ---
def test_a_list_is_sent_in_app_in_each_persons_language_with_values_kept_as_text(
    tenant_a, tenant_b, monkeypatch, django_capture_on_commit_callbacks
):
    # given: three followers on the web page speaking vi, en and zh-hans; values with HTML and a placeholder
    _no_per_message_inapp(monkeypatch)
    version = approved_template(
        tenant_a,
        body_en="Hello ((name)), ((date)) at ((place)).",
        body_zh="((name))您好，((date))在((place))。",
        link="https://example.gov.vn/lich",
    )
    people = {
        lang: web_speaker(tenant_a.account, f"+8491234567{n}", lang, n)
        for n, lang in enumerate(["vi", "en", "zh-hans"])
    }
    web_speaker(tenant_b.account, "+84912345670", "en", 9)  # the other agency's follower with the same phone
    rows = [
        "0912345670,<script>alert(1)</script>,05/12,((place))",
        "0912345671,<b>Bình</b>,06/12,Trạm & 2",
        '0912345672,"Chi, ""C""",07/12,Trạm 3',
    ]
    # when
    checked = approved_list(tenant_a, HEADER + "\n".join(rows) + "\n", run_on_commit=django_capture_on_commit_callbacks)
    # then: one system message per person in their conversation, rendered as the per-message path would
    assert checked.status == RecipientList.STATUS_SENT
    for lang, citizen in people.items():
        notification = Notification.objects.get(recipient_list=checked, phone=citizen.phone)
        conversation = Conversation.objects.get(account=tenant_a.account, citizen=citizen)
        message = Message.objects.get(conversation=conversation)
        expected = dispatch.text_for(version, channel="inapp", language=lang, values=notification.personalisation)
        assert message.text == notification.body == expected
        assert (message.direction, message.sender, message.channel) == ("out", "system", "web")
        assert notification.provider_message_id == f"msg-{message.pk}"
        assert (notification.status, notification.channel, notification.tried_channels) == ("sent", "inapp", ["inapp"])
        assert notification.language == lang and notification.sent_at is not None
        history = list(StatusEvent.objects.filter(notification=notification).values_list("status", "channel"))
        assert history == [("queued", ""), ("sent", "inapp")]
    texts = set(Message.objects.values_list("text", flat=True))
    link = "\nhttps://example.gov.vn/lich"
    assert "Chào <script>alert(1)</script>, lịch tiêm của ông/bà: 05/12 tại ((place))." + link in texts
    assert "Hello <b>Bình</b>, 06/12 at Trạm & 2.\nhttps://example.gov.vn/lich" in texts
    assert 'Chi, "C"您好，07/12在Trạm 3。\nhttps://example.gov.vn/lich' in texts
    assert Message.objects.filter(conversation__account=tenant_b.account).count() == 0
    assert lists.list_progress(recipient_list=checked) == {
        "status": {"sent": 3},
        "channel": {"inapp": 3},
        "cost": 0,
        "total": 3,
    }


def test_a_chunk_run_twice_sends_nothing_twice(tenant_a, monkeypatch):
    _no_per_message_inapp(monkeypatch)
    approved_template(tenant_a)
    for n in range(5):
        web_person(tenant_a.account, phone=f"+8491234560{n}", external_id=f"w{n}")
    checked = approved_list(tenant_a, HEADER + "".join(f"091234560{n},P{n},05/12,T\n" for n in range(5)))
    first, last = dispatch.list_ranges(list_id=checked.pk)[0]
    # when: the chunk runs, then runs again (a redelivered task)
    assert dispatch.send_list_chunk(checked.pk, first, last) == {"list": checked.pk, "sent": 5, "failed": 0}
    assert dispatch.send_list_chunk(checked.pk, first, last) == {"list": checked.pk, "sent": 0, "failed": 0}
    # then
    assert Message.objects.count() == 5
    assert StatusEvent.objects.filter(status="sent").count() == 5
    assert len(set(Notification.objects.values_list("provider_message_id", flat=True))) == 5


def test_cancel_mid_send_stops_the_chunks_not_yet_run(tenant_a, monkeypatch):
    # given: 6 followers in chunks of 2; the first chunk is sent
    monkeypatch.setattr(dispatch, "LIST_CHUNK", 2)
    approved_template(tenant_a)
    for n in range(6):
        web_person(tenant_a.account, phone=f"+8491234560{n}", external_id=f"w{n}")
    checked = approved_list(tenant_a, HEADER + "".join(f"091234560{n},P{n},05/12,T\n" for n in range(6)))
    ranges = dispatch.list_ranges(list_id=checked.pk, size=dispatch.LIST_CHUNK)
    assert len(ranges) == 3
    dispatch.send_list_chunk(checked.pk, *ranges[0])
    # when: the list is cancelled, then the other chunks run anyway (already in the broker)
    lists.list_cancel(recipient_list=checked, actor=Actor(user=tenant_a.broadcaster))
    for first, last in ranges[1:]:
        dispatch.send_list_chunk(checked.pk, first, last)
    # then
    checked.refresh_from_db()
    assert checked.status == RecipientList.STATUS_CANCELLED
    assert Message.objects.count() == 2
    assert lists.list_progress(recipient_list=checked)["status"] == {"sent": 2, "cancelled": 4}


def test_followers_in_app_and_the_others_one_by_one_with_one_fallback(tenant_a, monkeypatch):
    # given: 2 followers, and 2 people known only by phone; ZNS refuses the template for one of them
    _no_per_message_inapp(monkeypatch)
    approved_template(tenant_a, zns_template_id="z1", zns_params={"ten": "name"})
    PersonalSettings.objects.create(account=tenant_a.account, channel_order=["inapp", "zns", "sms"])
    for n in range(2):
        web_person(tenant_a.account, phone=f"+8491234560{n}", external_id=f"w{n}")
    text = HEADER + "".join(f"091234560{n},P{n},05/12,T\n" for n in range(4))
    with FakeProvider() as zns, FakeProvider() as sms:
        provider(tenant_a, "zns", zns.url)
        provider(tenant_a, "sms", sms.url)
        checked = approved_list(tenant_a, text)
        refused = Notification.objects.get(recipient_list=checked, phone="+84912345602")
        zns.per_key_script[f"oa-p{refused.pk}-zns"] = ["zns-error:-124"]
        # when
        result = dispatch.send_list_chunk(checked.pk, *dispatch.list_ranges(list_id=checked.pk)[0])
        # then
        assert result == {"list": checked.pk, "sent": 4, "failed": 0}
        assert len(zns.requests) == 2 and len(sms.requests) == 1
    by_phone = {n.phone: n for n in Notification.objects.filter(recipient_list=checked)}
    assert [by_phone[f"+8491234560{n}"].channel for n in range(4)] == ["inapp", "inapp", "sms", "zns"]
    assert by_phone["+84912345602"].tried_channels == ["zns", "sms"]
    assert by_phone["+84912345602"].reason.startswith("zns failed:")
    assert Message.objects.count() == 2


def test_in_app_first_only_when_no_channel_the_account_has_comes_before_it(tenant_a, monkeypatch):
    # given: the account prefers SMS to in-app and has SMS: everyone goes one by one (the planner decides)
    approved_template(tenant_a)
    PersonalSettings.objects.create(account=tenant_a.account, channel_order=["sms", "inapp"])
    web_person(tenant_a.account, phone="+84912345600", external_id="w0")
    with FakeProvider() as sms:
        provider(tenant_a, "sms", sms.url)
        checked = approved_list(tenant_a, HEADER + "0912345600,P,05/12,T\n")
        dispatch.send_list_chunk(checked.pk, *dispatch.list_ranges(list_id=checked.pk)[0])
        assert len(sms.requests) == 1
    assert Notification.objects.get().channel == "sms" and Message.objects.count() == 0


def test_the_in_app_daily_cap_holds_in_the_set_based_path(tenant_a):
    # given: at most 2 in-app messages a day, 3 followers, SMS as the next channel
    approved_template(tenant_a)
    PersonalSettings.objects.create(account=tenant_a.account, daily_caps={"inapp": 2})
    for n in range(3):
        web_person(tenant_a.account, phone=f"+8491234560{n}", external_id=f"w{n}")
    with FakeProvider() as sms:
        provider(tenant_a, "sms", sms.url)
        checked = approved_list(tenant_a, HEADER + "".join(f"091234560{n},P{n},05/12,T\n" for n in range(3)))
        dispatch.send_list_chunk(checked.pk, *dispatch.list_ranges(list_id=checked.pk)[0])
        assert len(sms.requests) == 1
    assert lists.list_progress(recipient_list=checked)["channel"] == {"inapp": 2, "sms": 1}


# --- the daily quota in force  ---
def test_an_accounts_own_zns_quota_overrides_the_channel_types(tenant_a):
    # given: ZNS at most 1 a day for this account (the type declares 500), SMS next
    approved_template(tenant_a, zns_template_id="z1", zns_params={"ten": "name"})
    PersonalSettings.objects.create(account=tenant_a.account, channel_order=["zns", "sms"])
    with FakeProvider() as zns, FakeProvider() as sms:
        provider(tenant_a, "zns", zns.url, daily_quota=1)
        provider(tenant_a, "sms", sms.url)
        text = HEADER + "0912345600,A,05/12,T\n0912345601,B,05/12,T\n"
        checked = approved_list(tenant_a, text)
        # the plan shown before approval already counts with it
        assert checked.planned == {"zns": 1, "sms": 1}
        # when
        dispatch.send_list_chunk(checked.pk, *dispatch.list_ranges(list_id=checked.pk)[0])
        # then: the second goes by SMS at once instead of waiting for tomorrow's ZNS quota
        assert (len(zns.requests), len(sms.requests)) == (1, 1)
    assert lists.list_progress(recipient_list=checked)["status"] == {"sent": 2}


def test_an_accounts_own_quota_can_also_be_larger(tenant_a, monkeypatch):
    # given: the type declares 1 a day (patched), the account's configuration 5
    monkeypatch.setitem(plan.CHANNELS, "zns", dataclasses.replace(plan.CHANNELS["zns"], daily_quota=1))
    approved_template(tenant_a, zns_template_id="z1", zns_params={"ten": "name"})
    PersonalSettings.objects.create(account=tenant_a.account, channel_order=["zns", "sms"])
    with FakeProvider() as zns, FakeProvider() as sms:
        provider(tenant_a, "zns", zns.url, daily_quota=5)
        provider(tenant_a, "sms", sms.url)
        checked = approved_list(tenant_a, HEADER + "0912345600,A,05/12,T\n0912345601,B,05/12,T\n")
        assert checked.planned == {"zns": 2}


def test_a_quota_spent_by_another_worker_meanwhile_hands_over_to_the_next_channel_at_once(tenant_a):
    approved_template(tenant_a, zns_template_id="z1", zns_params={"ten": "name"})
    PersonalSettings.objects.create(account=tenant_a.account, channel_order=["zns", "sms"])
    with FakeProvider() as zns, FakeProvider() as sms:
        provider(tenant_a, "zns", zns.url, daily_quota=1)
        provider(tenant_a, "sms", sms.url)
        checked = approved_list(tenant_a, HEADER + "0912345600,A,05/12,T\n")
        # given: another worker sent the day's only ZNS message between this one's plan and its send
        other = ct.send("zns", tenant_a.account, ct.Recipient(phone="+84912345699"), ct.Message("x", template_id="z1"))
        assert other.sent
        # when
        dispatch.send_list_chunk(checked.pk, *dispatch.list_ranges(list_id=checked.pk)[0])
        # then: SMS takes it now (not tomorrow), and it is not counted as the one fallback
        assert (len(zns.requests), len(sms.requests)) == (1, 1)
    notification = Notification.objects.get()
    assert (notification.status, notification.channel, notification.tried_channels) == ("sent", "sms", ["sms"])
    checked.refresh_from_db()
    assert checked.status == RecipientList.STATUS_SENT


def test_a_list_held_by_the_quiet_hours_goes_out_set_based_when_they_end(
    tenant_a, time_machine, monkeypatch, django_capture_on_commit_callbacks
):
    # given: quiet hours 21:00-06:00, a list of 3 followers approved at 22:00
    _no_per_message_inapp(monkeypatch)
    set_quiet_hours(tenant_a.account, dt.time(21, 0), dt.time(6, 0))
    time_machine.move_to("2026-12-01 22:00:00+07:00", tick=False)
    approved_template(tenant_a)
    for n in range(3):
        web_person(tenant_a.account, phone=f"+8491234560{n}", external_id=f"w{n}")
    checked = approved_list(
        tenant_a,
        HEADER + "".join(f"091234560{n},P{n},05/12,T\n" for n in range(3)),
        run_on_commit=django_capture_on_commit_callbacks,
    )
    assert send_due() == {"enqueued": 0} and Message.objects.count() == 0
    # when: the quiet hours end
    time_machine.move_to("2026-12-02 06:00:30+07:00", tick=False)
    # then: one chunk task for the list, not one task per notification
    assert send_due() == {"enqueued": 1}
    checked.refresh_from_db()
    assert checked.status == RecipientList.STATUS_SENT and Message.objects.count() == 3


def test_the_send_benchmark_refuses_a_database_not_meant_for_it(settings):
    settings.DATABASES = {**settings.DATABASES, "default": {**settings.DATABASES["default"], "NAME": "oa_live"}}
    with pytest.raises(CommandError, match="bench"):
        call_command("bench_personal_send", n=10)


@pytest.mark.postgres
def test_the_send_benchmark_writes_rows_as_an_upload_stores_them(tenant_a):
    # the benchmark writes its list in SQL: approving it must create its notifications as for an uploaded list
    bench = bench_personal_send.Command()
    author, _raw = token_issue(account=tenant_a.account, name="author", scopes=ApiToken.ALL_SCOPES)
    version = approved_template(tenant_a)
    checked = bench.checked_list(tenant_a.account, author, version, 3, phone_offset=0)
    lists.list_approve(recipient_list=checked, actor=Actor(user=tenant_a.approver))
    made = Notification.objects.filter(recipient_list=checked).order_by("id")
    assert [(n.phone, n.personalisation["name"]) for n in made] == [
        (f"+849{i:08d}", f"Nguyễn Văn Người {i}") for i in range(1, 4)
    ]


def test_a_row_naming_a_citizen_is_rendered_in_their_language_and_sent_in_app(
    tenant_a, monkeypatch, django_capture_on_commit_callbacks
):
    _no_per_message_inapp(monkeypatch)
    approved_template(tenant_a, body_en="Hello ((name)), ((date)) at ((place)).")
    citizen = web_speaker(tenant_a.account, "", "en", 7)  # no phone: only the citizen id names them
    checked = approved_list(
        tenant_a, "citizen_id,name,date,place\nw7,Ann,05/12,T1\n", run_on_commit=django_capture_on_commit_callbacks
    )
    notification = Notification.objects.get(recipient_list=checked)
    assert notification.citizen_id == citizen.pk and notification.language == "en"
    text = "Hello Ann, 05/12 at T1."
    assert (notification.status, notification.channel, notification.body) == ("sent", "inapp", text)
    assert Message.objects.get(conversation__citizen=citizen).text == text
