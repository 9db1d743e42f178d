"""The citizen's WebSocket at /ws/oa/<slug>/, driven through the real ASGI application."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from oa_platform import consumers, live, web_identity
from oa_platform.asgi import application
from oa_platform.models import Citizen, Conversation, Message
from oa_platform.services import follow_create
from tests.oa_platform import web_support
from tests.oa_platform.web_support import cookie_header

pytestmark = pytest.mark.django_db(transaction=True)
faq_account = web_support.faq_account
ORIGIN = (b"origin", b"http://testserver")
TIMEOUT = 5  # seconds; bounded waits for the consumer's answers


def communicator(slug: str, cid: str | None = None, origin=ORIGIN) -> WebsocketCommunicator:
    headers = [origin] if origin else []
    if cid:
        headers.append((b"cookie", cookie_header(cid)))
    return WebsocketCommunicator(application, f"/ws/oa/{slug}/", headers=headers)


async def connected(slug: str, cid: str) -> WebsocketCommunicator:
    comm = communicator(slug, cid)
    ok, _ = await comm.connect(timeout=TIMEOUT)
    assert ok
    return comm


async def ask(comm, text: str, ref: str = "r1") -> dict:
    await comm.send_json_to({"type": "message", "text": text, "ref": ref})
    return await comm.receive_json_from(timeout=TIMEOUT)


async def test_message_exchange_gives_the_reply_contract(faq_account):
    cid = web_identity.new_cid()
    comm = await connected(faq_account.slug, cid)

    frame = await ask(comm, "Lệ phí đổi căn cước bao nhiêu?")

    assert frame["type"] == "reply" and frame["ref"] == "r1"
    assert frame["message"]["direction"] == "in" and frame["message"]["text"] == "Lệ phí đổi căn cước bao nhiêu?"
    reply = frame["reply"]
    assert reply["decision"] == "answer" and reply["faq"] == "cccd-le-phi"
    assert reply["text"] == "Lệ phí cấp đổi thẻ căn cước là 50.000 đồng."
    assert set(reply) >= {"text", "decision", "faq", "score", "suggestions", "message_id"}
    stored = await database_sync_to_async(lambda: Message.objects.get(pk=reply["message_id"]))()
    assert stored.sender == "bot" and stored.faq_key == "cccd-le-phi"
    citizen = await database_sync_to_async(lambda: Citizen.objects.get(channel="web", external_id=cid))()
    assert citizen is not None
    # the consumer's own conversation.changed event does not push the same messages twice
    assert await comm.receive_nothing(timeout=0.3)
    await comm.disconnect()


async def test_sync_after_reconnect_returns_missed_messages(faq_account):
    cid = web_identity.new_cid()
    # given: a conversation, then the socket drops
    comm = await connected(faq_account.slug, cid)
    frame = await ask(comm, "Làm hộ chiếu ở đâu?")
    seen = frame["reply"]["message_id"]
    await comm.disconnect()

    # when: staff answer while the page is offline, and the page reconnects and syncs
    def staff_reply():
        conversation = Conversation.objects.get(account=faq_account, citizen__external_id=cid)
        return Message.objects.create(
            conversation=conversation, direction="out", sender="staff", channel="web", text="Cán bộ: mời bạn đến."
        ).pk

    missed = await database_sync_to_async(staff_reply)()
    comm = await connected(faq_account.slug, cid)
    await comm.send_json_to({"type": "sync", "after_message": seen, "after_notice": None})

    # then
    messages = await comm.receive_json_from(timeout=TIMEOUT)
    assert messages["type"] == "messages"
    assert [m["id"] for m in messages["messages"]] == [missed]
    assert messages["messages"][0]["sender"] == "staff"
    notices = await comm.receive_json_from(timeout=TIMEOUT)
    assert notices == {"type": "notices", "notices": []}
    await comm.disconnect()


async def test_staff_reply_is_pushed_live(faq_account):
    cid = web_identity.new_cid()
    comm = await connected(faq_account.slug, cid)
    await ask(comm, "Làm hộ chiếu ở đâu?")

    def staff_reply():
        conversation = Conversation.objects.get(account=faq_account, citizen__external_id=cid)
        message = Message.objects.create(
            conversation=conversation, direction="out", sender="staff", channel="web", text="Chào bạn, tôi là cán bộ."
        )
        live.conversation_changed(conversation_id=conversation.pk)
        return message.pk

    pk = await database_sync_to_async(staff_reply)()
    frame = await comm.receive_json_from(timeout=TIMEOUT)
    assert frame["type"] == "messages" and [m["id"] for m in frame["messages"]] == [pk]
    await comm.disconnect()


async def test_other_citizens_do_not_receive_my_messages(faq_account):
    mine, theirs = web_identity.new_cid(), web_identity.new_cid()
    other_comm = await connected(faq_account.slug, theirs)
    await other_comm.send_json_to({"type": "sync", "after_message": None, "after_notice": None})
    await other_comm.receive_json_from(timeout=TIMEOUT)
    await other_comm.receive_json_from(timeout=TIMEOUT)
    comm = await connected(faq_account.slug, mine)
    await ask(comm, "Làm hộ chiếu ở đâu?")
    assert await other_comm.receive_nothing(timeout=0.3)
    await comm.disconnect()
    await other_comm.disconnect()


async def test_foreign_origin_is_rejected(faq_account):
    comm = communicator(faq_account.slug, web_identity.new_cid(), origin=(b"origin", b"https://evil.example"))
    ok, _ = await comm.connect(timeout=TIMEOUT)
    assert not ok
    no_origin = communicator(faq_account.slug, web_identity.new_cid(), origin=None)
    ok, _ = await no_origin.connect(timeout=TIMEOUT)
    assert not ok


@pytest.mark.parametrize("cookie", [None, "w_forged:abc:def", "garbage"])
async def test_missing_or_bad_cookie_closes_4401(faq_account, cookie):
    headers = [ORIGIN] + ([(b"cookie", f"{web_identity.COOKIE_NAME}={cookie}".encode())] if cookie else [])
    comm = WebsocketCommunicator(application, f"/ws/oa/{faq_account.slug}/", headers=headers)
    ok, _ = await comm.connect(timeout=TIMEOUT)
    assert ok  # accepted so the browser sees the close code
    assert await comm.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4401}


async def test_unknown_account_closes_4404(db):
    comm = communicator("no-such-account", web_identity.new_cid())
    ok, _ = await comm.connect(timeout=TIMEOUT)
    assert ok
    assert await comm.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4404}


async def test_oversize_frame_closes_1009_and_stores_nothing(faq_account):
    comm = await connected(faq_account.slug, web_identity.new_cid())
    text = "x" * settings.WS_MAX_FRAME
    await comm.send_to(text_data=json.dumps({"type": "message", "text": text}))
    assert await comm.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 1009}
    assert await database_sync_to_async(Message.objects.count)() == 0


async def test_binary_frame_closes_1003(faq_account):
    comm = await connected(faq_account.slug, web_identity.new_cid())
    await comm.send_to(bytes_data=b"\x00\x01")
    assert await comm.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 1003}


@pytest.mark.parametrize(
    "frame, code",
    [
        ("{nope", "malformed_json"),
        ("[1]", "malformed_json"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "message"}', "invalid"),
        ('{"type": "message", "text": "   "}', "invalid"),
        (json.dumps({"type": "message", "text": "y" * 2001}), "invalid"),
        ('{"type": "sync", "after_message": "x"}', "invalid"),
    ],
)
async def test_bad_frames_get_an_error_and_store_nothing(faq_account, frame, code):
    comm = await connected(faq_account.slug, web_identity.new_cid())
    await comm.send_to(text_data=frame)
    answer = await comm.receive_json_from(timeout=TIMEOUT)
    assert answer["type"] == "error" and answer["code"] == code
    assert await database_sync_to_async(Citizen.objects.count)() == 0
    assert await database_sync_to_async(Message.objects.count)() == 0
    # the socket stays usable
    assert (await ask(comm, "Làm hộ chiếu ở đâu?"))["type"] == "reply"
    await comm.disconnect()


async def test_flooding_citizen_gets_rate_limited(faq_account, settings, rate_window_start):
    settings.CHAT_RATE_CITIZEN = (2, 60)
    comm = await connected(faq_account.slug, web_identity.new_cid())
    assert (await ask(comm, "Làm hộ chiếu ở đâu?", "a"))["type"] == "reply"
    assert (await ask(comm, "Làm hộ chiếu ở đâu?", "b"))["type"] == "reply"
    frame = await ask(comm, "Làm hộ chiếu ở đâu?", "c")
    assert frame["type"] == "error" and frame["code"] == "rate_limited" and frame["ref"] == "c"
    assert frame["retry_after"] > 0
    assert await database_sync_to_async(Message.objects.count)() == 4
    await comm.disconnect()


# --- live notices  ---
class FakeBroadcastsLive:
    """Stands in for broadcasts.live to test the consumer's wiring: snapshot per citizen, pure filter."""

    def __init__(self):
        self.snapshots = 0

    def citizen_snapshot(self, *, account_id, citizen_id):
        self.snapshots += 1
        topics = list(
            Citizen.objects.get(pk=citizen_id)
            .follows.filter(account_id=account_id, is_active=True)
            .values_list("topics__key", flat=True)
        )
        return {"citizen_id": citizen_id, "topics": [t for t in topics if t], "language": "vi"}

    def notice_for(self, snapshot, event):
        if not set(event["audience"]["topics"]) & set(snapshot["topics"]):
            return None
        return {"id": event["notice"]["id"], "title": event["notice"]["title"]["vi"]}


async def test_notice_push_is_filtered_by_the_citizens_snapshot(faq_account, monkeypatch):
    fake = FakeBroadcastsLive()
    monkeypatch.setattr(consumers, "_broadcasts_live", lambda: fake)
    follower, stranger = web_identity.new_cid(), web_identity.new_cid()

    def follow(cid):
        citizen, _ = Citizen.objects.get_or_create(channel="web", external_id=cid)
        follow_create(account=faq_account, citizen=citizen)

    await database_sync_to_async(follow)(follower)
    comm = await connected(faq_account.slug, follower)
    other = await connected(faq_account.slug, stranger)
    assert fake.snapshots == 1  # the stranger has no citizen row yet

    event = {
        "type": "notice.push",
        "notice": {"id": 7, "title": {"vi": "Bão số 3", "en": "Storm no. 3"}},
        "audience": {"topics": ["storm-flood"], "area_paths": [], "languages": [], "citizen_ids": None},
    }
    await database_sync_to_async(live.group_send)(live.account_group(faq_account.pk), event)
    assert await comm.receive_json_from(timeout=TIMEOUT) == {"type": "notice", "notice": {"id": 7, "title": "Bão số 3"}}
    assert await other.receive_nothing(timeout=0.3)

    # when the follower unsubscribes from storms, the page's refresh reloads the snapshot
    def unsubscribe():
        from oa_platform.services import subscriptions_set

        citizen = Citizen.objects.get(external_id=follower)
        subscriptions_set(follow=citizen.follows.get(), topic_keys=["health"])
        live.group_send(live.citizen_group(faq_account.pk, citizen.pk), {"type": "citizen.refresh"})

    await database_sync_to_async(unsubscribe)()
    await database_sync_to_async(live.group_send)(live.account_group(faq_account.pk), event)
    assert await comm.receive_nothing(timeout=0.3)
    assert fake.snapshots == 2
    await comm.disconnect()
    await other.disconnect()


async def test_notice_push_with_the_real_broadcasts_filter(faq_account):
    from oa_platform.services import citizen_update_profile, subscriptions_set

    subscribed, unsubscribed, stranger = (web_identity.new_cid() for _ in range(3))

    def given():
        for cid in (subscribed, unsubscribed):
            citizen, _ = Citizen.objects.get_or_create(channel="web", external_id=cid)
            follow_create(account=faq_account, citizen=citizen)
        citizen_update_profile(citizen=Citizen.objects.get(external_id=subscribed), language="en")
        follow = Citizen.objects.get(external_id=unsubscribed).follows.get()
        subscriptions_set(follow=follow, topic_keys=["health"])
        Citizen.objects.create(channel="web", external_id=stranger)

    await database_sync_to_async(given)()
    sockets = {cid: await connected(faq_account.slug, cid) for cid in (subscribed, unsubscribed, stranger)}
    event = {
        "type": "notice.push",
        "notice": {
            "id": 41,
            "kind": "alert",
            "severity": "warning",
            "category": "storm-flood",
            "link": "",
            "references": None,
            "sent_at": None,
            "texts": {
                "vi": {"title": "Bão số 3", "body": "Tránh ra đường."},
                "en": {"title": "Storm no. 3", "body": "Stay indoors."},
                "zh-hans": {"title": "", "body": ""},
            },
        },
        "audience": {"topics": ["storm-flood"], "area_paths": [], "languages": [], "citizen_ids": None},
    }

    await database_sync_to_async(live.group_send)(live.account_group(faq_account.pk), event)

    frame = await sockets[subscribed].receive_json_from(timeout=TIMEOUT)
    assert frame["type"] == "notice"
    assert (frame["notice"]["id"], frame["notice"]["title"], frame["notice"]["body"]) == (
        41,
        "Storm no. 3",
        "Stay indoors.",
    )
    assert await sockets[unsubscribed].receive_nothing(timeout=0.3)
    assert await sockets[stranger].receive_nothing(timeout=0.1)
    for comm in sockets.values():
        await comm.disconnect()
