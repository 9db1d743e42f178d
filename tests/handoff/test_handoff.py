import datetime as dt
import zoneinfo

import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.urls import reverse

from oa_platform import live
from oa_platform.conversations import handoff
from oa_platform.conversations.engine import chat_receive
from oa_platform.models import Citizen, Conversation, Message, SavedReply
from tests.factories import make_citizen, make_staff

pytestmark = pytest.mark.django_db

HCM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY_10 = dt.datetime(2025, 11, 24, 10, 0, tzinfo=HCM)
SATURDAY_20 = dt.datetime(2025, 11, 22, 20, 0, tzinfo=HCM)


@pytest.fixture
def in_hours():
    with time_machine.travel(MONDAY_10, tick=False):
        yield


def _ask_for_a_person(account, citizen):
    return chat_receive(account=account, citizen=citizen, text="gặp nhân viên")


# --- citizen side  ---
def test_chat_command_queues_for_staff_and_the_bot_goes_quiet(tenant_a, in_hours):
    citizen = make_citizen("web-1")
    outcome = _ask_for_a_person(tenant_a.account, citizen)
    assert outcome.payload["intent"] == "human"
    assert "cán bộ" in outcome.payload["text"]
    assert "ngoài giờ" not in outcome.payload["text"]
    conversation = Conversation.objects.get(citizen=citizen)
    assert conversation.status == Conversation.STATUS_WAITING
    assert conversation.handoff_requested_at == MONDAY_10
    # while waiting, the bot says nothing
    outcome = chat_receive(account=tenant_a.account, citizen=citizen, text="thủ tục cấp hộ chiếu")
    assert outcome.reply is None
    assert conversation.messages.filter(sender="bot").count() == 1


def test_outside_working_hours_the_citizen_is_told_when_staff_answer(tenant_a):
    citizen = make_citizen("web-2")
    with time_machine.travel(SATURDAY_20, tick=False):
        text = _ask_for_a_person(tenant_a.account, citizen).payload["text"]
    assert "07:30" in text and "Thứ Hai" in text and "24-11-2025" in text


@pytest.mark.parametrize(
    ("local", "available", "opening"),
    [
        (
            dt.datetime(2025, 11, 24, 7, 29, tzinfo=HCM),
            False,
            dt.datetime(2025, 11, 24, 7, 30, tzinfo=HCM),
        ),  # Monday before opening
        (dt.datetime(2025, 11, 24, 7, 30, tzinfo=HCM), True, dt.datetime(2025, 11, 25, 7, 30, tzinfo=HCM)),
        (dt.datetime(2025, 11, 28, 16, 59, tzinfo=HCM), True, dt.datetime(2025, 12, 1, 7, 30, tzinfo=HCM)),  # Friday
        (
            dt.datetime(2025, 11, 28, 17, 0, tzinfo=HCM),
            False,
            dt.datetime(2025, 12, 1, 7, 30, tzinfo=HCM),
        ),  # Friday closing
        (dt.datetime(2025, 11, 23, 9, 0, tzinfo=HCM), False, dt.datetime(2025, 11, 24, 7, 30, tzinfo=HCM)),  # Sunday
    ],
)
def test_working_hours_in_the_accounts_time_zone(tenant_a, local, available, opening):
    at = local.astimezone(dt.UTC)  # the server clock is UTC
    assert handoff.staff_available(tenant_a.account, at) is available
    assert handoff.next_staff_opening(tenant_a.account, at) == opening


def test_the_handoff_text_follows_the_citizens_language(tenant_a):
    citizen = make_citizen("web-en", language="en")
    with time_machine.travel(SATURDAY_20, tick=False):
        text = handoff.handoff_request(account=tenant_a.account, citizen=citizen)
    assert "Monday" in text or "Thứ Hai" in text  # translated when the catalogue has it
    assert "07:30" in text


def test_a_button_request_records_a_system_message(tenant_a, in_hours, django_capture_on_commit_callbacks):
    citizen = make_citizen("web-3")
    with django_capture_on_commit_callbacks(execute=True):
        text = handoff.handoff_request(account=tenant_a.account, citizen=citizen, record=True)
    conversation = Conversation.objects.get(citizen=citizen)
    assert conversation.status == "waiting"
    assert conversation.messages.get().text == text
    # asking again does not move it or duplicate the queue entry
    again = handoff.handoff_request(account=tenant_a.account, citizen=citizen)
    assert Conversation.objects.get(citizen=citizen).handoff_requested_at == MONDAY_10
    assert again


# --- staff side  ---
def _waiting(account, external_id="web-9", channel=Citizen.CHANNEL_WEB):
    citizen = make_citizen(external_id, channel=channel, account=None if channel == Citizen.CHANNEL_WEB else account)
    with time_machine.travel(MONDAY_10, tick=False):
        _ask_for_a_person(account, citizen)
    return Conversation.objects.get(account=account, citizen=citizen)


def test_inbox_lists_waiting_conversations_of_the_staff_members_accounts_only(client, tenant_a, tenant_b):
    conversation = _waiting(tenant_a.account)
    _waiting(tenant_b.account, "web-b")
    client.force_login(tenant_a.editor)
    page = client.get("/staff/agency-a/inbox/")
    assert page.status_code == 200
    data = client.get("/staff/agency-a/conversations.json").json()
    assert [c["id"] for c in data["conversations"]] == [conversation.pk]
    history = client.get(f"/staff/agency-a/c/{conversation.pk}/messages.json").json()["messages"]
    assert [m["sender"] for m in history] == ["citizen", "bot"]
    # another account's inbox and conversations are invisible
    assert client.get("/staff/agency-b/inbox/").status_code == 404
    assert client.get("/staff/agency-b/conversations.json").status_code == 404
    client.force_login(tenant_b.manager)
    assert client.get(f"/staff/agency-b/inbox/{conversation.pk}/").status_code == 404
    assert client.get(f"/staff/agency-a/c/{conversation.pk}/messages.json").status_code == 404


def test_inbox_needs_the_staff_login(client, tenant_a):
    response = client.get("/staff/agency-a/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    outsider = make_staff(None, username="outsider")
    client.force_login(outsider)
    assert client.get("/staff/agency-a/").status_code == 404


def test_assign_reply_close_on_the_web_channel(client, tenant_a, django_capture_on_commit_callbacks):
    conversation = _waiting(tenant_a.account)
    layer = get_channel_layer()
    citizen_channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(live.citizen_group(tenant_a.account.pk, conversation.citizen_id), citizen_channel)
    client.force_login(tenant_a.editor)
    json_headers = {"Accept": "application/json"}
    # assign to self
    r = client.post(reverse("staff:assign", args=["agency-a", conversation.pk]), headers=json_headers)
    assert r.json()["conversation"]["status"] == "open"
    assert r.json()["conversation"]["assigned_to"] == tenant_a.editor.username
    # reply: stored as a staff message and pushed live to the citizen's page
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            reverse("staff:reply", args=["agency-a", conversation.pk]),
            {"text": "Chào bạn, tôi là cán bộ."},
            headers=json_headers,
        )
    assert r.status_code == 200, r.content
    message = Message.objects.get(sender="staff")
    assert (message.text, message.author, message.channel, message.delivery_status) == (
        "Chào bạn, tôi là cán bộ.",
        tenant_a.editor,
        "web",
        "",
    )
    event = async_to_sync(layer.receive)(citizen_channel)
    assert event == {"type": "conversation.changed", "conversation_id": conversation.pk}
    # the bot stays quiet while staff hold it
    assert chat_receive(account=tenant_a.account, citizen=conversation.citizen, text="cảm ơn").reply is None
    # close: back to the bot, the citizen is told
    r = client.post(reverse("staff:close", args=["agency-a", conversation.pk]), headers=json_headers)
    assert r.json()["conversation"]["status"] == "bot"
    assert conversation.messages.filter(sender="system").exists()
    assert chat_receive(account=tenant_a.account, citizen=conversation.citizen, text="xin chào").reply is not None
    # closing twice is refused clearly
    r = client.post(reverse("staff:close", args=["agency-a", conversation.pk]), headers=json_headers)
    assert r.status_code == 409


def test_staff_cannot_act_on_another_accounts_conversation(client, tenant_a, tenant_b):
    conversation = _waiting(tenant_b.account, "web-b")
    client.force_login(tenant_a.manager)
    for name in ("assign", "close"):
        assert client.post(reverse(f"staff:{name}", args=["agency-a", conversation.pk])).status_code == 404
    assert client.post(reverse("staff:reply", args=["agency-b", conversation.pk]), {"text": "x"}).status_code == 404
    assert Message.objects.filter(sender="staff").count() == 0
    with pytest.raises(handoff.NotFound):
        handoff.conversation_reply(conversation=conversation, user=tenant_a.manager, text="x")


def test_empty_or_oversize_reply_is_refused(client, tenant_a):
    conversation = _waiting(tenant_a.account)
    client.force_login(tenant_a.editor)
    url = reverse("staff:reply", args=["agency-a", conversation.pk])
    assert client.post(url, {"text": "  "}, headers={"Accept": "application/json"}).status_code == 400
    assert client.post(url, {"text": "x" * 2001}, headers={"Accept": "application/json"}).status_code == 400
    assert Message.objects.filter(sender="staff").count() == 0


def test_staff_reply_reaches_a_zalo_citizen_and_a_failure_is_visible_then_retried(
    client, tenant_a, channels_a, fake_api, django_capture_on_commit_callbacks
):
    conversation = _waiting(tenant_a.account, "zalo-user-1", channel=Citizen.CHANNEL_ZALO)
    client.force_login(tenant_a.editor)
    json_headers = {"Accept": "application/json"}
    # given the provider is down for one request
    fake_api.fail_next(1, "503")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("staff:reply", args=["agency-a", conversation.pk]), {"text": "Chào bạn"}, headers=json_headers
        )
    # then staff see it queued with the reason
    history = client.get(f"/staff/agency-a/c/{conversation.pk}/messages.json").json()["messages"]
    staff_message = [m for m in history if m["sender"] == "staff"][0]
    assert (staff_message["delivery_status"], staff_message["delivery_error"]) == ("queued", "HTTP 503: provider error")
    assert "HTTP 503" in client.get(f"/staff/agency-a/inbox/{conversation.pk}/").content.decode()
    # when they retry
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("staff:retry", args=["agency-a", staff_message["id"]]), headers=json_headers)
    assert r.status_code == 200
    # then it reached the citizen on Zalo
    assert fake_api.sent == [{"channel": "zalo", "to": "zalo-user-1", "text": "Chào bạn"}]
    assert Message.objects.get(pk=staff_message["id"]).delivery_status == "sent"


def test_staff_reply_reaches_a_wechat_citizen_through_the_customer_service_api(
    tenant_a, channels_a, fake_api, django_capture_on_commit_callbacks
):
    conversation = _waiting(tenant_a.account, "o-wechat-1", channel=Citizen.CHANNEL_WECHAT)
    with django_capture_on_commit_callbacks(execute=True):
        handoff.conversation_reply(conversation=conversation, user=tenant_a.manager, text="您好")
    assert fake_api.sent == [{"channel": "wechat", "to": "o-wechat-1", "text": "您好"}]


def test_canned_replies_are_saved_replies_and_faq_answers(client, tenant_a, tenant_b):
    from faq.models import FaqEntry

    SavedReply.objects.create(account=tenant_a.account, title="Giờ làm việc", text="Từ 7:30 đến 17:00.")
    SavedReply.objects.create(account=tenant_b.account, title="B only", text="secret of B")
    FaqEntry.objects.create(account=tenant_a.account, key="ho-chieu", question="Làm hộ chiếu?", answer="Nộp tờ khai.")
    items = handoff.canned_replies(account=tenant_a.account)
    assert [i["text"] for i in items] == ["Từ 7:30 đến 17:00.", "Nộp tờ khai."]
    conversation = _waiting(tenant_a.account)
    client.force_login(tenant_a.editor)
    page = client.get(f"/staff/agency-a/inbox/{conversation.pk}/").content.decode()
    assert "Nộp tờ khai." in page and "secret of B" not in page


@pytest.mark.django_db(transaction=True)
async def test_staff_socket_is_scoped_and_pushes_changes(tenant_a, tenant_b):
    from channels.db import database_sync_to_async
    from channels.routing import URLRouter
    from channels.testing import WebsocketCommunicator

    from oa_platform.initial_password import initial_password_set
    from oa_platform.routing import websocket_urlpatterns

    app = URLRouter(websocket_urlpatterns)
    # another account's staff are refused
    outsider = WebsocketCommunicator(app, "/ws/staff/agency-a/")
    outsider.scope["user"] = tenant_b.manager
    connected, code = await outsider.connect()
    assert not connected and code == 4403
    # anonymous too
    anonymous = WebsocketCommunicator(app, "/ws/staff/agency-a/")
    connected, _ = await anonymous.connect()
    assert not connected
    # and a member who has not yet replaced the password a manager generated
    await database_sync_to_async(initial_password_set)(user=tenant_a.broadcaster)
    unchanged = WebsocketCommunicator(app, "/ws/staff/agency-a/")
    unchanged.scope["user"] = tenant_a.broadcaster
    connected, code = await unchanged.connect()
    assert not connected and code == 4403
    # the account's staff get told when a conversation changes
    member = WebsocketCommunicator(app, "/ws/staff/agency-a/")
    member.scope["user"] = tenant_a.editor
    connected, _ = await member.connect()
    assert connected
    conversation = await database_sync_to_async(_waiting)(tenant_a.account)
    await database_sync_to_async(live.conversation_changed)(conversation_id=conversation.pk)
    assert await member.receive_json_from(timeout=2) == {
        "type": "conversation.changed",
        "conversation_id": conversation.pk,
    }
    await member.disconnect()


def test_a_bot_reply_that_could_not_be_sent_shows_in_the_inbox(
    client, tenant_a, channels_a, fake_api, django_capture_on_commit_callbacks
):
    from oa_platform.conversations.outbox import outbound_enqueue

    # given a Zalo citizen talking to the bot, and the provider refusing the token
    citizen = make_citizen("zalo-u-9", channel=Citizen.CHANNEL_ZALO, account=tenant_a.account)
    fake_api.fail_next(1, "expired")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = chat_receive(account=tenant_a.account, citizen=citizen, text="xin chào")
        outbound_enqueue(outcome.reply)
    conversation = Conversation.objects.get(citizen=citizen)
    assert conversation.status == Conversation.STATUS_BOT
    # then staff see it in the inbox, flagged
    client.force_login(tenant_a.editor)
    listed = client.get("/staff/agency-a/conversations.json").json()["conversations"]
    assert [(c["id"], c["undelivered"]) for c in listed] == [(conversation.pk, True)]
    # and once it is re-sent, it leaves the inbox
    with django_capture_on_commit_callbacks(execute=True):
        handoff.message_retry(message=outcome.reply, user=tenant_a.editor)
    assert client.get("/staff/agency-a/conversations.json").json()["conversations"] == []


def test_staff_manage_saved_replies_of_their_own_account_only(client, tenant_a, tenant_b):
    from oa_platform.models import AuditLog

    client.force_login(tenant_a.editor)
    json_headers = {"Accept": "application/json"}
    r = client.post(
        "/staff/agency-a/saved-replies/", {"title": "Hẹn", "text": "Cán bộ sẽ gọi lại."}, headers=json_headers
    )
    assert r.status_code == 201
    saved = SavedReply.objects.get(account=tenant_a.account)
    assert handoff.canned_replies(account=tenant_a.account)[0] == {"label": "Hẹn", "text": "Cán bộ sẽ gọi lại."}
    assert AuditLog.objects.filter(action="saved_reply_create", actor=tenant_a.editor).exists()
    # bad input and other tenants
    assert client.post("/staff/agency-a/saved-replies/", {"text": " "}, headers=json_headers).status_code == 400
    assert client.post("/staff/agency-b/saved-replies/", {"text": "x"}, headers=json_headers).status_code == 404
    client.force_login(tenant_b.manager)
    assert client.post(f"/staff/agency-b/saved-replies/{saved.pk}/delete/", headers=json_headers).status_code == 404
    assert client.post(f"/staff/agency-a/saved-replies/{saved.pk}/delete/", headers=json_headers).status_code == 404
    assert SavedReply.objects.filter(pk=saved.pk).exists()
    # the form posts back into the inbox, never elsewhere
    client.force_login(tenant_a.editor)
    r = client.post(f"/staff/agency-a/saved-replies/{saved.pk}/delete/", {"next": "https://evil.example/"})
    assert r.status_code == 302 and r["Location"] == "/staff/agency-a/inbox/"
    assert not SavedReply.objects.filter(pk=saved.pk).exists()
