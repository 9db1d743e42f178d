"""The one rate limiter (oa_platform.ratelimit): several buckets are taken in one call (one Redis script, one
round trip), each keeps its own count, and a bucket that gave its token keeps it taken when another refused."""

from __future__ import annotations

import pytest

from oa_platform import ratelimit


@pytest.fixture(params=["redis", "local"])
def limiter(request, settings, monkeypatch):
    if request.param == "redis" and not settings.REDIS_URL:
        pytest.skip("no Redis configured")
    if request.param == "local":
        monkeypatch.setattr(ratelimit, "redis_client", lambda: None)
    ratelimit.reset()
    yield request.param
    ratelimit.reset()


def test_two_buckets_in_one_call_each_keep_their_own_count(limiter):
    wide, narrow = ("t:wide", 1.0, 5), ("t:narrow", 1 / 60, 2)
    # given/when: three calls taking from both; the narrow bucket holds two
    waits = [ratelimit.try_take(wide, narrow) for _ in range(3)]
    # then: the third is refused with the narrow bucket's wait (about a minute for a token at 1/60 per second)
    assert waits[:2] == [0.0, 0.0] and 50 < waits[2] <= 60
    # and the wide bucket's tokens were taken all three times: two more, then it refuses too
    assert [ratelimit.try_take(wide) for _ in range(3)][:2] == [0.0, 0.0]
    assert ratelimit.try_take(wide) > 0


def test_no_bucket_is_no_wait(limiter):
    assert ratelimit.try_take() == 0.0


@pytest.mark.redis
def test_one_redis_call_for_all_buckets(monkeypatch):
    ratelimit.reset()
    calls = []
    script = ratelimit._script
    monkeypatch.setattr(ratelimit, "_script", lambda **kwargs: calls.append(kwargs) or script(**kwargs))
    assert ratelimit.try_take(("t:a", 1.0, 3), ("t:b", 1.0, 3), ("t:c", 1.0, 3)) == 0.0
    assert [call["keys"] for call in calls] == [["oa:bucket:t:a", "oa:bucket:t:b", "oa:bucket:t:c"]]
