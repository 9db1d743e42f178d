"""Citizen erasure (right to erasure): everything one account holds about one citizen, in every app.

The one module allowed to call into every app (faq, broadcasts): each app erases its own rows through its
services; what only the core can find (stored webhook events, audit entries that repeat a citizen's name,
phone or id) is erased here.
"""

from __future__ import annotations

import json

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from broadcasts.models import Delivery
from broadcasts.personal.services import notifications_erase_for_citizen
from broadcasts.services import deliveries_erase_for_citizen
from faq.services import unanswered_erase_texts
from oa_platform.channel_types import type_for
from oa_platform.collect.models import Response as FormResponse
from oa_platform.collect.services import responses_erase_for_citizen
from oa_platform.models import (
    AuditLog,
    Citizen,
    Conversation,
    Follow,
    Membership,
    Message,
    OfficialAccount,
    WebhookEvent,
)
from oa_platform.phones import phone_digits
from oa_platform.services import audit_record, citizen_account_check

# Shorter names or ids are too common to search free text for ("An" is in "Annual"); audit entries linked to
# the citizen's own rows are rewritten whatever their text.
MIN_NEEDLE = 4
ERASED = "[erased]"


def _event_citizen_id(channel: str, payload) -> str | None:
    """The external id of the citizen a stored webhook event is about (its channel type knows the shape)."""
    if not isinstance(payload, dict):
        return None
    try:
        channel_type = type_for(channel)
    except LookupError:
        return None
    reader = getattr(channel_type, "stored_citizen_id", None)
    return reader(payload) if reader else None


def _webhook_events_erase(*, account: OfficialAccount, citizen: Citizen) -> int:
    """Empty the payload of ``account``'s stored events of ``citizen``. The rows stay (with only the
    provider's dedup key) so a late redelivery is still recognised and does nothing."""
    if citizen.account_id is None:  # a browser identity: the web page stores no webhook events
        return 0
    candidates = (
        WebhookEvent.objects.filter(account=account, channel=citizen.channel)
        .annotate(payload_text=Cast("payload", TextField()))
        .filter(payload_text__contains=citizen.external_id)
        .only("pk", "payload")
    )
    ids = [e.pk for e in candidates if _event_citizen_id(citizen.channel, e.payload) == citizen.external_id]
    WebhookEvent.objects.filter(pk__in=ids, processed_at=None).update(processed_at=timezone.now())
    return WebhookEvent.objects.filter(pk__in=ids).update(payload={})


def _needles(citizen: Citizen) -> list[str]:
    """What identifies the citizen in free text: name, phone (its national digits are in every form) and, for
    an account's citizen, the id its integration gave."""
    found = [citizen.display_name.strip(), phone_digits(citizen.phone)]
    if citizen.account_id is not None:
        found.append(citizen.external_id)
    return [n for n in found if len(n) >= MIN_NEEDLE]


def _scrub(value, needles: list[str]):
    if isinstance(value, str):
        for needle in needles:
            value = value.replace(needle, ERASED)
        return value
    if isinstance(value, dict):
        return {_scrub(k, needles): _scrub(v, needles) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, needles) for v in value]
    return value


def _audit_redact(*, account: OfficialAccount, citizen: Citizen, linked: Q) -> int:
    """Rewrite ``account``'s audit entries about the citizen's rows (``linked``) to name only the row, and
    blank the citizen's name, phone and id wherever else they appear. Who did what, when, stays."""
    needles = _needles(citizen)
    # JSON may store non-ASCII escaped (SQLite): search both spellings.
    spelled = {s for n in needles for s in (n, json.dumps(n)[1:-1])}
    mentions = Q()
    for needle in spelled:
        mentions |= Q(object_repr__contains=needle) | Q(changes_text__contains=needle)
    entries = (
        AuditLog.objects.filter(account=account)
        .annotate(changes_text=Cast("changes", TextField()))
        .filter(linked | mentions if spelled else linked)
    )
    count = 0
    for entry in entries:
        entry.object_repr = f"{entry.object_type} #{entry.object_id}" if entry.object_id else ""
        entry.changes = _scrub(entry.changes, needles)
        entry.save(update_fields=["object_repr", "changes"])
        count += 1
    return count


@transaction.atomic
def citizen_erase(*, account: OfficialAccount, citizen: Citizen, actor: AbstractBaseUser | None = None) -> dict:
    """Erase everything ``account`` holds about ``citizen``: conversation and messages, the unanswered
    questions they asked, stored webhook events, follow and subscriptions, notice deliveries, personal notices
    (to the citizen or their phone), form responses (out of the counts too) and a form being answered in chat,
    staff test identities, and their name, phone and id in the audit log. The citizen row goes too when it is this
    account's, or a browser identity no other account relates to. Returns counts of what was removed.

    Other accounts' rows are never touched. Limits: an audit entry not linked to the citizen's rows keeps a
    name or id shorter than MIN_NEEDLE characters; an FAQ variant an editor wrote from their question is the
    agency's text and stays."""
    citizen_account_check(account=account, citizen=citizen)
    conversations = Conversation.objects.filter(account=account, citizen=citizen)
    conversation_ids = list(conversations.values_list("pk", flat=True))
    follow_ids = list(Follow.objects.filter(account=account, citizen=citizen).values_list("pk", flat=True))
    questions = Message.objects.filter(conversation_id__in=conversation_ids, direction=Message.DIRECTION_IN)
    unanswered_ids = unanswered_erase_texts(account=account, texts=questions.values_list("text", flat=True))
    linked = (
        Q(object_type="oa_platform.citizen", object_id=str(citizen.pk))
        | Q(object_type="oa_platform.conversation", object_id__in=[str(pk) for pk in conversation_ids])
        | Q(object_type="oa_platform.follow", object_id__in=[str(pk) for pk in follow_ids])
        | Q(object_type="faq.unansweredquestion", object_id__in=[str(pk) for pk in unanswered_ids])
    )
    counts = {
        "unanswered": len(unanswered_ids),
        "webhook_events": _webhook_events_erase(account=account, citizen=citizen),
        "audit_entries": _audit_redact(account=account, citizen=citizen, linked=linked),
        "deliveries": deliveries_erase_for_citizen(account=account, citizen=citizen),
        "personal_notifications": notifications_erase_for_citizen(account=account, citizen=citizen),
        "form_responses": responses_erase_for_citizen(account=account, citizen=citizen),
        "conversations": conversations.delete()[0],
        "follows": Follow.objects.filter(pk__in=follow_ids).delete()[0],
        "test_identities": Membership.objects.filter(account=account, test_citizen=citizen).update(test_citizen=None),
    }
    still_related = citizen.account_id is None and (
        Follow.objects.filter(citizen=citizen).exists()
        or Conversation.objects.filter(citizen=citizen).exists()
        or Delivery.objects.filter(citizen=citizen).exists()
        or Membership.objects.filter(test_citizen=citizen).exists()
        or FormResponse.objects.filter(citizen=citizen).exists()
    )
    label = f"citizen #{citizen.pk}"
    if not still_related:
        citizen.delete()
        counts["citizen"] = 1
    audit_record(
        action="erase",
        account=account,
        actor=actor,
        object_type="oa_platform.citizen",
        object_id=label.split("#")[1],
        object_repr=label,
        changes=counts,
    )
    return counts
