"""Inbox (staff:inbox, staff:conversation): names not ids, filters with counts, buttons by state, translated
labels in the page and in the JSON the live refresh reads."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from oa_platform.console.inbox_selectors import inbox_counts, inbox_list
from oa_platform.console.labels import citizen_label
from oa_platform.models import Citizen, Conversation, Message
from tests import factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC)  # 16:30 in Ho Chi Minh City


def conversation(account, status, *, name="", assigned=None, staff_answered=False, text="Cho hỏi thủ tục", minutes=30):
    citizen = factories.make_follower(account, display_name=name, phone="0912345678" if name else "")
    c = Conversation.objects.create(
        account=account,
        citizen=citizen,
        status=status,
        assigned_to=assigned,
        handoff_requested_at=NOW - dt.timedelta(minutes=minutes) if status != Conversation.STATUS_BOT else None,
        last_message_at=NOW - dt.timedelta(minutes=5),
    )
    Message.objects.create(conversation=c, direction="in", text="tin cũ", created_at=NOW - dt.timedelta(hours=1))
    Message.objects.create(conversation=c, direction="in", text=text, created_at=NOW - dt.timedelta(minutes=5))
    if staff_answered:
        Message.objects.create(conversation=c, direction="out", sender="staff", text="Chào bạn", created_at=NOW)
    return c


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_a_nameless_citizen_is_a_channel_and_a_short_code_never_the_channel_id():
    citizen = factories.make_citizen("w_M0TaZyVerySecretId", channel=Citizen.CHANNEL_WEB)
    label = citizen_label(citizen)
    assert re.fullmatch(r"Công dân qua Web · [0-9a-f]{4}", label)
    assert "M0Ta" not in label
    other = factories.make_citizen("w_another", channel=Citizen.CHANNEL_WEB)
    assert citizen_label(other) != label
    citizen.display_name = "Trần Thị B"
    assert citizen_label(citizen) == "Trần Thị B"


@time_machine.travel(NOW, tick=False)
def test_the_list_shows_name_channel_last_message_time_waiting_and_status(client, tenant_a, tenant_b):
    named = conversation(tenant_a.account, "waiting", name="Nguyễn Văn A", text="Làm hộ chiếu ở đâu?", minutes=50)
    nameless = conversation(tenant_a.account, "open", assigned=tenant_a.manager)
    conversation(tenant_b.account, "waiting", name="Người của B")
    client.force_login(tenant_a.editor)
    page = client.get(reverse("staff:inbox", args=["agency-a"])).content.decode()
    assert "Nguyễn Văn A" in page and "+84******678" in page and "0912345678" not in page
    assert "Làm hộ chiếu ở đâu?" in page and ">16:25</time>" in page
    assert "chờ 50 phút" in page and "Đang chờ cán bộ" in page and "Cán bộ đang xử lý" in page
    assert "→ agency-a-manager" in page
    assert citizen_label(nameless.citizen) in page and nameless.citizen.external_id not in page
    assert "Người của B" not in page
    # waiting first
    assert page.index(f'data-id="{named.pk}"') < page.index(f'data-id="{nameless.pk}"')


@time_machine.travel(NOW, tick=False)
def test_filters_and_their_counts(client, tenant_a):
    me, colleague = tenant_a.editor, tenant_a.manager
    waiting = conversation(tenant_a.account, "waiting", name="Chờ")
    mine = conversation(tenant_a.account, "open", name="Của tôi", assigned=me)
    theirs = conversation(tenant_a.account, "open", name="Của đồng nghiệp", assigned=colleague)
    closed = conversation(tenant_a.account, "bot", name="Đã xong", staff_answered=True)
    conversation(tenant_a.account, "bot", name="Chỉ với bot")
    with CaptureQueriesContext(connection) as queries:
        counts = inbox_counts(account=tenant_a.account, user=me)
    assert len(queries) == 1
    assert counts == {"all": 3, "waiting": 1, "mine": 1, "open": 2, "closed": 1}
    ids = {key: [c.pk for c in inbox_list(account=tenant_a.account, user=me, key=key)] for key in counts}
    assert (ids["waiting"], ids["mine"], ids["closed"]) == ([waiting.pk], [mine.pk], [closed.pk])
    assert set(ids["open"]) == {mine.pk, theirs.pk}
    assert set(ids["all"]) == {waiting.pk, mine.pk, theirs.pk} and ids["all"][0] == waiting.pk
    # the page: the filters are links with their counts, the chosen one marked
    client.force_login(me)
    page = client.get(reverse("staff:inbox", args=["agency-a"]) + "?f=closed").content.decode()
    assert re.search(
        r'href="/staff/agency-a/inbox/\?f=closed" data-filter="closed" aria-current="page">Đã kết thúc', page
    )
    assert 'data-filter="waiting">Đang chờ <span class="count-n">1</span>' in page
    assert "Đã xong" in page and "Chờ</span>" not in page
    # an unknown filter is the default one, not an error
    assert client.get(reverse("staff:inbox", args=["agency-a"]) + "?f=bogus").status_code == 200


def buttons(page: str) -> dict[str, bool]:
    """Which of the state's buttons and the reply box are shown (not ``hidden``)."""
    shown = {}
    for name in ("assign", "reopen", "close"):
        tag = re.search(rf'<form [^>]*data-action="{name}"[^>]*>', page)[0]
        shown[name] = " hidden" not in tag
    reply = re.search(r'<form class="reply" id="reply-form"[^>]*>', page)[0]
    shown["reply"] = " hidden" not in reply
    return shown


@time_machine.travel(NOW, tick=False)
def test_buttons_follow_the_state(client, tenant_a):
    me = tenant_a.editor
    client.force_login(me)
    cases = [
        (conversation(tenant_a.account, "waiting"), {"assign": True, "reopen": False, "close": True, "reply": True}),
        (
            conversation(tenant_a.account, "open", assigned=me),
            {"assign": False, "reopen": False, "close": True, "reply": True},
        ),
        (
            conversation(tenant_a.account, "open", assigned=tenant_a.manager),
            {"assign": True, "reopen": False, "close": True, "reply": True},
        ),
        (
            conversation(tenant_a.account, "bot", staff_answered=True),
            {"assign": False, "reopen": True, "close": False, "reply": False},
        ),
    ]
    for c, expected in cases:
        page = client.get(reverse("staff:conversation", args=["agency-a", c.pk])).content.decode()
        assert buttons(page) == expected, c.status
        data = client.get(reverse("staff:messages-json", args=["agency-a", c.pk])).json()
        assert {k: data["conversation"]["actions"][k] for k in expected} == expected


@time_machine.travel(NOW, tick=False)
def test_take_reply_close_and_reopen_move_the_buttons(client, tenant_a):
    c = conversation(tenant_a.account, "waiting", name="Nguyễn Văn A")
    client.force_login(tenant_a.editor)
    url = reverse("staff:conversation", args=["agency-a", c.pk])
    assert client.post(reverse("staff:assign", args=["agency-a", c.pk])).url == url
    assert buttons(client.get(url).content.decode())["assign"] is False
    client.post(reverse("staff:reply", args=["agency-a", c.pk]), {"text": "Chào anh"})
    client.post(reverse("staff:close", args=["agency-a", c.pk]))
    page = client.get(url).content.decode()
    assert buttons(page) == {"assign": False, "reopen": True, "close": False, "reply": False}
    assert "Cuộc trò chuyện đã kết thúc" in page
    # reopen, back to the page with the list's filter; a "next" elsewhere is not followed
    back = client.post(reverse("staff:assign", args=["agency-a", c.pk]), {"next": url + "?f=closed"})
    assert back.url == url + "?f=closed"
    elsewhere = client.post(reverse("staff:assign", args=["agency-a", c.pk]), {"next": "https://evil.example/"})
    assert elsewhere.url == url
    c.refresh_from_db()
    assert (c.status, c.assigned_to) == ("open", tenant_a.editor)


@time_machine.travel(NOW, tick=False)
def test_the_live_refresh_gets_translated_labels_and_the_list_html(client, tenant_a):
    waiting = conversation(tenant_a.account, "waiting", name="Nguyễn Văn A")
    nameless = conversation(tenant_a.account, "open", assigned=tenant_a.editor)
    client.force_login(tenant_a.editor)
    data = english(client).get(reverse("staff:conversations-json", args=["agency-a"]) + "?f=all").json()
    rows = {row["id"]: row for row in data["conversations"]}
    assert rows[waiting.pk]["status_label"] == "Waiting for staff"
    assert rows[nameless.pk]["status_label"] == "With staff"
    assert rows[nameless.pk]["citizen"].startswith("Citizen via Web · ")
    assert rows[waiting.pk]["phone"] == "+84******678" and rows[waiting.pk]["waited"] == "30 min"
    assert data["counts"] == {"all": 2, "waiting": 1, "mine": 1, "open": 1, "closed": 0}
    assert "Waiting for staff" in data["html"] and "Nguyễn Văn A" in data["html"]
    assert "waiting</span>" not in data["html"]  # no raw status code as a label
    history = client.get(reverse("staff:messages-json", args=["agency-a", waiting.pk])).json()
    assert history["conversation"]["status_label"] == "Waiting for staff"
    assert [m["sender_label"] for m in history["messages"]] == ["Citizen", "Citizen"]


@time_machine.travel(NOW, tick=False)
def test_a_conversation_page_has_a_way_back_to_the_list_for_phones(client, tenant_a):
    c = conversation(tenant_a.account, "waiting")
    client.force_login(tenant_a.editor)
    page = client.get(reverse("staff:conversation", args=["agency-a", c.pk]) + "?f=waiting").content.decode()
    assert 'class="console inbox-page has-current"' in page
    assert '<a class="back" href="/staff/agency-a/inbox/?f=waiting">' in page
    assert 'class="console inbox-page"' in client.get(reverse("staff:inbox", args=["agency-a"])).content.decode()


def test_the_inbox_costs_a_bounded_number_of_queries(client, tenant_a):
    for n in range(6):
        conversation(tenant_a.account, "waiting", name=f"Công dân {n}")
    client.force_login(tenant_a.editor)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("staff:inbox", args=["agency-a"])).status_code == 200
    assert len(queries) <= 15, [q["sql"] for q in queries.captured_queries]


def test_waiting_times_read_short():
    from oa_platform.console.labels import waited

    assert waited(NOW - dt.timedelta(seconds=30), now=NOW) == "dưới 1 phút"
    assert waited(NOW - dt.timedelta(minutes=59), now=NOW) == "59 phút"
    assert waited(NOW - dt.timedelta(minutes=185), now=NOW) == "3 giờ 5 phút"
    assert waited(NOW - dt.timedelta(days=2, hours=3), now=NOW) == "2 ngày"
    assert waited(None) == ""
