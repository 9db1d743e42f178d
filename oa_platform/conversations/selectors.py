"""Reads of the staff inbox, scoped to an account: conversations waiting for or held by staff, their history,
saved and canned replies. The writes are in ``handoff``.

Canned replies include the account's FAQ answers: this module is where the inbox reads ``faq`` (a named
composition point, like the chat engine for the matcher and ``erasure`` for deletion)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, Q

from faq.models import FaqEntry
from oa_platform.errors import NotFound
from oa_platform.models import Conversation, Message, OfficialAccount, SavedReply
from oa_platform.selectors import accounts_for_user

# Canned replies offered to staff: a long list is unusable in a dropdown.
MAX_CANNED = 50


def saved_replies(*, account: OfficialAccount):
    return SavedReply.objects.filter(account=account).order_by("position", "title")


def canned_replies(*, account: OfficialAccount) -> list[dict]:
    """Replies staff can insert: the account's saved replies first, then its active FAQ answers."""
    items = [{"label": r.title, "text": r.text} for r in saved_replies(account=account)[:MAX_CANNED]]
    entries = FaqEntry.objects.filter(account=account, is_active=True).order_by("question")
    items += [{"label": e.question, "text": e.answer} for e in entries[: max(0, MAX_CANNED - len(items))]]
    return items


def staff_account(*, user: AbstractBaseUser, slug: str) -> OfficialAccount:
    account = accounts_for_user(user).filter(slug=slug).first()
    if account is None:
        raise NotFound("No such account.")
    return account


def undelivered_messages():
    """Outbound messages a provider has not taken: failed for good, or queued after at least one attempt."""
    return Message.objects.filter(direction=Message.DIRECTION_OUT).filter(
        Q(delivery_status=Message.DELIVERY_FAILED) | Q(delivery_status=Message.DELIVERY_QUEUED, delivery_attempts__gt=0)
    )


def inbox_conversations(*, account: OfficialAccount):
    """Waiting and open conversations of the account, longest-waiting first, then conversations (also with
    the bot) holding a reply that did not reach the citizen, so a provider failure is never out of sight."""
    undelivered = undelivered_messages().filter(conversation=OuterRef("pk"))
    return (
        Conversation.objects.filter(account=account)
        .annotate(has_undelivered=Exists(undelivered))
        .filter(Q(status__in=[Conversation.STATUS_WAITING, Conversation.STATUS_OPEN]) | Q(has_undelivered=True))
        .select_related("citizen", "assigned_to")
        .order_by("status", "handoff_requested_at", "last_message_at")
    )


def inbox_conversation(*, account: OfficialAccount, pk: int) -> Conversation:
    conversation = Conversation.objects.select_related("citizen", "assigned_to").filter(account=account, pk=pk).first()
    if conversation is None:
        raise NotFound("No such conversation.")
    return conversation


def inbox_messages(*, conversation: Conversation, after_id: int | None = None):
    """The whole history (or what came after ``after_id``), oldest first."""
    messages = conversation.messages.select_related("author").order_by("created_at", "id")
    if after_id:
        messages = messages.filter(pk__gt=after_id)
    return messages
