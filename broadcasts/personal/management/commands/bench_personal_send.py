"""Benchmark: an approved list of N personal notices rendered and sent in-app end to end by 2 real Celery worker
processes on PostgreSQL + Redis, beside a same-run baseline; then a smaller list sent through the fake ZNS and SMS
providers on loopback at their configured rate limits.

    DATABASE_URL=postgres://.../oa_bench REDIS_URL=redis://... python manage.py bench_personal_send --n 1000000

- setup (not timed): N web-page followers (vi/en/zh-hans) with a phone and a conversation, and a list of N checked
  rows (name, date, place) written with set-based SQL, as an upload stores them; the list is submitted.
- raw_insert_select_s: the machine's floor: a raw INSERT ... SELECT of the N rows into a table of the notification
  table's shape (LIKE ... INCLUDING ALL, the same foreign keys), timed alone with its commit;
- end_to_end_s: from the approval (which creates the N notifications with one INSERT ... SELECT and enqueues the
  chunks) until the list is "sent": every notification rendered in its person's language, a message in each
  conversation, the status history written (materialize_s: the approval alone);
- missing / duplicates: notifications not sent in-app, and conversations with more than one message of the list
  (both must be 0);
- providers: PROVIDER_N people known only by phone, ZNS first with the account's own daily quota of PROVIDER_N/2
  (so half go by ZNS, half by SMS), each provider at its own rate limit (ZNS_RATE, SMS_RATE per second, burst 5,
  shared by the 2 workers); the largest number seen in any second and the average rate are printed per provider.
The machinery (worker processes, guards, peak RSS) is broadcasts' bench_fanout's (_benchsupport). The last output
line is one JSON object.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import time
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from broadcasts.management.commands._benchsupport import BIN, group_peak_rss_mb, require_bench_database, start, stop
from broadcasts.models import BroadcastSettings
from broadcasts.personal import rowstore
from broadcasts.personal.lists import list_approve
from broadcasts.personal.models import (
    VALUE_COLUMNS,
    ListRow,
    Notification,
    PersonalSettings,
    RecipientList,
    TemplateVersion,
)
from broadcasts.personal.rendering import placeholders
from broadcasts.personal.services import template_approve, template_save
from broadcasts.services import Actor
from oa_platform.celery import app
from oa_platform.models import ApiToken, ChannelConfig, Citizen, Conversation, Message, OfficialAccount
from oa_platform.ratelimit import redis_client
from oa_platform.services import account_create, token_issue

BODY_VI = "Chào ((name)), lịch tiêm của ông/bà: ((date)) tại ((place))."
BODY_EN = "Hello ((name)), your vaccination: ((date)) at ((place))."
BODY_ZH = "((name))您好，您的疫苗接种：((date))，地点：((place))。"
PROVIDER_N = 300


def q(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


class Command(BaseCommand):
    help = "Personal notices: N sent in-app end to end with 2 workers (vs raw INSERT ... SELECT), ZNS + SMS rates."

    def add_arguments(self, parser):
        parser.add_argument("--n", type=int, default=int(os.environ.get("N", "100000")))
        parser.add_argument("--provider-n", type=int, default=PROVIDER_N)
        parser.add_argument("--zns-rate", type=float, default=float(os.environ.get("ZNS_RATE", "20")))
        parser.add_argument("--sms-rate", type=float, default=float(os.environ.get("SMS_RATE", "30")))

    def handle(self, *args, n: int, provider_n: int, zns_rate: float, sms_rate: float, **options):
        require_bench_database()
        call_command("migrate", verbosity=0)
        self.stdout.write(f"bench_personal_send: N={n:,}, database {connection.settings_dict['NAME']}")
        self.cleanup()
        started = time.monotonic()
        account, author, approver = self.account("bench-psend")
        checked = self.setup_followers_and_list(account, author, n)
        self.stdout.write(f"setup: {n:,} followers and list rows in {time.monotonic() - started:.1f}s")
        raw_s = self.raw_insert_select(checked)
        self.stdout.write(f"raw INSERT ... SELECT of {n:,} notification rows: {raw_s:.2f}s")

        from tests.fakes.fake_provider import FakeProvider  # local: a test fake, only loaded when benchmarking

        zns, sms = FakeProvider().start(), FakeProvider().start()
        app.control.purge()  # stale tasks of an earlier, interrupted run
        client = redis_client()
        for key in client.scan_iter("oa:bucket:*"):
            client.delete(key)
        logdir = Path(tempfile.mkdtemp(prefix="bench_personal_send_"))
        celery = str(BIN / "celery")
        workers = [
            start(
                [celery, "-A", "oa_platform", "worker", "-c", "1", "-n", f"p{i}@%h", "-l", "warning"],
                logdir / "w.log",
            )
            for i in (1, 2)
        ]
        try:
            deadline = time.monotonic() + 60
            while len(app.control.ping(timeout=1.0) or []) < 2 and time.monotonic() < deadline:
                pass
            # in-app: approval -> one INSERT ... SELECT -> chunk tasks on the 2 workers -> list sent
            t0 = time.monotonic()
            with transaction.atomic():
                list_approve(recipient_list=checked, actor=Actor(token=approver))
            materialize_s = time.monotonic() - t0
            finished = self.wait_sent(checked.pk, timeout=max(600.0, n / 1000))
            end_to_end_s = time.monotonic() - t0
            self.stdout.write(
                f"in-app: approval (INSERT ... SELECT of {n:,}) {materialize_s:.2f}s; end to end {end_to_end_s:.1f}s"
                f" ({n / end_to_end_s:,.0f} messages/s; finished: {finished})"
            )
            providers = self.providers_run(zns, sms, provider_n, zns_rate, sms_rate)
            rss = max(group_peak_rss_mb(w.pid) for w in workers)
        finally:
            for proc in workers:
                stop(proc)
            zns.stop()
            sms.stop()
        sent, missing, duplicates = self.count_sent(checked, n)
        result = {
            "n": n,
            "raw_insert_select_s": round(raw_s, 3),
            "materialize_s": round(materialize_s, 2),
            "end_to_end_s": round(end_to_end_s, 2),
            "messages_per_s": round(n / end_to_end_s),
            "ratio_to_raw": round(end_to_end_s / raw_s, 1) if raw_s else None,
            "sent_inapp": sent,
            "missing": missing,
            "duplicates": duplicates,
            "finished": finished,
            "workers": 2,
            "worker_peak_rss_mb": rss,
            **providers,
            "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        }
        self.stdout.write(
            f"checked: {sent:,} sent in-app, missing {missing}, duplicates {duplicates}; worker peak RSS {rss} MB"
        )
        self.stdout.write(json.dumps(result))

    # --- setup  ---
    def cleanup(self) -> None:
        for account in OfficialAccount.objects.filter(slug__startswith="bench-psend"):
            Notification.objects.filter(account=account).delete()
            for list_id in RecipientList.objects.filter(account=account).values_list("pk", flat=True):
                rowstore.drop(list_id)  # at once, not a DELETE of every row by the cascade
            RecipientList.objects.filter(account=account).delete()
            account.delete()
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {q(Citizen)} WHERE external_id LIKE %s", ["bps-%"])

    def account(self, slug: str):
        account = account_create(slug=f"{slug}-{int(time.time())}", name="Bench personal send")
        # no quiet hours: the benchmark must not depend on the hour it runs
        BroadcastSettings.objects.update_or_create(
            account=account, defaults={"quiet_start": dt.time(0), "quiet_end": dt.time(0)}
        )
        author, _raw = token_issue(account=account, name="author", scopes=ApiToken.ALL_SCOPES)
        approver, _raw = token_issue(account=account, name="approver", scopes=ApiToken.ALL_SCOPES)
        return account, author, approver

    def template(self, account, author, approver, **values):
        version = template_save(
            account=account,
            actor=Actor(token=author),
            key="bench",
            name="bench",
            body_vi=BODY_VI,
            body_en=BODY_EN,
            body_zh=BODY_ZH,
            link="https://example.gov.vn/lich-tiem",
            **values,
        )
        return template_approve(template=version.template, actor=Actor(token=approver))

    def checked_list(self, account, author, version, n: int, *, phone_offset: int) -> RecipientList:
        """A submitted list of ``n`` valid rows (phones +849<offset+g>), written as an upload stores them."""
        columns = placeholders(version.body_vi, version.body_en, version.body_zh, version.sms_text)
        recipient_list = RecipientList.objects.create(
            account=account,
            version=version,
            file_name="bench.csv",
            status=RecipientList.STATUS_PENDING,
            rows_total=n,
            author_token=author,
            columns=columns,
        )
        cells = {
            "name": "'Nguyễn Văn Người ' || g",
            "date": "'05/12/2026 08:00'",
            "place": "'Trạm y tế phường ' || (g %% 300)",
        }
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {q(ListRow)} (recipient_list_id, number, phone, citizen_ref, problems, channel, cost,"
                f" {', '.join(VALUE_COLUMNS[: len(columns)])}) SELECT %s, g + 1, '+849' || lpad((%s + g)::text, 8,"
                f" '0'), '', NULL, '', 0, {', '.join(cells[name] for name in columns)}"
                " FROM generate_series(1, %s) g",
                [recipient_list.pk, phone_offset, n],
            )
        return recipient_list

    def setup_followers_and_list(self, account, author, n: int) -> RecipientList:
        _author, approver = author, ApiToken.objects.get(account=account, name="approver")
        version = self.template(account, author, approver)
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {q(Citizen)} (account_id, channel, external_id, display_name, phone, language,"
                " created_at) SELECT NULL, 'web', 'bps-' || g, '', '+849' || lpad(g::text, 8, '0'),"
                " (ARRAY['vi','vi','vi','en','zh-hans'])[1 + g %% 5], %s FROM generate_series(1, %s) g",
                [now, n],
            )
            cursor.execute(
                f"INSERT INTO {q(Conversation)} (account_id, citizen_id, status, last_message_at, created_at)"
                f" SELECT %s, id, 'bot', %s, %s FROM {q(Citizen)} WHERE external_id LIKE 'bps-%%'",
                [account.pk, now, now],
            )
        checked = self.checked_list(account, author, version, n, phone_offset=0)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return checked

    def raw_insert_select(self, checked: RecipientList) -> float:
        """The list's rows into a table of the notification table's shape, timed alone (the floor)."""
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_raw_notification")
            cursor.execute(f"CREATE TABLE bench_raw_notification (LIKE {q(Notification)} INCLUDING ALL)")
            # the same foreign keys as the real table, checked at commit as Django's are
            for column, parent in (
                ("account_id", OfficialAccount),
                ("version_id", TemplateVersion),
                ("recipient_list_id", RecipientList),
            ):
                cursor.execute(
                    f"ALTER TABLE bench_raw_notification ADD FOREIGN KEY ({column}) REFERENCES {q(parent)} (id)"
                    " DEFERRABLE INITIALLY DEFERRED"
                )
        # the values as the notification keeps them, as materialize builds them
        pairs = ", ".join(f"%s, r.{column}" for column in VALUE_COLUMNS[: len(checked.columns)])
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_raw_notification (account_id, version_id, recipient_list_id, phone, citizen_ref,"
                " language, personalisation, body, reference, fingerprint, channel, tried_channels, status, reason,"
                " provider_message_id, segments, cost, created_at) SELECT %s, %s, %s, r.phone, '', 'vi',"
                f" jsonb_build_object({pairs}), '', '', '', '', '[]'::jsonb, 'queued', '', '', 0, 0, now()"
                f" FROM {q(ListRow)} r WHERE r.recipient_list_id = %s",
                [checked.account_id, checked.version_id, checked.pk, *checked.columns, checked.pk],
            )
        elapsed = time.monotonic() - started  # with the commit (its foreign-key checks), as the approval's
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_raw_notification")
        return elapsed

    def wait_sent(self, list_id: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = RecipientList.objects.filter(pk=list_id).values_list("status", flat=True).first()
            if status == RecipientList.STATUS_SENT:
                return True
            time.sleep(0.25)
        return False

    def count_sent(self, checked: RecipientList, n: int) -> tuple[int, int, int]:
        sent = Notification.objects.filter(recipient_list=checked, status="sent", channel="inapp").count()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT m.conversation_id FROM {q(Message)} m JOIN {q(Conversation)} c"
                " ON c.id = m.conversation_id WHERE c.account_id = %s GROUP BY m.conversation_id"
                " HAVING COUNT(*) > 1) d",
                [checked.account_id],
            )
            duplicates = cursor.fetchone()[0]
        return sent, n - sent, duplicates

    # --- ZNS and SMS at their rate limits  ---
    def providers_run(self, zns, sms, count: int, zns_rate: float, sms_rate: float) -> dict:
        account, author, approver = self.account("bench-psend-providers")
        version = self.template(account, author, approver, zns_template_id="bench-zns", zns_params={"ten": "name"})
        PersonalSettings.objects.create(account=account, channel_order=["zns", "sms"])
        zns_quota = count // 2  # the account's own ZNS quota: the rest goes by SMS
        for kind, provider, rate, quota in (("zns", zns, zns_rate, zns_quota), ("sms", sms, sms_rate, None)):
            ChannelConfig.objects.create(
                account=account,
                kind=kind,
                api_base=provider.url,
                rate_per_s=rate,
                burst=5,
                access_token="bench",
                daily_quota=quota,
            )
        # people known only by phone (no follower): every message goes through a provider
        checked = self.checked_list(account, author, version, count, phone_offset=50_000_000)
        t0 = time.monotonic()
        with transaction.atomic():
            list_approve(recipient_list=checked, actor=Actor(token=approver))
        finished = self.wait_sent(checked.pk, timeout=count / min(zns_rate, sms_rate) * 3 + 60)
        elapsed = time.monotonic() - t0
        out = {"providers_n": count, "providers_s": round(elapsed, 1), "providers_finished": finished}
        for name, provider, rate in (("zns", zns, zns_rate), ("sms", sms, sms_rate)):
            times = sorted(r["t"] for r in provider.requests)
            span = (times[-1] - times[0]) if len(times) > 1 else 0.0
            out[f"{name}_sent"] = sum(provider.successes.values())
            out[f"{name}_rate_limit"] = rate
            out[f"{name}_measured_rate"] = round((len(times) - 5) / span, 1) if span else 0.0  # burst 5 at once
            out[f"{name}_max_in_any_1s"] = max((sum(1 for t in times if s <= t < s + 1.0) for s in times), default=0)
            self.stdout.write(
                f"{name.upper()}: {out[f'{name}_sent']} sent, {out[f'{name}_measured_rate']}/s at a limit of {rate}/s"
                f" (max {out[f'{name}_max_in_any_1s']} in any second, burst 5)"
            )
        statuses = dict(
            Notification.objects.filter(recipient_list=checked).values_list("channel").annotate(n=Count("id"))
        )
        out["providers_channels"] = statuses
        return out
