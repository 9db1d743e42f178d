"""Running the platform: settings, commands, areas data, log redaction, the embedded beat."""

import io
import logging
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from oa_platform.areas import ascii_fold
from oa_platform.conversations.engine import clean_text, rate_limit_check
from oa_platform.embedded_beat import EmbeddedBeat
from oa_platform.errors import RateLimited, ValidationFailed
from oa_platform.logging import RedactPersonalData
from oa_platform.models import ApiToken, Area


def _manage(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy(tmp_path):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        PRODUCTION="1",
        SECRET_KEY="x" * 64 + "-not-a-real-key-but-long-and-random-enough-9f8e7d",
        DEBUG="0",
        ALLOWED_HOSTS="oa.example.gov.vn",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secret_key(tmp_path):
    result = _manage("check", PRODUCTION="1", SECRET_KEY="", VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_every_province_is_shipped_and_a_province_filter_includes_its_wards():
    provinces = Area.objects.filter(level=Area.LEVEL_PROVINCE)
    assert provinces.count() == 34  # the provinces and cities in force since 2025-07-01
    hcm = Area.objects.get(code="79")
    assert hcm.name == "Thành phố Hồ Chí Minh"
    under = Area.objects.filter(path__startswith=hcm.path + "/")
    assert under.count() > 100
    assert set(under.values_list("parent_id", flat=True)) == {hcm.pk}
    assert not Area.objects.filter(path__startswith=hcm.path + "/", parent__code="01").exists()


def test_ascii_fold_handles_d_stroke():
    assert ascii_fold("Đà Nẵng") == "da nang"


def test_clean_text_refuses_empty_and_oversize_and_strips_control_characters():
    assert clean_text("  hỏi\x00 cccd\x1b  ") == "hỏi cccd"
    with pytest.raises(ValidationFailed):
        clean_text(" \t\n ")
    with pytest.raises(ValidationFailed):
        clean_text("a" * (settings.CHAT_MAX_TEXT + 1))
    with pytest.raises(ValidationFailed):
        clean_text(None)
    assert len(clean_text("a" * settings.CHAT_MAX_TEXT)) == settings.CHAT_MAX_TEXT


def test_rate_limit_allows_the_limit_then_refuses():
    for _ in range(3):
        rate_limit_check(key="t1", limit=(3, 60))
    with pytest.raises(RateLimited) as exc:
        rate_limit_check(key="t1", limit=(3, 60))
    assert exc.value.retry_after == 60
    rate_limit_check(key="other", limit=(3, 60))  # another key has its own budget


def test_log_lines_never_carry_phone_numbers():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "citizen %s wrote from %s", ("An", "0912 345 678"), None)
    RedactPersonalData().filter(record)
    assert "345" not in record.getMessage()
    assert "[phone]" in record.getMessage()


@pytest.mark.django_db
def test_issue_token_prints_a_token_that_is_stored_hashed(tenant_a):
    out = io.StringIO()
    call_command("issue_token", account=tenant_a.account.slug, name="sms-gateway", stdout=out)
    raw = out.getvalue().strip()
    token = ApiToken.objects.get(name="sms-gateway")
    assert raw.startswith("oa_") and len(raw) > 30
    assert token.key_hash == ApiToken.hash(raw) and raw not in (token.key_hash, token.prefix)


@pytest.mark.django_db
def test_issue_token_refuses_unknown_account_and_scope(tenant_a):
    with pytest.raises(CommandError):
        call_command("issue_token", account="nope", name="x", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("issue_token", account=tenant_a.account.slug, name="x", scopes="root", stdout=io.StringIO())


def test_embedded_beat_runs_each_entry_on_its_schedule(time_machine):
    time_machine.move_to("2026-11-22 03:00:00+00:00", tick=False)
    beat = EmbeddedBeat({"a": {"task": "x.a", "schedule": 5.0}, "b": {"task": "x.b", "schedule": timedelta(minutes=1)}})
    from django.utils import timezone

    assert beat.due(timezone.now()) == ["a", "b"]  # nothing has run yet
    for entry in beat.entries.values():
        entry["last_run"] = timezone.now()
    assert beat.due(timezone.now()) == []
    time_machine.shift(6)
    assert beat.due(timezone.now()) == ["a"]
    time_machine.shift(60)
    assert beat.due(timezone.now()) == ["a", "b"]


@pytest.mark.django_db
def test_embedded_beat_finds_every_scheduled_task_by_name():
    import asyncio

    from oa_platform.celery import app

    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
    assert asyncio.iscoroutinefunction(EmbeddedBeat().run_forever)
