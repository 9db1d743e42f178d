"""Chat API under load: p50/p99 latency and requests per second of POST /api/v1/accounts/<slug>/messages/
beside a trivial Django JSON view (/healthz), both served the same way in the same run by the
production-style server (uvicorn, ASGI, no DEBUG) on the configured database (PostgreSQL in DATABASE_URL).

Beside each run: the CPU it cost per request, from /proc, of the server processes ("web") and of PostgreSQL
("db"), the load generator not included. ``--breakdown`` adds two runs of the same endpoint refused before any
chat work (an unknown token: 401; a valid token with an empty text: 400), which show what the API's own
framework costs before a message is matched or stored.

Needs ``wrk`` (Debian: apt-get install wrk). Prints a table and, last, one JSON line.
"""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from oa_platform.local_server import LUA_REPORT, free_port, uvicorn_command, wait_until_serving, wrk_run, wrk_table
from oa_platform.models import ApiToken, Conversation, OfficialAccount
from oa_platform.services import token_issue

QUERIES = Path(settings.BASE_DIR).parent / "shared" / "faq" / "queries_dev.jsonl"

LUA_REFUSED = """
request = function()
  return wrk.format("POST", "/api/v1/accounts/%s/messages/",
    {["Content-Type"] = "application/json", ["Authorization"] = "Token %s"}, '{"citizen_id": "bench-1", "text": "%s"}')
end
"""

LUA_POST = """
local questions = {%s}
local citizens = %d
local counter = 0
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
init = function(args)
  -- wrk's Lua starts every thread with the same random sequence: seed per run and thread
  math.randomseed(os.time() * 100 + (tid or 0))
  run = tostring(os.time()) .. "-" .. tostring(tid or 0)
end
request = function()
  counter = counter + 1
  local q = questions[(counter %% #questions) + 1]
  local citizen
  if citizens > 0 then
    citizen = "bench-" .. math.random(1, citizens)
  else
    citizen = "new-" .. run .. "-" .. counter
  end
  local body = '{"citizen_id": "' .. citizen .. '", "text": ' .. q .. '}'
  return wrk.format("POST", "/api/v1/accounts/%s/messages/",
    {["Content-Type"] = "application/json", ["Authorization"] = "Token %s"}, body)
end
"""


class Command(BaseCommand):
    help = "Load-test the chat API beside a trivial JSON view with wrk against uvicorn."

    def add_arguments(self, parser):
        parser.add_argument("--slug", default="congan-hcm")
        parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
        parser.add_argument("--connections", type=int, default=32)
        parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
        parser.add_argument("--queries", default=str(QUERIES))
        parser.add_argument(
            "--citizens",
            type=int,
            default=0,
            help="0 (default): every chat request is a new citizen's first message; N: each request comes from "
            "a citizen drawn at random from a pool of N who keep writing (e.g. 200)",
        )
        parser.add_argument(
            "--breakdown",
            action="store_true",
            help="also load the endpoint with requests refused before any chat work (unknown token, empty text)",
        )

    def handle(self, *args, **opts):
        wrk = shutil.which("wrk")
        if wrk is None:
            raise CommandError("wrk is not installed (Debian: apt-get install wrk)")
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        if engine != "postgresql":
            self.stderr.write("warning: not on PostgreSQL; set DATABASE_URL for the real figure")
        call_command("import_faqs", str(Path(settings.BASE_DIR) / "oa_platform" / "fixtures" / "faq_corpus.json"))
        account = OfficialAccount.objects.get(slug=opts["slug"])
        _token, raw = token_issue(account=account, name="bench-chat", scopes=[ApiToken.SCOPE_CHAT])
        texts = [json.loads(line)["text"] for line in Path(opts["queries"]).read_text().splitlines() if line.strip()]
        texts = [t for t in texts if t] or ["lam cccd o dau"]
        lua_questions = ", ".join("[==[" + json.dumps(t, ensure_ascii=False) + "]==]" for t in texts)

        port = free_port()
        env = dict(os.environ, CHAT_RATE_CITIZEN="100000000", CHAT_RATE_IP="100000000", DEBUG="0", LOG_LEVEL="WARNING")
        server = subprocess.Popen(uvicorn_command(port, workers=opts["workers"]), env=env, cwd=settings.BASE_DIR)
        try:
            try:
                wait_until_serving(port)
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc
            with tempfile.TemporaryDirectory() as tmp:
                report = Path(tmp) / "report.lua"
                report.write_text(LUA_REPORT)
                post = Path(tmp) / "post.lua"
                post.write_text(LUA_POST % (lua_questions, max(0, opts["citizens"]), opts["slug"], raw) + LUA_REPORT)
                base = f"http://127.0.0.1:{port}"
                args = ["-t", "2", "-c", str(opts["connections"]), "-d", f"{opts['duration']}s", "--timeout", "10s"]
                # warm both paths (index build, connection pools) before measuring
                self._wrk(wrk, [*args[:4], "-d", "3s", "-s", str(post), base])
                trivial = self._wrk(wrk, [*args, "-s", str(report), base + "/healthz"], server.pid)
                conversations = Conversation.objects.filter(account=account).count()
                chat = self._wrk(wrk, [*args, "-s", str(post), base], server.pid)
                new_citizens = Conversation.objects.filter(account=account).count() - conversations
                refused = {}
                if opts["breakdown"]:
                    for name, token, text in (
                        ("unknown token (401)", "nope", "lam cccd o dau"),
                        ("empty text (400)", raw, ""),
                    ):
                        script = Path(tmp) / "refused.lua"
                        script.write_text(LUA_REFUSED % (opts["slug"], token, text) + LUA_REPORT)
                        refused[name] = self._wrk(wrk, [*args, "-s", str(script), base], server.pid)
        finally:
            server.terminate()
            server.wait(timeout=20)
        rows = {"trivial JSON view": trivial, "chat API (POST messages)": chat, **refused}
        ratio = round(chat["rps"] / trivial["rps"], 3) if trivial["rps"] else 0
        for line in wrk_table(rows, width=28):
            self.stdout.write(line)
        traffic = (
            f"citizens drawn at random from a pool of {opts['citizens']}"
            if opts["citizens"] > 0
            else "a new citizen per request"
        )
        self.stdout.write(
            f"chat traffic: {traffic}; {new_citizens} of {chat['requests']} chat requests opened a new conversation"
        )
        self.stdout.write(f"chat/trivial requests per second: {ratio} (target >= 0.5)")
        result = {
            "database": engine,
            "workers": opts["workers"],
            "connections": opts["connections"],
            "citizens": opts["citizens"],
            "new_citizens": new_citizens,
            "trivial": trivial,
            "chat": chat,
            "refused": refused,
            "ratio_rps": ratio,
        }
        self.stdout.write(json.dumps(result))

    def _wrk(self, wrk: str, args: list[str], server_pid: int | None = None) -> dict:
        try:
            return wrk_run(wrk, args, server_pid)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
