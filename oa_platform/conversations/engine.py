"""The conversation engine: store what a citizen wrote, decide the bot's reply, store that too.

Order: hand-off state (the bot stays quiet while staff hold the conversation), then small talk and
commands (faq.intents), then the FAQ matcher. Every channel (web page, WebSocket, HTTP API, Zalo, WeChat,
generic webhook) goes through ``chat_receive`` so they all give the same decision.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, NotSupportedError, connections, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

# The chat engine is where the core is wired to the FAQ app (intents, matcher, unanswered questions).
from faq.intents import detect_intent, handoff_phrase
from faq.models import UnansweredQuestion
from faq.selectors import faq_categories, other_account_for
from faq.services import faq_match, unanswered_statement
from oa_platform import live, ratelimit
from oa_platform.collect.dialogue import form_dialogue_reply
from oa_platform.compiled_queries import CompiledInsert, writes_together
from oa_platform.conversations.handoff import handoff_request
from oa_platform.conversations.staff_link import link_attempt_parse, staff_link_answer
from oa_platform.conversations.text import clean_text, conversation_for, reply_language
from oa_platform.errors import RateLimited
from oa_platform.models import Citizen, Conversation, Follow, Message, OfficialAccount, Topic
from oa_platform.services import (
    follow_create,
    subscription_toggle,
    subscriptions_clear,
    subscriptions_set,
)


@dataclass
class ChatOutcome:
    inbound: Message
    reply: Message | None
    payload: dict | None  # the reply contract: text, decision, faq, score, suggestions (None while with staff)
    duplicate: bool = False
    extra: dict = field(default_factory=dict)


def chat_rate_check(*, ip: str, citizen_key: str) -> None:
    """The chat's flood control: per client IP and per citizen (settings.CHAT_RATE_IP / CHAT_RATE_CITIZEN)."""
    rate_limits_check((f"ip:{ip}", settings.CHAT_RATE_IP), (f"cz:{citizen_key}", settings.CHAT_RATE_CITIZEN))


def rate_limit_check(*, key: str, limit: tuple[int, int]) -> None:
    rate_limits_check((key, limit))


def rate_limits_check(*checks: tuple[str, tuple[int, int]]) -> None:
    """Flood control through the one rate limiter (oa_platform.ratelimit), one Redis round trip for all checks:
    a limit (N, W seconds) lets N messages through at once, then one every W/N seconds.
    Raises RateLimited (with the seconds to wait) when any of them is spent."""
    wait = ratelimit.try_take(*((f"chat:{key}", count / window, count) for key, (count, window) in checks))
    if wait > 0:
        raise RateLimited("Too many messages; please wait a moment.", retry_after=max(1, math.ceil(wait)))


def _same_family(a: str, b: str) -> bool:
    return a == b or (a.startswith("zh") and b.startswith("zh"))


def greeting_text(account: OfficialAccount, language: str) -> str:
    """The bot's greeting in ``language`` (call it with that language active): the account's own welcome
    message when it is written in that language (the account's), else the translated greeting."""
    if account.welcome_message and _same_family(language, account.default_language):
        return account.welcome_message
    return _("Xin chào! Bạn cần hỏi gì về thủ tục của %(name)s?") % {"name": account.name}


def _sentences(language: str, *parts: str) -> str:
    """Join translated sentences: Chinese sentences end in 。 and take no space between them."""
    return ("" if language.startswith("zh") else " ").join(part for part in parts if part)


def _payload(text: str, decision: str, faq: str | None = None, score: float = 0.0, suggestions=(), **extra) -> dict:
    body = {
        "text": text,
        "decision": decision,
        "faq": faq,
        "score": round(float(score), 1),
        "suggestions": [{"faq": s["faq"], "question": s["question"]} for s in suggestions],
    }
    body.update(extra)
    return body


# The fallback names this many topics at most.
MAX_TOPICS = 8


def _topics_text(account: OfficialAccount, language: str, categories=None) -> str:
    """ "You can ask about: ..." with the account's topics, "" when it has none."""
    if categories is None:
        categories = faq_categories(account=account)
    if not categories:
        return ""
    return _("Bạn có thể hỏi về: %(topics)s.") % {"topics": ", ".join(categories[:MAX_TOPICS])}


def handoff_command(language: str | None) -> str:
    """The hand-off phrase of ``language`` that the intents understand: what the hints tell the citizen to
    type and what the page's "talk to a person" button sends."""
    return handoff_phrase(language)


def _handoff_hint(language: str) -> str:
    """How to reach a person, naming the hand-off phrase of the reply's language."""
    return _('Gõ "%(phrase)s" để nói chuyện với cán bộ.') % {"phrase": handoff_command(language)}


def _intent_reply(*, account, citizen, intent, language) -> dict:
    kind = intent.kind
    if kind == "greeting":
        return _payload(greeting_text(account, language), Message.DECISION_FALLBACK, intent="greeting")
    if kind == "thanks":
        return _payload(_("Rất vui được hỗ trợ bạn!"), Message.DECISION_FALLBACK, intent="thanks")
    if kind == "help":
        text = _sentences(language, _topics_text(account, language), _handoff_hint(language))
        return _payload(text, Message.DECISION_FALLBACK, intent="help")
    if kind == "human":
        text = handoff_request(account=account, citizen=citizen, language=language)
        return _payload(text, Message.DECISION_FALLBACK, intent="human")
    follow = Follow.objects.filter(account=account, citizen=citizen, is_active=True).first()
    if kind in ("subscribe", "start") and follow is None:
        follow = follow_create(account=account, citizen=citizen, channel=citizen.channel)
    if kind == "subscribe":
        if intent.topic:
            subscription_toggle(follow=follow, topic_key=intent.topic, subscribed=True)
            topic = Topic.objects.get(account=account, key=intent.topic)
            text = _("Đã đăng ký nhận thông báo: %(topic)s.") % {"topic": topic.label(language)}
        else:
            text = _("Bạn đã theo dõi %(name)s.") % {"name": account.name}
        return _payload(text, Message.DECISION_FALLBACK, intent="subscribe", topic=intent.topic)
    if kind == "start":
        # "bắt đầu", "resume", "subscribe all" after a "stop": notices come again (the account's default topics),
        # and the reply names what the citizen will now receive rather than only "you follow".
        if not follow.subscriptions.exists():
            defaults = account.topics.filter(subscribed_by_default=True).values_list("key", flat=True)
            subscriptions_set(follow=follow, topic_keys=list(defaults))
        topics = [t.label(language) for t in Topic.objects.filter(subscriptions__follow=follow).order_by("position")]
        if topics:
            text = _("Bạn đang theo dõi %(name)s và nhận thông báo: %(topics)s.") % {
                "name": account.name,
                "topics": ", ".join(topics),
            }
        else:
            text = _("Bạn đã theo dõi %(name)s.") % {"name": account.name}
        return _payload(text, Message.DECISION_FALLBACK, intent="start")
    if follow is None:
        return _payload(_("Bạn chưa đăng ký nhận thông báo nào."), Message.DECISION_FALLBACK, intent=kind)
    if kind == "unsubscribe" and intent.topic:
        subscription_toggle(follow=follow, topic_key=intent.topic, subscribed=False)
        topic = Topic.objects.get(account=account, key=intent.topic)
        text = _("Đã huỷ nhận thông báo: %(topic)s.") % {"topic": topic.label(language)}
        return _payload(text, Message.DECISION_FALLBACK, intent="unsubscribe", topic=intent.topic)
    subscriptions_clear(follow=follow)
    text = _('Đã huỷ tất cả thông báo. Gõ "đăng ký" kèm chủ đề để nhận lại.')
    return _payload(text, Message.DECISION_FALLBACK, intent="stop")


def _link_reply(account, citizen, link) -> dict | None:
    text = staff_link_answer(account=account, citizen=citizen, attempt=link)
    return None if text is None else _payload(text, Message.DECISION_FALLBACK, intent="staff_link")


def _faq_reply(*, account, text, language) -> tuple[dict, tuple[str, list] | None]:
    """The FAQ matcher's reply, and the unanswered-question upsert to store with it (suggest and fallback).

    A fallback never says the question went to staff (no conversation is handed off here): it says the
    question was recorded for review when it was, and points to another account of the platform that
    answers it (``faq.selectors.other_account_for``)."""
    result = faq_match(account=account, text=text)
    if result.decision == Message.DECISION_ANSWER:
        return _payload(result.answer, result.decision, result.faq, result.score), None
    suggestions = [{"faq": c.key, "question": c.question} for c in result.suggestions]
    if result.decision == Message.DECISION_SUGGEST:
        unanswered = unanswered_statement(account=account, text=text, decision=result.decision, faq_key=result.faq)
        lines = [_("Bạn muốn hỏi:")] + [f"{i}. {s['question']}" for i, s in enumerate(suggestions, 1)]
        return _payload("\n".join(lines), result.decision, result.faq, result.score, suggestions), unanswered
    other = other_account_for(account=account, text=text, answered=False)
    if other is not None:
        unanswered = unanswered_statement(
            account=account, text=text, decision=UnansweredQuestion.DECISION_OTHER_AGENCY, referred_to=other
        )
        url = reverse("oa-page", kwargs={"slug": other.slug})
        reply = _sentences(
            language,
            _("Câu hỏi này thuộc phạm vi của %(name)s.") % {"name": other.name},
            _("Mời bạn hỏi tại: %(url)s") % {"url": url},
        )
        referral = {"account": other.slug, "name": other.name, "url": url}
        return _payload(reply, result.decision, None, result.score, referral=referral), unanswered
    unanswered = unanswered_statement(account=account, text=text, decision=result.decision, faq_key=result.faq)
    reply = _sentences(
        language,
        _("Xin lỗi, tôi chưa có câu trả lời cho câu hỏi này."),
        _("Câu hỏi đã được ghi lại để cán bộ xem xét, bổ sung phần hỏi đáp.") if unanswered is not None else "",
        _topics_text(account, language, result.categories),
        _handoff_hint(language),
    )
    return _payload(reply, result.decision, None, result.score, offer_human=True), unanswered


# Both messages of every exchange: the INSERT compiled once per process (see oa_platform.compiled_queries).
_message_insert = CompiledInsert(Message)


def chat_receive(
    *,
    account: OfficialAccount,
    citizen: Citizen,
    text,
    channel: str | None = None,
    external_id: str | None = None,
    conversation: Conversation | None = None,
    language: str | None = None,
) -> ChatOutcome:
    """Store the citizen's message and the bot's reply together (all or nothing) and return both.

    ``external_id`` makes the call idempotent: the same id again returns the stored reply and writes nothing.
    ``conversation``: the (account, citizen) conversation when the caller already loaded it
    (``services.citizen_conversation_get_or_create``); otherwise it is read or created here.
    ``language``: the citizen's language as the channel knows it now (the web page's language, a language sent
    with an API message); without it the bot answers in the citizen's stored language (``reply_language``).

    The reply is decided first, then the exchange is written (``_exchange_store``: on PostgreSQL one
    statement). Commands that change state (subscribe, stop, a person) run in one transaction with it, so
    when the same provider event races in twice, the loser's changes roll back with its duplicate insert:
    an intent's side effects must stay in the database (a task goes out with ``transaction.on_commit``).
    """
    text = clean_text(text)
    channel = channel or citizen.channel
    if conversation is None:
        conversation = conversation_for(account=account, citizen=citizen)
    elif (conversation.account_id, conversation.citizen_id) != (account.pk, citizen.pk):
        raise ValueError("The conversation is not this citizen's conversation with this account.")
    if external_id:
        previous = Message.objects.filter(conversation=conversation, external_id=external_id).first()
        if previous is not None:
            return _replay(previous)
    inbound = Message(
        conversation=conversation,
        direction=Message.DIRECTION_IN,
        sender=Message.SENDER_CITIZEN,
        channel=channel,
        text=text,
        external_id=external_id or None,
    )
    reply = payload = None
    try:
        if conversation.status != Conversation.STATUS_BOT:
            _exchange_store(conversation=conversation, inbound=inbound)
        else:
            # A staff member's link code ("liên kết 12345678", "link …", "绑定 …", or the code alone): answered in
            # the keyword's language; with a keyword before any form being answered, alone only after it.
            link = link_attempt_parse(text)
            language = (link and link.language) or reply_language(citizen, account, language)
            intent = detect_intent(text, language=account.language)
            writes = link is not None or (intent is not None and intent.kind not in _READ_ONLY_INTENTS)
            with transaction.atomic() if writes else nullcontext(), translation.override(language):
                payload = _link_reply(account, citizen, link) if link is not None and link.prefixed else None
                if payload is None:
                    payload = form_dialogue_reply(account=account, citizen=citizen, text=text, language=language)
                if payload is None and link is not None and not link.prefixed:
                    payload = _link_reply(account, citizen, link)
                unanswered = None
                if payload is not None:
                    pass  # a link code, or a form being answered in chat: the FAQ bot waits
                elif intent is not None:
                    payload = _intent_reply(account=account, citizen=citizen, intent=intent, language=language)
                else:
                    payload, unanswered = _faq_reply(account=account, text=text, language=language)
                reply = Message(
                    conversation=conversation,
                    direction=Message.DIRECTION_OUT,
                    sender=Message.SENDER_BOT,
                    channel=channel,
                    text=payload["text"],
                    faq_key=payload["faq"] or "",
                    # No score for a command or small talk (no FAQ match ran): the console's answer rate
                    # (oa_platform.console.stats) counts only replies the matcher decided.
                    score=None if "intent" in payload else payload["score"],
                    decision=payload["decision"],
                    suggestions=payload["suggestions"],
                    delivery_status="" if channel == Citizen.CHANNEL_WEB else Message.DELIVERY_QUEUED,
                )
                _exchange_store(
                    conversation=conversation, inbound=inbound, reply=reply, unanswered=unanswered, own_block=writes
                )
            payload["message_id"] = reply.pk
    except IntegrityError:
        if not external_id:
            raise
        # The same provider event raced in twice; the first one stored everything.
        previous = Message.objects.get(conversation=conversation, external_id=external_id)
        return _replay(previous)
    if reply is None or payload.get("intent") == "human":
        # Staff watch conversations that wait for or are held by a person; a bot exchange needs no push (the
        # channel that asked gets the reply in its response).
        transaction.on_commit(lambda: live.conversation_changed(conversation_id=conversation.pk))
    return ChatOutcome(inbound=inbound, reply=reply, payload=payload)


# Small talk that only reads: its exchange needs no transaction of its own.
_READ_ONLY_INTENTS = frozenset({"greeting", "thanks", "help"})


def _exchange_store(
    *,
    conversation: Conversation,
    inbound: Message,
    reply: Message | None = None,
    unanswered: tuple[str, list] | None = None,
    own_block: bool = False,
) -> None:
    """Write one exchange: the inbound message, the bot's reply to it (if any), the conversation's
    last_message_at and the unanswered-question upsert (if any). All or nothing.

    PostgreSQL: one statement (data-modifying WITH), so no BEGIN/COMMIT round trips; a savepoint only when
    the caller holds a transaction, so that a duplicate provider event fails alone (none when ``own_block``:
    chat_receive's own block rolls back whole). Elsewhere (SQLite, or while signal listeners need ``save()``):
    the same writes one by one in a transaction."""
    now = timezone.now()
    if connections["default"].vendor == "postgresql":
        try:
            parts = _exchange_parts(conversation, inbound, reply, unanswered, now)
        except NotSupportedError:  # signal listeners on Message: save() one by one below
            pass
        else:
            replied = "(SELECT id FROM reply)" if reply is not None else "NULL"
            inbound_id, reply_id = writes_together(
                parts, f"(SELECT id FROM inbound), {replied}", savepoint=not own_block
            )
            _message_insert.stored(inbound, (inbound_id,))
            if reply is not None:
                reply.in_reply_to = inbound
                _message_insert.stored(reply, (reply_id,))
            conversation.last_message_at = now
            return
    with transaction.atomic():
        _message_insert.insert(inbound)
        if reply is not None:
            reply.in_reply_to = inbound
            _message_insert.insert(reply)
        if unanswered is not None:
            with connections["default"].cursor() as cursor:
                cursor.execute(*unanswered)
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
        conversation.last_message_at = now


def _exchange_parts(conversation, inbound, reply, unanswered, now) -> list[tuple[str, tuple[str, list]]]:
    connection = connections["default"]
    qn = connection.ops.quote_name
    meta = Conversation._meta
    last_message_at = meta.get_field("last_message_at")
    parts = [("inbound", _message_insert.statement(inbound))]
    if reply is not None:
        parts.append(("reply", _message_insert.statement(reply, exprs={"in_reply_to_id": "(SELECT id FROM inbound)"})))
    touched = f"UPDATE {qn(meta.db_table)} SET {qn(last_message_at.column)} = %s WHERE {qn(meta.pk.column)} = %s"
    parts.append(("touched", (touched, [last_message_at.get_db_prep_save(now, connection), conversation.pk])))
    if unanswered is not None:
        parts.append(("unanswered", unanswered))
    return parts


def reply_payload(message: Message) -> dict:
    """The reply contract rebuilt from a stored bot message."""
    return _payload(
        message.text,
        message.decision or Message.DECISION_FALLBACK,
        message.faq_key or None,
        message.score or 0,
        message.suggestions or [],
        message_id=message.pk,
    )


def _replay(inbound: Message) -> ChatOutcome:
    reply = Message.objects.filter(in_reply_to=inbound, sender=Message.SENDER_BOT).first()
    return ChatOutcome(inbound=inbound, reply=reply, payload=reply_payload(reply) if reply else None, duplicate=True)


def faq_reply_preview(*, account: OfficialAccount, text, language: str | None = None) -> dict:
    """What the bot would reply to ``text`` from the FAQ (answer, suggestions, a referral to another agency or
    the fallback), written in ``language`` (the account's by default), storing nothing: the console's "try a
    question" box. Small talk and commands are answered before the FAQ (``faq.intents.detect_intent``): the
    caller tells those apart. Raises ValidationFailed for empty or oversize text, like the chat."""
    text = clean_text(text)
    language = language or account.default_language
    with translation.override(language):
        payload, _unanswered = _faq_reply(account=account, text=text, language=language)
    return payload
