"""SMS gateway: POST {api_base}/sms/send {to, text, reference} with a bearer key; answers {"message_id"}.
Only sends (no inbound: an SMS gateway that forwards replies uses the generic channel)."""

from __future__ import annotations

from oa_platform.channel_types.base import (
    FAILED,
    REACH_ANY_PHONE,
    SENT,
    ChannelType,
    Message,
    Recipient,
    SendResult,
    truncate,
)
from oa_platform.channel_types.http import attempts_of, json_body, policy_for, post, reason


class SmsType(ChannelType):
    kind = "sms"
    label = "SMS gateway"
    # Two segments of Vietnamese text without diacritics; long notices are cut and point to the link / chat page.
    max_length = 320
    max_tps = 20.0
    daily_quota = None  # set by the operator's contract; the gateway answers 429 when reached
    reaches = REACH_ANY_PHONE
    price = 800  # VND per segment
    per_segment = True
    config_fields = (
        "api_base",
        "access_token",
        "timeout_s",
        "rate_per_s",
        "burst",
        "max_attempts",
        "backoff_s",
        "daily_quota",
        "honours_idempotency_key",
    )

    def render(self, message: Message) -> str:
        text = f"{message.title}: {message.text}" if message.title else message.text
        return truncate(text, self.max_length)

    def send(self, config, recipient: Recipient, message: Message, *, once: bool = False) -> SendResult:
        if not recipient.phone:
            return SendResult(FAILED, "no phone number", attempts=0)
        body = {"to": recipient.phone, "text": self.render(message), "reference": message.idempotency_key}
        headers = {"Idempotency-Key": message.idempotency_key} if message.idempotency_key else {}
        if config.access_token:
            headers["Authorization"] = f"Bearer {config.access_token}"
        url = config.api_base.rstrip("/") + "/sms/send"
        response = post(url, policy=policy_for(config, self, once=once), headers=headers, json=body)
        if isinstance(response, SendResult):
            return response
        if 200 <= response.status_code < 300:
            data = json_body(response) or {}
            provider_id = str(data.get("message_id") or data.get("id") or "")
            return SendResult(SENT, provider_id=provider_id, attempts=attempts_of(response))
        return SendResult(FAILED, reason(response), attempts=attempts_of(response))


TYPE = SmsType()
