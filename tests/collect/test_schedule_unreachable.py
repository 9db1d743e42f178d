"""The schedule page says how many phones of a list audience no one of the account has (no follower, no citizen
of its own channels), so staff know before a round opens who will not be asked."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oa_platform.collect.models import Form
from oa_platform.console.formschedule import _phones_unreachable
from tests import factories
from tests.collect.builders import make_form

pytestmark = pytest.mark.django_db


def test_the_schedule_page_counts_the_phones_nobody_of_the_account_has(client, tenant_a, tenant_b):
    # given: a list of five phones: a follower of A, a citizen of A's Zalo, and the same phone twice on two
    # channels; one phone known only to agency B, and one nobody has
    a = tenant_a.account
    factories.make_follower(a, phone="+84912345001")
    factories.make_citizen(account=a, channel="zalo", phone="+84912345002")
    factories.make_citizen(account=a, channel="generic", phone="+84912345003")
    factories.make_citizen(account=a, channel="zalo", phone="+84912345003")
    factories.make_citizen(account=tenant_b.account, channel="zalo", phone="+84912345004")
    phones = ["0912345001", "0912345002", "0912345003", "0912345004", "0912345005"]
    form = make_form(a, audience={"kind": Form.AUDIENCE_LIST, "phones": phones})
    # when: staff open its schedule page
    client.force_login(tenant_a.editor)
    html = client.get(f"/staff/{a.slug}/forms/{form.pk}/schedule/").content.decode()
    # then: two phones cannot be reached (B's and nobody's)
    assert 'id="phones-unreachable"' in html and "Chưa liên lạc được 2 số" in html
    with CaptureQueriesContext(connection) as queries:
        assert _phones_unreachable(form) == 2
    assert len(queries) == 1


def test_nothing_is_said_when_everyone_is_reachable_or_the_audience_is_not_a_list(client, tenant_a):
    a = tenant_a.account
    factories.make_follower(a, phone="+84912345011")
    listed = make_form(a, audience={"kind": Form.AUDIENCE_LIST, "phones": ["0912345011"]})
    followers = make_form(a)
    client.force_login(tenant_a.editor)
    for form in (listed, followers):
        html = client.get(f"/staff/{a.slug}/forms/{form.pk}/schedule/").content.decode()
        assert 'id="phones-unreachable"' not in html
