"""Reads for the citizen-facing page and socket: history, follow state, inbox, areas. Shapes sent as JSON.

Everything here is scoped to one (account, citizen) pair; a citizen only ever sees their own conversation.
"""

from __future__ import annotations

import logging

from django.utils import translation

from oa_platform.collation import vietnamese_key
from oa_platform.models import Area, Citizen, Conversation, Follow, Message, OfficialAccount

logger = logging.getLogger(__name__)

# The page shows this many past messages; older ones stay stored (the page is a chat, not an archive).
HISTORY_LIMIT = 50
# A catch-up after a reconnect returns at most this many messages; the client asks again if it got a full page.
SYNC_LIMIT = 200
INBOX_LIMIT = 50
# Questions the empty chat offers as starter buttons: a few, one per FAQ category first, so they show the range.
STARTERS = 4


def message_json(message: Message) -> dict:
    body = {
        "id": message.pk,
        "direction": message.direction,
        "sender": message.sender,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
    }
    if message.sender == Message.SENDER_BOT:
        body.update(
            decision=message.decision or Message.DECISION_FALLBACK,
            faq=message.faq_key or None,
            suggestions=[{"faq": s.get("faq"), "question": s.get("question")} for s in (message.suggestions or [])],
            helpful=message.helpful,
        )
    return body


def messages_for(
    *, account: OfficialAccount, citizen: Citizen | None, after_id: int | None = None, limit: int = HISTORY_LIMIT
) -> list[Message]:
    """This citizen's messages with ``account``, oldest first: the last ``limit`` ones, or those after an id."""
    if citizen is None:
        return []
    qs = Message.objects.filter(conversation__account=account, conversation__citizen=citizen)
    if after_id is not None:
        return list(qs.filter(pk__gt=after_id).order_by("pk")[:limit])
    return list(reversed(qs.order_by("-pk")[:limit]))


def conversation_status(*, account: OfficialAccount, citizen: Citizen | None) -> str:
    """bot, waiting (for staff) or open (with staff): the page tells the citizen who answers."""
    if citizen is None:
        return Conversation.STATUS_BOT
    status = Conversation.objects.filter(account=account, citizen=citizen).values_list("status", flat=True).first()
    return status or Conversation.STATUS_BOT


def starter_questions(*, account: OfficialAccount, language: str | None) -> list[str]:
    """Up to STARTERS of the account's active FAQ questions in ``language`` (else all languages), one per
    category before a second of any category."""
    # faq is an app on top of the core; the page's starters are one of its named composition points (like chat).
    from faq.selectors import entries_for_account

    entries = list(entries_for_account(account=account, active_only=True).only("question", "category", "language"))
    short = (language or "vi").split("-")[0]
    in_language = [e for e in entries if e.language.split("-")[0] == short]
    entries = in_language or entries
    firsts, rest, seen = [], [], set()
    for entry in entries:
        (rest if entry.category in seen else firsts).append(entry.question)
        seen.add(entry.category)
    return (firsts + rest)[:STARTERS]


def last_message_id(*, account: OfficialAccount, citizen: Citizen | None) -> int:
    if citizen is None:
        return 0
    last = (
        Message.objects.filter(conversation__account=account, conversation__citizen=citizen)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return last or 0


def inbox(*, account: OfficialAccount, citizen: Citizen | None, after_id: int | None = None) -> list[dict]:
    """Notices this citizen received, newest last. Empty until the broadcasts app provides ``inbox_for``."""
    if citizen is None:
        return []
    # imported here: broadcasts is an app on top of the core; the core does not import it at module level
    try:
        from broadcasts.selectors import inbox_for
    except ImportError:
        # broadcasts.selectors is written by the broadcasts engineer; until it lands the inbox is empty.
        return []
    return [_jsonable(n) for n in inbox_for(account=account, citizen=citizen, after_id=after_id, limit=INBOX_LIMIT)]


def _jsonable(notice: dict) -> dict:
    out = {}
    for key, value in notice.items():
        out[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def area_json(area: Area) -> dict:
    parent = area.path.rsplit("/", 1)[0] if "/" in area.path else None
    return {"code": area.code, "name": area.name, "level": area.level, "parent": parent}


def areas_under(parent_code: str | None) -> list[dict] | None:
    """Provinces (no parent) or the children of one area, in Vietnamese alphabetical order (``collation``);
    None if the parent is unknown. At most a few hundred rows (the wards of one province), sorted in Python."""
    if not parent_code:
        qs = Area.objects.filter(parent__isnull=True)
    else:
        parent = Area.objects.filter(code=parent_code).first()
        if parent is None:
            return None
        qs = Area.objects.filter(parent=parent)
    rows = sorted(qs.values_list("code", "name", "level"), key=lambda row: vietnamese_key(row[1]))
    return [{"code": code, "name": name, "level": level} for code, name, level in rows]


def follow_state(*, account: OfficialAccount, citizen: Citizen | None) -> dict:
    """Following or not, topics (all of the account's, with the citizen's choice) and chosen areas."""
    language = translation.get_language() or "vi"
    follow = None
    if citizen is not None:
        follow = Follow.objects.filter(account=account, citizen=citizen).first()
    chosen = set(follow.topics.values_list("pk", flat=True)) if follow is not None else set()
    topics = [
        {
            "key": t.key,
            "label": t.label(language),
            "subscribed": t.pk in chosen if follow is not None else t.subscribed_by_default,
        }
        for t in account.topics.all()
    ]
    areas = []
    if follow is not None:
        for area in follow.areas.select_related("parent").order_by("path"):
            item = area_json(area)
            item["parent_name"] = area.parent.name if area.parent_id else None
            item["parent"] = area.parent.code if area.parent_id else None
            areas.append(item)
    return {
        "following": bool(follow and follow.is_active),
        "topics": topics,
        "areas": areas,
        "language": citizen.language if citizen is not None else None,
        "phone": citizen.masked_phone if citizen is not None else "",
    }
