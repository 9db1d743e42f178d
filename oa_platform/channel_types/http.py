"""The one HTTP client policy of every call to a provider, for every channel type and every feature.

- Every connection goes through ``oa_platform.provider_http`` (public addresses only, no proxies from the
  environment); a refused address is FAILED at once (a configuration to fix, not a passing fault).
- Timeouts per configuration (``ChannelConfig.timeout_s``).
- One token from the shared bucket (channel_types.ratelimit) before every attempt, at the configuration's rate.
- Retried in the worker, with exponential back-off, up to ``max_attempts``: 5xx answers, timeouts and
  connection errors. A 429 waits out its Retry-After (up to RETRY_AFTER_MAX_S) without counting as an attempt.
- Never retried: any other 4xx. What the type does with a 2xx or 4xx answer is its own (``post`` returns it).

Chat and staff replies use ``max_attempts=1`` (POLICY_ONCE): the outbox retries them later with its own back-off
(conversations.outbox), so a worker never sleeps on a reply. Notices use the configuration's ``max_attempts``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx
from django.conf import settings

from oa_platform.channel_types.base import FAILED, RETRY, SendResult
from oa_platform.channel_types.ratelimit import acquire
from oa_platform.provider_errors import http_error_summary
from oa_platform.provider_http import ProviderAddressRefused, provider_client

# A provider URL that is (or resolves to) a loopback, link-local or private address: a configuration to fix.
ADDRESS_REFUSED = "provider address refused: not a public address"
# A Retry-After up to this is waited out in the worker; longer ones hand the message back (RETRY).
RETRY_AFTER_MAX_S = 30.0
# 429 answers tolerated for one message before it is handed back.
MAX_THROTTLED = 5
BACKOFF_MAX_S = 30.0
# The rate limiter may make a send wait this long for a token; longer, the message is handed back.
TOKEN_WAIT_MAX_S = 60.0
# Waiting for a token longer than TOKEN_WAIT_MAX_S hands the message back for this long.
TOKEN_RETRY_AFTER_S = 5.0


@dataclass(frozen=True)
class Policy:
    timeout: httpx.Timeout
    max_attempts: int = 1
    backoff_s: float = 0.5
    rate_per_s: float = 20.0
    burst: int = 5
    bucket: str = ""  # the token bucket's key ("" = no rate limit, e.g. token renewal)


# Providers answer in well under a second; 5 s keeps a stuck provider from holding a worker (the
# configuration's default timeout_s).
DEFAULT_TIMEOUT_S = 5.0
# A token renewal: one quick call, no rate limit, no retry (the send that needed it reports RETRY).
RENEW_POLICY = Policy(timeout=httpx.Timeout(5.0, connect=3.0))


def policy_for(config, channel_type, *, once: bool = False) -> Policy:
    """The policy of a configuration: its timeout, attempts, back-off and rate (the type's max_tps by default)."""
    timeout_s = float(getattr(config, "timeout_s", None) or DEFAULT_TIMEOUT_S)
    rate = float(getattr(config, "rate_per_s", None) or channel_type.max_tps)
    return Policy(
        timeout=httpx.Timeout(timeout_s, connect=min(3.0, timeout_s)),
        max_attempts=1 if once else max(1, int(getattr(config, "max_attempts", None) or 1)),
        backoff_s=float(getattr(config, "backoff_s", 0.5) or 0.0),
        rate_per_s=rate,
        burst=max(1, int(getattr(config, "burst", None) or max(1, int(rate)))),
        bucket=f"{channel_type.kind}:{getattr(config, 'pk', None) or 0}",
    )


def post(url: str, *, policy: Policy, **kwargs) -> httpx.Response | SendResult:
    """POST under ``policy``: the provider's last answer (2xx or 4xx other than 429) for the type to read, or a
    SendResult when the policy decided (address refused, gave up after retries, throttled for too long)."""
    attempts = throttled = 0
    last_error = ""
    client = shared_client()
    while attempts < policy.max_attempts:
        if policy.bucket and not acquire(
            policy.bucket, rate=policy.rate_per_s, burst=policy.burst, max_wait_s=TOKEN_WAIT_MAX_S
        ):
            return SendResult(RETRY, "rate limited", attempts=attempts, retry_after=TOKEN_RETRY_AFTER_S)
        attempts += 1
        try:
            response = client.post(url, timeout=policy.timeout, **kwargs)
        except ProviderAddressRefused:
            return SendResult(FAILED, ADDRESS_REFUSED, attempts=attempts)
        except httpx.TimeoutException:
            last_error = "timeout"
        except httpx.HTTPError as exc:
            last_error = f"connection error: {type(exc).__name__}"
        else:
            if response.status_code == 429:
                attempts -= 1  # being throttled is not the message's fault
                throttled += 1
                wait = retry_after(response)
                # A single-attempt send (a chat reply) never sleeps in the worker: the outbox retries it.
                if wait > RETRY_AFTER_MAX_S or throttled > MAX_THROTTLED or policy.max_attempts == 1:
                    return SendResult(RETRY, http_error_summary(429), attempts=attempts, retry_after=max(wait, 1.0))
                time.sleep(wait)
                continue
            if response.status_code < 500:
                response.attempts = attempts  # read by attempts_of() for the SendResult
                return response
            last_error = reason(response)
        if attempts < policy.max_attempts:
            time.sleep(min(BACKOFF_MAX_S, policy.backoff_s * (2 ** (attempts - 1))))
    if policy.max_attempts > 1:  # the worker's retries are spent: refused for good
        return SendResult(FAILED, f"gave up after {attempts} attempts: {last_error}", attempts=attempts)
    return SendResult(RETRY, last_error, attempts=attempts, retry_after=30.0)


# One client (and connection pool) per process and address policy: building an httpx client costs tens of
# milliseconds (TLS context), more than a send to a fast provider; the pool keeps connections to a provider
# open across the messages of a chunk. Every connect still goes through the public-address check.
_clients: dict[bool, httpx.Client] = {}
_clients_lock = threading.Lock()


def shared_client() -> httpx.Client:
    key = bool(settings.ALLOW_PRIVATE_PROVIDER_URLS)
    client = _clients.get(key)
    if client is None:
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = provider_client(timeout=DEFAULT_TIMEOUT_S)
    return client


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


def json_body(response: httpx.Response) -> dict | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def attempts_of(response: httpx.Response) -> int:
    return getattr(response, "attempts", 1)


def retry_after(response: httpx.Response) -> float:
    value = response.headers.get("Retry-After", "1")
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0
