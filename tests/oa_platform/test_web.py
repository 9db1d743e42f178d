"""The citizen page /oa/<slug>/ and its JSON endpoints."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import Client

from oa_platform import live, web_identity
from oa_platform.models import Area, Citizen, Follow, FollowEvent, Message
from tests import factories
from tests.oa_platform import web_support
from tests.oa_platform.web_support import citizen_client, make_faq_account

faq_account = web_support.faq_account

pytestmark = pytest.mark.django_db


def post(client, url, body, **extra):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", **extra)


def counts():
    return Citizen.objects.count(), Message.objects.count(), Follow.objects.count()


# --- the page  ---
def test_page_sets_signed_cookie_but_creates_no_citizen(faq_account):
    client = Client()
    response = client.get(f"/oa/{faq_account.slug}/")
    assert response.status_code == 200
    cookie = response.cookies[web_identity.COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) > 365 * 24 * 3600
    assert web_identity.cid_from_cookie_value(cookie.value) is not None
    assert Citizen.objects.count() == 0
    assert faq_account.name in response.content.decode()
    # a second view keeps the same id
    again = client.get(f"/oa/{faq_account.slug}/")
    assert web_identity.COOKIE_NAME not in again.cookies


def test_tampered_cookie_is_replaced(faq_account):
    client = Client()
    client.cookies[web_identity.COOKIE_NAME] = "w_forged:abc"
    response = client.get(f"/oa/{faq_account.slug}/")
    assert web_identity.cid_from_cookie_value(response.cookies[web_identity.COOKIE_NAME].value) is not None


def test_unknown_account_page_is_404(db):
    assert Client().get("/oa/no-such-account/").status_code == 404
    response = post(Client(), "/oa/no-such-account/messages/", {"text": "hi"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_page_shows_history_topics_and_follow_state(faq_account):
    client, cid = citizen_client()
    post(client, f"/oa/{faq_account.slug}/messages/", {"text": "Lệ phí đổi căn cước bao nhiêu?"})
    post(client, f"/oa/{faq_account.slug}/follow/", {})
    html = client.get(f"/oa/{faq_account.slug}/").content.decode()
    boot = json.loads(html.split('id="oa-boot" type="application/json">')[1].split("</script>")[0])
    assert [m["direction"] for m in boot["messages"]] == ["in", "out"]
    assert boot["messages"][1]["text"] == "Lệ phí cấp đổi thẻ căn cước là 50.000 đồng."
    assert boot["state"]["following"] is True
    assert {t["key"] for t in boot["state"]["topics"]} >= {"storm-flood", "health", "general"}
    assert 'name="topics" value="health"' in html


def test_home_lists_accounts_with_follow_state(db):
    followed = factories.make_account("so-y-te", name="Sở Y tế")
    other = factories.make_account("so-gtvt", name="Sở Giao thông")
    client, cid = citizen_client()
    post(client, f"/oa/{followed.slug}/follow/", {})
    html = client.get("/").content.decode()
    assert "Sở Y tế" in html and "Sở Giao thông" in html
    assert f'href="/oa/{other.slug}/"' in html
    card = html.split(f'href="/oa/{followed.slug}/"')[1].split("</li>")[0]
    assert 'class="badge following"' in card
    other_card = html.split(f'href="/oa/{other.slug}/"')[1].split("</li>")[0]
    assert 'class="badge following"' not in other_card


# --- chat  ---
def test_message_gets_the_reply_contract_and_history(faq_account):
    client, cid = citizen_client()
    response = post(client, f"/oa/{faq_account.slug}/messages/", {"text": "Lệ phí đổi căn cước bao nhiêu?"})
    assert response.status_code == 200
    body = response.json()
    reply = body["reply"]
    assert reply["decision"] == "answer" and reply["faq"] == "cccd-le-phi"
    assert reply["text"] == "Lệ phí cấp đổi thẻ căn cước là 50.000 đồng."
    assert isinstance(reply["score"], float) and reply["suggestions"] == []
    assert body["message"]["direction"] == "in"
    citizen = Citizen.objects.get(channel="web", external_id=cid)
    assert Message.objects.get(pk=reply["message_id"]).conversation.citizen == citizen

    history = client.get(f"/oa/{faq_account.slug}/history/").json()["messages"]
    assert [m["id"] for m in history] == [body["message"]["id"], reply["message_id"]]
    after = client.get(f"/oa/{faq_account.slug}/history/?after={body['message']['id']}").json()["messages"]
    assert [m["id"] for m in after] == [reply["message_id"]]


def test_history_is_per_citizen_and_per_account(faq_account):
    other_account = make_faq_account("so-khac")
    mine, _ = citizen_client()
    theirs, _ = citizen_client()
    post(mine, f"/oa/{faq_account.slug}/messages/", {"text": "Làm hộ chiếu ở đâu?"})
    post(theirs, f"/oa/{faq_account.slug}/messages/", {"text": "Đăng ký xe máy"})
    post(mine, f"/oa/{other_account.slug}/messages/", {"text": "Phí làm lại thẻ căn cước"})
    texts = [m["text"] for m in mine.get(f"/oa/{faq_account.slug}/history/").json()["messages"]]
    assert "Làm hộ chiếu ở đâu?" in texts
    assert "Đăng ký xe máy" not in texts and "Phí làm lại thẻ căn cước" not in texts


@pytest.mark.parametrize(
    "body, code",
    [
        ("{not json", "malformed_json"),
        ("[1, 2]", "malformed_json"),
        ({}, "invalid"),
        ({"text": ""}, "invalid"),
        ({"text": 12}, "invalid"),
        ({"text": "x" * 2001}, "invalid"),
    ],
)
def test_bad_messages_are_400_and_store_nothing(faq_account, body, code):
    client, _ = citizen_client()
    before = counts()
    response = post(client, f"/oa/{faq_account.slug}/messages/", body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert counts() == before


def test_text_of_exactly_the_limit_is_accepted(faq_account):
    client, _ = citizen_client()
    assert post(client, f"/oa/{faq_account.slug}/messages/", {"text": "x" * 2000}).status_code == 200


def test_flooding_citizen_gets_429_with_retry_after(faq_account, settings, rate_window_start):
    settings.CHAT_RATE_CITIZEN = (2, 60)
    client, _ = citizen_client()
    url = f"/oa/{faq_account.slug}/messages/"
    assert post(client, url, {"text": "Làm hộ chiếu ở đâu?"}).status_code == 200
    assert post(client, url, {"text": "Làm hộ chiếu ở đâu?"}).status_code == 200
    before = counts()
    response = post(client, url, {"text": "Làm hộ chiếu ở đâu?"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "rate_limited"
    assert counts() == before
    # another browser is not limited by this one
    other, _ = citizen_client()
    assert post(other, url, {"text": "Làm hộ chiếu ở đâu?"}).status_code == 200


def test_flooding_ip_gets_429(faq_account, settings, rate_window_start):
    settings.CHAT_RATE_IP = (3, 60)
    url = f"/oa/{faq_account.slug}/messages/"
    statuses = [post(citizen_client()[0], url, {"text": "Làm hộ chiếu ở đâu?"}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_posts_need_the_csrf_token(faq_account):
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/oa/{faq_account.slug}/")
    url = f"/oa/{faq_account.slug}/messages/"
    refused = post(client, url, {"text": "Làm hộ chiếu ở đâu?"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    assert Citizen.objects.count() == 0
    token = page.cookies["csrftoken"].value
    ok = post(client, url, {"text": "Làm hộ chiếu ở đâu?"}, HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 200


def test_wrong_method_is_405_json(faq_account):
    response = Client().get(f"/oa/{faq_account.slug}/messages/")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_bad_after_is_400(faq_account):
    client, _ = citizen_client()
    for url in ("history", "inbox"):
        response = client.get(f"/oa/{faq_account.slug}/{url}/?after=abc")
        assert response.status_code == 400, url


# --- follow, subscriptions, profile  ---
def test_follow_and_unfollow_keep_history(faq_account):
    client, cid = citizen_client()
    state = post(client, f"/oa/{faq_account.slug}/follow/", {}).json()
    assert state["following"] is True
    assert all(t["subscribed"] for t in state["topics"])
    state = post(client, f"/oa/{faq_account.slug}/unfollow/", {}).json()
    assert state["following"] is False
    follow = Follow.objects.get(account=faq_account, citizen__external_id=cid)
    assert follow.is_active is False
    assert list(FollowEvent.objects.filter(follow=follow).order_by("pk").values_list("kind", flat=True)) == [
        "follow",
        "unfollow",
    ]


def test_unfollow_without_citizen_creates_nothing(faq_account):
    client, _ = citizen_client()
    assert post(client, f"/oa/{faq_account.slug}/unfollow/", {}).json()["following"] is False
    assert Citizen.objects.count() == 0


def test_subscriptions_change_topics_and_areas(faq_account):
    client, cid = citizen_client()
    url = f"/oa/{faq_account.slug}/subscriptions/"
    ward = Area.objects.filter(parent__code="79").order_by("code").first()

    # given: not following yet
    response = post(client, url, {"topics": ["health"]})
    assert response.status_code == 409
    assert Citizen.objects.count() == 0

    # when: following, then choosing one topic and one ward
    post(client, f"/oa/{faq_account.slug}/follow/", {})
    state = post(client, url, {"topics": ["health", "storm-flood"], "areas": [ward.code]}).json()

    # then
    assert {t["key"] for t in state["topics"] if t["subscribed"]} == {"health", "storm-flood"}
    assert state["areas"] == [
        {"code": ward.code, "name": ward.name, "level": ward.level, "parent": "79", "parent_name": ward.parent.name}
    ]
    follow = Follow.objects.get(account=faq_account, citizen__external_id=cid)
    assert set(follow.topics.values_list("key", flat=True)) == {"health", "storm-flood"}
    assert client.get(url).json() == state


@pytest.mark.parametrize(
    "body",
    [
        {"topics": ["health", "no-such-topic"]},
        {"areas": ["99999999"]},
        {"topics": "health"},
        {"topics": [1]},
        {},
        "{bad",
    ],
)
def test_bad_subscriptions_are_400_and_change_nothing(faq_account, body):
    client, cid = citizen_client()
    post(client, f"/oa/{faq_account.slug}/follow/", {})
    follow = Follow.objects.get(citizen__external_id=cid)
    before = set(follow.topics.values_list("key", flat=True))
    response = post(client, f"/oa/{faq_account.slug}/subscriptions/", body)
    assert response.status_code == 400
    assert set(follow.topics.values_list("key", flat=True)) == before
    assert follow.areas.count() == 0


def test_another_accounts_topic_is_refused(faq_account):
    from oa_platform.models import Topic

    other = factories.make_account("other-agency")
    Topic.objects.create(account=other, key="only-there", name="Chỉ ở đó")
    client, _ = citizen_client()
    post(client, f"/oa/{faq_account.slug}/follow/", {})
    response = post(client, f"/oa/{faq_account.slug}/subscriptions/", {"topics": ["only-there"]})
    assert response.status_code == 400


def test_follow_and_subscription_changes_refresh_open_sockets(faq_account, django_capture_on_commit_callbacks):
    client, cid = citizen_client()
    post(client, f"/oa/{faq_account.slug}/messages/", {"text": "Làm hộ chiếu ở đâu?"})
    citizen = Citizen.objects.get(external_id=cid)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(live.citizen_group(faq_account.pk, citizen.pk), channel)

    with django_capture_on_commit_callbacks(execute=True):
        post(client, f"/oa/{faq_account.slug}/follow/", {})
    assert async_to_sync(layer.receive)(channel) == {"type": "citizen.refresh"}
    with django_capture_on_commit_callbacks(execute=True):
        post(client, f"/oa/{faq_account.slug}/subscriptions/", {"topics": ["health"]})
    assert async_to_sync(layer.receive)(channel) == {"type": "citizen.refresh"}


def test_profile_sets_language_and_phone(faq_account):
    client, cid = citizen_client()
    response = post(client, f"/oa/{faq_account.slug}/profile/", {"language": "en", "phone": "0912 345 678"})
    assert response.status_code == 200
    citizen = Citizen.objects.get(external_id=cid)
    assert citizen.language == "en" and citizen.phone == "+84912345678"
    assert response.json()["phone"] == citizen.masked_phone and "345" not in response.json()["phone"]
    assert response.cookies["django_language"].value == "en"


@pytest.mark.parametrize("body", [{"phone": "12"}, {"language": "fr"}, {"phone": 912345678}, {}, "[]"])
def test_bad_profile_is_400_and_stores_nothing(faq_account, body):
    client, _ = citizen_client()
    response = post(client, f"/oa/{faq_account.slug}/profile/", body)
    assert response.status_code == 400
    assert Citizen.objects.count() == 0


# --- feedback, inbox, areas  ---
def test_feedback_on_own_answer(faq_account):
    client, _ = citizen_client()
    reply = post(client, f"/oa/{faq_account.slug}/messages/", {"text": "Làm hộ chiếu ở đâu?"}).json()["reply"]
    response = post(client, f"/oa/{faq_account.slug}/feedback/", {"message_id": reply["message_id"], "helpful": True})
    assert response.status_code == 200
    assert Message.objects.get(pk=reply["message_id"]).helpful is True


def test_feedback_on_someone_elses_message_is_404(faq_account):
    other_account = make_faq_account("so-khac")
    mine, _ = citizen_client()
    theirs, _ = citizen_client()
    their_reply = post(theirs, f"/oa/{faq_account.slug}/messages/", {"text": "Làm hộ chiếu ở đâu?"}).json()["reply"]
    my_other = post(mine, f"/oa/{other_account.slug}/messages/", {"text": "Làm hộ chiếu ở đâu?"}).json()["reply"]
    my_inbound = post(mine, f"/oa/{faq_account.slug}/messages/", {"text": "Đăng ký xe máy"}).json()["message"]
    url = f"/oa/{faq_account.slug}/feedback/"
    for message_id in (their_reply["message_id"], my_other["message_id"], my_inbound["id"], 10**9):
        response = post(mine, url, {"message_id": message_id, "helpful": False})
        assert response.status_code == 404, message_id
    assert not Message.objects.filter(helpful__isnull=False).exists()


@pytest.mark.parametrize(
    "body", [{"message_id": "1", "helpful": True}, {"message_id": 1}, {"message_id": 1, "helpful": "yes"}]
)
def test_bad_feedback_is_400(faq_account, body):
    client, _ = citizen_client()
    assert post(client, f"/oa/{faq_account.slug}/feedback/", body).status_code == 400


def test_inbox_is_empty_for_a_new_browser(faq_account):
    client, _ = citizen_client()
    assert client.get(f"/oa/{faq_account.slug}/inbox/").json() == {"notices": []}


def test_areas_provinces_then_wards(faq_account):
    client = Client()
    provinces = client.get(f"/oa/{faq_account.slug}/areas/").json()["areas"]
    assert (
        len(provinces) >= 34
        and {"code": "79", "name": Area.objects.get(code="79").name, "level": "province"} in provinces
    )
    wards = client.get(f"/oa/{faq_account.slug}/areas/?parent=79").json()["areas"]
    assert wards and {w["code"] for w in wards} == set(
        Area.objects.filter(parent__code="79").values_list("code", flat=True)
    )
    assert client.get(f"/oa/{faq_account.slug}/areas/?parent=nope").status_code == 404
