"""The transactional API of personal notices under load, beside the chat endpoint and a trivial Django JSON view
(/healthz), all in the same run on the same production-style server (uvicorn --workers 2, ASGI, no DEBUG) and
database (PostgreSQL in a database named *bench*; Redis for the Celery broker):

- ``POST /api/v1/accounts/<slug>/notifications/``: each request a new client reference; the recipient's phone is
  a web-page follower's (in-app) or, every ``--phone-only``-th request, a new phone known on no channel;
- ``GET /api/v1/accounts/<slug>/notifications/<id>/``: one of the notifications just created, with its history.

The POST stores the notification and its first status and enqueues its send task (Redis); no worker runs, so the
figure is the API's own cost, and the tasks are purged from the broker at the end. Prints a table (req/s, p50,
p99, errors, CPU per request of the server and of PostgreSQL from /proc) and the ratios, then one JSON line.

    DATABASE_URL=postgres://.../oa_bench REDIS_URL=redis://127.0.0.1:6379/N python manage.py bench_personal_api

Needs ``wrk`` (Debian: apt-get install wrk).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from broadcasts.management.commands._benchsupport import require_bench_database
from broadcasts.personal.models import Notification, Template
from broadcasts.personal.services import template_approve, template_save
from broadcasts.services import Actor
from oa_platform.celery import app as celery_app
from oa_platform.local_server import LUA_REPORT, free_port, uvicorn_command, wait_until_serving, wrk_run, wrk_table
from oa_platform.management.commands.bench_chat import LUA_POST, QUERIES
from oa_platform.models import ApiToken, Citizen, OfficialAccount
from oa_platform.services import citizen_conversation_get_or_create, token_issue

SLUG = "congan-hcm"  # the account of the FAQ corpus: the chat endpoint needs its entries
TEMPLATE = "bench-appointment"
BODY = "Chào ((name)), lịch tiêm của ông/bà: ((date)) tại ((place))."
FOLLOWER_PHONE = "+84900000001"

LUA_NOTIFY = """
local counter = 0
local threads = 0
local phone_only = %d
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
init = function(args)
  run = tostring(os.time()) .. "-" .. tostring(tid or 0)
end
request = function()
  counter = counter + 1
  local phone = "%s"
  if phone_only > 0 and counter %% phone_only == 0 then
    -- a new Vietnamese mobile number per request, known on no channel (the plan falls to ZNS or SMS)
    phone = "+849" .. tostring(tid or 0) .. string.format("%%07d", counter %% 10000000)
  end
  local body = '{"template": "%s", "phone": "' .. phone .. '", "personalisation": {"name": "Nguyễn Văn An '
    .. counter .. '", "date": "05/12/2026 08:00", "place": "Trạm y tế phường 1"}, "reference": "bench-'
    .. run .. '-' .. counter .. '"}'
  return wrk.format("POST", "/api/v1/accounts/%s/notifications/",
    {["Content-Type"] = "application/json", ["Authorization"] = "Token %s"}, body)
end
"""

LUA_DETAIL = """
local low, high = %d, %d
init = function(args)
  math.randomseed(os.time() * 100 + (tid or 0))
end
request = function()
  return wrk.format("GET", "/api/v1/accounts/%s/notifications/" .. math.random(low, high) .. "/",
    {["Authorization"] = "Token %s"})
end
"""


class Command(BaseCommand):
    help = "Load-test the personal notification API beside the chat API and a trivial JSON view (wrk, uvicorn)."

    def add_arguments(self, parser):
        parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
        parser.add_argument("--connections", type=int, default=32)
        parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
        parser.add_argument("--queries", default=str(QUERIES), help="the chat texts (bench_chat's)")
        parser.add_argument(
            "--phone-only",
            type=int,
            default=4,
            help="every Nth notification goes to a new phone known on no channel (0: all to the follower)",
        )

    def handle(self, *args, **opts):
        require_bench_database()
        wrk = shutil.which("wrk")
        if wrk is None:
            raise CommandError("wrk is not installed (Debian: apt-get install wrk)")
        call_command("import_faqs", str(Path(settings.BASE_DIR) / "oa_platform" / "fixtures" / "faq_corpus.json"))
        account = OfficialAccount.objects.get(slug=SLUG)
        raw = self._prepare(account)
        texts = [json.loads(line)["text"] for line in Path(opts["queries"]).read_text().splitlines() if line.strip()]
        texts = [t for t in texts if t] or ["lam cccd o dau"]
        lua_questions = ", ".join("[==[" + json.dumps(t, ensure_ascii=False) + "]==]" for t in texts)
        before = Notification.objects.filter(account=account).order_by("-id").values_list("id", flat=True).first()

        port = free_port()
        env = dict(os.environ, CHAT_RATE_CITIZEN="100000000", CHAT_RATE_IP="100000000", DEBUG="0", LOG_LEVEL="WARNING")
        server = subprocess.Popen(uvicorn_command(port, workers=opts["workers"]), env=env, cwd=settings.BASE_DIR)
        rows: dict[str, dict] = {}
        try:
            try:
                wait_until_serving(port)
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc
            with tempfile.TemporaryDirectory() as tmp:
                scripts = {
                    "report": LUA_REPORT,
                    "chat": LUA_POST % (lua_questions, 0, SLUG, raw) + LUA_REPORT,
                    "notify": LUA_NOTIFY % (opts["phone_only"], FOLLOWER_PHONE, TEMPLATE, SLUG, raw) + LUA_REPORT,
                }
                paths = {}
                for name, text in scripts.items():
                    paths[name] = Path(tmp) / f"{name}.lua"
                    paths[name].write_text(text)
                base = f"http://127.0.0.1:{port}"
                args = ["-t", "2", "-c", str(opts["connections"]), "-d", f"{opts['duration']}s", "--timeout", "10s"]
                warm = [*args[:4], "-d", "3s"]
                # warm every path (the FAQ index, connection pools) before measuring
                self._wrk(wrk, [*warm, "-s", str(paths["chat"]), base])
                self._wrk(wrk, [*warm, "-s", str(paths["notify"]), base])
                healthz = base + "/healthz"
                rows["trivial JSON view"] = self._wrk(wrk, [*args, "-s", str(paths["report"]), healthz], server)
                rows["chat (POST messages)"] = self._wrk(wrk, [*args, "-s", str(paths["chat"]), base], server)
                created = Notification.objects.filter(account=account, reference__startswith="bench-")
                low = created.filter(pk__gt=before or 0).order_by("id").values_list("id", flat=True).first()
                rows["notify (POST notifications)"] = self._wrk(wrk, [*args, "-s", str(paths["notify"]), base], server)
                high = created.order_by("-id").values_list("id", flat=True).first()
                detail = Path(tmp) / "detail.lua"
                detail.write_text(LUA_DETAIL % (low, high, SLUG, raw) + LUA_REPORT)
                rows["status (GET notification)"] = self._wrk(wrk, [*args, "-s", str(detail), base], server)
        finally:
            server.terminate()
            server.wait(timeout=20)
            stored = Notification.objects.filter(account=account, reference__startswith="bench-").count()
            purged = celery_app.control.purge()  # the send tasks the POSTs enqueued (no worker ran)
            Notification.objects.filter(account=account, reference__startswith="bench-").delete()
        self._print(rows, opts, stored, purged)

    def _prepare(self, account: OfficialAccount) -> str:
        """An approved template (written by one token, approved by another), a web-page follower with a phone,
        and the token the load uses (chat and notifications:write). Returns the raw token."""
        Template.objects.filter(account=account, key=TEMPLATE).delete()
        Notification.objects.filter(account=account, reference__startswith="bench-").delete()
        author, _ = token_issue(account=account, name="bench-author", scopes=[ApiToken.SCOPE_NOTIFICATIONS_WRITE])
        approver, _ = token_issue(account=account, name="bench-approver", scopes=[ApiToken.SCOPE_NOTIFICATIONS_APPROVE])
        version = template_save(account=account, actor=Actor(token=author), key=TEMPLATE, name="Bench", body_vi=BODY)
        template_approve(template=version.template, actor=Actor(token=approver))
        citizen_conversation_get_or_create(
            account=account, channel=Citizen.CHANNEL_WEB, external_id="bench-follower", phone=FOLLOWER_PHONE
        )
        scopes = [ApiToken.SCOPE_CHAT, ApiToken.SCOPE_NOTIFICATIONS_WRITE]
        _token, raw = token_issue(account=account, name="bench-personal-api", scopes=scopes)
        return raw

    def _wrk(self, wrk: str, args: list[str], server: subprocess.Popen | None = None) -> dict:
        try:
            return wrk_run(wrk, args, server.pid if server else None)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc

    def _print(self, rows: dict[str, dict], opts: dict, stored: int, purged: int) -> None:
        for line in wrk_table(rows, width=30):
            self.stdout.write(line)
        trivial, chat, notify, detail = (rows[k] for k in rows)

        def ratio(a: dict, b: dict) -> float:
            return round(a["rps"] / b["rps"], 3) if b["rps"] else 0.0

        ratios = {
            "chat/trivial": ratio(chat, trivial),
            "notify/trivial": ratio(notify, trivial),
            "notify/chat": ratio(notify, chat),
            "status/trivial": ratio(detail, trivial),
        }
        self.stdout.write("requests per second: " + ", ".join(f"{k} {v}" for k, v in ratios.items()))
        self.stdout.write(
            f"notifications stored by the run: {stored} (POSTs answered 201: {notify['requests'] - notify['non2xx']} "
            f"+ warm-up); send tasks purged from the broker: {purged}; load average: {_loadavg()}"
        )
        result = {
            "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            "workers": opts["workers"],
            "connections": opts["connections"],
            "phone_only_every": opts["phone_only"],
            "rows": rows,
            "ratios": ratios,
            "stored": stored,
        }
        self.stdout.write(json.dumps(result))


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"
