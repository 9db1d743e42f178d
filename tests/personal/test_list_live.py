"""A personal message sent in-app reaches the citizen's open chat page live (issue 15), through the real ASGI
application's WebSocket: a list's set-based chunk (broadcasts.personal.inapp) and a message sent one by one
(the API, broadcasts.personal.sending) alike. Each citizen's page gets their own message and nobody else's; the
same person's page of another account gets nothing; only ids go through the channel layer, only to the groups of
open pages."""

from __future__ import annotations

import datetime as dt

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connection
from rest_framework.test import APIClient

from broadcasts.personal.models import Notification
from oa_platform import live, web_identity
from oa_platform.asgi import application
from oa_platform.models import Citizen, Conversation
from oa_platform.services import citizen_get_or_create
from tests.factories import set_quiet_hours
from tests.oa_platform.web_support import cookie_header
from tests.personal.conftest import VALUES, approved_list, approved_template

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
ORIGIN = (b"origin", b"http://testserver")
TIMEOUT = 5  # seconds; bounded waits for pushed frames
QUIET = 0.5  # seconds a page must stay silent
HEADER = "phone,name,date,place\n"


def page_person(phone: str, *accounts) -> tuple[Citizen, str]:
    """A citizen of the public web page (their browser's cookie id) with this phone and a conversation with each
    of ``accounts``, as after chatting on their pages."""
    cid = web_identity.new_cid()
    citizen, _created = citizen_get_or_create(account=None, channel=Citizen.CHANNEL_WEB, external_id=cid)
    Citizen.objects.filter(pk=citizen.pk).update(phone=phone, language="vi")
    for account in accounts:
        Conversation.objects.create(account=account, citizen=citizen)
    return citizen, cid


@pytest.fixture
def people(tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b):
        approved_template(tenant)
        set_quiet_hours(tenant.account, dt.time(0), dt.time(0))  # none: the test does not depend on the hour
    a, b = tenant_a.account, tenant_b.account
    return {
        "mine": page_person("+84912000001", a, b),
        "theirs": page_person("+84912000002", a),
        "offline": page_person("+84912000003", a),  # on the list, no page open
        "bystander": page_person("+84912000004", a),  # page open, not on the list
    }


def send_list(tenant, rows: list[tuple[str, str]]) -> int:
    """Upload, submit and approve a list of (phone, name); the chunks run after the approval's commit."""
    text = HEADER + "".join(f"{phone},{name},{VALUES['date']},{VALUES['place']}\n" for phone, name in rows)
    return approved_list(tenant, text).pk


def expected(name: str) -> str:
    return f"Chào {name}, lịch tiêm của ông/bà: {VALUES['date']} tại {VALUES['place']}."


async def page(account, cid: str) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(
        application, f"/ws/oa/{account.slug}/", headers=[ORIGIN, (b"cookie", cookie_header(cid))]
    )
    ok, _ = await comm.connect(timeout=TIMEOUT)
    assert ok
    return comm


async def pushed(comm) -> list[dict]:
    frame = await comm.receive_json_from(timeout=TIMEOUT)
    assert frame["type"] == "messages"
    return frame["messages"]


@pytest.fixture
def layer_sends(monkeypatch):
    """Every group send of the channel layer, recorded (and still sent)."""
    layer = get_channel_layer()
    original = layer.group_send
    sends: list[tuple[str, dict]] = []

    async def recording(group, event):
        sends.append((group, event))
        await original(group, event)

    monkeypatch.setattr(layer, "group_send", recording)
    return sends


async def test_a_list_message_reaches_only_its_citizens_open_page(tenant_a, tenant_b, people, layer_sends):
    if connection.vendor != "postgresql":
        pytest.skip("the set-based path is PostgreSQL's")
    a, b = tenant_a.account, tenant_b.account
    (mine, mine_cid), (theirs, theirs_cid) = people["mine"], people["theirs"]
    offline, (_bystander, bystander_cid) = people["offline"][0], people["bystander"]
    # given: pages open on account A (mine, theirs, a bystander) and mine on account B too
    mine_a, mine_b = await page(a, mine_cid), await page(b, mine_cid)
    theirs_a, bystander_a = await page(a, theirs_cid), await page(a, bystander_cid)

    # when: account A sends a list to mine, theirs and someone without an open page
    list_id = await database_sync_to_async(send_list)(
        tenant_a, [("0912000001", "An"), ("0912000002", "Bình"), ("0912000003", "Chi")]
    )

    # then: each open page of A on the list gets its own message, live, and nothing else
    assert [(m["sender"], m["text"]) for m in await pushed(mine_a)] == [("system", expected("An"))]
    assert [(m["sender"], m["text"]) for m in await pushed(theirs_a)] == [("system", expected("Bình"))]
    for comm in (mine_a, theirs_a, bystander_a, mine_b):
        assert await comm.receive_nothing(timeout=QUIET)
    sent = await database_sync_to_async(
        lambda: Notification.objects.filter(recipient_list_id=list_id, status="sent", channel="inapp").count()
    )()
    assert sent == 3  # the set-based path sent all three; only the two open pages were told
    assert sorted(group for group, _event in layer_sends) == sorted(
        [live.citizen_group(a.pk, mine.pk), live.citizen_group(a.pk, theirs.pk)]
    )
    assert live.citizen_group(a.pk, offline.pk) not in {group for group, _event in layer_sends}
    # ids only through the channel layer: never the personal text
    assert all(set(event) == {"type", "conversation_id"} for _group, event in layer_sends)

    # when: account B sends mine a list of its own
    layer_sends.clear()
    await database_sync_to_async(send_list)(tenant_b, [("0912000001", "Dũng")])

    # then: only mine's page of B gets it
    assert [m["text"] for m in await pushed(mine_b)] == [expected("Dũng")]
    for comm in (mine_a, theirs_a, bystander_a, mine_b):
        assert await comm.receive_nothing(timeout=QUIET)
    assert [group for group, _event in layer_sends] == [live.citizen_group(b.pk, mine.pk)]
    for comm in (mine_a, mine_b, theirs_a, bystander_a):
        await comm.disconnect()


async def test_a_message_sent_one_by_one_reaches_the_open_page(tenant_a, tenant_b, people, layer_sends):
    a = tenant_a.account
    (mine, mine_cid), (_theirs, theirs_cid) = people["mine"], people["theirs"]
    mine_a, mine_b, theirs_a = (
        await page(a, mine_cid),
        await page(tenant_b.account, mine_cid),
        await page(a, theirs_cid),
    )

    # when: A's back office sends mine one notification through the API
    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {tenant_a.token}")
        body = {"template": "vaccination", "phone": "0912000001", "personalisation": VALUES | {"name": "Em"}}
        return client.post(f"/api/v1/accounts/{a.slug}/notifications/", body, format="json")

    answer = await database_sync_to_async(post)()

    # then
    assert answer.status_code == 201, answer.content
    assert [(m["sender"], m["text"]) for m in await pushed(mine_a)] == [("system", expected("Em"))]
    for comm in (mine_a, mine_b, theirs_a):
        assert await comm.receive_nothing(timeout=QUIET)
    assert [group for group, _event in layer_sends] == [live.citizen_group(a.pk, mine.pk)]
    for comm in (mine_a, mine_b, theirs_a):
        await comm.disconnect()


@pytest.mark.redis
def test_a_chunk_with_nobody_on_the_page_sends_nothing(layer_sends):
    # 5,000 citizens (a chunk), none with a page open: one Redis call finds that, and no group is sent to
    changed = {citizen_id: citizen_id + 1 for citizen_id in range(1, 5001)}

    assert live.citizens_conversations_changed(account_id=1, conversations=changed) == 0
    assert layer_sends == []
