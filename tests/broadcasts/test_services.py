import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from broadcasts.models import BroadcastSettings, Notice
from broadcasts.services import (
    Actor,
    notice_approve,
    notice_cancel,
    notice_create,
    notice_follow_up_create,
    notice_reject,
    notice_submit,
    notice_update,
    settings_for,
)
from oa_platform.errors import Conflict, Forbidden, ValidationFailed
from oa_platform.models import AuditLog
from tests import factories
from tests.broadcasts.conftest import draft

HCM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def test_status_flow_draft_pending_scheduled(tenant_a):
    notice = draft(tenant_a)
    assert notice.status == Notice.STATUS_DRAFT
    notice_submit(notice=notice, actor=Actor(user=tenant_a.broadcaster))
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_PENDING
    notice_approve(notice=notice, actor=Actor(user=tenant_a.approver))
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_SCHEDULED
    assert notice.approver == tenant_a.approver
    assert notice.dispatch_at is not None
    actions = list(
        AuditLog.objects.filter(object_type="broadcasts.notice", object_id=str(notice.pk)).values_list(
            "action", flat=True
        )
    )
    assert set(actions) == {"create", "submit", "approve"}


def test_wrong_transitions_refused(tenant_a):
    notice = draft(tenant_a)
    with pytest.raises(Conflict):
        notice_approve(notice=notice, actor=Actor(user=tenant_a.approver))  # draft cannot be approved
    notice_submit(notice=notice, actor=Actor(user=tenant_a.broadcaster))
    with pytest.raises(Conflict):
        notice_submit(notice=notice, actor=Actor(user=tenant_a.broadcaster))
    with pytest.raises(Conflict):
        notice_update(notice=notice, actor=Actor(user=tenant_a.broadcaster), title_vi="x")
    notice_reject(notice=notice, actor=Actor(user=tenant_a.approver), reason="sai")
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_DRAFT
    notice_cancel(notice=notice, actor=Actor(user=tenant_a.broadcaster))
    with pytest.raises(Conflict):
        notice_submit(notice=notice, actor=Actor(user=tenant_a.broadcaster))


def test_two_person_rule_no_superuser_exception(tenant_a):
    notice = draft(tenant_a)
    notice_submit(notice=notice, actor=Actor(user=tenant_a.broadcaster))
    with pytest.raises(Forbidden):
        notice_approve(notice=notice, actor=Actor(user=tenant_a.broadcaster))
    # a superuser who authored a notice cannot approve it either
    boss = factories.make_staff(None, username="root-user", is_superuser=True)
    own = notice_create(
        account=tenant_a.account, actor=Actor(user=boss), category="health", title_vi="t", body_vi="b"
    ).notice
    notice_submit(notice=own, actor=Actor(user=boss))
    with pytest.raises(Forbidden):
        notice_approve(notice=own, actor=Actor(user=boss))
    # a broadcaster is not an approver; an approver of another account neither
    other = factories.make_staff(tenant_a.account, "broadcaster", "second-broadcaster")
    with pytest.raises(Forbidden):
        notice_approve(notice=notice, actor=Actor(user=other))
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_PENDING


def test_two_person_rule_tokens(tenant_a):
    token_creator = tenant_a.account.api_tokens.get()
    notice = notice_create(
        account=tenant_a.account, actor=Actor(token=token_creator), category="health", title_vi="t", body_vi="b"
    ).notice
    notice_submit(notice=notice, actor=Actor(token=token_creator))
    with pytest.raises(Forbidden):
        notice_approve(notice=notice, actor=Actor(token=token_creator))
    factories.make_token(tenant_a.account, scopes=["broadcasts:approve"], name="approver")
    second = tenant_a.account.api_tokens.get(name="approver")
    notice_approve(notice=notice, actor=Actor(token=second))
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_SCHEDULED


def test_policy_urgent_only_schedules_minor_without_approval(tenant_a):
    policy = settings_for(tenant_a.account)
    policy.approval_policy = BroadcastSettings.APPROVAL_URGENT
    policy.save()
    minor = draft(tenant_a, severity="minor")
    notice_submit(notice=minor, actor=Actor(user=tenant_a.broadcaster))
    minor.refresh_from_db()
    extreme = draft(tenant_a, severity="extreme")
    notice_submit(notice=extreme, actor=Actor(user=tenant_a.broadcaster))
    extreme.refresh_from_db()
    assert (minor.status, extreme.status) == (Notice.STATUS_SCHEDULED, Notice.STATUS_PENDING)


@pytest.mark.parametrize(
    ("local", "severity", "expected_local"),
    [
        ((2026, 7, 1, 22, 30), "moderate", (2026, 7, 2, 6, 0)),
        ((2026, 7, 2, 3, 0), "minor", (2026, 7, 2, 6, 0)),
        ((2026, 7, 1, 22, 30), "severe", (2026, 7, 1, 22, 30)),
        ((2026, 7, 1, 22, 30), "extreme", (2026, 7, 1, 22, 30)),
        ((2026, 7, 1, 14, 0), "minor", (2026, 7, 1, 14, 0)),
    ],
)
def test_quiet_hours_in_account_timezone(tenant_a, local, severity, expected_local):
    factories.set_quiet_hours(tenant_a.account, dt.time(21, 0), dt.time(6, 0))
    # 22:30 in Ho Chi Minh City is 15:30 UTC: the check must use the account's time zone, not UTC.
    with time_machine.travel(dt.datetime(*local, tzinfo=HCM), tick=False):
        notice = draft(tenant_a, severity=severity)
        notice_submit(notice=notice, actor=Actor(user=tenant_a.broadcaster))
        outcome = notice_approve(notice=notice, actor=Actor(user=tenant_a.approver))
    assert outcome.notice.dispatch_at == dt.datetime(*expected_local, tzinfo=HCM)
    if expected_local != local:
        assert any("Quiet hours" in n or "yên lặng" in n for n in outcome.notes)


def test_quiet_hours_other_timezone(tenant_a):
    tenant_a.account.timezone = "Asia/Shanghai"  # 1 hour ahead of Ho Chi Minh City
    tenant_a.account.save()
    factories.set_quiet_hours(tenant_a.account, dt.time(21, 0), dt.time(6, 0))
    with time_machine.travel(dt.datetime(2026, 7, 1, 20, 30, tzinfo=HCM), tick=False):  # 21:30 in Shanghai
        notice = draft(tenant_a, severity="minor")
        notice_submit(notice=notice, actor=Actor(user=tenant_a.broadcaster))
        outcome = notice_approve(notice=notice, actor=Actor(user=tenant_a.approver))
    assert outcome.notice.dispatch_at == dt.datetime(2026, 7, 2, 6, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


def test_bad_input_nothing_stored(tenant_a):
    actor = Actor(user=tenant_a.broadcaster)
    now = timezone.now()
    cases = [
        {"category": "nope"},
        {"audience_topics": ["nope"]},
        {"audience_areas": ["99999999"]},
        {"audience_languages": ["fr"]},
        {"body_vi": "   "},
        {"title_vi": ""},
        {"send_at": now + dt.timedelta(hours=2), "expires_at": now + dt.timedelta(hours=1)},
        {"expires_at": now - dt.timedelta(minutes=1)},
        {"title_en": "only a title"},
    ]
    for extra in cases:
        values = {"category": "health", "title_vi": "t", "body_vi": "b"} | extra
        with pytest.raises(ValidationFailed):
            notice_create(account=tenant_a.account, actor=actor, **values)
    assert Notice.objects.count() == 0


def test_send_at_in_past_sends_now_and_says_so(tenant_a):
    outcome = notice_create(
        account=tenant_a.account,
        actor=Actor(user=tenant_a.broadcaster),
        category="health",
        title_vi="t",
        body_vi="b",
        send_at=timezone.now() - dt.timedelta(hours=1),
    )
    assert outcome.notice.send_at is None
    assert outcome.notes


def test_roles_and_tenants(tenant_a, tenant_b):
    with pytest.raises(Forbidden):
        notice_create(
            account=tenant_a.account, actor=Actor(user=tenant_a.editor), category="health", title_vi="t", body_vi="b"
        )
    with pytest.raises(Forbidden):
        notice_create(
            account=tenant_a.account,
            actor=Actor(user=tenant_b.broadcaster),
            category="health",
            title_vi="t",
            body_vi="b",
        )
    notice = draft(tenant_a)
    notice_submit(notice=notice, actor=Actor(user=tenant_a.broadcaster))
    with pytest.raises(Forbidden):
        notice_approve(notice=notice, actor=Actor(user=tenant_b.approver))
    with pytest.raises(Forbidden):
        notice_approve(notice=notice, actor=Actor(token=tenant_b.account.api_tokens.get()))


def test_follow_up_only_for_sent(tenant_a):
    notice = draft(tenant_a)
    with pytest.raises(Conflict):
        notice_follow_up_create(notice=notice, kind="cancel", actor=Actor(user=tenant_a.broadcaster))
