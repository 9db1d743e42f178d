"""Live-push benchmark: uvicorn (2 workers) + channels-redis, C WebSocket clients on /ws/oa/<slug>/ (C from env
CLIENTS, default "1000,5000,10000"). For each C: one notice is pushed with broadcasts.live.notice_push (ONE
group_send); every client records when its {"type": "notice"} frame arrives; p50/p99/max dispatch-to-receipt
latency, how many received it, and the channel-layer operations of the push (group_send calls, and Redis
commands executed during the push window) are reported. The last output line is one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from broadcasts.live import notice_push
from broadcasts.management.commands._benchsupport import require_bench_database, start, stop
from broadcasts.models import Notice
from oa_platform import web_identity
from oa_platform.local_server import free_port, uvicorn_command, wait_until_serving
from oa_platform.models import Citizen, Follow
from oa_platform.ratelimit import redis_client
from oa_platform.services import account_get_or_create

CONNECT_CONCURRENCY = 200


def _q(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(pct / 100.0 * (len(values) - 1))))]


class Command(BaseCommand):
    help = "Benchmark live notice push to many WebSocket clients (uvicorn + channels-redis)."

    def handle(self, *args, **options):
        require_bench_database()
        call_command("migrate", verbosity=0)
        sizes = [int(x) for x in os.environ.get("CLIENTS", "1000,5000,10000").split(",") if x.strip()]
        account, _ = account_get_or_create(slug="bench-live", name="Bench live")
        biggest = max(sizes)
        self.setup(account, biggest)
        port = free_port()
        logdir = Path(tempfile.mkdtemp(prefix="bench_live_"))
        server = start(uvicorn_command(port, workers=2, extra=("--ws-max-queue", "64")), logdir / "uvicorn.log")
        results = []
        try:
            wait_until_serving(port, timeout=60)
            for size in sizes:
                result = asyncio.run(self.round(account, port, size))
                results.append(result)
                self.stdout.write(
                    f"{size:>6} clients: connected {result['connected']}, received {result['received']},"
                    f" p50 {result['p50_s']:.3f}s p99 {result['p99_s']:.3f}s max {result['max_s']:.3f}s;"
                    f" group_send calls {result['group_sends']}, redis commands {result['redis_commands']}"
                )
        finally:
            stop(server)
        self.stdout.write(json.dumps({"rounds": results}))

    def setup(self, account, n: int) -> None:
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {_q(Follow)} WHERE account_id = %s", [account.pk])
            cursor.execute(
                f"INSERT INTO {_q(Citizen)} (channel, external_id, display_name, phone, language, created_at)"
                " SELECT 'web', 'w_bench-live-' || g, '', '', 'vi', %s FROM generate_series(1, %s) g"
                " ON CONFLICT (channel, external_id) WHERE account_id IS NULL DO NOTHING",
                [now, n],
            )
            cursor.execute(
                f"INSERT INTO {_q(Follow)} (account_id, citizen_id, is_active, followed_at)"
                f" SELECT %s, id, true, %s FROM {_q(Citizen)} WHERE external_id LIKE %s",
                [account.pk, now, "w_bench-live-%"],
            )

    async def round(self, account, port: int, size: int) -> dict:
        from asgiref.sync import sync_to_async
        from websockets.asyncio.client import connect

        url = f"ws://127.0.0.1:{port}/ws/oa/{account.slug}/"
        origin = f"http://127.0.0.1:{port}"
        received: dict[int, float] = {}
        ready = asyncio.Event()
        done = asyncio.Event()
        sockets = []
        semaphore = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def client(i: int):
            cookie = f"{web_identity.COOKIE_NAME}={web_identity.signed_cookie_value(f'w_bench-live-{i}')}"
            async with semaphore:
                try:
                    ws = await connect(url, origin=origin, additional_headers={"Cookie": cookie}, open_timeout=60)
                except Exception:  # noqa: BLE001 - counted as not connected
                    return
            sockets.append(ws)
            try:
                async for frame in ws:
                    data = json.loads(frame)
                    if data.get("type") == "notice":
                        received[i] = time.time()
                        if len(received) >= len(sockets) and ready.is_set():
                            done.set()
                        return
            except Exception:  # noqa: BLE001
                return

        tasks = [asyncio.create_task(client(i)) for i in range(1, size + 1)]
        started = time.monotonic()
        while sum(1 for _ in sockets) < size and time.monotonic() - started < 300:
            if all(t.done() for t in tasks):
                break
            await asyncio.sleep(0.5)
        connect_s = time.monotonic() - started
        await asyncio.sleep(1.0)  # let the last consumers finish joining their groups
        ready.set()

        notice = await sync_to_async(self.make_notice)(account)
        client_redis = redis_client()
        before = self.redis_calls(client_redis)
        group_sends = await sync_to_async(self.push_counting)(notice.pk)
        dispatched_at = self.dispatched_at
        try:
            await asyncio.wait_for(done.wait(), timeout=60)
        except TimeoutError:
            pass
        after = self.redis_calls(client_redis)
        latencies = [t - dispatched_at for t in received.values()]
        for ws in sockets:
            await ws.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return {
            "clients": size,
            "connected": len(sockets),
            "connect_s": round(connect_s, 1),
            "received": len(received),
            "p50_s": round(_percentile(latencies, 50), 4),
            "p99_s": round(_percentile(latencies, 99), 4),
            "max_s": round(max(latencies) if latencies else float("nan"), 4),
            "group_sends": group_sends,
            "redis_commands": after - before,
        }

    def make_notice(self, account) -> Notice:
        return Notice.objects.create(
            account=account,
            category="general",
            severity="extreme",
            title_vi="Cảnh báo",
            body_vi="Thử nghiệm phát trực tiếp.",
            audience_all=True,
            status=Notice.STATUS_SENDING,
            started_at=timezone.now(),
        )

    def push_counting(self, notice_id: int) -> int:
        """notice_push with the channel layer's group_send counted."""
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        original = layer.group_send
        calls = 0

        async def counting(group, message):
            nonlocal calls
            calls += 1
            return await original(group, message)

        layer.group_send = counting
        try:
            self.dispatched_at = time.time()
            notice_push(notice_id=notice_id)
        finally:
            layer.group_send = original
        return calls

    @staticmethod
    def redis_calls(client) -> int:
        stats = client.info("commandstats")
        return sum(v.get("calls", 0) for k, v in stats.items() if k != "cmdstat_info")
