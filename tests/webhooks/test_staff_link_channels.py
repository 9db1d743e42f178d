"""A staff member links their Zalo and their generic (SMS gateway) identity by sending the console's code through
the real webhooks: the reply goes back through the provider (a real loopback server), in the keyword's
language, and a staff form's audience then holds that identity."""

from __future__ import annotations

import json
import time

import pytest

from oa_platform.channel_types import generic
from oa_platform.collect.audience import audience_citizens
from oa_platform.collect.models import Form
from oa_platform.conversations.staff_link import staff_link_code_issue
from oa_platform.models import Citizen, Membership
from tests.collect.builders import make_form
from tests.webhooks.conftest import GENERIC_SECRET, post_zalo, zalo_event, zalo_mac

pytestmark = pytest.mark.django_db


def test_a_code_sent_on_zalo_links_that_zalo_identity(client, channels_a, fake_api, django_capture_on_commit_callbacks):
    a = channels_a["zalo"].account
    membership = Membership.objects.get(user__username="agency-a-editor", account=a)
    code, _ = staff_link_code_issue(membership=membership)
    body, ts = zalo_event(f"liên kết {code}", user_id="u-nurse")
    with django_capture_on_commit_callbacks(execute=True):
        assert post_zalo(client, "agency-a", body, zalo_mac(body, ts)).status_code == 200
    nurse = Citizen.objects.get(channel="zalo", external_id="u-nurse")
    membership.refresh_from_db()
    assert membership.test_citizen_id == nurse.pk
    [sent] = fake_api.sent
    assert sent["to"] == "u-nurse" and "Đã liên kết" in sent["text"]
    assert list(audience_citizens(make_form(a, audience={"kind": Form.AUDIENCE_STAFF}))) == [nurse]


def test_a_code_sent_by_sms_gateway_in_chinese_is_confirmed_in_chinese(
    client, channels_a, fake_api, django_capture_on_commit_callbacks
):
    a = channels_a["generic"].account
    membership = Membership.objects.get(user__username="agency-a-manager", account=a)
    code, _ = staff_link_code_issue(membership=membership)
    body = json.dumps({"id": "sms-9", "citizen_id": "+84901234567", "text": f"绑定 {code}"}).encode()
    headers = generic.signed_headers(secret=GENERIC_SECRET, timestamp=str(int(time.time())), body=body)
    headers.pop("Content-Type")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/webhooks/generic/agency-a/", data=body, content_type="application/json", headers=headers
        )
    assert response.status_code == 200, response.content
    membership.refresh_from_db()
    assert membership.test_citizen.channel == "generic"
    [sent] = fake_api.sent
    assert "已绑定" in sent["text"]
