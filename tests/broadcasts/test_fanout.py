import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from broadcasts import fanout, sending
from broadcasts.fanout import audience_preview
from broadcasts.live import citizen_snapshot, notice_for
from broadcasts.models import Chunk, Delivery, Notice
from broadcasts.selectors import inbox_for, notice_progress
from broadcasts.services import Actor, notice_cancel, notice_follow_up_create, notice_submit
from oa_platform.models import Membership
from oa_platform.services import follow_remove
from tests import factories
from tests.broadcasts.conftest import approved, draft, follower


def _recipients(notice):
    return set(Delivery.objects.filter(notice=notice).values_list("citizen_id", flat=True))


def test_audience_topics_areas_languages(tenant_a, tenant_b, run_dispatcher):
    # given: followers with different topics, areas and languages; one in another tenant; one who unfollowed
    storm_hcm_ward = follower(tenant_a.account, topics=["storm-flood"], areas=["25747"])  # ward under HCMC (79)
    storm_home_hcm = follower(tenant_a.account, topics=["storm-flood"], home="79")  # no chosen area: home area
    storm_hanoi = follower(tenant_a.account, topics=["storm-flood"], areas=["01"])
    health_hcm = follower(tenant_a.account, topics=["health"], areas=["79"])
    storm_hcm_en = follower(tenant_a.account, topics=["storm-flood"], areas=["79"], language="en")
    gone = follower(tenant_a.account, topics=["storm-flood"], areas=["79"])
    follow_remove(account=tenant_a.account, citizen=gone)
    follower(tenant_b.account, topics=["storm-flood"], areas=["79"])
    # when
    notice = approved(tenant_a, audience_areas=["79"], audience_languages=["vi"])
    preview = audience_preview(notice)
    run_dispatcher()
    # then: the province includes its wards; topic, language and following all filter
    expected = {storm_hcm_ward.pk, storm_home_hcm.pk}
    assert _recipients(notice) == expected
    assert preview == {"total": 2, "by_channel": {"inapp": 2}, "by_language": {"vi": 2}}
    all_followers = approved(tenant_a, audience_all=True)
    run_dispatcher()
    assert _recipients(all_followers) == {
        storm_hcm_ward.pk,
        storm_home_hcm.pk,
        storm_hanoi.pk,
        health_hcm.pk,
        storm_hcm_en.pk,
    }


def test_dispatch_sends_inapp_and_finishes(tenant_a, run_dispatcher):
    citizens = [follower(tenant_a.account, language=lang) for lang in ("vi", "en", "zh-hans")]
    notice = approved(tenant_a, category="general", title_en="Storm", body_en="Storm coming")
    with mock.patch("oa_platform.live.group_send", return_value=True) as push:
        run_dispatcher()
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_SENT
    assert notice.recipients_count == 3
    assert Delivery.objects.filter(notice=notice, status="sent").count() == 3
    assert push.call_count == 1  # one group send for the whole notice
    group, event = push.call_args.args
    assert group == f"oa{tenant_a.account.pk}.all" and event["type"] == "notice.push"
    # the consumer's filter gives each citizen their language (Chinese falls back to Vietnamese)
    en = notice_for(citizen_snapshot(account_id=tenant_a.account.pk, citizen_id=citizens[1].pk), event)
    zh = notice_for(citizen_snapshot(account_id=tenant_a.account.pk, citizen_id=citizens[2].pk), event)
    assert en["title"] == "Storm" and zh["title"] == "Cảnh báo bão"
    # inbox for reconnect catch-up
    inbox = inbox_for(account=tenant_a.account, citizen=citizens[1])
    assert [(i["id"], i["title"], i["kind"]) for i in inbox] == [(notice.pk, "Storm", "alert")]
    assert inbox_for(account=tenant_a.account, citizen=citizens[1], after_id=notice.pk) == []
    progress = notice_progress(notice=notice)
    assert progress["percent"] == 100.0 and progress["by_channel"] == {"inapp": {"sent": 3}}


def test_notice_for_filters():
    event = {
        "notice": {"id": 1, "texts": {"vi": {"title": "t", "body": "b"}}},
        "audience": {"topics": ["health"], "area_paths": ["79"], "languages": [], "citizen_ids": None},
    }
    snap = {"citizen_id": 5, "following": True, "topics": ["health"], "area_paths": ["79/26734"], "language": "vi"}
    assert notice_for(snap, event)["title"] == "t"
    assert notice_for({**snap, "area_paths": ["791"]}, event) is None  # prefix must stop at a path separator
    assert notice_for({**snap, "topics": ["traffic"]}, event) is None
    assert notice_for({**snap, "following": False}, event) is None
    event["audience"]["citizen_ids"] = [6]
    assert notice_for(snap, event) is None


def test_test_mode_only_staff_test_group(tenant_a, run_dispatcher):
    follower(tenant_a.account)
    tester = factories.make_citizen()
    Membership.objects.filter(user=tenant_a.broadcaster).update(in_test_group=True, test_citizen=tester)
    outsider = factories.make_citizen()
    Membership.objects.filter(user=tenant_a.editor).update(in_test_group=False, test_citizen=outsider)
    notice = approved(tenant_a, mode="test", audience_all=True)
    run_dispatcher()
    assert _recipients(notice) == {tester.pk}


def test_expired_notice_delivers_nothing(tenant_a, run_dispatcher):
    follower(tenant_a.account)
    now = timezone.now()
    notice = approved(tenant_a, send_at=now + dt.timedelta(hours=1), expires_at=now + dt.timedelta(hours=2))
    with time_machine.travel(now + dt.timedelta(hours=3)):
        run_dispatcher()
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_EXPIRED
    assert not Delivery.objects.filter(notice=notice, status__in=Delivery.RECEIVED_STATUSES).exists()


def test_expiry_mid_send_skips_the_rest(tenant_a, django_capture_on_commit_callbacks):
    for _ in range(3):
        follower(tenant_a.account)
    now = timezone.now()
    notice = approved(tenant_a, expires_at=now + dt.timedelta(minutes=10))
    with mock.patch("broadcasts.fanout._enqueue_chunks"):  # claim and materialise, but no chunk runs yet
        with django_capture_on_commit_callbacks(execute=True):
            fanout.dispatcher_tick()
    with time_machine.travel(now + dt.timedelta(minutes=11)):
        for chunk in Chunk.objects.filter(notice=notice):
            sending.chunk_process(chunk_id=chunk.pk)
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_EXPIRED
    assert set(Delivery.objects.filter(notice=notice).values_list("status", flat=True)) == {"skipped"}


def test_cancel_mid_send_stops_remaining(tenant_a, django_capture_on_commit_callbacks):
    for _ in range(5):
        follower(tenant_a.account)
    notice = approved(tenant_a)
    with mock.patch("broadcasts.fanout._enqueue_chunks"):
        with django_capture_on_commit_callbacks(execute=True):
            fanout.dispatcher_tick()
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_SENDING
    # one chunk already went out (simulate a partly sent notice), then staff cancel
    first = Delivery.objects.filter(notice=notice).order_by("id").first()
    Delivery.objects.filter(pk=first.pk).update(status="sent")
    notice_cancel(notice=notice, actor=Actor(user=tenant_a.broadcaster))
    for chunk in Chunk.objects.filter(notice=notice):  # late chunk tasks change nothing
        sending.chunk_process(chunk_id=chunk.pk)
    notice.refresh_from_db()
    statuses = list(Delivery.objects.filter(notice=notice).values_list("status", flat=True))
    assert notice.status == Notice.STATUS_CANCELLED
    assert sorted(statuses) == ["sent"] + ["skipped"] * 4


def test_follow_ups_address_exactly_the_original_recipients(tenant_a, run_dispatcher):
    # given: an original sent to two citizens
    a = follower(tenant_a.account, topics=["storm-flood"])
    b = follower(tenant_a.account, topics=["storm-flood"])
    follower(tenant_a.account, topics=["health"])
    original = approved(tenant_a)
    run_dispatcher()
    # when: the audience changes afterwards (a unsubscribes, a newcomer subscribes)
    follow_remove(account=tenant_a.account, citizen=a)
    newcomer = follower(tenant_a.account, topics=["storm-flood"])
    for kind in ("update", "cancel"):
        follow_up = notice_follow_up_create(notice=original, kind=kind, actor=Actor(user=tenant_a.broadcaster)).notice
        assert follow_up.status == Notice.STATUS_DRAFT and follow_up.references == original
        notice_submit(notice=follow_up, actor=Actor(user=tenant_a.broadcaster))
        from broadcasts.services import notice_approve

        notice_approve(notice=follow_up, actor=Actor(user=tenant_a.approver))
        run_dispatcher()
        # then: exactly the original's recipients, not the newcomer
        assert _recipients(follow_up) == {a.pk, b.pk}
        assert newcomer.pk not in _recipients(follow_up)
        follow_up.refresh_from_db()
        assert follow_up.kind == kind and follow_up.status == Notice.STATUS_SENT


def test_dispatcher_is_idempotent_and_sweeps_abandoned_chunks(
    tenant_a, run_dispatcher, django_capture_on_commit_callbacks
):
    for _ in range(3):
        follower(tenant_a.account)
    notice = approved(tenant_a)
    with mock.patch("broadcasts.fanout._enqueue_chunks"):  # the chunk task is "lost"
        with django_capture_on_commit_callbacks(execute=True):
            fanout.dispatcher_tick()
    chunk = Chunk.objects.get(notice=notice)
    # a worker took the chunk and died: its lease runs out, the sweeper re-queues it
    Chunk.objects.filter(pk=chunk.pk).update(status="running", lease_until=timezone.now() - dt.timedelta(seconds=1))
    assert fanout.deliveries_materialize(notice, now=timezone.now()) == 0  # a re-run inserts nothing
    # the dispatcher's plain insert (no ON CONFLICT) is still refused by the unique constraint
    with pytest.raises(IntegrityError), transaction.atomic():
        fanout.deliveries_materialize(notice, now=timezone.now(), skip_existing=False)
    assert Delivery.objects.filter(notice=notice).count() == 3
    result = run_dispatcher()
    assert result["requeued"] == 1
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_SENT
    assert Delivery.objects.filter(notice=notice, status="sent").count() == 3


def test_draft_is_not_dispatched(tenant_a, run_dispatcher):
    follower(tenant_a.account)
    notice = draft(tenant_a)
    run_dispatcher()
    assert not Delivery.objects.filter(notice=notice).exists()
