"""The one webhook view: find the account's channel, ask its channel type to verify and parse the request,
store the event once, enqueue it for the worker (or, for a type that answers inline, act on it now). Every
refusal is a 4xx JSON error and stores nothing.

Path of a Zalo message: this view -> channel_types.zalo (verify, parse) -> stored WebhookEvent -> task
process_webhook_event -> conversations.inbound -> chat engine -> conversations.outbox -> channel_types.zalo.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.http import HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from oa_platform.channel_types import config_for, type_for
from oa_platform.channel_types.base import body_check
from oa_platform.conversations.inbound import event_receive_inline, event_store
from oa_platform.conversations.text import clean_text
from oa_platform.errors import DomainError, NotFound
from oa_platform.selectors import account_by_slug
from oa_platform.tasks import process_webhook_event

logger = logging.getLogger(__name__)


def _error(exc: DomainError) -> JsonResponse:
    return JsonResponse(exc.as_dict(), status=exc.status)


def _enqueue_processing(event) -> JsonResponse | None:
    """Queue the stored event for the worker; 503 (the provider retries) if the broker is down."""
    try:
        transaction.on_commit(lambda: process_webhook_event.delay(event.pk))
    except Exception:
        logger.exception("could not enqueue webhook event %s", event.pk)
        return JsonResponse({"error": {"code": "unavailable", "message": "Try again later."}}, status=503)
    return None


def _store_and_enqueue(*, account, channel: str, event) -> JsonResponse:
    with transaction.atomic():
        stored, created = event_store(
            account=account,
            channel=channel,
            dedup_key=event.dedup_key,
            event_type=event.stored_type,
            payload=event.payload,
        )
    # A redelivery of an event that was stored but never processed (e.g. the broker was down) queues it again;
    # processing is idempotent, so a concurrent duplicate costs a no-op task, never a second reply.
    if created or stored.processed_at is None:
        failure = _enqueue_processing(stored)
        if failure is not None:
            return failure
    return JsonResponse({"ok": True, "duplicate": not created})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request, slug: str, kind: str):
    channel_type = type_for(kind)
    handshake = getattr(channel_type, "handshake", None)
    if request.method == "GET" and handshake is None:
        return HttpResponseNotAllowed(["POST"])
    try:
        account = account_by_slug(slug)
        config = config_for(account, kind) if account is not None else None
        if config is None:
            raise NotFound("No such account or channel.")
        if request.method == "GET":
            return handshake(request, config)
        event = channel_type.receive(request, config, body_check(request.body))
        if event.handled and event.kind == "message":
            clean_text(event.text)
        if getattr(channel_type, "inline_reply", False):
            reply_text = event_receive_inline(account=account, channel=kind, event=event)
            return channel_type.reply_response(request, config, event, reply_text)
        if not event.handled:
            return JsonResponse({"ok": True, "ignored": True})
        return _store_and_enqueue(account=account, channel=kind, event=event)
    except DomainError as exc:
        return _error(exc)
