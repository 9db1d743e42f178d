"""Builders for the broadcasts tests."""

from __future__ import annotations

import pytest

from broadcasts.services import Actor, notice_approve, notice_create, notice_submit
from oa_platform.models import Area
from oa_platform.services import follow_create, subscriptions_set
from tests import factories
from tests.fakes.fake_provider import FakeProvider


def follower(account, *, topics=None, areas=None, home=None, language="vi", **kw):
    citizen = factories.make_citizen_of(account, language=language, **kw)
    if home:
        citizen.home_area = Area.objects.get(code=home)
        citizen.save(update_fields=["home_area"])
    follow = follow_create(account=account, citizen=citizen)
    if topics is not None or areas is not None:
        subscriptions_set(follow=follow, topic_keys=topics, area_codes=areas)
    return citizen


def draft(tenant, **values):
    values.setdefault("category", "storm-flood")
    values.setdefault("title_vi", "Cảnh báo bão")
    values.setdefault("body_vi", "Bão số 3 đang vào bờ.")
    return notice_create(account=tenant.account, actor=Actor(user=tenant.broadcaster), **values).notice


def approved(tenant, **values):
    notice = draft(tenant, **values)
    notice_submit(notice=notice, actor=Actor(user=tenant.broadcaster))
    notice.refresh_from_db()
    if notice.status == "pending_approval":
        notice_approve(notice=notice, actor=Actor(user=tenant.approver))
        notice.refresh_from_db()
    return notice


@pytest.fixture
def fake_provider():
    with FakeProvider() as provider:
        yield provider


@pytest.fixture
def run_dispatcher(django_capture_on_commit_callbacks):
    """Run dispatcher ticks with on-commit callbacks executed (chunk tasks run eagerly in-process)."""
    from broadcasts.fanout import dispatcher_tick

    def run(times: int = 1):
        result = None
        for _ in range(times):
            with django_capture_on_commit_callbacks(execute=True):
                result = dispatcher_tick()
        return result

    return run
