"""Telling a round's audience: when it opens ("answer this form") and at its reminder time ("you have not
answered yet"). Each person gets a system message in their conversation on the channel they follow on, sent
through the outbox and the channel layer like every outbound message (oa_platform.conversations.outbox ->
oa_platform.channel_types), with the form's link (personal: whoever opens it answers as that person, see
oa_platform.collect.links) and, for chat, the words that start answering it right there.

A large audience (a province's followers) is told in chunks of citizens by id, each chunk its own
transaction; the round keeps the last id told (``announce_cursor`` / ``remind_cursor``), so a run that stops
(a deploy, a crash) is carried on by the next beat tick and nobody is told twice.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from oa_platform import live
from oa_platform.collect.audience import non_responders
from oa_platform.collect.link_tokens import link_token
from oa_platform.collect.models import Form, Round
from oa_platform.conversations.outbox import SENT_BY_API, outbound_enqueue
from oa_platform.models import Conversation, Message
from oa_platform.services import audit_record

OPEN = "open"  # the round has opened
REMIND = "remind"  # the round's reminder time has come
NUDGE = "nudge"  # staff pressed "remind them now" (the same message as REMIND)

# Citizens told per transaction: each costs a conversation lookup, a message row and a queued send, so a chunk
# holds the round's row lock for about a second.
TELL_CHUNK = 500
# Chunks one run goes through (10,000 people); the beat's next tick (30 s) carries on after that.
TELL_CHUNKS_PER_RUN = 20


def form_url(form: Form, base_url: str = "") -> str:
    return (base_url or settings.PUBLIC_BASE_URL) + reverse(
        "collect-form-page", kwargs={"slug": form.account.slug, "pk": form.pk}
    )


def tell_text(*, form: Form, kind: str, language: str, url: str) -> str:
    values = {"title": form.title(language), "url": url, "key": form.key}
    with translation.override(language):
        if kind == OPEN:
            text = _('Mời bạn trả lời biểu mẫu "%(title)s": %(url)s (hoặc gõ "biểu mẫu %(key)s" để trả lời tại đây).')
        else:
            text = _('Nhắc bạn trả lời biểu mẫu "%(title)s": %(url)s (hoặc gõ "biểu mẫu %(key)s" để trả lời tại đây).')
        return text % values


def tell(*, form: Form, citizens, kind: str, base_url: str = "") -> int:
    """One message to each of ``citizens`` (Citizen rows, a chunk at most) in the current transaction, set-based:
    their conversations found or created in two statements, the messages inserted in one; each send is queued
    after commit (the outbox), and each person's open chat page is told. Returns how many."""
    account = form.account
    citizens = [c for c in citizens if c.account_id in (None, account.pk)]  # never another account's person
    if not citizens:
        return 0
    ids = [c.pk for c in citizens]
    existing = Conversation.objects.filter(account=account, citizen_id__in=ids)
    conversations = dict(existing.values_list("citizen_id", "pk"))
    missing = [Conversation(account=account, citizen_id=pk) for pk in ids if pk not in conversations]
    if missing:
        Conversation.objects.bulk_create(missing, ignore_conflicts=True)  # a chat may have made one meanwhile
        conversations = dict(existing.values_list("citizen_id", "pk"))
    url = form_url(form, base_url)
    messages = []
    for citizen in citizens:
        language = citizen.language or account.default_language
        link = url
        if citizen.account_id is not None:
            # a person of a provider channel (or staff): a link that answers as them, not as a new browser
            link = url + f"p/{link_token(form_id=form.pk, citizen_id=citizen.pk)}/"
        messages.append(
            Message(
                conversation_id=conversations[citizen.pk],
                direction=Message.DIRECTION_OUT,
                sender=Message.SENDER_SYSTEM,
                channel=citizen.channel,
                text=tell_text(form=form, kind=kind, language=language, url=link),
                delivery_status=Message.DELIVERY_QUEUED if citizen.channel in SENT_BY_API else Message.DELIVERY_NONE,
            )
        )
    Message.objects.bulk_create(messages)
    for message in messages:
        outbound_enqueue(message)
    # the open chat pages of these people only (one Redis call finds them): not the staff inbox once per person
    changed = {c.pk: conversations[c.pk] for c in citizens}
    transaction.on_commit(lambda: live.citizens_conversations_changed(account_id=account.pk, conversations=changed))
    return len(messages)


_FIELDS = {
    OPEN: ("announce_cursor", "announced_at"),
    REMIND: ("remind_cursor", "reminded_at"),
    NUDGE: ("nudge_cursor", "nudged_at"),
}


def round_tell_chunk(
    *, round_id: int, kind: str, now: dt.datetime | None = None, base_url: str = ""
) -> tuple[int, bool]:
    """Tell the next TELL_CHUNK people of the round who have not answered (``kind``: OPEN, REMIND or NUDGE),
    under the round's row lock. Returns (told, finished); a round another run holds is (0, False)."""
    cursor_field, done_field = _FIELDS[kind]
    now = now or timezone.now()
    with transaction.atomic():
        round_ = (
            Round.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("form__account")
            .filter(pk=round_id)
            .first()
        )
        if round_ is None:
            return 0, False
        if getattr(round_, done_field) is not None:
            return 0, True
        if round_.closes_at is not None and round_.closes_at <= now:  # closed meanwhile: nobody left to ask
            Round.objects.filter(pk=round_.pk).update(**{done_field: now})
            return 0, True
        after = getattr(round_, cursor_field)
        citizens = list(non_responders(form=round_.form, round_=round_).filter(pk__gt=after)[:TELL_CHUNK])
        told = tell(form=round_.form, citizens=citizens, kind=kind, base_url=base_url)
        finished = len(citizens) < TELL_CHUNK
        changes = {cursor_field: citizens[-1].pk if citizens else after}
        if finished:
            changes[done_field] = now
        Round.objects.filter(pk=round_.pk).update(**changes)
        if finished and kind == REMIND:  # (a NUDGE is audited when staff ask for it)
            form = round_.form
            audit_record(action="form_remind", obj=form, account=form.account, changes={"round": round_.pk})
    return told, finished


def round_tell(*, round_id: int, kind: str, now: dt.datetime | None = None) -> tuple[int, bool]:
    """Tell the round's audience, chunk after chunk, for at most TELL_CHUNKS_PER_RUN chunks. Returns (how many,
    finished); a round another run holds is left to it (0, False)."""
    total = 0
    for _chunk in range(TELL_CHUNKS_PER_RUN):
        told, finished = round_tell_chunk(round_id=round_id, kind=kind, now=now)
        total += told
        if finished or not told:
            return total, finished
    return total, False


# A run queues the next until the audience is told: at most this many runs in a row (TELL_CHUNK ×
# TELL_CHUNKS_PER_RUN × TELL_RUNS_MAX = 10 million people); past it, the beat's ticks carry on.
TELL_RUNS_MAX = 1000


@shared_task(name="collect.tell_round")
def tell_round(round_id: int, kind: str, run: int = 1) -> dict:
    """Tell a round's audience (``kind``: OPEN when it opens now, NUDGE after "remind them now", or what a beat
    tick left of any kind), then queue the rest without waiting for the next tick."""
    told, finished = round_tell(round_id=round_id, kind=kind)
    if told and not finished and run < TELL_RUNS_MAX:
        tell_round.delay(round_id, kind, run + 1)
    return {"told": told, "finished": finished}


def tell_on_commit(round_: Round, kind: str) -> None:
    round_id = round_.pk
    transaction.on_commit(lambda: tell_round.delay(round_id, kind))


def _due(now: dt.datetime, done_field: str, time_field: str):
    return (
        Round.objects.filter(**{f"{done_field}__isnull": True, f"{time_field}__lte": now, "opens_at__lte": now})
        .exclude(closes_at__lte=now)
        .order_by("opens_at", "pk")
        .values_list("pk", flat=True)
    )


def rounds_tell_due(*, now: dt.datetime | None = None) -> dict:
    """Beat step: tell the audience of every open round not yet told (one opened by the beat, one whose opening
    time set by hand or by the API has come, one a stopped run left half told), then the reminders whose time
    has come, and what is left of a "remind them now". Returns the rounds finished of each kind."""
    now = now or timezone.now()
    result = {"announced": 0, "reminded": 0, "nudged": 0}
    for key, kind, done_field, time_field in (
        ("announced", OPEN, "announced_at", "opens_at"),
        ("reminded", REMIND, "reminded_at", "remind_at"),
        ("nudged", NUDGE, "nudged_at", "nudge_requested_at"),
    ):
        for round_id in list(_due(now, done_field, time_field)):
            told, finished = round_tell(round_id=round_id, kind=kind, now=now)
            if finished:
                result[key] += 1
            elif told:  # a large audience: the rest at once by the workers, not at the next tick
                transaction.on_commit(lambda rid=round_id, k=kind: tell_round.delay(rid, k))
    return result
