"""Querysets compiled once and run again with new values give what the queryset itself gives."""

from __future__ import annotations

import pytest
from django.db.models.signals import post_save

from oa_platform.compiled_queries import CompiledInsert, CompiledQuery
from oa_platform.models import ApiToken, Citizen, Conversation, Message
from tests import factories

pytestmark = pytest.mark.django_db


def tokens_of(account_id, name):
    return (
        ApiToken.objects.filter(account_id=account_id, name=name, revoked_at__isnull=True, account__is_active=True)
        .order_by("pk")
        .values_list("pk", "scopes", "created_at", "account__slug", "account__is_active", "account__working_hours_end")
    )


def test_rows_equal_the_querysets_rows_for_any_values(django_assert_num_queries):
    # given: two accounts' tokens, one revoked
    a, b = factories.make_account(), factories.make_account()
    for account, name in ((a, "one"), (a, "two"), (b, "one")):
        factories.make_token(account, name=name)
    revoked = ApiToken.objects.get(account=b, name="one")
    revoked.revoked_at = revoked.created_at
    revoked.save()
    query = CompiledQuery(tokens_of, account_id=-1, name="\x00name")
    # when/then: converters applied (JSON, aware datetimes, booleans, times) and one query per call
    for account_id, name in ((a.pk, "one"), (a.pk, "two"), (b.pk, "one"), (a.pk, "none"), (-5, "one")):
        with django_assert_num_queries(1):
            rows = query.rows(account_id=account_id, name=name)
        assert rows == list(tokens_of(account_id, name))
    row = query.first(account_id=a.pk, name="one")
    assert row[1] == ["chat", "read"] and row[2].tzinfo is not None and row[4] is True
    assert query.first(account_id=b.pk, name="one") is None


def test_markers_must_land_once_and_values_must_have_the_markers_type():
    with pytest.raises(ValueError, match="appears 0 times"):
        CompiledQuery(lambda cid: Citizen.objects.filter(external_id="x").values_list("pk"), cid="\x00cid").rows(
            cid="y"
        )
    twice = CompiledQuery(
        lambda cid: Citizen.objects.filter(external_id=cid, display_name=cid).values_list("pk"), cid="\x00cid"
    )
    with pytest.raises(ValueError, match="appears 2 times"):
        twice.rows(cid="y")
    query = CompiledQuery(lambda cid: Citizen.objects.filter(external_id=cid).values_list("pk"), cid="\x00cid")
    with pytest.raises(TypeError):
        query.rows(cid=5)
    with pytest.raises(TypeError):
        query.rows(other="x")


def message_fields(message):
    return {f.attname: getattr(message, f.attname) for f in Message._meta.concrete_fields if f.attname != "id"}


def test_compiled_insert_stores_what_create_stores(django_assert_num_queries):
    # given: a conversation, and one message created by the ORM
    account = factories.make_account()
    conversation = Conversation.objects.create(account=account, citizen=factories.make_citizen())
    values = {
        "conversation": conversation,
        "direction": Message.DIRECTION_OUT,
        "sender": Message.SENDER_BOT,
        "channel": "zalo",
        "text": "Trả lời",
        "faq_key": "cccd",
        "score": 87.5,
        "decision": "suggest",
        "suggestions": [{"faq": "a", "question": "Câu hỏi?"}],
        "delivery_status": Message.DELIVERY_QUEUED,
    }
    by_orm = Message.objects.create(**values)
    # when
    with django_assert_num_queries(1):
        compiled = CompiledInsert(Message).create(**values, in_reply_to=by_orm)
    # then: a saved instance whose stored row matches the ORM's, field by field (defaults included)
    assert compiled.pk and not compiled._state.adding and compiled.pk != by_orm.pk
    stored = Message.objects.get(pk=compiled.pk)
    expected = message_fields(Message.objects.get(pk=by_orm.pk)) | {"in_reply_to_id": by_orm.pk}
    assert message_fields(stored) | {"created_at": None} == expected | {"created_at": None}
    assert stored.created_at == compiled.created_at and stored.created_at >= by_orm.created_at


def test_compiled_insert_falls_back_to_save_while_signals_listen():
    seen = []

    def listener(sender, instance, created, **kwargs):
        seen.append((instance.pk, created))

    account = factories.make_account()
    conversation = Conversation.objects.create(account=account, citizen=factories.make_citizen())
    post_save.connect(listener, sender=Message)
    try:
        message = CompiledInsert(Message).create(conversation=conversation, direction="in", text="hi")
    finally:
        post_save.disconnect(listener, sender=Message)
    assert seen == [(message.pk, True)]
