"""Outbound text to a citizen on Zalo, WeChat or the generic callback. One HTTP call, one SendResult.

A result is ``sent`` (the provider took it), ``retry`` (5xx, timeout, connection error, expired/invalid
token, rate limit: worth trying again, possibly after someone renews the token) or ``failed`` (the
provider refused this message for good, e.g. the user unfollowed).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass

import httpx
from django.db import transaction

from oa_platform.models import ChannelConfig, Citizen
from oa_platform.provider_errors import code_error_summary, error_code, http_error_summary
from oa_platform.provider_http import ProviderAddressRefused, provider_post
from oa_platform.webhooks import generic

logger = logging.getLogger(__name__)

# Both providers answer in well under a second; 5 s keeps a stuck provider from holding a worker.
SEND_TIMEOUT = httpx.Timeout(5.0, connect=3.0)

RESULT_SENT = "sent"
RESULT_RETRY = "retry"
RESULT_FAILED = "failed"
# A provider URL that is (or resolves to) a loopback, link-local or private address: a configuration to fix.
ADDRESS_REFUSED = "provider address refused: not a public address"

# Zalo OA error codes (field "error"): token problems and throttling are retried, everything else is final.
ZALO_RETRY_ERRORS = {
    -216: "access token invalid",
    -124: "access token expired",
    -32: "rate limit exceeded",
    -11: "Zalo server error",
}
# Final Zalo errors staff can act on; any other code is shown as "refused by the provider" (never its text).
ZALO_FINAL_ERRORS = {
    -201: "invalid parameters",
    -213: "user has not followed the account",
    -230: "user has not interacted with the account in the last 7 days",
}
# WeChat errcodes: the same split.
WECHAT_RETRY_ERRORS = {
    -1: "system busy",
    40001: "access token invalid",
    40014: "access token invalid",
    42001: "access token expired",
    45009: "API quota reached",
}
WECHAT_FINAL_ERRORS = {
    40003: "invalid openid",
    43004: "user has not followed the account",
    44002: "empty message",
    45015: "outside the 48-hour reply window",
    45047: "reply quota for this user reached",
}


@dataclass(frozen=True)
class SendResult:
    status: str  # RESULT_SENT, RESULT_RETRY or RESULT_FAILED
    error: str = ""
    provider_id: str = ""


def _post(url: str, *, headers: dict, content: bytes, params: dict | None = None) -> httpx.Response | SendResult:
    try:
        response = provider_post(url, params=params, headers=headers, content=content, timeout=SEND_TIMEOUT)
    except ProviderAddressRefused:
        return SendResult(RESULT_FAILED, ADDRESS_REFUSED)
    except httpx.TimeoutException:
        return SendResult(RESULT_RETRY, "timeout")
    except httpx.HTTPError as exc:
        return SendResult(RESULT_RETRY, f"connection error: {type(exc).__name__}")
    if response.status_code >= 500:
        return SendResult(RESULT_RETRY, http_error_summary(response.status_code))
    return response


def _json(response: httpx.Response) -> dict | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


# Zalo's OAuth server (token renewal) is not the API host; overridable for a proxy or a test double.
ZALO_OAUTH_BASE = os.environ.get("ZALO_OAUTH_BASE", "https://oauth.zaloapp.com")
ZALO_TOKEN_ERRORS = {-216, -124}


def zalo_token_refresh(config: ChannelConfig, stale_token: str) -> str | None:
    """Renew the OA access token with the refresh token (POST {oauth}/v4/oa/access_token, header secret_key).

    Zalo refresh tokens are single use, so the config row is locked: a worker that finds the token already
    renewed by another (it differs from ``stale_token``) uses that one instead of spending the refresh token.
    """
    with transaction.atomic():
        row = ChannelConfig.objects.select_for_update().get(pk=config.pk)
        if row.access_token and row.access_token != stale_token:
            config.access_token = row.access_token
            return row.access_token
        if not (row.refresh_token and row.app_secret and row.app_id):
            return None
        try:
            response = provider_post(
                ZALO_OAUTH_BASE.rstrip("/") + "/v4/oa/access_token",
                headers={"secret_key": row.app_secret},
                data={"refresh_token": row.refresh_token, "app_id": row.app_id, "grant_type": "refresh_token"},
                timeout=SEND_TIMEOUT,
            )
        except httpx.HTTPError:
            return None
        data = _json(response) if response.status_code == 200 else None
        token, refresh = (data or {}).get("access_token"), (data or {}).get("refresh_token")
        if not isinstance(token, str) or not token or not isinstance(refresh, str) or not refresh:
            logger.warning(
                "Zalo token renewal for account %s refused: %s", row.account_id, error_code((data or {}).get("error"))
            )
            return None
        ChannelConfig.objects.filter(pk=row.pk).update(access_token=token, refresh_token=refresh)
    config.access_token, config.refresh_token = token, refresh
    return token


def _zalo_post(config: ChannelConfig, body: bytes) -> httpx.Response | SendResult:
    url = config.api_base.rstrip("/") + "/v3.0/oa/message/cs"
    return _post(url, headers={"access_token": config.access_token, "Content-Type": "application/json"}, content=body)


def send_zalo(*, config: ChannelConfig, user_id: str, text: str) -> SendResult:
    """Zalo OA customer-service message: POST {api_base}/v3.0/oa/message/cs, header ``access_token``.

    An invalid or expired token is renewed once (refresh token + app secret, when set) and the send repeated."""
    body = json.dumps({"recipient": {"user_id": user_id}, "message": {"text": text}}).encode()
    for attempt in range(2):
        used_token = config.access_token
        response = _zalo_post(config, body)
        if isinstance(response, SendResult):
            return response
        data = _json(response)
        if response.status_code != 200 or data is None:
            return SendResult(RESULT_FAILED, http_error_summary(response.status_code))
        code = data.get("error", 0)
        if code in ZALO_TOKEN_ERRORS and attempt == 0 and zalo_token_refresh(config, used_token):
            continue
        break
    if code == 0:
        return SendResult(RESULT_SENT, provider_id=str((data.get("data") or {}).get("message_id", "")))
    if code in ZALO_RETRY_ERRORS:
        return SendResult(RESULT_RETRY, f"Zalo {code}: {ZALO_RETRY_ERRORS[code]}")
    return SendResult(RESULT_FAILED, code_error_summary("Zalo", code, ZALO_FINAL_ERRORS))


# errcodes meaning "this access token is no good": fetch a fresh one (when the AppSecret is known) and try again.
WECHAT_TOKEN_ERRORS = {40001, 40014, 42001}


def wechat_token_refresh(config: ChannelConfig) -> str | None:
    """A fresh access token from WeChat's stable-token API (needs the AppSecret in ``config.secret``), saved on
    the config. The stable token does not invalidate the previous one, so concurrent workers may all call it."""
    if not (config.secret and config.app_id):
        return None
    url = config.api_base.rstrip("/") + "/cgi-bin/stable_token"
    body = {"grant_type": "client_credential", "appid": config.app_id, "secret": config.secret}
    try:
        response = provider_post(url, json=body, timeout=SEND_TIMEOUT)
    except httpx.HTTPError:
        return None
    data = _json(response) if response.status_code == 200 else None
    token = (data or {}).get("access_token")
    if not isinstance(token, str) or not token:
        logger.warning(
            "WeChat token refresh for account %s refused: %s",
            config.account_id,
            error_code((data or {}).get("errcode")),
        )
        return None
    ChannelConfig.objects.filter(pk=config.pk).update(access_token=token)
    config.access_token = token
    return token


def _wechat_post(config: ChannelConfig, body: bytes) -> httpx.Response | SendResult:
    url = config.api_base.rstrip("/") + "/cgi-bin/message/custom/send"
    return _post(
        url,
        params={"access_token": config.access_token},
        headers={"Content-Type": "application/json"},
        content=body,
    )


def send_wechat(*, config: ChannelConfig, openid: str, text: str) -> SendResult:
    """WeChat customer-service message: POST {api_base}/cgi-bin/message/custom/send?access_token=...

    An expired or missing token is renewed once through the stable-token API when the AppSecret is set."""
    body = json.dumps({"touser": openid, "msgtype": "text", "text": {"content": text}}, ensure_ascii=False).encode()
    if not config.access_token:
        wechat_token_refresh(config)
    for attempt in range(2):
        response = _wechat_post(config, body)
        if isinstance(response, SendResult):
            return response
        data = _json(response)
        if response.status_code != 200 or data is None:
            return SendResult(RESULT_FAILED, http_error_summary(response.status_code))
        code = data.get("errcode", 0)
        if code in WECHAT_TOKEN_ERRORS and attempt == 0 and wechat_token_refresh(config):
            continue
        break
    if code == 0:
        return SendResult(RESULT_SENT, provider_id=str(data.get("msgid", "")))
    if code in WECHAT_RETRY_ERRORS:
        return SendResult(RESULT_RETRY, f"WeChat {code}: {WECHAT_RETRY_ERRORS[code]}")
    return SendResult(RESULT_FAILED, code_error_summary("WeChat", code, WECHAT_FINAL_ERRORS))


def send_generic(*, config: ChannelConfig, citizen_id: str, text: str, message_id: int, sender: str) -> SendResult:
    """HMAC-signed JSON callback to the agency's callback URL; any 2xx is accepted."""
    if not config.callback_url:
        return SendResult(RESULT_FAILED, "no callback URL configured")
    body = json.dumps(
        {"event": "message", "citizen_id": citizen_id, "text": text, "message_id": message_id, "sender": sender},
        ensure_ascii=False,
    ).encode()
    headers = generic.signed_headers(secret=config.secret, timestamp=str(int(time.time())), body=body)
    response = _post(config.callback_url, headers=headers, content=body)
    if isinstance(response, SendResult):
        return response
    if 200 <= response.status_code < 300:
        return SendResult(RESULT_SENT)
    if response.status_code in (408, 429):
        return SendResult(RESULT_RETRY, http_error_summary(response.status_code))
    return SendResult(RESULT_FAILED, http_error_summary(response.status_code))


def send_text(
    *, config: ChannelConfig | None, citizen: Citizen, text: str, message_id: int = 0, sender: str = ""
) -> SendResult:
    """Send ``text`` to ``citizen`` on their channel with the account's credentials."""
    if config is None or not config.is_enabled:
        return SendResult(RESULT_RETRY, f"{citizen.channel} channel not configured")
    if citizen.channel == Citizen.CHANNEL_ZALO:
        return send_zalo(config=config, user_id=citizen.external_id, text=text)
    if citizen.channel == Citizen.CHANNEL_WECHAT:
        return send_wechat(config=config, openid=citizen.external_id, text=text)
    if citizen.channel == Citizen.CHANNEL_GENERIC:
        return send_generic(
            config=config, citizen_id=citizen.external_id, text=text, message_id=message_id, sender=sender
        )
    return SendResult(RESULT_FAILED, f"no sender for channel {citizen.channel}")
