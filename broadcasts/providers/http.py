"""Shared HTTP provider logic: timeouts, retries with exponential backoff on 5xx and timeouts, 429 with
Retry-After, the shared token bucket, permanent 4xx failures with a classified reason, idempotency keys."""

from __future__ import annotations

import logging
import time

import httpx

from broadcasts.models import Delivery, ProviderConfig
from broadcasts.providers.base import OutboundMessage, SendResult
from broadcasts.providers.ratelimit import acquire
from oa_platform.provider_errors import http_error_summary
from oa_platform.provider_http import ProviderAddressRefused, provider_client

logger = logging.getLogger(__name__)

# A Retry-After up to this is waited out in the worker; longer ones hand the chunk back (retried later).
RETRY_AFTER_MAX_S = 30.0
# 429 answers tolerated for one message before the chunk is handed back.
MAX_THROTTLED = 5
BACKOFF_MAX_S = 30.0


class PermanentError(Exception):
    pass


class HttpProviderAdapter:
    kind = ""

    def __init__(self, config: ProviderConfig, *, client: httpx.Client | None = None):
        self.config = config
        self.client = client or provider_client(timeout=httpx.Timeout(config.timeout_s))

    # Subclasses: the request for one message, and reading the provider's answer.
    def request(self, message: OutboundMessage) -> tuple[str, dict | bytes, dict]:
        raise NotImplementedError

    def auth_headers(self) -> dict:
        return {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}

    def parse(self, response: httpx.Response) -> str:
        """Message id from a 2xx answer; raise PermanentError(reason) when the provider refused it in the body."""
        data = response.json() if response.content else {}
        return str(data.get("message_id") or data.get("id") or "")

    @staticmethod
    def reason(response: httpx.Response) -> str:
        """The status and a reason class (oa_platform.provider_errors); the body only picks the class."""
        try:
            data = response.json()
        except ValueError:
            data = None
        hint = ""
        if isinstance(data, dict):
            hint = str(data.get("message") or data.get("error") or data.get("reason") or "")[:200]
        return http_error_summary(response.status_code, hint)

    def send(self, messages: list[OutboundMessage]) -> list[SendResult]:
        return [self.send_one(message) for message in messages]

    def send_one(self, message: OutboundMessage) -> SendResult:
        config = self.config
        attempts = throttled = 0
        last_error = ""
        while attempts < config.max_attempts:
            if not acquire(f"{config.kind}:{config.pk}", rate=config.rate_per_s, burst=max(1, config.burst)):
                return SendResult(message.delivery_id, "retry", attempts=attempts, retry_after=5.0)
            path, body, headers = self.request(message)
            headers = {"Idempotency-Key": message.idempotency_key, **headers}
            attempts += 1
            try:
                payload = {"content": body} if isinstance(body, bytes) else {"json": body}
                response = self.client.post(config.base_url.rstrip("/") + path, headers=headers, **payload)
            except ProviderAddressRefused:
                # A configuration to fix, not a passing fault: no retry.
                return SendResult(
                    message.delivery_id,
                    Delivery.STATUS_FAILED,
                    error="provider address refused: not a public address",
                    attempts=attempts,
                )
            except httpx.TimeoutException:
                last_error = "timeout"
            except httpx.HTTPError as exc:
                last_error = f"network error: {type(exc).__name__}"
            else:
                if response.status_code == 429:
                    attempts -= 1  # being throttled is not the message's fault
                    throttled += 1
                    wait = _retry_after(response)
                    if wait > RETRY_AFTER_MAX_S or throttled > MAX_THROTTLED:
                        return SendResult(message.delivery_id, "retry", attempts=attempts, retry_after=wait)
                    time.sleep(wait)
                    continue
                if 200 <= response.status_code < 300:
                    try:
                        message_id = self.parse(response)
                    except PermanentError as exc:
                        return SendResult(
                            message.delivery_id, Delivery.STATUS_FAILED, error=str(exc), attempts=attempts
                        )
                    return SendResult(
                        message.delivery_id, Delivery.STATUS_SENT, provider_message_id=message_id, attempts=attempts
                    )
                if response.status_code >= 500:
                    last_error = self.reason(response)
                else:
                    return SendResult(
                        message.delivery_id, Delivery.STATUS_FAILED, error=self.reason(response), attempts=attempts
                    )
            if attempts < config.max_attempts:
                time.sleep(min(BACKOFF_MAX_S, config.backoff_s * (2 ** (attempts - 1))))
        return SendResult(
            message.delivery_id,
            Delivery.STATUS_FAILED,
            error=f"gave up after {attempts} attempts: {last_error}",
            attempts=attempts,
        )


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("Retry-After", "1")
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0
