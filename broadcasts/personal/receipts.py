"""Delivery receipts of ZNS and SMS providers: ``POST /webhooks/personal/<slug>/<zns|sms>/`` with
``{"message_id": "...", "status": "delivered" | "failed", "reason"?: "..."}``, signed with the secret of the
account's channel configuration of that kind by the one scheme of oa_platform.channel_types.signing
(X-OA-Timestamp, X-OA-Signature: sha256=HMAC of timestamp + "." + body).
Thin: verify, parse, call one service. Every refusal is a 4xx and changes nothing."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from broadcasts.personal import dispatch
from oa_platform import channel_types as ct
from oa_platform.channel_types import generic
from oa_platform.channel_types.base import body_check, json_object
from oa_platform.channel_types.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER
from oa_platform.errors import DomainError, NotFound, ValidationFailed
from oa_platform.models import ChannelConfig
from oa_platform.selectors import account_by_slug

KINDS = (ChannelConfig.KIND_ZNS, ChannelConfig.KIND_SMS)


@csrf_exempt
@require_http_methods(["POST"])
def receipt_webhook(request, slug: str, kind: str):
    try:
        account = account_by_slug(slug)
        config = None
        if account is not None and kind in KINDS:
            config = ct.config_for(account, kind)
        if config is None:
            raise NotFound("No such provider.")
        body = body_check(request.body)
        generic.verify(
            secret=config.secret,
            body=body,
            timestamp=request.headers.get(TIMESTAMP_HEADER),
            header=request.headers.get(SIGNATURE_HEADER),
        )
        payload = json_object(body)
        message_id, status = payload.get("message_id"), payload.get("status")
        reason = payload.get("reason", "")
        if not isinstance(message_id, str | int) or not str(message_id) or len(str(message_id)) > 128:
            raise ValidationFailed("message_id is required.", fields={"message_id": "required"})
        if status not in dispatch.RECEIPT_STATUSES:
            raise ValidationFailed("Unknown status.", fields={"status": "delivered or failed"})
        if not isinstance(reason, str):
            raise ValidationFailed("reason must be a string.", fields={"reason": "invalid"})
        known = dispatch.notification_receipt(
            account=account, kind=kind, message_id=str(message_id), status=status, reason=reason
        )
        return JsonResponse({"ok": True, "known": known})
    except DomainError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
