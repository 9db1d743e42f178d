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
from oa_platform.conversations.text import conversation_for
from oa_platform.models import Message
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
    """One message to each of ``citizens`` (an iterable of Citizen rows) in the current transaction; the sends
    are queued after it commits. Returns how many."""
    count = 0
    for citizen in citizens:
        conversation = conversation_for(account=form.account, citizen=citizen)
        language = citizen.language or form.account.default_language
        if citizen.account_id is not None:
            # a person of a provider channel (or staff): a link that answers as them, not as a new browser
            url = form_url(form, base_url) + f"p/{link_token(form_id=form.pk, citizen_id=citizen.pk)}/"
        else:
            url = form_url(form, base_url)  # the browser's own web identity: the page knows them already
        message = Message.objects.create(
            conversation=conversation,
            direction=Message.DIRECTION_OUT,
            sender=Message.SENDER_SYSTEM,
            channel=citizen.channel,
            text=tell_text(form=form, kind=kind, language=language, url=url),
            delivery_status=Message.DELIVERY_QUEUED if citizen.channel in SENT_BY_API else Message.DELIVERY_NONE,
        )
        outbound_enqueue(message)
        conversation_id = conversation.pk
        transaction.on_commit(lambda cid=conversation_id: live.conversation_changed(conversation_id=cid))
        count += 1
    return count


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


def round_tell(*, round_id: int, kind: str, now: dt.datetime | None = None) -> int:
    """Tell the round's audience, chunk after chunk, for at most TELL_CHUNKS_PER_RUN chunks. Returns how many."""
    total = 0
    for _chunk in range(TELL_CHUNKS_PER_RUN):
        told, finished = round_tell_chunk(round_id=round_id, kind=kind, now=now)
        total += told
        if finished or not told:
            break
    return total


@shared_task(name="collect.announce_round")
def announce_round(round_id: int) -> dict:
    """Queued when a round opens now (by hand or by the API): its audience is told without waiting for the
    beat. What it leaves, the beat's next tick carries on (rounds_tell_due)."""
    return {"told": round_tell(round_id=round_id, kind=OPEN)}


def announce_on_commit(round_: Round) -> None:
    round_id = round_.pk
    transaction.on_commit(lambda: announce_round.delay(round_id))


@shared_task(name="collect.remind_round")
def remind_round(round_id: int) -> dict:
    """Queued when staff press "remind them now" and the audience is larger than one chunk."""
    return {"told": round_tell(round_id=round_id, kind=NUDGE)}


def nudge_on_commit(round_: Round) -> None:
    round_id = round_.pk
    transaction.on_commit(lambda: remind_round.delay(round_id))


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
            round_tell(round_id=round_id, kind=kind, now=now)
            if Round.objects.filter(pk=round_id, **{f"{done_field}__isnull": False}).exists():
                result[key] += 1
    return result
