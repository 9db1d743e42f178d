"""One channel layer (issue 13): one SendResult, one rate limiter, no start-up registration, every kind typed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from oa_platform import channel_types as ct
from oa_platform.channel_types import registry
from tests.test_import_graph import ROOT, project_modules


def _trees():
    for name, path in project_modules(ROOT).items():
        yield name, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_exactly_one_send_result_class_in_the_tree():
    found = [
        name
        for name, tree in _trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and node.name == "SendResult"
    ]
    assert found == ["oa_platform.channel_types.base"]


def test_exactly_one_rate_limiter_in_the_tree():
    """A rate limiter is a module with a token bucket: a Lua script reading Redis' clock or a function that
    takes a token. Only oa_platform.ratelimit has one (the channel layer and the chat's flood control use it)."""

    def is_bucket(node) -> bool:
        if isinstance(node, ast.FunctionDef) and node.name in ("try_take", "acquire", "take_token"):
            return True
        return isinstance(node, ast.Constant) and isinstance(node.value, str) and "redis.call('TIME')" in node.value

    found = sorted({name for name, tree in _trees() for node in ast.walk(tree) if is_bucket(node)})
    assert found == ["oa_platform.ratelimit"]


def _redis_client_constructions(tree) -> int:
    """Calls that build a Redis client: ``redis.Redis(...)``, ``Redis(...)``, ``StrictRedis(...)``,
    ``<anything>.from_url(...)`` (redis.Redis.from_url, redis.from_url)."""
    found = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ("Redis", "StrictRedis", "from_url"):
            found += 1
    return found


def test_exactly_one_redis_client_construction_site():
    """One Redis client factory (oa_platform.ratelimit.redis_client): the limiter, the chat's flood control,
    the daily quotas and the benchmarks all share it. (Django's cache, Channels and Celery build theirs from
    settings, not in this code.)"""
    sites = {name: n for name, tree in _trees() if (n := _redis_client_constructions(tree))}
    assert sites == {"oa_platform.ratelimit": 1}


def test_the_scan_sees_every_spelling_of_a_redis_client():
    source = (
        "import redis\na = redis.Redis(host='x')\nb = redis.Redis.from_url(u)\nc = redis.from_url(u)\nd = StrictRedis()"
    )
    assert _redis_client_constructions(ast.parse(source)) == 4


def test_no_app_registers_channels_at_start_up():
    """Nothing to forget: no AppConfig.ready() mentions channel types, adapters or a register call (Django's
    register_converter, for the <id:...> path converter of every URLconf, is not a channel registry)."""
    for name, tree in _trees():
        if not name.endswith(".apps"):
            continue
        source = ast.unparse(tree).replace("register_converter", "")
        assert "channel_types" not in source and "register" not in source and "adapter" not in source, name


def test_every_kind_declares_its_limits_and_outcomes_are_one_set():
    assert set(registry.TYPES) == {"web", "zalo", "zns", "wechat", "generic", "webhook", "sms"}
    for kind, channel_type in registry.TYPES.items():
        assert channel_type.kind == kind
        assert channel_type.max_length > 0 and channel_type.max_tps > 0
        assert channel_type.daily_quota is None or channel_type.daily_quota > 0
    assert ct.OUTCOMES == ("sent", "retry", "failed", "unreachable")
    assert ct.type_for("inapp") is ct.type_for("web")
    with pytest.raises(LookupError):
        ct.type_for("fax")


def test_receiving_types_verify_and_parse_and_name_their_signing_key():
    for kind in ("zalo", "wechat", "generic"):
        channel_type = ct.type_for(kind)
        assert callable(channel_type.receive) and callable(channel_type.parse_stored)
        assert channel_type.signing_field


def test_long_text_is_cut_to_the_types_limit():
    sms = ct.type_for("sms")
    text = sms.render(ct.Message("x" * 1000, title="Bão"))
    assert len(text) == sms.max_length and text.endswith("…")


def test_channel_types_package_has_one_module_per_type():
    folder = Path(ct.__file__).parent
    assert {p.stem for p in folder.glob("*.py")} >= {
        "base",
        "registry",
        "http",
        "signing",
        "web",
        "zalo",
        "zns",
        "wechat",
        "generic",
        "sms",
    }
