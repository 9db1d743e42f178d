"""Staff access is rechecked on every request and on the open inbox socket: removing ``is_staff`` or the
membership shuts the staff inbox at once; a login's refused ``next`` lands on the admin index."""

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from oa_platform import live
from oa_platform.models import Membership, SavedReply
from oa_platform.routing import websocket_urlpatterns
from tests.factories import make_staff
from tests.handoff.test_handoff import _waiting

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Staff-123"  # factories.make_staff's
JSON = {"Accept": "application/json"}


# --- login redirect  ---
@pytest.mark.parametrize("unsafe", ["https://evil.example/", "//evil.example/x", "https://evil.example/admin/"])
def test_a_refused_next_after_the_admin_login_lands_on_the_admin_index(client, tenant_a, unsafe):
    response = client.post(
        f"/admin/login/?next={unsafe}", {"username": "agency-a-manager", "password": PASSWORD, "next": unsafe}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get(response["Location"]).status_code == 200


def test_a_safe_next_after_the_admin_login_is_followed(client, tenant_a):
    # the staff inbox sends people to the admin login with next=/staff/...
    login = client.get("/staff/agency-a/")
    assert login.status_code == 302 and login["Location"] == "/admin/login/?next=/staff/agency-a/"
    response = client.post(login["Location"], {"username": "agency-a-editor", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/staff/agency-a/"


# --- the inbox pages  ---
def _pages(conversation):
    base = "/staff/agency-a"
    gets = [f"{base}/", f"{base}/inbox/", f"{base}/conversations.json", f"{base}/inbox/{conversation.pk}/",
            f"{base}/c/{conversation.pk}/messages.json"]  # fmt: skip
    posts = [f"{base}/c/{conversation.pk}/assign/", f"{base}/c/{conversation.pk}/reply/", f"{base}/saved-replies/"]
    return gets, posts


def _refused(response) -> bool:
    # to the staff login (not staff any more), or 404 (not a member of the account)
    return (response.status_code == 302 and response["Location"].startswith("/admin/login/")) or (
        response.status_code == 404
    )


@pytest.mark.parametrize("removal", ["is_staff", "is_active", "membership"])
def test_removing_staff_rights_closes_every_inbox_page_of_a_signed_in_user(client, tenant_a, removal):
    # given an editor signed in, with the inbox open
    conversation = _waiting(tenant_a.account)
    client.force_login(tenant_a.editor)
    gets, posts = _pages(conversation)
    assert all(client.get(url).status_code in (200, 302) for url in gets)
    assert client.get("/staff/agency-a/").status_code == 200
    # when their staff flag, their account or their membership is removed (same session)
    if removal == "membership":
        Membership.objects.filter(user=tenant_a.editor).delete()
    else:
        setattr(tenant_a.editor, removal, False)
        tenant_a.editor.save()
    # then no inbox page opens and no action goes through
    home = client.get("/staff/")
    assert _refused(home) or (home.status_code == 200 and "/staff/agency-a/" not in home.content.decode())
    for url in gets:
        assert _refused(client.get(url)), url
    for url in posts:
        assert _refused(client.post(url, {"text": "still here?", "title": "t"}, headers=JSON)), url
    conversation.refresh_from_db()
    assert conversation.assigned_to is None
    assert not conversation.messages.filter(sender="staff").exists()
    assert not SavedReply.objects.exists()


# --- the inbox socket  ---
async def _socket(user, slug="agency-a"):
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/staff/{slug}/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def _push(conversation) -> None:
    await database_sync_to_async(live.conversation_changed)(conversation_id=conversation.pk)


async def _closed_forbidden(communicator) -> bool:
    closed = await communicator.receive_output(timeout=3) == {"type": "websocket.close", "code": 4403}
    await communicator.disconnect()  # as the server would: the consumer ends and lets its database connection go
    return closed


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("removal", ["is_staff", "is_active", "membership"])
async def test_removing_staff_rights_closes_the_open_inbox_socket_at_once(tenant_a, removal):
    conversation = await database_sync_to_async(_waiting)(tenant_a.account)
    # given two staff members of the account with the inbox open
    removed = await _socket(tenant_a.editor)
    colleague = await _socket(tenant_a.approver)

    # when one of them loses is_staff, is_active or the membership
    def remove():
        if removal == "membership":
            Membership.objects.get(user=tenant_a.editor, account=tenant_a.account).delete()
        else:
            setattr(tenant_a.editor, removal, False)
            tenant_a.editor.save()

    await database_sync_to_async(remove)()
    # then their socket is closed at once, before anything else is pushed
    assert await _closed_forbidden(removed)
    # and the colleague's stays open and still gets the account's changes
    await _push(conversation)
    assert await colleague.receive_json_from(timeout=3) == {
        "type": "conversation.changed",
        "conversation_id": conversation.pk,
    }
    await colleague.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_losing_one_membership_closes_only_that_accounts_socket(tenant_a, tenant_b):
    # given a staff member of both accounts with both inboxes open
    both = await database_sync_to_async(make_staff)(tenant_a.account, Membership.ROLE_EDITOR, "both-accounts")
    await database_sync_to_async(Membership.objects.create)(user=both, account=tenant_b.account, role="editor")
    socket_a, socket_b = await _socket(both, "agency-a"), await _socket(both, "agency-b")
    # when the membership of B is removed
    await database_sync_to_async(Membership.objects.filter(user=both, account=tenant_b.account).delete)()
    # then B's socket closes and A's still gets A's changes
    assert await _closed_forbidden(socket_b)
    conversation = await database_sync_to_async(_waiting)(tenant_a.account)
    await _push(conversation)
    assert await socket_a.receive_json_from(timeout=3) == {
        "type": "conversation.changed",
        "conversation_id": conversation.pk,
    }
    await socket_a.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_removal_that_sends_no_signal_still_closes_the_socket_before_the_next_push(tenant_a):
    conversation = await database_sync_to_async(_waiting)(tenant_a.account)
    socket = await _socket(tenant_a.editor)
    # when is_staff is cleared by a bulk update (no post_save signal)
    User = get_user_model()
    await database_sync_to_async(User.objects.filter(pk=tenant_a.editor.pk).update)(is_staff=False)
    assert await socket.receive_nothing(timeout=0.3)
    # then the next change is not pushed to it: the socket closes instead
    await _push(conversation)
    assert await _closed_forbidden(socket)


@pytest.mark.django_db(transaction=True)
async def test_a_frame_from_a_removed_user_closes_the_socket(tenant_a):
    socket = await _socket(tenant_a.editor)
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=3) == {"type": "pong"}
    await database_sync_to_async(Membership.objects.filter(user=tenant_a.editor).update)(role="approver")
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=3) == {"type": "pong"}  # a role change keeps the inbox
    User = get_user_model()
    await database_sync_to_async(User.objects.filter(pk=tenant_a.editor.pk).update)(is_active=False)
    await socket.send_json_to({"type": "ping"})
    assert await _closed_forbidden(socket)
