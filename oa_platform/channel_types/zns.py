"""Zalo ZNS: a template message to a phone number (POST {api_base}/message/template, header ``access_token``);
answers {"error": 0, "data": {"msg_id"}}. Only sends."""

from __future__ import annotations

from oa_platform.channel_types.base import (
    FAILED,
    REACH_VN_PHONE,
    SENT,
    UNREACHABLE,
    ChannelType,
    Message,
    Recipient,
    SendResult,
)
from oa_platform.channel_types.http import attempts_of, json_body, policy_for, post, reason
from oa_platform.provider_errors import code_error_summary, error_code

# ZNS codes that say the phone cannot receive ZNS (no Zalo account, blocked ZNS, inactive): stop.
UNREACHABLE_ERRORS = {-108, -118, -119, -139}


class ZnsType(ChannelType):
    kind = "zns"
    label = "Zalo ZNS"
    max_length = 400  # a template parameter (title/body) is short; the template itself holds the fixed text
    max_tps = 20.0
    daily_quota = 500  # ZNS messages per OA per day until Zalo raises the OA's quota
    reaches = REACH_VN_PHONE  # a template approved by Zalo, to any Vietnamese phone with Zalo
    price = 300  # VND per message
    config_fields = (
        "api_base",
        "access_token",
        "template_id",
        "timeout_s",
        "rate_per_s",
        "burst",
        "max_attempts",
        "backoff_s",
        "daily_quota",
        "honours_idempotency_key",
    )

    def send(self, config, recipient: Recipient, message: Message, *, once: bool = False) -> SendResult:
        if not recipient.phone:
            return SendResult(FAILED, "no phone number", attempts=0)
        data = message.template_data or {
            "title": message.title,
            "body": message.text[: self.max_length],
            "link": message.link,
        }
        body = {
            "phone": recipient.phone.lstrip("+"),
            "template_id": message.template_id or config.template_id,
            "template_data": data,
            "tracking_id": message.idempotency_key,
        }
        headers = {"Idempotency-Key": message.idempotency_key} if message.idempotency_key else {}
        if config.access_token:
            headers["access_token"] = config.access_token
        url = config.api_base.rstrip("/") + "/message/template"
        response = post(url, policy=policy_for(config, self, once=once), headers=headers, json=body)
        if isinstance(response, SendResult):
            return response
        attempts = attempts_of(response)
        if not 200 <= response.status_code < 300:
            return SendResult(FAILED, reason(response), attempts=attempts)
        data = json_body(response) or {}
        code = data.get("error", 0)
        if code != 0:
            status = UNREACHABLE if error_code(code) in UNREACHABLE_ERRORS else FAILED
            return SendResult(status, code_error_summary("ZNS", code, {}), attempts=attempts)
        return SendResult(SENT, provider_id=str((data.get("data") or {}).get("msg_id", "")), attempts=attempts)


TYPE = ZnsType()
