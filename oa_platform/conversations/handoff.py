"""Hand-off of a conversation from the bot to a person, and the staff side of it.

Life of a conversation: ``bot`` → (citizen asks for a person, by command or button) ``waiting`` → (a staff
member assigns it to themselves or replies) ``open`` → (staff close it) ``bot``. While waiting or open the
bot stays quiet (chat.chat_receive checks the status). Staff replies go out on the citizen's own channel:
web chat through the live push, Zalo/WeChat/generic through the send task (queued, retried, failures shown
in the inbox).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from faq.models import FaqEntry
from oa_platform import live
from oa_platform.conversations.outbox import SENT_BY_API, outbound_enqueue
from oa_platform.conversations.text import clean_text, conversation_for, reply_language
from oa_platform.errors import Conflict, NotFound, ValidationFailed
from oa_platform.models import Citizen, Conversation, Message, OfficialAccount, SavedReply
from oa_platform.selectors import accounts_for_user
from oa_platform.services import audit_record

# How far ahead to look for the next staff opening (a week covers any set of working days).
_OPENING_SEARCH_DAYS = 8
# Canned replies offered to staff: a long list is unusable in a dropdown.
MAX_CANNED = 50


# --- working hours  ---
def _as_time(value) -> dt.time:
    return value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value))


def _working_days(account: OfficialAccount) -> set[int]:
    days = set()
    for part in (account.working_days or "").split(","):
        part = part.strip()
        if part.isdigit() and 0 <= int(part) <= 6:
            days.add(int(part))
    return days


def staff_available(account: OfficialAccount, at: dt.datetime | None = None) -> bool:
    """Whether ``at`` (default now) falls inside the account's working hours, in the account's time zone."""
    local = (at or timezone.now()).astimezone(account.tzinfo)
    start, end = _as_time(account.working_hours_start), _as_time(account.working_hours_end)
    return local.weekday() in _working_days(account) and start <= local.time() < end


def next_staff_opening(account: OfficialAccount, at: dt.datetime | None = None) -> dt.datetime | None:
    """The next start of working hours after ``at``, as an aware local datetime (None: no working days)."""
    local = (at or timezone.now()).astimezone(account.tzinfo)
    start = _as_time(account.working_hours_start)
    days = _working_days(account)
    for offset in range(_OPENING_SEARCH_DAYS):
        day = local.date() + dt.timedelta(days=offset)
        if day.weekday() not in days:
            continue
        opening = dt.datetime.combine(day, start, tzinfo=account.tzinfo)
        if opening > local:
            return opening
    return None


_WEEKDAYS = (
    lambda: pgettext("weekday", "Thứ Hai"),
    lambda: pgettext("weekday", "Thứ Ba"),
    lambda: pgettext("weekday", "Thứ Tư"),
    lambda: pgettext("weekday", "Thứ Năm"),
    lambda: pgettext("weekday", "Thứ Sáu"),
    lambda: pgettext("weekday", "Thứ Bảy"),
    lambda: pgettext("weekday", "Chủ Nhật"),
)


def _opening_text(account: OfficialAccount, at: dt.datetime | None = None) -> str:
    opening = next_staff_opening(account, at)
    start, end = _as_time(account.working_hours_start), _as_time(account.working_hours_end)
    hours = f"{start:%H:%M}–{end:%H:%M}"
    if opening is None:
        return _("Hiện ngoài giờ làm việc; cán bộ sẽ trả lời bạn sớm nhất có thể.")
    return _("Hiện ngoài giờ làm việc (%(hours)s). Cán bộ sẽ trả lời bạn từ %(time)s %(weekday)s, %(date)s.") % {
        "hours": hours,
        "time": opening.strftime("%H:%M"),
        "weekday": _WEEKDAYS[opening.weekday()](),
        "date": formats.date_format(opening.date(), "SHORT_DATE_FORMAT"),
    }


# --- citizen side  ---
def handoff_request(
    *, account: OfficialAccount, citizen: Citizen, record: bool = False, language: str | None = None
) -> str:
    """Put the conversation in the staff queue; return the text that tells the citizen what happens next
    (including, outside working hours, when staff will answer).

    chat.chat_receive calls this for the "human" intent and stores the text as the bot's reply. A button on
    a page calls it with ``record=True``: the text is then stored as a system message and delivered to the
    citizen on their channel like any other reply. ``language``: as for ``conversations.text.reply_language``.
    """
    language = reply_language(citizen, account, language)
    with translation.override(language), transaction.atomic():
        conversation = conversation_for(account=account, citizen=citizen)
        moved = Conversation.objects.filter(pk=conversation.pk, status=Conversation.STATUS_BOT).update(
            status=Conversation.STATUS_WAITING, handoff_requested_at=timezone.now()
        )
        if moved:
            text = _("Đã chuyển cuộc trò chuyện tới cán bộ. Cán bộ sẽ trả lời bạn tại đây.")
        else:
            text = _("Cuộc trò chuyện đã được chuyển tới cán bộ. Cán bộ sẽ trả lời bạn tại đây.")
        if not staff_available(account):
            text = f"{text} {_opening_text(account)}"
        if record:
            _outbound(conversation=conversation, sender=Message.SENDER_SYSTEM, text=text)
        conversation_id = conversation.pk
        transaction.on_commit(lambda: live.conversation_changed(conversation_id=conversation_id))
    return text


def handoff_withdraw(*, account: OfficialAccount, citizen: Citizen) -> Message:
    """The citizen takes back a request for a person that no staff member has taken yet: the bot answers
    again. Only from ``waiting`` (Conflict otherwise: once staff took it over, the staff member closes it).
    Returns the system message that tells the citizen, stored in the conversation like any other reply."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update()
            .select_related("citizen", "account")
            .filter(account=account, citizen=citizen)
            .first()
        )
        if conversation is None or conversation.status != Conversation.STATUS_WAITING:
            raise Conflict(_("Cuộc trò chuyện không còn chờ cán bộ."), code="not_waiting")
        conversation.status = Conversation.STATUS_BOT
        conversation.handoff_requested_at = None
        conversation.save(update_fields=["status", "handoff_requested_at"])
        with translation.override(reply_language(citizen, account)):
            text = _("Bạn đã quay lại trò chuyện với trợ lý ảo.")
        message = _outbound(conversation=conversation, sender=Message.SENDER_SYSTEM, text=text)
        _changed(conversation.pk)
    return message


# --- staff side  ---
def _outbound(*, conversation: Conversation, sender: str, text: str, author=None) -> Message:
    channel = conversation.citizen.channel
    message = Message.objects.create(
        conversation=conversation,
        direction=Message.DIRECTION_OUT,
        sender=sender,
        channel=channel,
        text=text,
        author=author,
        delivery_status=Message.DELIVERY_QUEUED if channel in SENT_BY_API else Message.DELIVERY_NONE,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.created_at)
    outbound_enqueue(message)
    return message


def _locked(conversation: Conversation, user: AbstractBaseUser) -> Conversation:
    """The conversation row, locked, if ``user`` works in its account; NotFound otherwise (no leak)."""
    if not accounts_for_user(user).filter(pk=conversation.account_id).exists():
        raise NotFound("No such conversation.")
    return Conversation.objects.select_for_update().select_related("citizen", "account").get(pk=conversation.pk)


def _changed(conversation_id: int) -> None:
    transaction.on_commit(lambda: live.conversation_changed(conversation_id=conversation_id))


@transaction.atomic
def conversation_assign(*, conversation: Conversation, user: AbstractBaseUser) -> Conversation:
    """Take the conversation over: it becomes ``open`` and assigned to ``user`` (also from another staff member)."""
    conversation = _locked(conversation, user)
    previous = conversation.assigned_to_id
    conversation.status = Conversation.STATUS_OPEN
    conversation.assigned_to = user
    conversation.save(update_fields=["status", "assigned_to"])
    audit_record(
        action="conversation_assign",
        obj=conversation,
        account=conversation.account,
        actor=user,
        changes={"assigned_from": previous, "assigned_to": user.pk},
    )
    _changed(conversation.pk)
    return conversation


@transaction.atomic
def conversation_reply(*, conversation: Conversation, user: AbstractBaseUser, text) -> Message:
    """A staff message to the citizen, on the citizen's channel. Replying takes the conversation over
    (status ``open``, assigned to the author if nobody holds it)."""
    text = clean_text(text)
    conversation = _locked(conversation, user)
    changed = []
    if conversation.status != Conversation.STATUS_OPEN:
        conversation.status = Conversation.STATUS_OPEN
        changed.append("status")
    if conversation.assigned_to_id is None:
        conversation.assigned_to = user
        changed.append("assigned_to")
    if changed:
        conversation.save(update_fields=changed)
    message = _outbound(conversation=conversation, sender=Message.SENDER_STAFF, text=text, author=user)
    _changed(conversation.pk)
    return message


@transaction.atomic
def conversation_close(*, conversation: Conversation, user: AbstractBaseUser) -> Conversation:
    """Hand the conversation back to the bot and tell the citizen so."""
    conversation = _locked(conversation, user)
    if conversation.status == Conversation.STATUS_BOT:
        raise Conflict("The conversation is not with staff.")
    conversation.status = Conversation.STATUS_BOT
    conversation.assigned_to = None
    conversation.handoff_requested_at = None
    conversation.save(update_fields=["status", "assigned_to", "handoff_requested_at"])
    with translation.override(reply_language(conversation.citizen, conversation.account)):
        text = _("Cán bộ đã kết thúc hỗ trợ. Trợ lý tự động sẽ tiếp tục trả lời bạn.")
    _outbound(conversation=conversation, sender=Message.SENDER_SYSTEM, text=text)
    audit_record(action="conversation_close", obj=conversation, account=conversation.account, actor=user)
    _changed(conversation.pk)
    return conversation


@transaction.atomic
def message_retry(*, message: Message, user: AbstractBaseUser) -> Message:
    """Queue a send again (after an outage or a renewed token). Only for outbound messages on an API channel."""
    _locked(message.conversation, user)
    message = Message.objects.select_for_update().get(pk=message.pk)
    if message.direction != Message.DIRECTION_OUT or message.delivery_status not in (
        Message.DELIVERY_QUEUED,
        Message.DELIVERY_FAILED,
    ):
        raise ValidationFailed("This message is not waiting for delivery.")
    message.delivery_status = Message.DELIVERY_QUEUED
    message.save(update_fields=["delivery_status"])
    outbound_enqueue(message)
    _changed(message.conversation_id)
    return message


# --- saved replies  ---
MAX_SAVED_TITLE = 100
MAX_SAVED_PER_ACCOUNT = 200  # a longer list is a knowledge base, which is what the FAQ is for


@transaction.atomic
def saved_reply_create(*, account: OfficialAccount, user: AbstractBaseUser, title, text):
    """A canned reply for the account's staff (any member of the account may add one)."""
    if not accounts_for_user(user).filter(pk=account.pk).exists():
        raise NotFound("No such account.")
    text = clean_text(text)
    title = (title if isinstance(title, str) else "").strip() or text[:60]
    if len(title) > MAX_SAVED_TITLE:
        raise ValidationFailed("Title too long.", fields={"title": f"at most {MAX_SAVED_TITLE}"})
    if SavedReply.objects.filter(account=account).count() >= MAX_SAVED_PER_ACCOUNT:
        raise Conflict(f"At most {MAX_SAVED_PER_ACCOUNT} saved replies per account.")
    reply = SavedReply.objects.create(account=account, title=title, text=text)
    audit_record(action="saved_reply_create", obj=reply, account=account, actor=user)
    return reply


@transaction.atomic
def saved_reply_delete(*, account: OfficialAccount, user: AbstractBaseUser, pk: int) -> None:
    if not accounts_for_user(user).filter(pk=account.pk).exists():
        raise NotFound("No such account.")
    reply = SavedReply.objects.filter(account=account, pk=pk).first()
    if reply is None:
        raise NotFound("No such saved reply.")
    audit_record(action="saved_reply_delete", obj=reply, account=account, actor=user)
    reply.delete()


def saved_replies(*, account: OfficialAccount):
    return SavedReply.objects.filter(account=account).order_by("position", "title")


def canned_replies(*, account: OfficialAccount) -> list[dict]:
    """Replies staff can insert: the account's saved replies first, then its active FAQ answers."""
    items = [{"label": r.title, "text": r.text} for r in saved_replies(account=account)[:MAX_CANNED]]
    entries = FaqEntry.objects.filter(account=account, is_active=True).order_by("question")
    items += [{"label": e.question, "text": e.answer} for e in entries[: max(0, MAX_CANNED - len(items))]]
    return items


# --- inbox reads (scoped to the staff member's accounts)  ---
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
