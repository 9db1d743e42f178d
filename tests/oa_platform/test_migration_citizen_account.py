"""The migration that gives every integration-named citizen its account (oa_platform 0009-0011): a citizen two
agencies shared becomes one per agency, each agency's rows pointing at its own, nothing lost."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from tests.factories import migrate_to

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

BEFORE = [("oa_platform", "0008_url_policy"), ("broadcasts", "0004_delivery_sending")]
AFTER = [("oa_platform", "0011_citizen_account_unique")]
BROWSER_CID = "w_" + "A" * 22


def test_a_shared_citizen_becomes_one_per_account_with_each_accounts_rows():
    # given: the schema before, with a generic citizen that agencies A and B both reached, an API citizen of A
    # only, and a browser identity following both
    old = migrate_to(BEFORE)
    Account = old.get_model("oa_platform", "OfficialAccount")
    Agency = old.get_model("oa_platform", "Agency")
    Citizen = old.get_model("oa_platform", "Citizen")
    Follow = old.get_model("oa_platform", "Follow")
    Conversation = old.get_model("oa_platform", "Conversation")
    Message = old.get_model("oa_platform", "Message")
    Membership = old.get_model("oa_platform", "Membership")
    Notice = old.get_model("broadcasts", "Notice")
    Delivery = old.get_model("broadcasts", "Delivery")
    User = old.get_model("auth", "User")
    a, b = (Account.objects.create(agency=Agency.objects.create(name=s, code=s), slug=s, name=s) for s in "ab")
    created = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
    shared = Citizen.objects.create(
        channel="generic", external_id="cust-1001", display_name="Lan", phone="+84987000222", language="en"
    )
    Citizen.objects.filter(pk=shared.pk).update(created_at=created)
    api_only = Citizen.objects.create(channel="web", external_id="cust-7")
    browser = Citizen.objects.create(channel="web", external_id=BROWSER_CID)
    orphan = Citizen.objects.create(channel="zalo", external_id="u-nobody")
    for account in (a, b):
        Follow.objects.create(account=account, citizen=shared)
        Follow.objects.create(account=account, citizen=browser)
        conversation = Conversation.objects.create(account=account, citizen=shared)
        Message.objects.create(conversation=conversation, direction="in", text=f"to {account.slug}")
        notice = Notice.objects.create(account=account, category="general", title_vi="t", body_vi="b")
        Delivery.objects.create(notice=notice, citizen=shared, channel="webhook", created_at=created)
    Conversation.objects.create(account=a, citizen=api_only)
    staff = User.objects.create(username="b-staff")
    Membership.objects.create(user=staff, account=b, role="manager", test_citizen=shared)

    # when (the rows above are checked now, as a commit would: PostgreSQL alters no table with pending checks)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    new = migrate_to(AFTER)

    # then: A keeps the original row, B has a copy with the same profile, and every row of B points at it
    Citizen = new.get_model("oa_platform", "Citizen")
    Follow = new.get_model("oa_platform", "Follow")
    Conversation = new.get_model("oa_platform", "Conversation")
    Membership = new.get_model("oa_platform", "Membership")
    Delivery = new.get_model("broadcasts", "Delivery")
    mine, theirs = Citizen.objects.filter(external_id="cust-1001").order_by("account_id")
    assert (mine.pk, mine.account_id, theirs.account_id) == (shared.pk, a.pk, b.pk)
    profile = ("channel", "display_name", "phone", "language", "created_at")
    assert [getattr(theirs, f) for f in profile] == ["generic", "Lan", "+84987000222", "en", created]
    assert [getattr(mine, f) for f in profile] == [getattr(theirs, f) for f in profile]
    for citizen, account in ((mine, a), (theirs, b)):
        assert set(Follow.objects.filter(citizen=citizen).values_list("account_id", flat=True)) == {account.pk}
        [conversation] = Conversation.objects.filter(citizen=citizen)
        assert conversation.account_id == account.pk
        assert [m.text for m in conversation.messages.all()] == [f"to {account.slug}"]
        assert set(Delivery.objects.filter(citizen=citizen).values_list("notice__account_id", flat=True)) == {
            account.pk
        }
    assert Membership.objects.get(user__username="b-staff").test_citizen_id == theirs.pk
    # the API citizen belongs to A; the browser identity stays one person following both; the orphan stays
    assert Citizen.objects.get(pk=api_only.pk).account_id == a.pk
    assert Citizen.objects.get(pk=browser.pk).account_id is None
    assert Follow.objects.filter(citizen_id=browser.pk).count() == 2
    assert Citizen.objects.get(pk=orphan.pk).account_id is None
    assert Citizen.objects.count() == 5
