"""Core services (oa_platform/services.py): accounts, tokens, citizens, follows, subscriptions, erasure."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection, transaction

from oa_platform import erasure, services
from oa_platform.errors import NotFound, ValidationFailed
from oa_platform.models import (
    ApiToken,
    Area,
    AuditLog,
    Citizen,
    Conversation,
    Follow,
    FollowEvent,
    OfficialAccount,
    Topic,
    TopicSubscription,
)
from tests import factories

pytestmark = pytest.mark.django_db

DEFAULT_KEYS = [key for key, *_names in Topic.DEFAULT_TOPICS]


def _keys(follow) -> set[str]:
    return set(follow.topics.values_list("key", flat=True))


# --- accounts  ---
def test_account_create_with_agency_and_default_topics():
    account = services.account_create(slug="cong-an", name="Công an TP", agency_name="Công an Thành phố")
    assert account.agency.name == "Công an Thành phố" and account.agency.code == "cong-an"
    assert account.timezone == "Asia/Ho_Chi_Minh"
    assert list(account.topics.order_by("position").values_list("key", flat=True)) == DEFAULT_KEYS
    assert account.topics.get(key="storm-flood").name_en == "Storms and floods"


def test_account_create_refuses_taken_slug_and_bad_timezone():
    services.account_create(slug="so-y-te", name="Sở Y tế")
    with pytest.raises(ValidationFailed):
        services.account_create(slug="so-y-te", name="Khác")
    with pytest.raises(Exception):  # noqa: B017 - full_clean raises Django's ValidationError
        services.account_create(slug="so-khac", name="Sở khác", timezone_name="Mars/Olympus")
    # nothing half-stored by the failed attempt (atomic)
    assert not OfficialAccount.objects.filter(slug="so-khac").exists()
    assert OfficialAccount.objects.filter(slug="so-y-te").count() == 1


def test_topics_ensure_defaults_is_idempotent(tenant_a):
    services.topics_ensure_defaults(account=tenant_a.account)
    assert tenant_a.account.topics.count() == len(DEFAULT_KEYS)


def test_account_get_or_create():
    account, created = services.account_get_or_create(slug="x-1", name="X")
    again, created_again = services.account_get_or_create(slug="x-1", name="Y")
    assert created and not created_again and again.pk == account.pk and again.name == "X"


# --- tokens  ---
def test_token_issue_stores_only_a_hash(tenant_a):
    token, raw = services.token_issue(account=tenant_a.account, name=" Zalo ", scopes=["chat"])
    assert raw.startswith("oa_") and len(raw) > 30
    assert token.key_hash == ApiToken.hash(raw) and token.prefix == raw[:10] and token.name == "Zalo"
    assert not ApiToken.objects.filter(key_hash=raw).exists()
    assert token.has_scope("chat") and not token.has_scope("read")
    assert AuditLog.objects.filter(action="token_issue", object_id=str(token.pk)).exists()


def test_token_default_scopes_and_unique_values(tenant_a):
    first, raw1 = services.token_issue(account=tenant_a.account, name="a")
    _second, raw2 = services.token_issue(account=tenant_a.account, name="b")
    assert first.scopes == [ApiToken.SCOPE_CHAT, ApiToken.SCOPE_READ] and raw1 != raw2


@pytest.mark.parametrize(("name", "scopes"), [("x", ["admin"]), ("  ", ["chat"]), ("x", ["chat", "nope"])])
def test_token_issue_refuses_bad_input(tenant_a, name, scopes):
    before = ApiToken.objects.count()
    with pytest.raises(ValidationFailed):
        services.token_issue(account=tenant_a.account, name=name, scopes=scopes)
    assert ApiToken.objects.count() == before


def test_token_revoke_once(tenant_a):
    token, _raw = services.token_issue(account=tenant_a.account, name="t")
    with time_machine.travel("2026-05-01 10:00:00+07:00", tick=False):
        services.token_revoke(token=token, actor=tenant_a.manager)
    revoked_at = token.revoked_at
    services.token_revoke(token=token, actor=tenant_a.manager)  # again: no new timestamp, no new audit entry
    token.refresh_from_db()
    assert not token.is_active and token.revoked_at == revoked_at
    assert AuditLog.objects.filter(action="token_revoke", object_id=str(token.pk)).count() == 1


# --- citizens  ---
def test_citizen_get_or_create_normalises_phone():
    citizen, created = services.citizen_get_or_create(
        account=None, channel="web", external_id=" abc ", display_name="Lan", language="EN", phone="091 234 5678"
    )
    assert created and citizen.external_id == "abc" and citizen.phone == "+84912345678"
    assert citizen.language == "en" and citizen.masked_phone == "+84******678"
    again, created_again = services.citizen_get_or_create(
        account=None, channel="web", external_id="abc", phone="+84987654321"
    )
    assert not created_again and again.pk == citizen.pk and again.phone == "+84987654321"


def test_citizen_language_fallbacks():
    zh, _ = services.citizen_get_or_create(account=None, channel="web", external_id="z", language="zh-CN")
    other, _ = services.citizen_get_or_create(account=None, channel="web", external_id="o", language="klingon")
    assert zh.language == "zh-hans" and other.language == "vi"


def test_same_external_id_on_two_channels_is_two_citizens(tenant_a):
    web, _ = services.citizen_get_or_create(account=None, channel="web", external_id="42")
    zalo, _ = services.citizen_get_or_create(account=tenant_a.account, channel="zalo", external_id="42")
    assert web.pk != zalo.pk


@pytest.mark.parametrize(
    "kwargs",
    [
        {"channel": "web", "external_id": "p1", "phone": "12"},
        {"channel": "web", "external_id": "p2", "phone": "not a phone"},
        {"channel": "web", "external_id": ""},
        {"channel": "web", "external_id": "x" * 129},
        {"channel": "fax", "external_id": "p3"},
    ],
)
def test_citizen_get_or_create_refuses_bad_input_and_stores_nothing(kwargs):
    with pytest.raises(ValidationFailed):
        services.citizen_get_or_create(account=None, **kwargs)
    assert not Citizen.objects.exists()


def test_invalid_phone_for_known_citizen_changes_nothing():
    citizen = factories.make_citizen("k1", phone="0912345678")
    with pytest.raises(ValidationFailed):
        services.citizen_get_or_create(account=None, channel="web", external_id="k1", phone="999")
    citizen.refresh_from_db()
    assert citizen.phone == "+84912345678"


def test_citizen_get_or_create_costs_two_round_trips_new_and_one_known(tenant_a, django_assert_num_queries):
    if connection.vendor != "postgresql":
        pytest.skip("the compiled read and the insert that cannot fail are PostgreSQL's")
    # given/when: a new citizen of the account: a read, then the insert (no savepoint)
    with django_assert_num_queries(2):
        citizen, created = services.citizen_get_or_create(account=tenant_a.account, channel="web", external_id="n1")
    # then: a known one is one read, of this account only
    with django_assert_num_queries(1):
        again, created_again = services.citizen_get_or_create(account=tenant_a.account, channel="web", external_id="n1")
    assert created and not created_again and again.pk == citizen.pk and again.account is tenant_a.account
    shared, shared_created = services.citizen_get_or_create(account=None, channel="web", external_id="n1")
    assert shared_created and shared.pk != citizen.pk and shared.account_id is None


def test_a_citizen_inserted_meanwhile_by_another_request_is_found_and_nothing_aborts(tenant_a, monkeypatch):
    # given: the citizen exists, but the first read happened before it did
    stored, _ = services.citizen_get_or_create(account=tenant_a.account, channel="web", external_id="race")
    reads = iter([None])
    find = services._citizen_find
    monkeypatch.setattr(services, "_citizen_find", lambda **identity: next(reads, None) or find(**identity))
    # when: the insert meets the stored row
    with transaction.atomic():
        citizen, created = services.citizen_get_or_create(account=tenant_a.account, channel="web", external_id="race")
        # then: the stored citizen, and the transaction goes on (no error aborted it)
        assert not created and citizen.pk == stored.pk
        assert Citizen.objects.filter(external_id="race").count() == 1


def test_citizen_conversation_get_or_create_new_then_known(django_assert_max_num_queries):
    account = factories.make_account()
    # given/when: a first message creates the citizen and the conversation
    citizen, conversation = services.citizen_conversation_get_or_create(
        account=account, channel="web", external_id=" c-9 ", display_name="Lan", language="EN", phone="0912345678"
    )
    assert (citizen.external_id, citizen.language, citizen.phone) == ("c-9", "en", "+84912345678")
    assert (conversation.account_id, conversation.citizen_id, conversation.status) == (account.pk, citizen.pk, "bot")
    # when: the citizen writes again; then: one query, the stored rows, relations already attached
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.STATUS_WAITING)
    with django_assert_max_num_queries(1):
        again, same = services.citizen_conversation_get_or_create(account=account, channel="web", external_id="c-9")
        assert same.citizen is again and same.account is account
    assert (again.pk, same.pk, same.status) == (citizen.pk, conversation.pk, "waiting")
    assert same.last_message_at == Conversation.objects.get().last_message_at
    assert (Citizen.objects.count(), Conversation.objects.count()) == (1, 1)


def test_citizen_conversation_get_or_create_per_account_and_profile_rules():
    account, other = factories.make_account(), factories.make_account()
    theirs_citizen, theirs = services.citizen_conversation_get_or_create(
        account=other, channel="web", external_id="c-1", display_name="Lan", phone="0912345678"
    )
    # the same id from this account's integration is this account's own citizen, not the other's
    mine, conversation = services.citizen_conversation_get_or_create(
        account=account, channel="web", external_id="c-1", display_name="Mai"
    )
    assert mine.pk != theirs_citizen.pk and conversation.pk != theirs.pk
    assert (mine.account_id, conversation.account_id, conversation.citizen_id) == (account.pk, account.pk, mine.pk)
    # a known citizen: a new phone is taken, a stored display name kept
    again, same = services.citizen_conversation_get_or_create(
        account=account, channel="web", external_id="c-1", display_name="Hoa", phone="0987654321"
    )
    assert (again.pk, same.pk) == (mine.pk, conversation.pk)
    mine.refresh_from_db()
    assert (mine.display_name, mine.phone) == ("Mai", "+84987654321")
    # the other account's citizen and conversation are untouched and never returned here
    theirs_citizen.refresh_from_db()
    assert (theirs_citizen.display_name, theirs_citizen.phone) == ("Lan", "+84912345678")
    still_mine, still_theirs = services.citizen_conversation_get_or_create(
        account=other, channel="web", external_id="c-1"
    )
    assert (still_mine.pk, still_theirs.pk) == (theirs_citizen.pk, theirs.pk)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"channel": "web", "external_id": "p1", "phone": "12"},
        {"channel": "web", "external_id": ""},
        {"channel": "web", "external_id": "x" * 129},
        {"channel": "fax", "external_id": "p3"},
    ],
)
def test_citizen_conversation_get_or_create_refuses_bad_input_and_stores_nothing(kwargs):
    account = factories.make_account()
    with pytest.raises(ValidationFailed):
        services.citizen_conversation_get_or_create(account=account, **kwargs)
    assert not Citizen.objects.exists() and not Conversation.objects.exists()


def test_citizen_update_profile():
    citizen = factories.make_citizen()
    area = Area.objects.filter(level=Area.LEVEL_PROVINCE).first()
    services.citizen_update_profile(citizen=citizen, language="zh", phone="0987654321", home_area_code=area.code)
    citizen.refresh_from_db()
    assert (citizen.language, citizen.phone, citizen.home_area) == ("zh-hans", "+84987654321", area)
    for bad in ({"language": "xx"}, {"phone": "1"}, {"home_area_code": "no-such-area"}):
        with pytest.raises(ValidationFailed):
            services.citizen_update_profile(citizen=citizen, **bad)
    services.citizen_update_profile(citizen=citizen, home_area_code="")
    citizen.refresh_from_db()
    assert citizen.home_area is None and citizen.phone == "+84987654321"


# --- follows  ---
def test_follow_subscribes_default_topics(tenant_a):
    Topic.objects.filter(account=tenant_a.account, key="traffic").update(subscribed_by_default=False)
    citizen = factories.make_citizen()
    follow = services.follow_create(account=tenant_a.account, citizen=citizen)
    assert follow.is_active and _keys(follow) == set(DEFAULT_KEYS) - {"traffic"}
    assert FollowEvent.objects.filter(follow=follow, kind="follow").count() == 1
    # following twice does nothing more
    services.follow_create(account=tenant_a.account, citizen=citizen)
    assert FollowEvent.objects.filter(follow=follow).count() == 1


def test_unfollow_keeps_history_and_refollow_keeps_choices(tenant_a):
    citizen = factories.make_citizen()
    follow = services.follow_create(account=tenant_a.account, citizen=citizen)
    services.subscriptions_set(follow=follow, topic_keys=["health"])
    with time_machine.travel("2026-06-01 09:00:00+07:00", tick=False):
        services.follow_remove(account=tenant_a.account, citizen=citizen)
    follow.refresh_from_db()
    assert not follow.is_active and follow.unfollowed_at is not None
    assert Follow.objects.filter(pk=follow.pk).exists() and _keys(follow) == {"health"}
    services.follow_remove(account=tenant_a.account, citizen=citizen)  # twice: no second event
    services.follow_create(account=tenant_a.account, citizen=citizen)
    follow.refresh_from_db()
    assert follow.is_active and follow.unfollowed_at is None and _keys(follow) == {"health"}
    assert list(follow.events.order_by("id").values_list("kind", flat=True)) == [
        "follow",
        "unfollow",
        "follow",
    ]


def test_unfollow_without_follow_is_none(tenant_a):
    assert services.follow_remove(account=tenant_a.account, citizen=factories.make_citizen()) is None


# --- subscriptions  ---
def test_subscriptions_set_topics_and_areas(tenant_a):
    follow = services.follow_create(account=tenant_a.account, citizen=factories.make_citizen())
    areas = list(Area.objects.filter(level=Area.LEVEL_PROVINCE)[:2])
    services.subscriptions_set(
        follow=follow, topic_keys=["health", "traffic", "health"], area_codes=[a.code for a in areas]
    )
    assert _keys(follow) == {"health", "traffic"} and set(follow.areas.all()) == set(areas)
    services.subscriptions_set(follow=follow, topic_keys=[])
    assert _keys(follow) == set() and set(follow.areas.all()) == set(areas)


@pytest.mark.parametrize(
    "kwargs", [{"topic_keys": ["health", "no-such-topic"]}, {"topic_keys": ["health"], "area_codes": ["00000-x"]}]
)
def test_subscriptions_set_refuses_unknown_and_changes_nothing(tenant_a, kwargs):
    follow = services.follow_create(account=tenant_a.account, citizen=factories.make_citizen())
    area = Area.objects.first()
    follow.areas.set([area])
    before_topics = _keys(follow)
    with pytest.raises(ValidationFailed):
        services.subscriptions_set(follow=follow, **kwargs)
    assert _keys(follow) == before_topics and list(follow.areas.all()) == [area]


def test_subscriptions_set_refuses_other_accounts_topic(tenant_a, tenant_b):
    Topic.objects.create(account=tenant_b.account, key="b-only", name="B")
    follow = services.follow_create(account=tenant_a.account, citizen=factories.make_citizen())
    with pytest.raises(ValidationFailed):
        services.subscriptions_set(follow=follow, topic_keys=["b-only"])
    assert "b-only" not in _keys(follow)


def test_subscription_toggle_and_clear(tenant_a):
    follow = services.follow_create(account=tenant_a.account, citizen=factories.make_citizen())
    services.subscription_toggle(follow=follow, topic_key="health", subscribed=False)
    assert "health" not in _keys(follow)
    services.subscription_toggle(follow=follow, topic_key="health", subscribed=True)
    services.subscription_toggle(follow=follow, topic_key="health", subscribed=True)
    assert TopicSubscription.objects.filter(follow=follow, topic__key="health").count() == 1
    with pytest.raises(NotFound):
        services.subscription_toggle(follow=follow, topic_key="nope", subscribed=True)
    services.subscriptions_clear(follow=follow)
    assert _keys(follow) == set()


# --- erasure  ---
def _engage(account, citizen):
    services.follow_create(account=account, citizen=citizen)
    conversation = Conversation.objects.create(account=account, citizen=citizen)
    conversation.messages.create(direction="in", text="xin chào")


def test_citizen_erase_only_for_that_account(tenant_a, tenant_b):
    citizen = factories.make_citizen(phone="0912345678")
    _engage(tenant_a.account, citizen)
    _engage(tenant_b.account, citizen)
    counts = erasure.citizen_erase(account=tenant_a.account, citizen=citizen, actor=tenant_a.manager)
    assert counts["follows"] >= 1 and counts["conversations"] >= 1 and "citizen" not in counts
    assert not Follow.objects.filter(account=tenant_a.account, citizen=citizen).exists()
    assert not Conversation.objects.filter(account=tenant_a.account, citizen=citizen).exists()
    assert Follow.objects.filter(account=tenant_b.account, citizen=citizen).exists()
    assert Conversation.objects.get(account=tenant_b.account, citizen=citizen).messages.count() == 1
    entry = AuditLog.objects.get(action="erase")
    assert entry.account == tenant_a.account and entry.actor == tenant_a.manager
    assert "0912345678" not in entry.object_repr and "912345678" not in str(entry.changes)


def test_citizen_erase_removes_the_citizen_when_nothing_else_holds_it(tenant_a):
    citizen = factories.make_citizen(phone="0912345678")
    _engage(tenant_a.account, citizen)
    counts = erasure.citizen_erase(account=tenant_a.account, citizen=citizen)
    assert counts["citizen"] == 1 and not Citizen.objects.filter(pk=citizen.pk).exists()
    assert not FollowEvent.objects.filter(follow__citizen_id=citizen.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_citizen_conversation_first_message_race_makes_one_of_each():
    # given: a new citizen's first message arriving in 8 connections at once
    from tests.concurrency import all_at_once

    account = factories.make_account("race-conversation")

    def first_message():
        _citizen, conversation = services.citizen_conversation_get_or_create(
            account=account, channel="web", external_id="new-1"
        )
        return conversation.pk

    # when
    conversations, errors = all_at_once(first_message, 8)
    # then: one citizen, one conversation, every caller got it
    assert errors == []
    assert Citizen.objects.count() == 1 and Conversation.objects.count() == 1
    assert set(conversations) == {Conversation.objects.get().pk} and len(conversations) == 8
