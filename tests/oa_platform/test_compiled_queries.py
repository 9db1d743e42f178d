"""Querysets compiled once and run again with new values give what the queryset itself gives."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, NotSupportedError, connection
from django.db.models.signals import post_save

from oa_platform.compiled_queries import CompiledInsert, CompiledQuery, writes_together
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


def new_citizen_and_conversation(account, external_id):
    citizen = Citizen(channel="web", external_id=external_id, display_name="An")
    return citizen, Conversation(account=account, citizen=citizen)


@pytest.mark.postgres
def test_writes_together_runs_composed_inserts_as_one_statement(django_assert_num_queries):
    # given: a new citizen and their conversation, the conversation's citizen_id taken from the first insert
    account = factories.make_account()
    citizens, conversations = CompiledInsert(Citizen), CompiledInsert(Conversation)
    citizen, conversation = new_citizen_and_conversation(account, "w-1")
    parts = [
        ("citizen", citizens.statement(citizen)),
        ("conversation", conversations.statement(conversation, exprs={"citizen_id": "(SELECT id FROM citizen)"})),
    ]
    # when: one statement (a savepoint around it only because the test holds a transaction)
    with django_assert_num_queries(3):
        citizen_id, conversation_id = writes_together(parts, "(SELECT id FROM citizen), (SELECT id FROM conversation)")
    citizens.stored(citizen, (citizen_id,))
    # then: both rows, linked, with the model's defaults
    stored = Conversation.objects.select_related("citizen").get(pk=conversation_id)
    assert stored.citizen == citizen and stored.citizen.display_name == "An" and not citizen._state.adding
    assert stored.account == account and stored.status == Conversation.STATUS_BOT


@pytest.mark.postgres
def test_writes_together_stores_nothing_when_one_part_fails():
    # given: a new citizen, then one whose (channel, external id) is taken
    factories.make_citizen(external_id="taken")
    inserts = CompiledInsert(Citizen)
    parts = [
        ("fresh", inserts.statement(Citizen(channel="web", external_id="w-2"))),
        ("clash", inserts.statement(Citizen(channel="web", external_id="taken"))),
    ]
    # when/then: the statement fails as a whole, and the caller's transaction goes on
    with pytest.raises(IntegrityError):
        writes_together(parts, "(SELECT id FROM fresh)")
    assert not Citizen.objects.filter(external_id="w-2").exists()


def test_statement_refuses_what_it_cannot_compose():
    account = factories.make_account()
    citizen, _conversation = new_citizen_and_conversation(account, "w-3")
    with pytest.raises(ValueError, match="not insertable"):
        CompiledInsert(Citizen).statement(citizen, exprs={"nickname": "NULL"})
    post_save.connect(noop_listener, sender=Citizen)
    try:
        with pytest.raises(NotSupportedError):
            CompiledInsert(Citizen).statement(citizen)
    finally:
        post_save.disconnect(noop_listener, sender=Citizen)


def noop_listener(**kwargs):
    pass


def test_writes_together_runs_on_postgresql_only():
    if connection.vendor == "postgresql":
        assert writes_together([("one", ("SELECT 1 AS id", []))], "(SELECT id FROM one)") == (1,)
    else:
        with pytest.raises(NotSupportedError):
            writes_together([("one", ("SELECT 1 AS id", []))], "(SELECT id FROM one)")


def test_statement_refuses_an_expression_with_a_percent_sign():
    citizen = Citizen(channel="web", external_id="w-4")
    with pytest.raises(ValueError, match="trusted SQL"):
        CompiledInsert(Citizen).statement(citizen, exprs={"display_name": "'100%'"})
