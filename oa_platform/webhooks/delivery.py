"""Services for the webhook channels: process a stored inbound event (outbound sending: conversations.outbox)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from oa_platform.chat import chat_receive
from oa_platform.conversations.outbox import outbound_enqueue
from oa_platform.errors import DomainError
from oa_platform.models import Citizen, WebhookEvent
from oa_platform.services import citizen_get_or_create, follow_create, follow_remove
from oa_platform.webhooks import zalo

logger = logging.getLogger(__name__)


def _generic_fields(event: WebhookEvent) -> tuple[str, str, str, dict]:
    p = event.payload
    return p["kind"], p["citizen_id"], p.get("text", ""), p.get("profile", {})


def _zalo_fields(event: WebhookEvent) -> tuple[str, str, str, dict]:
    parsed = zalo.parse_event(event.payload)
    kind = {zalo.EVENT_TEXT: "message"}.get(parsed.kind, parsed.kind)
    return kind, parsed.user_id, parsed.text, {}


def _without_text(channel: str, payload: dict) -> dict:
    payload = dict(payload)
    if channel == Citizen.CHANNEL_ZALO and isinstance(payload.get("message"), dict):
        payload["message"] = {k: v for k, v in payload["message"].items() if k != "text"}
    payload.pop("text", None)
    return payload


def webhook_event_process(*, event_id: int) -> dict:
    """Act on a stored Zalo or generic event: follow, unfollow, or chat (bot reply queued for sending).

    Running twice does no harm: chat_receive is idempotent on the event's dedup key and the send is
    guarded by the message's delivery status.
    """
    event = WebhookEvent.objects.select_related("account").filter(pk=event_id).first()
    if event is None:
        return {"status": "missing"}
    if event.processed_at is not None:
        return {"status": "done", "skipped": True}
    fields = {Citizen.CHANNEL_ZALO: _zalo_fields, Citizen.CHANNEL_GENERIC: _generic_fields}.get(event.channel)
    if fields is None:
        return {"status": "unsupported"}
    account = event.account
    try:
        kind, external_id, text, profile = fields(event)
        with transaction.atomic():
            citizen, _created = citizen_get_or_create(
                account=account,
                channel=event.channel,
                external_id=external_id,
                default_language=account.default_language,
                **profile,
            )
            result = {"status": "done", "kind": kind}
            if kind == "follow":
                follow_create(account=account, citizen=citizen, channel=event.channel)
            elif kind == "unfollow":
                follow_remove(account=account, citizen=citizen, channel=event.channel)
            elif kind == "message":
                outcome = chat_receive(
                    account=account,
                    citizen=citizen,
                    text=text,
                    channel=event.channel,
                    external_id=event.dedup_key,
                    language=profile.get("language"),  # the language sent with this message wins
                )
                result["duplicate"] = outcome.duplicate
                if outcome.reply is not None:
                    outbound_enqueue(outcome.reply)
                    result["reply_id"] = outcome.reply.pk
            # The chat text now lives in the conversation (where erasure finds it); keep only ids in the event.
            WebhookEvent.objects.filter(pk=event.pk).update(
                processed_at=timezone.now(), payload=_without_text(event.channel, event.payload)
            )
    except DomainError as exc:
        # The intake validated the event; this only happens if rules changed since. Keep it, do not retry.
        logger.warning("webhook event %s refused: %s", event.pk, exc.code)
        WebhookEvent.objects.filter(pk=event.pk).update(
            processed_at=timezone.now(), payload=_without_text(event.channel, event.payload)
        )
        return {"status": "refused", "code": exc.code}
    return result
