"""Webhook endpoints. Thin: verify, parse, store once, hand over to a task (Zalo, generic) or answer
inline (WeChat's passive reply). Every refusal is a 4xx JSON error and stores nothing."""

from __future__ import annotations

import logging

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from oa_platform.conversations.text import clean_text
from oa_platform.errors import DomainError, ValidationFailed
from oa_platform.models import Citizen
from oa_platform.tasks import process_webhook_event
from oa_platform.webhooks import generic, wechat, zalo
from oa_platform.webhooks.intake import body_check, channel_target, event_store, freshness_check
from oa_platform.webhooks.wechat_service import wechat_message_receive

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


def _store_and_enqueue(*, account, channel: str, dedup_key: str, event_type: str, payload: dict) -> JsonResponse:
    with transaction.atomic():
        event, created = event_store(
            account=account, channel=channel, dedup_key=dedup_key, event_type=event_type, payload=payload
        )
    # A redelivery of an event that was stored but never processed (e.g. the broker was down) queues it again;
    # processing is idempotent, so a concurrent duplicate costs a no-op task, never a second reply.
    if created or event.processed_at is None:
        failure = _enqueue_processing(event)
        if failure is not None:
            return failure
    return JsonResponse({"ok": True, "duplicate": not created})


@csrf_exempt
@require_http_methods(["POST"])
def zalo_webhook(request, slug: str):
    try:
        target = channel_target(slug=slug, kind=Citizen.CHANNEL_ZALO)
        body = body_check(request.body)
        payload = zalo.parse_body(body)
        zalo.verify(
            app_id=target.config.app_id,
            secret=target.config.secret,
            body=body,
            payload=payload,
            header=request.headers.get(zalo.SIGNATURE_HEADER),
        )
        event = zalo.parse_event(payload)
        if not event.handled:
            return JsonResponse({"ok": True, "ignored": True})
        if event.kind == zalo.EVENT_TEXT:
            clean_text(event.text)
        return _store_and_enqueue(
            account=target.account,
            channel=Citizen.CHANNEL_ZALO,
            dedup_key=event.dedup_key,
            event_type=event.kind,
            payload=payload,
        )
    except DomainError as exc:
        return _error(exc)


@csrf_exempt
@require_http_methods(["POST"])
def generic_webhook(request, slug: str):
    try:
        target = channel_target(slug=slug, kind=Citizen.CHANNEL_GENERIC)
        body = body_check(request.body)
        generic.verify(
            secret=target.config.secret,
            body=body,
            timestamp=request.headers.get(generic.TIMESTAMP_HEADER),
            header=request.headers.get(generic.SIGNATURE_HEADER),
        )
        event = generic.parse_event(body)
        if event.kind == "message":
            clean_text(event.text)
        return _store_and_enqueue(
            account=target.account,
            channel=Citizen.CHANNEL_GENERIC,
            dedup_key=event.dedup_key,
            event_type=event.kind,
            payload={"kind": event.kind, "citizen_id": event.citizen_id, "text": event.text, "profile": event.profile},
        )
    except DomainError as exc:
        return _error(exc)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def wechat_webhook(request, slug: str):
    try:
        target = channel_target(slug=slug, kind=Citizen.CHANNEL_WECHAT)
        config = target.config
        query = request.GET
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        msg_signature = query.get("msg_signature")
        if request.method == "GET":
            echostr = query.get("echostr", "")
            if msg_signature:
                wechat.verify_signature(
                    token=config.token, timestamp=timestamp, nonce=nonce, given=msg_signature, encrypt=echostr
                )
                echostr = _cipher(config).decrypt(echostr)
            else:
                wechat.verify_signature(
                    token=config.token, timestamp=timestamp, nonce=nonce, given=query.get("signature")
                )
            freshness_check(timestamp)
            return HttpResponse(echostr, content_type="text/plain; charset=utf-8")

        body = body_check(request.body)
        safe = query.get("encrypt_type", "raw").lower() == "aes"
        if safe:
            envelope = wechat.parse_xml(body)
            encrypt = envelope.get("Encrypt")
            if not encrypt:
                raise ValidationFailed("Missing Encrypt.")
            wechat.verify_signature(
                token=config.token, timestamp=timestamp, nonce=nonce, given=msg_signature, encrypt=encrypt
            )
            freshness_check(timestamp)
            fields = wechat.parse_xml(_cipher(config).decrypt(encrypt).encode())
        else:
            wechat.verify_signature(token=config.token, timestamp=timestamp, nonce=nonce, given=query.get("signature"))
            freshness_check(timestamp)
            fields = wechat.parse_xml(body)
        message = wechat.parse_message(fields)
        reply_text = wechat_message_receive(account=target.account, message=message)
    except DomainError as exc:
        return _error(exc)
    if not reply_text:
        # WeChat's documented "nothing to say" answer; it neither retries nor shows an error to the user.
        return HttpResponse("success", content_type="text/plain")
    xml = wechat.text_reply_xml(to_user=message.openid, from_user=message.to_user, content=reply_text)
    if safe:
        xml = wechat.encrypted_envelope(token=config.token, cipher=_cipher(config), xml=xml)
    return HttpResponse(xml, content_type="application/xml; charset=utf-8")


def _cipher(config) -> wechat.AESCipher:
    try:
        return wechat.AESCipher(config.encoding_aes_key, config.app_id)
    except ValueError as exc:
        # A misconfigured account, not the caller's fault; still a clear refusal rather than a 500.
        raise ValidationFailed("Safe mode is not configured for this account.", code="not_configured") from exc
