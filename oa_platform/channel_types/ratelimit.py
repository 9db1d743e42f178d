"""The one rate limiter: a token bucket per (channel type, configuration) shared by every worker: a Lua script
in Redis (atomic, one round trip, Redis' own clock), or a process-local bucket in the embedded mode without
Redis. Every send of every channel type takes a token here (channel_types.http.post)."""

from __future__ import annotations

import threading
import time

import redis
from django.conf import settings

# KEYS[1] bucket; ARGV: rate (tokens/s), burst. Returns 0 when a token was taken, else ms to wait.
TOKEN_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
"""

_redis_client = None
_script = None
_local_lock = threading.Lock()
_local: dict[str, tuple[float, float]] = {}


def _redis():
    global _redis_client, _script
    if _redis_client is None:
        _redis_client = redis.Redis.from_url(settings.REDIS_URL)
        _script = _redis_client.register_script(TOKEN_BUCKET_LUA)
    return _script


def _take_local(key: str, rate: float, burst: int) -> float:
    with _local_lock:
        now = time.monotonic()
        tokens, ts = _local.get(key, (float(burst), now))
        tokens = min(burst, tokens + (now - ts) * rate)
        if tokens >= 1:
            _local[key] = (tokens - 1, now)
            return 0.0
        _local[key] = (tokens, now)
        return (1 - tokens) / rate


def try_take(key: str, *, rate: float, burst: int) -> float:
    """Take one token; returns 0.0 on success, else seconds to wait before trying again."""
    if settings.REDIS_URL:
        return _redis()(keys=[f"oa:bucket:{key}"], args=[rate, burst]) / 1000.0
    return _take_local(key, rate, burst)


def acquire(key: str, *, rate: float, burst: int, max_wait_s: float = 60.0) -> bool:
    """Block until a token is taken (at most ``max_wait_s``). Returns False when the wait would be longer."""
    deadline = time.monotonic() + max_wait_s
    while True:
        wait = try_take(key, rate=rate, burst=burst)
        if wait <= 0:
            return True
        if time.monotonic() + wait > deadline:
            return False
        time.sleep(wait)
