"""'Erase this citizen' leaves nothing of them in the account (issue 11, item 4): every column of every table of
every installed app is searched for their phone (E.164 and national form) and name after the erasure. Another
agency's citizen with the same id keeps everything."""

from __future__ import annotations

import uuid

import pytest
from django.apps import apps
from django.db import models
from django.db.models.functions import Cast
from django.utils import timezone

from broadcasts.models import Delivery
from broadcasts.personal.services import notification_create
from broadcasts.services import Actor
from faq.models import UnansweredQuestion
from faq.services import unanswered_ignore
from oa_platform import erasure, services
from oa_platform.collect.services import response_submit
from oa_platform.conversations import handoff
from oa_platform.conversations.engine import chat_receive
from oa_platform.errors import Forbidden
from oa_platform.models import AuditLog, Citizen, Membership, Message, WebhookEvent
from tests.broadcasts.conftest import draft
from tests.collect.builders import GOOD, make_form
from tests.oa_platform.channel_senders import SENDERS, channels, fake_api  # noqa: F401 (fixtures used by name)
from tests.personal.conftest import approved_template

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("channels")]

A = {"name": "Nguyễn Văn Xoáhết", "phone": "0987000333", "e164": "+84987000333"}
B = {"name": "Lê Thị Cònlại", "phone": "0987000444", "e164": "+84987000444"}
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def hits(needle: str) -> list[tuple[str, str, int]]:
    """(model, column, pk) of every row of every installed model whose text or JSON holds ``needle``."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, TEXT_FIELDS):
                continue
            rows = (
                model._base_manager.annotate(_as_text=Cast(field.name, models.TextField()))
                .filter(_as_text__contains=needle)
                .values_list("pk", flat=True)
            )
            found += [(model._meta.label, field.name, pk) for pk in rows]
    return found


def _engage(client, tenant, way, person, capture) -> Citizen:
    """The citizen cust-1001 of ``tenant`` as far as the platform reaches: chat with a question the bot cannot
    answer (name and phone in it), a follow, a hand-off with a staff reply, the question ignored by an editor,
    a notice delivery, and the staff member's test identity."""
    channel, send, carries_profile = SENDERS[way]
    profile = {"display_name": person["name"], "phone": person["phone"]}
    text = f"Tôi là {person['name']}, số {person['phone']}, hỏi thủ tục zqxv"
    with capture(execute=True):  # the webhook's event is processed once its intake commits
        send(client, tenant, "cust-1001", text, profile)
    citizen = Citizen.objects.get(account=tenant.account, channel=channel, external_id="cust-1001")
    if not carries_profile:
        services.citizen_update_profile(citizen=citizen, display_name=person["name"], phone=person["phone"])
    services.follow_create(account=tenant.account, citizen=citizen)
    conversation = citizen.conversations.get()
    handoff.conversation_assign(conversation=conversation, user=tenant.manager)
    handoff.conversation_reply(conversation=conversation, user=tenant.manager, text=f"Chào {person['name']}")
    handoff.conversation_close(conversation=conversation, user=tenant.manager)
    unanswered_ignore(item=UnansweredQuestion.objects.get(account=tenant.account), actor=tenant.editor)
    Delivery.objects.create(notice=draft(tenant), citizen=citizen, channel="webhook", created_at=timezone.now())
    approved_template(tenant, body_vi="Chào ((name))")
    notification_create(
        account=tenant.account,
        actor=Actor(user=tenant.broadcaster),
        template_key="vaccination",
        phone=person["phone"],
        personalisation={"name": person["name"]},
    )
    Membership.objects.filter(user=tenant.manager).update(test_citizen=citizen)
    form = make_form(tenant.account)
    answers = GOOD | {"name": person["name"], "phone": person["phone"]}
    response_submit(form=form, citizen=citizen, client_id=uuid.uuid4(), answers=answers)
    return citizen


def _needles(person) -> list[str]:
    return [person["e164"], person["phone"], person["name"]]


@pytest.mark.parametrize("way", SENDERS)
def test_erasure_leaves_nothing_in_any_table_and_the_other_agency_keeps_its_own(
    way, client, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    # given: the same citizen id in both agencies, each with its own name and phone, reached on every path
    mine = _engage(client, tenant_a, way, A, django_capture_on_commit_callbacks)
    theirs = _engage(client, tenant_b, way, B, django_capture_on_commit_callbacks)
    # the control: the search finds them where they are
    labels = {needle: {label for label, _field, _pk in hits(needle)} for needle in _needles(A)}
    in_text = {"oa_platform.Message", "oa_platform.AuditLog", "faq.UnansweredQuestion"}
    assert labels[A["name"]] >= {"oa_platform.Citizen", *in_text} and labels[A["phone"]] >= in_text
    assert "collect.Response" in labels[A["e164"]]  # a form's phone answer (names: JSON escapes them on SQLite)
    assert labels[A["e164"]] >= (
        {"oa_platform.Citizen", "oa_platform.WebhookEvent"} if way == "generic" else {"oa_platform.Citizen"}
    )
    b_before = {needle: hits(needle) for needle in _needles(B)}
    b_events = list(WebhookEvent.objects.filter(account=tenant_b.account).values_list("pk", "payload"))

    # when
    counts = erasure.citizen_erase(account=tenant_a.account, citizen=mine, actor=tenant_a.manager)

    # then: nothing of A's citizen anywhere
    for needle in _needles(A):
        assert hits(needle) == [], needle
    assert counts["citizen"] == 1 and counts["unanswered"] == 1
    assert not Citizen.objects.filter(pk=mine.pk).exists()
    assert not UnansweredQuestion.objects.filter(account=tenant_a.account).exists()
    assert AuditLog.objects.filter(account=tenant_a.account, action="conversation_close").exists()  # who, when
    # and B's citizen keeps all it had, in every table
    assert {needle: hits(needle) for needle in _needles(B)} == b_before
    assert list(WebhookEvent.objects.filter(account=tenant_b.account).values_list("pk", "payload")) == b_events
    assert Message.objects.filter(conversation__citizen=theirs).count() >= 4
    assert Membership.objects.get(user=tenant_b.manager).test_citizen_id == theirs.pk


def test_erasure_is_refused_for_another_agencys_citizen(tenant_a, tenant_b):
    theirs, _ = services.citizen_get_or_create(
        account=tenant_b.account, channel="generic", external_id="cust-1", phone="0987000444"
    )
    with pytest.raises(Forbidden):
        erasure.citizen_erase(account=tenant_a.account, citizen=theirs, actor=tenant_a.manager)
    theirs.refresh_from_db()
    assert theirs.phone == "+84987000444"


def test_a_question_others_asked_too_counts_one_less_and_loses_the_erased_citizens_sample(tenant_a):
    # given: two web citizens asking the same unanswerable question, the erased one last (their sample shows)
    other = services.citizen_get_or_create(account=None, channel="web", external_id="w-other")[0]
    mine = services.citizen_get_or_create(account=None, channel="web", external_id="w-mine")[0]
    chat_receive(account=tenant_a.account, citizen=other, text="Giờ zqxv làm việc?")
    chat_receive(account=tenant_a.account, citizen=mine, text="giờ ZQXV làm việc")
    item = UnansweredQuestion.objects.get(account=tenant_a.account)
    assert (item.count, item.sample_text) == (2, "giờ ZQXV làm việc")
    # when
    erasure.citizen_erase(account=tenant_a.account, citizen=mine)
    # then: the other citizen's occurrence stays, shown in the normalised form both share
    item.refresh_from_db()
    assert (item.count, item.sample_text) == (1, item.normalized) and "ZQXV" not in item.sample_text


def test_erasing_a_browser_identity_in_one_account_leaves_only_the_persons_own_row_for_the_other(tenant_a, tenant_b):
    # given: one browser identity writing to both agencies, its phone set by the person on the page
    person = services.citizen_get_or_create(account=None, channel="web", external_id="w-both")[0]
    services.citizen_update_profile(citizen=person, phone="0987000555", display_name="Phạm Văn Hailần")
    for tenant in (tenant_a, tenant_b):
        services.follow_create(account=tenant.account, citizen=person)
    chat_receive(account=tenant_a.account, citizen=person, text="Phạm Văn Hailần, số 0987000555, hỏi zqxv")
    chat_receive(account=tenant_b.account, citizen=person, text="xin chào")
    # when
    counts = erasure.citizen_erase(account=tenant_a.account, citizen=person)
    # then: A holds nothing of them; the person's own row stays for B, where it is all that names them
    assert "citizen" not in counts
    assert hits("0987000555") == [] and hits("hỏi zqxv") == []
    assert {(label, field) for label, field, _pk in hits("+84987000555")} == {("oa_platform.Citizen", "phone")}
    assert {(label, field) for label, field, _pk in hits("Phạm Văn Hailần")} == {
        ("oa_platform.Citizen", "display_name")
    }
    assert Message.objects.filter(conversation__account=tenant_b.account, conversation__citizen=person).count() == 2
