"""Tenant isolation of citizens, through every channel that names one (issue 11, item 3).

An external id means something only inside the account that received it: agency A's integration sending the
id (and a phone, a name) of agency B's citizen gets a citizen of A's own, and B's citizen, conversation and
follow are untouched and never shown to A. Only the web page's browser identity is one person across the
accounts they follow."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from oa_platform import services
from oa_platform.conversations.engine import chat_receive
from oa_platform.errors import Forbidden
from oa_platform.models import Citizen, Conversation, Follow, Message
from tests.oa_platform.channel_senders import SENDERS, channels, fake_api  # noqa: F401 (fixtures used by name)
from tests.oa_platform.web_support import citizen_client

pytestmark = pytest.mark.django_db

B_NAME, B_PHONE = "Trần Thị Bích", "0987000222"
A_NAME, A_PHONE = "Kẻ Mạo Danh", "0912000111"


@pytest.mark.usefixtures("channels")
@pytest.mark.parametrize("way", SENDERS)
def test_another_agency_sending_the_same_citizen_id_gets_its_own_citizen(
    way, client, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    channel, send, carries_profile = SENDERS[way]
    # given: agency B's citizen cust-1001, with a name and a phone B stored
    with django_capture_on_commit_callbacks(execute=True):
        send(client, tenant_b, "cust-1001", "xin chào", {"display_name": B_NAME, "phone": B_PHONE})
    theirs = Citizen.objects.get(account=tenant_b.account, channel=channel, external_id="cust-1001")
    if not carries_profile:  # Zalo and WeChat carry no profile: B stored it some other way
        services.citizen_update_profile(citizen=theirs, display_name=B_NAME, phone=B_PHONE)
    theirs.refresh_from_db()
    before = (theirs.display_name, theirs.phone, theirs.language, theirs.home_area_id)
    assert before[:2] == (B_NAME, "+84987000222")
    b_messages = set(Message.objects.filter(conversation__citizen=theirs).values_list("pk", flat=True))

    # when: agency A's integration sends the same id, with its own phone and name, signed with A's own secret
    with django_capture_on_commit_callbacks(execute=True):
        send(client, tenant_a, "cust-1001", "đổi số điện thoại", {"display_name": A_NAME, "phone": A_PHONE})

    # then: A has a citizen of its own; B's citizen, conversation and messages are as they were
    mine = Citizen.objects.get(account=tenant_a.account, channel=channel, external_id="cust-1001")
    assert mine.pk != theirs.pk
    theirs.refresh_from_db()
    assert (theirs.display_name, theirs.phone, theirs.language, theirs.home_area_id) == before
    assert set(Conversation.objects.filter(citizen=theirs).values_list("account_id", flat=True)) == {
        tenant_b.account.pk
    }
    assert set(Message.objects.filter(conversation__citizen=theirs).values_list("pk", flat=True)) == b_messages
    assert Conversation.objects.get(account=tenant_a.account).citizen_id == mine.pk

    # and A's admin never shows B's citizen: not in the list, not by search, not by its URL
    client.force_login(tenant_a.manager)
    changelist = reverse("admin:oa_platform_citizen_changelist")
    for query in ({}, {"q": "cust-1001"}, {"q": "Bích"}):
        response = client.get(changelist, query)
        assert theirs.pk not in {c.pk for c in response.context["cl"].queryset}
        assert B_NAME not in response.content.decode()
    assert client.get(changelist, {"q": "Bích"}).context["cl"].result_count == 0
    assert client.get(reverse("admin:oa_platform_citizen_change", args=[theirs.pk])).status_code in (302, 404)
    for model in ("conversation", "follow"):
        response = client.get(reverse(f"admin:oa_platform_{model}_changelist"), {"q": "cust-1001"})
        assert B_NAME not in response.content.decode()


def test_the_browser_identity_follows_several_accounts_and_the_api_cannot_reach_it(
    client, tenant_a, tenant_b, api_client
):
    # given: one browser following both agencies and writing to both
    browser, cid = citizen_client()
    for tenant in (tenant_a, tenant_b):
        for path, body in (("follow/", {}), ("messages/", {"text": "xin chào"})):
            response = browser.post(
                f"/oa/{tenant.account.slug}/{path}", data=json.dumps(body), content_type="application/json"
            )
            assert response.status_code == 200, response.content
    # then: one shared person, followed by both
    person = Citizen.objects.get(channel=Citizen.CHANNEL_WEB, external_id=cid)
    assert person.account_id is None
    assert set(Follow.objects.filter(citizen=person).values_list("account_id", flat=True)) == {
        tenant_a.account.pk,
        tenant_b.account.pk,
    }
    # when: A's API integration sends the browser's id with a phone and a name
    response = api_client.post(
        f"/api/v1/accounts/{tenant_a.account.slug}/messages/",
        {"citizen_id": cid, "text": "xin chào", "phone": A_PHONE, "display_name": A_NAME},
        format="json",
        headers={"Authorization": f"Token {tenant_a.token}"},
    )
    assert response.status_code == 200, response.content
    # then: that is A's own API citizen; the browser identity is untouched and keeps its one conversation with A
    person.refresh_from_db()
    assert (person.phone, person.display_name) == ("", "")
    api_citizen = Citizen.objects.get(account=tenant_a.account, external_id=cid)
    assert api_citizen.pk != person.pk and api_citizen.phone == "+84912000111"
    assert Conversation.objects.filter(citizen=person).count() == 2


def test_services_refuse_to_relate_an_accounts_citizen_to_another(tenant_a, tenant_b):
    theirs, _ = services.citizen_get_or_create(account=tenant_b.account, channel="zalo", external_id="u-1")
    with pytest.raises(Forbidden):
        services.follow_create(account=tenant_a.account, citizen=theirs)
    with pytest.raises(Forbidden):
        chat_receive(account=tenant_a.account, citizen=theirs, text="xin chào")
    assert not Follow.objects.filter(citizen=theirs).exists()
    assert not Conversation.objects.filter(citizen=theirs).exists()


def test_a_channel_citizen_needs_its_account(db):
    with pytest.raises(ValueError):
        services.citizen_get_or_create(account=None, channel="zalo", external_id="u-1")
    assert not Citizen.objects.exists()
