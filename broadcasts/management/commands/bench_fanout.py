"""Fan-out benchmark on PostgreSQL + Redis with the real dispatcher (celery beat) and 2 worker processes.

N (env N, default 1,000,000) followers are created with set-based SQL, spread over topics, languages and
the wards of several provinces. Then:
- raw_insert_select_s: a raw INSERT INTO ... SELECT of the all-followers rows into a table of the same shape
  (LIKE broadcasts_delivery INCLUDING ALL, same foreign keys), the machine's limit;
- one all-followers notice and one targeted notice go through beat -> dispatcher -> chunk tasks;
  materialize_s is the dispatcher's INSERT ... SELECT of the all-followers notice; end_to_end_s runs from
  approval until every in-app delivery of both notices is sent;
- SMS: 300 phone-holders through the fake SMS provider at SMS_RATE/s (shared token bucket across workers);
- worker_peak_rss_mb: the largest peak RSS among the worker processes.
The last output line is one JSON object.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from broadcasts.management.commands._benchsupport import BIN, group_peak_rss_mb, require_bench_database, start, stop
from broadcasts.models import BroadcastSettings, Chunk, Delivery, Notice
from broadcasts.services import Actor, notice_approve, notice_create, notice_submit
from oa_platform.models import ApiToken, Area, ChannelConfig, Topic
from oa_platform.services import account_get_or_create, token_issue

PROVINCES = ["79", "01", "48", "92", "31"]
SMS_N = 300


def q(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


class Command(BaseCommand):
    help = "Benchmark the broadcast fan-out (PostgreSQL + Redis, 2 workers). N from the environment."

    def handle(self, *args, **options):
        require_bench_database()
        n = int(os.environ.get("N", "1000000"))
        sms_rate = float(os.environ.get("SMS_RATE", "50"))
        call_command("migrate", verbosity=0)
        from broadcasts.models import Delivery as D  # noqa: N817

        self.stdout.write(f"bench_fanout: N={n:,}, database {connection.settings_dict['NAME']}")
        started = time.monotonic()
        account, sms_account = self.setup(n)
        setup_s = time.monotonic() - started
        self.stdout.write(f"setup: {n:,} followers in {setup_s:.1f}s")

        raw_s, raw_rows = self.raw_insert_select(account)
        self.stdout.write(f"raw INSERT ... SELECT of {raw_rows:,} rows: {raw_s:.2f}s")

        from tests.fakes.fake_provider import FakeProvider

        provider = FakeProvider().start()
        ChannelConfig.objects.filter(account=sms_account).delete()
        ChannelConfig.objects.create(
            account=sms_account, kind="sms", api_base=provider.url, rate_per_s=sms_rate, burst=5, access_token="bench"
        )
        import redis

        from oa_platform.celery import app

        app.control.purge()  # stale tasks of an earlier, interrupted run
        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        for key in client.scan_iter("oa:bucket:*"):
            client.delete(key)
        logdir = Path(tempfile.mkdtemp(prefix="bench_fanout_"))
        celery = str(BIN / "celery")
        workers = [
            start(
                [
                    celery,
                    "-A",
                    "oa_platform",
                    "worker",
                    "-c",
                    "1",
                    "-n",
                    f"w{i}@%h",
                    "-l",
                    os.environ.get("BENCH_LOG", "warning"),
                ],
                logdir / "w.log",
            )
            for i in (1, 2)
        ]
        beat = start(
            [celery, "-A", "oa_platform", "beat", "-l", "warning", "-s", str(logdir / "beat-schedule")],
            logdir / "beat.log",
        )
        try:
            deadline = time.monotonic() + 60
            while len(app.control.ping(timeout=1.0) or []) < 2 and time.monotonic() < deadline:
                pass
            token_a, token_b = self.tokens(account)
            everyone = self.notice(account, token_a, token_b, audience_all=True)
            t0 = time.monotonic()
            targeted = self.notice(
                account,
                token_a,
                token_b,
                audience_topics=["storm-flood"],
                audience_areas=["79"],
                audience_languages=["vi"],
            )
            expected_targeted = self.expected_targeted(account)
            done = self.wait_sent([everyone.pk, targeted.pk], timeout=max(600, n / 1000))
            end_to_end_s = time.monotonic() - t0
            everyone.refresh_from_db()
            materialize_s = everyone.counts.get("materialize_s")
            targeted.refresh_from_db()
            self.stdout.write(
                f"fan-out: {everyone.recipients_count:,} + {targeted.recipients_count:,} deliveries;"
                f" materialize {materialize_s:.2f}s; end to end {end_to_end_s:.1f}s (finished: {done})"
            )
            # SMS at a fixed rate limit, shared by the 2 workers
            token_s1, token_s2 = self.tokens(sms_account)
            sms_notice = self.notice(sms_account, token_s1, token_s2, audience_all=True)
            sms_t0 = time.monotonic()
            sms_done = self.wait_sent([sms_notice.pk], timeout=SMS_N / sms_rate * 3 + 60)
            sms_s = time.monotonic() - sms_t0
            times = sorted(r["t"] for r in provider.requests)
            span = (times[-1] - times[0]) if len(times) > 1 else 0.0
            measured = (len(times) - 5) / span if span else 0.0  # the burst goes at once; the rest at the rate
            max_1s = max((sum(1 for t in times if s <= t < s + 1.0) for s in times), default=0)
            rss = max(group_peak_rss_mb(w.pid) for w in workers)
        finally:
            for proc in [beat, *workers]:
                stop(proc)
            provider.stop()

        delivered = D.objects.filter(notice=everyone, status="sent").count()
        delivered_targeted = D.objects.filter(notice=targeted, status="sent").count()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT 1 FROM {q(Delivery)} WHERE notice_id IN (%s, %s)"
                " GROUP BY notice_id, citizen_id HAVING COUNT(*) > 1) d",
                [everyone.pk, targeted.pk],
            )
            duplicates = cursor.fetchone()[0]
        missing = (raw_rows - delivered) + (expected_targeted - delivered_targeted)
        result = {
            "n": n,
            "setup_s": round(setup_s, 2),
            "materialize_s": materialize_s,
            "raw_insert_select_s": round(raw_s, 3),
            "materialize_ratio": round(materialize_s / raw_s, 2) if raw_s else None,
            "end_to_end_s": round(end_to_end_s, 2),
            "delivered": delivered,
            "delivered_targeted": delivered_targeted,
            "expected_targeted": expected_targeted,
            "duplicates": duplicates,
            "missing": missing,
            "chunks": Chunk.objects.filter(notice__in=[everyone, targeted]).count(),
            "workers": 2,
            "worker_peak_rss_mb": rss,
            "sms_sent": len(provider.successes),
            "sms_rate_limit": sms_rate,
            "sms_measured_rate": round(measured, 1),
            "sms_max_in_any_1s": max_1s,
            "sms_s": round(sms_s, 2),
            "sms_finished": sms_done,
        }
        self.stdout.write(
            f"SMS: {result['sms_sent']} sent in {sms_s:.1f}s, {measured:.1f}/s at a limit of {sms_rate}/s"
            f" (max {max_1s} in any second, burst 5); worker peak RSS {rss} MB"
        )
        self.stdout.write(json.dumps(result))

    # --- setup with set-based SQL  ---
    def setup(self, n: int):
        from oa_platform.models import Citizen, Follow, TopicSubscription

        account, _ = account_get_or_create(slug="bench-fanout", name="Bench fan-out")
        sms_account, _ = account_get_or_create(slug="bench-sms", name="Bench SMS")
        BroadcastSettings.objects.update_or_create(
            account=sms_account, defaults={"phone_channel": BroadcastSettings.PHONE_SMS}
        )
        BroadcastSettings.objects.get_or_create(account=account)
        wards = list(Area.objects.filter(parent__code__in=PROVINCES).order_by("path").values_list("id", flat=True))
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                f"TRUNCATE {q(Delivery)}, {q(Chunk)}, {q(Notice)}, {q(TopicSubscription)},"
                f" {connection.ops.quote_name(Follow.areas.through._meta.db_table)}, {q(Follow)} CASCADE"
            )
            cursor.execute(f"DELETE FROM {q(Citizen)} WHERE external_id LIKE %s", ["bench-%"])
            cursor.execute(
                f"INSERT INTO {q(Citizen)} (channel, external_id, display_name, phone, language, home_area_id,"
                " created_at) SELECT 'web', 'bench-' || g, '', '',"
                " (ARRAY['vi','vi','vi','en','zh-hans'])[1 + g %% 5], (%s::bigint[])[1 + g %% %s], %s"
                " FROM generate_series(1, %s) g",
                [wards, len(wards), now, n],
            )
            cursor.execute(
                f"INSERT INTO {q(Citizen)} (channel, external_id, display_name, phone, language, created_at)"
                " SELECT 'web', 'bench-sms-' || g, '', '+8490' || lpad(g::text, 7, '0'), 'vi', %s"
                " FROM generate_series(1, %s) g",
                [now, SMS_N],
            )
            for acc, where in (
                (account, "external_id LIKE %s AND external_id NOT LIKE %s"),
                (sms_account, "external_id LIKE %s AND external_id LIKE %s"),
            ):
                cursor.execute(
                    f"INSERT INTO {q(Follow)} (account_id, citizen_id, is_active, followed_at)"
                    f" SELECT %s, id, true, %s FROM {q(Citizen)} WHERE {where}",
                    [acc.pk, now, "bench-%", "bench-sms-%"],
                )
            # every follower subscribes to two of the five topics
            cursor.execute(
                f"INSERT INTO {q(TopicSubscription)} (follow_id, topic_id, created_at)"
                f" SELECT f.id, t.id, %s FROM {q(Follow)} f JOIN {q(Topic)} t ON t.account_id = f.account_id"
                " AND (t.position = f.id %% 5 OR t.position = (f.id + 2) %% 5) WHERE f.account_id = %s",
                [now, account.pk],
            )
            cursor.execute("ANALYZE")
        return account, sms_account

    def raw_insert_select(self, account) -> tuple[float, int]:
        """The same rows as the all-followers notice, into a table of the same shape, timed alone."""
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_raw_delivery")
            cursor.execute(f"CREATE TABLE bench_raw_delivery (LIKE {q(Delivery)} INCLUDING ALL)")
            from oa_platform.models import Citizen

            cursor.execute(
                "ALTER TABLE bench_raw_delivery ADD FOREIGN KEY (citizen_id) REFERENCES"
                f" {q(Citizen)} (id) DEFERRABLE INITIALLY DEFERRED"
            )
            placeholder = Notice.objects.create(account=account, category="general", title_vi="raw", body_vi="raw")
            cursor.execute(
                "ALTER TABLE bench_raw_delivery ADD FOREIGN KEY (notice_id) REFERENCES"
                f" {q(Notice)} (id) DEFERRABLE INITIALLY DEFERRED"
            )
        from oa_platform.models import Citizen, Follow

        with transaction.atomic(), connection.cursor() as cursor:
            started = time.monotonic()
            cursor.execute(
                "INSERT INTO bench_raw_delivery (notice_id, citizen_id, channel, language, status, attempts,"
                " last_error, provider_message_id, created_at) SELECT %s, c.id, 'inapp', c.language, 'queued', 0,"
                f" '', '', now() FROM {q(Follow)} f JOIN {q(Citizen)} c ON c.id = f.citizen_id"
                " WHERE f.account_id = %s AND f.is_active = true",
                [placeholder.pk, account.pk],
            )
            elapsed = time.monotonic() - started
            rows = cursor.rowcount
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_raw_delivery")
        placeholder.delete()
        return elapsed, rows

    def tokens(self, account):
        ApiToken.objects.filter(account=account).delete()
        scopes = [ApiToken.SCOPE_BROADCAST_WRITE, ApiToken.SCOPE_BROADCAST_APPROVE, ApiToken.SCOPE_READ]
        return token_issue(account=account, name="author", scopes=scopes)[0], token_issue(
            account=account, name="approver", scopes=scopes
        )[0]

    def notice(self, account, author, approver, **audience) -> Notice:
        notice = notice_create(
            account=account,
            actor=Actor(token=author),
            category="storm-flood",
            severity="extreme",
            title_vi="Bão số 3",
            body_vi="Bão số 3 đang vào bờ, người dân ở trong nhà.",
            title_en="Storm No. 3",
            body_en="Storm No. 3 is making landfall: stay indoors.",
            **audience,
        ).notice
        notice_submit(notice=notice, actor=Actor(token=author))
        return notice_approve(notice=notice, actor=Actor(token=approver)).notice

    def expected_targeted(self, account) -> int:
        from oa_platform.models import Citizen, Follow, TopicSubscription

        topic = Topic.objects.get(account=account, key="storm-flood")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM {q(Follow)} f JOIN {q(Citizen)} c ON c.id = f.citizen_id"
                f" JOIN {q(Area)} a ON a.id = c.home_area_id"
                f" WHERE f.account_id = %s AND c.language = 'vi' AND (a.path = '79' OR a.path LIKE '79/%%')"
                f" AND EXISTS (SELECT 1 FROM {q(TopicSubscription)} ts WHERE ts.follow_id = f.id AND ts.topic_id = %s)",
                [account.pk, topic.pk],
            )
            return cursor.fetchone()[0]

    def wait_sent(self, ids: list[int], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            statuses = set(Notice.objects.filter(pk__in=ids).values_list("status", flat=True))
            if statuses == {Notice.STATUS_SENT}:
                return True
            time.sleep(0.25)
        return False
