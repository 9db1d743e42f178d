"""The one rate limiter and the one Redis client of the code (issue 13).

- ``redis_client()``: the process's Redis client (one connection pool), or None without Redis (the embedded
  mode). Not the cache backend's client: under ASGI Django builds cache backends per request context, and each
  would open a new Redis connection. Django's cache, Channels and Celery configure their own from REDIS_URL.
- A token bucket per key shared by every worker: a Lua script in Redis (atomic, one round trip, Redis' own
  clock), or a process-local bucket without Redis. Every send of every channel type takes a token here
  (channel_types.http), and so does the chat's flood control (a limit "N per W seconds" is a bucket of N tokens
  refilled at N/W per second: N at once, then one every W/N seconds).
- A counter that resets at a given instant (a channel type's daily quota, reset at the account's midnight).
"""

from __future__ import annotations

import math
import threading
import time

import redis
from django.conf import settings

# KEYS: the buckets; ARGV: rate (tokens/s) and burst of each, in turn. Returns per bucket 0 when a token was
# taken, else ms to wait. All buckets in one call: one round trip (a pipeline of scripts costs a SCRIPT EXISTS
# round trip more on every execute).
TOKEN_BUCKET_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local waits = {}
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', key, 'tokens', 'ts')
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
  redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(burst * 1000 / rate) + 1000)
  waits[i] = wait
end
return waits
"""

BUCKET_PREFIX = "oa:bucket:"
COUNTER_PREFIX = "oa:count:"

_client = None
_script = None
_local_lock = threading.Lock()
_local: dict[str, tuple[float, float]] = {}
_local_counts: dict[str, tuple[int, float]] = {}


def redis_client() -> redis.Redis | None:
    """The one Redis client of the process (None when settings.REDIS_URL is empty)."""
    global _client, _script
    if not settings.REDIS_URL:
        return None
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL)
        _script = _client.register_script(TOKEN_BUCKET_LUA)
    return _client


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


def try_take(*buckets: tuple[str, float, int]) -> float:
    """Take one token from each bucket ``(key, rate per second, burst)`` (one Redis call for all: one script).

    Returns 0.0 when every bucket gave one, else the longest wait in seconds before trying again. A bucket that
    gave its token keeps it taken even when another refused (a flood is counted everywhere)."""
    client = redis_client()
    if client is None:
        waits = [_take_local(key, rate, burst) for key, rate, burst in buckets]
    elif buckets:
        keys = [BUCKET_PREFIX + key for key, _rate, _burst in buckets]
        args = [value for _key, rate, burst in buckets for value in (rate, burst)]
        waits = [ms / 1000.0 for ms in _script(keys=keys, args=args)]
    else:
        waits = []
    return max(waits, default=0.0)


def acquire(key: str, *, rate: float, burst: int, max_wait_s: float = 60.0) -> bool:
    """Block until a token is taken (at most ``max_wait_s``). Returns False when the wait would be longer."""
    deadline = time.monotonic() + max_wait_s
    while True:
        wait = try_take((key, rate, burst))
        if wait <= 0:
            return True
        if time.monotonic() + wait > deadline:
            return False
        time.sleep(wait)


def count_up(key: str, *, limit: int, resets_at: float) -> bool:
    """Count one against ``limit`` in a counter that resets at the Unix time ``resets_at``. False (and nothing
    counted) when the counter already reached the limit."""
    client = redis_client()
    if client is None:
        with _local_lock:
            count, until = _local_counts.get(key, (0, resets_at))
            if until <= time.time():
                count, until = 0, resets_at
            if count >= limit:
                return False
            _local_counts[key] = (count + 1, until)
            return True
    full_key = COUNTER_PREFIX + key
    pipe = client.pipeline(transaction=False)
    pipe.incr(full_key)
    # A time to live from our clock, not an EXPIREAT on Redis' clock: the key's date is from our clock too.
    pipe.expire(full_key, max(1, math.ceil(resets_at - time.time())), nx=True)
    count = pipe.execute()[0]
    if count > limit:
        client.decr(full_key)
        return False
    return True


def count_down(key: str) -> None:
    """Give back one counted with ``count_up`` (what was counted was not used after all)."""
    client = redis_client()
    if client is None:
        with _local_lock:
            count, until = _local_counts.get(key, (0, 0.0))
            if count > 0:
                _local_counts[key] = (count - 1, until)
        return
    if client.decr(COUNTER_PREFIX + key) < 0:  # the counter expired in between: nothing to give back
        client.delete(COUNTER_PREFIX + key)


def reset() -> None:
    """Forget every bucket and counter (tests, and an operator lifting a block)."""
    with _local_lock:
        _local.clear()
        _local_counts.clear()
    client = redis_client()
    if client is not None:
        for prefix in (BUCKET_PREFIX, COUNTER_PREFIX):
            keys = list(client.scan_iter(match=prefix + "*", count=1000))
            if keys:
                client.delete(*keys)
