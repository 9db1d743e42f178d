"""A burst of form submissions against the production-style server (uvicorn processes, ASGI, no DEBUG, the
configured database: PostgreSQL in DATABASE_URL), beside the trivial JSON view (/healthz) loaded the same way
in the same run: requests per second and p50/p99 latency of each, then the count: every submission has a new
client id and a new citizen, so the round must hold exactly as many responses, submissions and counted answers
as were sent, and resending a share of the client ids afterwards must store nothing more (200s).

The load comes from this process (asyncio + httpx, ``--concurrency`` requests in flight): the same client
measures both endpoints, so their ratio is fair even where the client is the limit. Prints a table and, last,
one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import uuid

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from oa_platform.collect.models import Response, Round, Submission, Tally
from oa_platform.collect.services import form_create
from oa_platform.local_server import cpu_seconds, free_port, uvicorn_command, wait_until_serving
from oa_platform.models import ApiToken
from oa_platform.services import account_get_or_create, token_issue

QUESTIONS = [
    {"key": "ok", "type": "yes_no", "label_vi": "Bạn khỏe không?", "required": True},
    {"key": "temp", "type": "number", "label_vi": "Nhiệt độ", "required": True, "min": 35, "max": 42},
    {
        "key": "where",
        "type": "choice",
        "label_vi": "Làm việc ở đâu?",
        "options": ["Tại cơ quan", "Ở nhà", "Nghỉ phép"],
    },
]
# Share of the client ids sent again after the burst (a phone retrying after a lost answer).
RESEND_SHARE = 0.1


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _load(base: str, requests: list[tuple[str, str, bytes | None]], concurrency: int, headers: dict) -> dict:
    """Send ``requests`` ((method, path, body)) with ``concurrency`` in flight; latencies and statuses."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies, statuses, errors = [], {}, 0
    queue = iter(requests)

    async def worker(client):
        nonlocal errors
        for method, path, body in queue:
            started = time.perf_counter()
            try:
                response = await client.request(method, path, content=body, headers=headers)
            except httpx.HTTPError:
                errors += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        duration = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "errors": errors,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "rps": round(len(latencies) / duration, 1) if duration else 0,
        "p50_ms": round(_percentile(latencies, 0.50), 2),
        "p99_ms": round(_percentile(latencies, 0.99), 2),
    }


class Command(BaseCommand):
    help = "Burst of form submissions beside the trivial JSON view against uvicorn; counts what was stored."

    def add_arguments(self, parser):
        parser.add_argument("--slug", default="bench-collect")
        parser.add_argument("--submissions", type=int, default=2000)
        parser.add_argument("--concurrency", type=int, default=50, help="requests in flight")
        parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")

    def handle(self, *args, **opts):
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        if engine != "postgresql":
            self.stderr.write("warning: not on PostgreSQL; set DATABASE_URL for the real figure")
        count, concurrency = opts["submissions"], opts["concurrency"]
        if count < 1 or concurrency < 1:
            raise CommandError("--submissions and --concurrency must be positive")
        account, _created = account_get_or_create(slug=opts["slug"], name="Bench collect")
        run = uuid.uuid4().hex[:8]
        form = form_create(account=account, key=f"bench-{run}", title_vi="Điểm danh sức khỏe", questions=QUESTIONS)
        round_ = Round.objects.get(form=form)
        _token, raw = token_issue(account=account, name=f"bench-collect-{run}", scopes=[ApiToken.SCOPE_FORMS_RESPOND])
        path = f"/api/v1/accounts/{account.slug}/forms/{form.pk}/responses/"
        options = [o["key"] for o in form.questions.get(key="where").options]
        submissions = []
        for i in range(count):
            answers = {"ok": i % 7 != 0, "temp": 36 + (i % 50) / 10, "where": options[i % 3]}
            body = {"citizen_id": f"bench-{run}-{i}", "client_id": str(uuid.uuid4()), "answers": answers}
            submissions.append(("POST", path, json.dumps(body).encode()))
        resends = submissions[: max(1, int(count * RESEND_SHARE))]
        headers = {"Authorization": f"Token {raw}", "Content-Type": "application/json"}

        port = free_port()
        env = dict(os.environ, DEBUG="0", LOG_LEVEL="WARNING")
        server = subprocess.Popen(uvicorn_command(port, workers=opts["workers"]), env=env, cwd=settings.BASE_DIR)
        try:
            try:
                wait_until_serving(port)
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc
            base = f"http://127.0.0.1:{port}"
            asyncio.run(_load(base, [("GET", "/healthz", None)] * 200, concurrency, {}))  # warm the pools
            before = cpu_seconds(server.pid)
            trivial = asyncio.run(_load(base, [("GET", "/healthz", None)] * count, concurrency, {}))
            middle = cpu_seconds(server.pid)
            burst = asyncio.run(_load(base, submissions, concurrency, headers))
            after = cpu_seconds(server.pid)
            resent = asyncio.run(_load(base, resends, concurrency, headers))
        finally:
            server.terminate()
            server.wait(timeout=20)
        for row, (start, end) in ((trivial, (before, middle)), (burst, (middle, after))):
            for key, name in (("web_cpu_ms", "server"), ("db_cpu_ms", "postgres")):
                if name in start and row["requests"]:
                    row[key] = round((end[name] - start[name]) * 1000 / row["requests"], 3)
        round_.refresh_from_db()
        stored = {
            "responses": Response.objects.filter(round=round_).count(),
            "submissions": Submission.objects.filter(response__round=round_).count(),
            "counter_responded": round_.responded,
            "tally_answered_ok": Tally.objects.filter(round=round_, question__key="ok", bucket="").first().count,
        }
        created = burst["statuses"].get("201", 0)
        exact = all(value == count for value in stored.values()) and created == count
        resends_ok = resent["statuses"] == {"200": len(resends)}
        self.stdout.write(f"{'endpoint':<30}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}  statuses")
        for name, row in (("trivial JSON view", trivial), ("form submissions (POST)", burst), ("resent ids", resent)):
            self.stdout.write(
                f"{name:<30}{row['rps']:>9}{row['p50_ms']:>9}{row['p99_ms']:>9}{row['errors']:>8}  {row['statuses']}"
            )
        self.stdout.write(
            f"sent {count} submissions ({concurrency} in flight, {opts['workers']} workers); stored {stored}; "
            f"resent {len(resends)} client ids: {'all 200, nothing stored' if resends_ok else resent['statuses']}"
        )
        ratio = round(burst["rps"] / trivial["rps"], 3) if trivial["rps"] else 0
        self.stdout.write(f"submissions/trivial requests per second: {ratio}; stored = sent: {exact and resends_ok}")
        result = {
            "database": engine,
            "workers": opts["workers"],
            "concurrency": concurrency,
            "submissions": count,
            "trivial": trivial,
            "burst": burst,
            "resent": resent,
            "stored": stored,
            "stored_equals_sent": exact and resends_ok,
            "ratio_rps": ratio,
        }
        self.stdout.write(json.dumps(result))
        if not (exact and resends_ok):
            raise CommandError("stored != sent")
