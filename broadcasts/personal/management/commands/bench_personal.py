"""Benchmark: check and store an uploaded recipient list of N rows, beside a raw COPY of the same file into a
table of the same shape, in the same run; and the memory of the process while it streams the file.

    DATABASE_URL=postgres://.../oa_bench python manage.py bench_personal --rows 100000

Creates its own account (deleted at the end); needs PostgreSQL (COPY) in a database whose name says bench.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import threading
import time
from pathlib import Path
from statistics import median

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from broadcasts.personal import rowstore
from broadcasts.personal.dispatch import SEND_CHUNK, send_list_chunk
from broadcasts.personal.lists import list_approve, list_check, list_plan, list_submit, list_upload
from broadcasts.personal.models import ListRow, Notification, RecipientList
from broadcasts.personal.services import template_approve, template_save
from broadcasts.services import Actor
from oa_platform.models import ApiToken, ChannelConfig, Citizen, Conversation, OfficialAccount
from oa_platform.services import account_create, token_issue

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
BODY = "Chào ((name)), lịch tiêm của ông/bà: ((date)) tại ((place))."


def rss_mb() -> float:
    """Resident memory of this process now (Linux /proc)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE_KB / 1024


class RssSampler(threading.Thread):
    """The largest RSS seen, sampled every 20 ms while the measured code runs."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = rss_mb()
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def stop(self) -> float:
        self.done.set()
        self.join()
        return max(self.peak, rss_mb())


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["phone", "name", "date", "place"])
        for i in range(rows):
            # distinct valid Vietnamese mobile numbers (09x xxx xxxx), Vietnamese names and places
            writer.writerow([f"09{i:08d}", f"Nguyễn Văn Người {i}", "05/12/2026 08:00", f"Trạm y tế phường {i % 300}"])


class Command(BaseCommand):
    help = "Recipient list: check + store N rows vs a raw COPY of the same file (ratio), and streaming memory."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument(
            "--repeat",
            type=int,
            default=3,
            help="rounds, each a raw COPY (unlogged, logged) then a check + store: the medians are compared",
        )
        parser.add_argument(
            "--send",
            type=int,
            default=0,
            help="also approve a list of this many web-page followers and send it in-app in this process",
        )

    def handle(self, *args, rows: int, repeat: int, send: int, **options):
        db = settings.DATABASES["default"]
        if db["ENGINE"] != "django.db.backends.postgresql" or "bench" not in db["NAME"]:
            raise CommandError("Run against a PostgreSQL database named *bench* (e.g. DATABASE_URL=.../oa_bench).")
        copies, logged, uploads, plans, peaks = [], [], [], [], []
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "list.csv"
            write_csv(path, rows)
            size_mb = path.stat().st_size / 1024 / 1024
            # the machine is noisy: rounds alternate the baseline and the measured code, medians are compared
            for _round in range(max(repeat, 1)):
                copies.append(self.raw_copy(path, unlogged=True))
                logged.append(self.raw_copy(path, unlogged=False))
                upload_s, plan_s, stored, start_mb, peak_mb = self.upload(path)
                uploads.append(upload_s)
                plans.append(plan_s)
                peaks.append(peak_mb - start_mb)
        copy_s, logged_s, upload_s = median(copies), median(logged), median(uploads)
        self.stdout.write(
            f"rows={rows} file={size_mb:.1f}MB  medians of {len(uploads)} rounds: raw COPY {copy_s:.2f}s unlogged "
            f"table ({rows / copy_s:,.0f} rows/s), {logged_s:.2f}s logged table  check+store {upload_s:.2f}s "
            f"({rows / upload_s:,.0f} rows/s, {stored} stored)  ratio {upload_s / copy_s:.2f}x "
            f"(vs logged {upload_s / logged_s:.2f}x)  plan {median(plans):.2f}s (separate step, every row on SMS "
            f"priced per segment)  RSS +{max(peaks):.0f}MB at most (from {start_mb:.0f}MB)"
        )
        for i, (c, g, u) in enumerate(zip(copies, logged, uploads, strict=True), start=1):
            self.stdout.write(
                f"  round {i}: raw {c:.2f}s / logged {g:.2f}s, check+store {u:.2f}s ({u / g:.2f}x logged)"
            )
        if send:
            sent, send_s = self.send_inapp(send)
            self.stdout.write(
                f"send in-app: {sent} of {send} sent in {send_s:.2f}s ({sent / send_s:,.0f} messages/s, one process)"
            )

    def send_inapp(self, count: int) -> tuple[int, float]:
        """Approve a list of ``count`` web-page followers and send it, chunk by chunk, in this process: the time
        from approval to the last message in the citizens' conversations."""
        account = account_create(slug=f"bench-send-{int(time.time())}", name="Bench send")
        try:
            citizens = Citizen.objects.bulk_create(
                Citizen(channel=Citizen.CHANNEL_WEB, external_id=f"bench-{account.pk}-{i}", phone=f"+8490{i:07d}")
                for i in range(count)
            )
            Conversation.objects.bulk_create(Conversation(account=account, citizen=c) for c in citizens)
            author, _raw = token_issue(account=account, name="author", scopes=ApiToken.ALL_SCOPES)
            approver, _raw = token_issue(account=account, name="approver", scopes=ApiToken.ALL_SCOPES)
            version = template_save(account=account, actor=Actor(token=author), key="bench", name="b", body_vi=BODY)
            template_approve(template=version.template, actor=Actor(token=approver))
            lines = ["phone,name,date,place"] + [f"+8490{i:07d},Người {i},05/12,Trạm {i % 30}" for i in range(count)]
            data = io.BytesIO("\n".join(lines).encode())
            checked = list_upload(
                account=account, actor=Actor(token=author), template_key="bench", fileobj=data, file_name="s.csv"
            )
            list_submit(recipient_list=checked, actor=Actor(token=author))
            started = time.perf_counter()
            # approving creates the notifications and, on commit, enqueues the chunk tasks (run in this process
            # when there is no broker); the loop below sends whatever a broker would hold, in this process
            with transaction.atomic():
                list_approve(recipient_list=checked, actor=Actor(token=approver))
            ids = list(Notification.objects.filter(recipient_list=checked).order_by("id").values_list("id", flat=True))
            for first in range(0, len(ids), SEND_CHUNK):
                chunk = ids[first : first + SEND_CHUNK]
                send_list_chunk(checked.pk, chunk[0], chunk[-1])
            elapsed = time.perf_counter() - started
            sent = Notification.objects.filter(recipient_list=checked, status=Notification.STATUS_SENT).count()
            return sent, elapsed
        finally:
            Citizen.objects.filter(external_id__startswith=f"bench-{account.pk}-").delete()
            OfficialAccount.objects.filter(pk=account.pk).delete()

    def raw_copy(self, path: Path, *, unlogged: bool) -> float:
        """COPY of the file into a table of the file's shape (one text column per CSV column): unlogged (no WAL,
        the cheapest) or logged (as durable as the stored list rows)."""
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_personal_copy")
            cursor.execute(
                f"CREATE {'UNLOGGED ' if unlogged else ''}TABLE bench_personal_copy "
                "(phone text, name text, date text, place text)"
            )
            started = time.perf_counter()
            with (
                path.open("rb") as handle,
                cursor.copy("COPY bench_personal_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            ):
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
            elapsed = time.perf_counter() - started
            cursor.execute("DROP TABLE bench_personal_copy")
        return elapsed

    def upload(self, path: Path) -> tuple[float, float, int, float, float]:
        account = account_create(slug=f"bench-personal-{int(time.time())}", name="Bench personal")
        try:
            author, _raw = token_issue(account=account, name="author", scopes=ApiToken.ALL_SCOPES)
            approver, _raw = token_issue(account=account, name="approver", scopes=ApiToken.ALL_SCOPES)
            version = template_save(account=account, actor=Actor(token=author), key="bench", name="b", body_vi=BODY)
            template_approve(template=version.template, actor=Actor(token=approver))
            # SMS configured (no provider is called): every row is planned on SMS and priced per segment (its
            # Vietnamese text is UCS-2, two segments), the plan's worst case: every row gets a channel
            ChannelConfig.objects.create(account=account, kind="sms", api_base="http://127.0.0.1:9", access_token="b")
            sampler = RssSampler()
            start_mb = rss_mb()
            sampler.start()
            started = time.perf_counter()
            with path.open("rb") as handle, transaction.atomic():
                checked = list_check(
                    account=account, actor=Actor(token=author), template_key="bench", fileobj=handle, file_name="l.csv"
                )
            elapsed = time.perf_counter() - started
            started = time.perf_counter()
            checked = list_plan(recipient_list=checked, actor=Actor(token=author))
            plan_s = time.perf_counter() - started
            peak_mb = sampler.stop()  # over check, store and plan
            stored = ListRow.objects.filter(recipient_list=checked).count()
            if checked.rows_invalid:
                raise CommandError(f"{checked.rows_invalid} rows invalid: {checked.problems}")
            if checked.planned != {"sms": stored}:
                raise CommandError(f"planned {checked.planned}, expected every row on SMS")
            return elapsed, plan_s, stored, start_mb, peak_mb
        finally:
            for list_id in RecipientList.objects.filter(account=account).values_list("pk", flat=True):
                rowstore.drop(list_id)  # at once, not a DELETE of every row by the cascade
            OfficialAccount.objects.filter(pk=account.pk).delete()
