"""A burst of form submissions against the production-style server (uvicorn processes, ASGI, no DEBUG, the
configured database: PostgreSQL in DATABASE_URL, Redis for the channel layer), beside the trivial JSON view
(/healthz) loaded the same way by the same client at the same concurrency in the same run: requests per second
and p50/p99 latency of each, then the count: every submission has a new client id and a new citizen, so the round
must hold exactly as many responses, submissions and counted answers as were sent, every client id answered 201
must be stored exactly once, and resending a share of the client ids afterwards must store nothing more (200s).

Two load generators:
- ``--client wrk`` (the default when wrk is installed; Debian: apt-get install wrk): the issue's burst, e.g.
  ``--submissions 100000 --concurrency 10000``. A Lua script builds each body with its own client id and
  citizen (run, wrk thread, counter), each thread stops after its share (a delay parks its finished
  connections), and every 201 writes its client id to a file that is checked against the database.
- ``--client python`` (asyncio + httpx in this process): small runs and the test suite; on this 2-core machine
  it is the bottleneck long before the server is.

With wrk, a WebSocket client subscribed to the form's live results (as the console page is: /ws/staff/<slug>/
forms/<id>/, then the page's results block over HTTP on each push) records when the final count first shows;
its delay after the last submission's response (the time its wrk thread finished) is reported (the issue's bound: 2 s).
The process raises its open-files limit to the hard limit (wrk and uvicorn inherit it) and starts uvicorn with
``--backlog`` (the kernel caps it at net.core.somaxconn, printed) and a keep-alive longer than the run, so that
parked connections are not closed under wrk. Prints a table and, last, one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import websockets
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.management.base import BaseCommand, CommandError

from oa_platform.collect.models import Response, Round, Submission, Tally
from oa_platform.collect.services import form_create
from oa_platform.local_server import cpu_seconds, free_port, uvicorn_command, wait_until_serving
from oa_platform.models import ApiToken, Membership
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
# The statuses the wrk script counts one by one (any other is counted as "other").
WRK_CODES = (200, 201, 400, 403, 404, 409, 413, 429, 500, 502, 503, 504)
# How long the live page may take to show the final count before the run gives up watching (the bound is 2 s).
LIVE_WATCH_S = 15.0
# A wrk run is stopped after this many seconds whatever happens (each thread normally stops after its share): an
# hour, as 100,000 submissions at 40 a second on a loaded machine took more than the 30 minutes it was before.
WRK_CAP_S = 3600
# A request unanswered after this long is a wrk timeout (an error). 10,000 clients over a few dozen answers a second
# wait minutes each (p99 382 s in a 100,000 run). wrk sizes its latency histogram by it (8 bytes per microsecond:
# an hour asked for 28.8 GB and wrk stopped).
WRK_TIMEOUT_S = 1200

# One wrk script for the three loads. Each thread sends ``share`` requests and stops once all are answered; a
# connection that finishes after the thread's share is out is parked (delay) rather than sent anything more.
# mode "post": a submission whose client id, citizen and answers come from (run, thread, counter), so the resend
# run (same run, same threads) rebuilds the very same bodies; every 201/200 writes "<status> <client id>" to
# ids-<thread>.txt in ``dir`` (with ``record``). mode "get": ``path`` as is. A thread that is done leaves
# done-<thread> in ``dir``: its time is the thread's last response.
LUA_BURST = """
local mode, path, token, total, run = "%(mode)s", "%(path)s", "%(token)s", %(total)d, "%(run)s"
local dir, record = "%(dir)s", %(record)s
local options = {%(options)s}
local codes = {%(codes)s}
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
init = function(args)
  share = math.floor(total / %(threads)d) + ((tid <= total %% %(threads)d) and 1 or 0)
  issued, reserved, extra, answered, other, lost, started = 0, 0, 0, 0, 0, 0, false
  for _, c in ipairs(codes) do _G["s" .. c] = 0 end
  if record then
    ids = io.open(dir .. "/ids-" .. tid .. ".txt", "w")
    ids:setvbuf("line")
  end
end
delay = function()
  started = true
  if issued + reserved >= share then return 3600000 end
  reserved = reserved + 1
  return 0
end
-- Every request wrk sends comes after its delay() (the first of each connection too). A request() before any
-- delay() is wrk checking the script in the first thread (never sent): not counted. After that, one without its
-- delay() comes from a connection reconnected after a read or write error, which lost the request it carried
-- (no response() will come for it): so many are not waited for.
request = function()
  if not started then return wrk.format("GET", "/healthz") end
  if reserved > 0 then reserved = reserved - 1 else lost = lost + 1 end
  if issued >= share then
    extra = extra + 1
    return wrk.format("GET", "/healthz")
  end
  issued = issued + 1
  if mode == "get" then return wrk.format("GET", path) end
  local i = issued
  local client_id = string.format("%%s-%%04x-4000-8000-%%012x", run, tid, i)
  local body = string.format(
    '{"citizen_id": "b-%%s-%%d-%%d", "client_id": "%%s", "answers": {"ok": %%s, "temp": %%.1f, "where": "%%s"}}',
    run, tid, i, client_id, (i %% 7 ~= 0) and "true" or "false", 36 + (i %% 50) / 10, options[(i %% 3) + 1])
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["Authorization"] = "Token " .. token}, body)
end
response = function(status, headers, body)
  answered = answered + 1
  local key = "s" .. status
  if _G[key] ~= nil then _G[key] = _G[key] + 1 else other = other + 1 end
  if ids and (status == 201 or status == 200) then
    local id = string.match(body, '"client_id"%%s*:%%s*"([^"]+)"')
    if id then ids:write(status, " ", id, "\\n") end
  end
  if issued >= share and answered + lost >= issued + extra then
    if ids then ids:close(); ids = nil end
    -- wrk itself waits for -d whatever its threads do: this file tells the command to stop it (SIGINT)
    io.open(dir .. "/done-" .. tid, "w"):close()
    wrk.thread:stop()
  end
end
done = function(summary, latency, requests)
  local sums = {issued = 0, extra = 0, answered = 0, other = 0, lost = 0}
  local by_code = {}
  for _, thread in ipairs(threads) do
    for k, _ in pairs(sums) do sums[k] = sums[k] + (thread:get(k) or 0) end
    for _, c in ipairs(codes) do by_code[c] = (by_code[c] or 0) + (thread:get("s" .. c) or 0) end
  end
  local statuses = {}
  for _, c in ipairs(codes) do
    if by_code[c] > 0 then table.insert(statuses, string.format('"%%d": %%d', c, by_code[c])) end
  end
  if sums.other > 0 then table.insert(statuses, string.format('"other": %%d', sums.other)) end
  local e = summary.errors
  io.write(string.format('{"requests": %%d, "duration_us": %%d, "errors": %%d, "connect_errors": %%d, '
    .. '"read_errors": %%d, "write_errors": %%d, "timeouts": %%d, "non2xx": %%d, "p50_ms": %%.3f, '
    .. '"p99_ms": %%.3f, "max_ms": %%.3f, "issued": %%d, "extra": %%d, "answered": %%d, "lost": %%d, '
    .. '"statuses": {%%s}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write,
    e.timeout, e.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    sums.issued, sums.extra, sums.answered, sums.lost, table.concat(statuses, ", ")))
end
"""


def lua_burst(
    *,
    mode: str,
    path: str,
    total: int,
    threads: int,
    token: str = "",
    run: str = "",
    dir: str,
    record: bool = False,
    options: list[str] = (),
) -> str:
    """The wrk script for ``total`` requests over ``threads`` threads (see LUA_BURST)."""
    return LUA_BURST % {
        "mode": mode,
        "path": path,
        "token": token,
        "total": total,
        "threads": threads,
        "run": run,
        "dir": dir,
        "record": "true" if record else "false",
        "options": ", ".join(json.dumps(o) for o in options),
        "codes": ", ".join(str(c) for c in WRK_CODES),
    }


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


def raise_open_files() -> int:
    """Raise this process's open-files limit to its hard limit (wrk and uvicorn inherit it); the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def somaxconn() -> int | None:
    """The kernel's cap on a listening socket's backlog (Linux), None elsewhere."""
    try:
        return int(Path("/proc/sys/net/core/somaxconn").read_text())
    except OSError:
        return None


class LiveWatch:
    """What the console's live results page shows during the run: a WebSocket on the form's results, and on
    each push the results block fetched over HTTP with the same session, as collect_results.js does. Records
    (monotonic time, responded) for each fetch, in a thread of its own."""

    # The page shows the responses within the audience and those from outside it apart; the bench's citizens are
    # all new (outside the audience): the round's count is the sum.
    RESPONDED = re.compile(r'id="collect-responded">(\d+)<')
    OUTSIDE = re.compile(r'id="collect-outside">(\d+)<')

    def __init__(self, base: str, ws_path: str, live_path: str, session_key: str):
        self.base, self.ws_path, self.live_path = base, ws_path, live_path
        self.cookies = {settings.SESSION_COOKIE_NAME: session_key}
        self.seen: list[tuple[float, int]] = []
        self.pushes = 0
        self.failed_fetches = 0
        self.error = ""
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(15):
            raise CommandError(f"the live results socket did not open: {self.error}")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def first_time_at(self, count: int) -> float | None:
        return next((at for at, seen in self.seen if seen >= count), None)

    async def _fetch(self, client: httpx.AsyncClient) -> None:
        try:
            response = await client.get(self.live_path)
        except httpx.HTTPError:  # waited behind the burst longer than the client's timeout: the page tries again
            self.failed_fetches += 1
            return
        page = response.text if response.status_code == 200 else ""
        matches = [pattern.search(page) for pattern in (self.RESPONDED, self.OUTSIDE)]
        if all(matches):
            self.seen.append((time.time(), sum(int(match.group(1)) for match in matches)))

    async def _run(self) -> None:
        url = "ws" + self.base.removeprefix("http") + self.ws_path
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            async with (
                httpx.AsyncClient(base_url=self.base, cookies=self.cookies, timeout=30) as client,
                websockets.connect(
                    url, additional_headers={"Cookie": cookie, "Origin": self.base}, ping_interval=None
                ) as socket,
            ):
                await self._fetch(client)
                self._ready.set()
                fetching: asyncio.Task | None = None
                again = False
                while not self._stop.is_set():
                    try:
                        raw = await asyncio.wait_for(socket.recv(), 0.2)
                    except TimeoutError:
                        raw = None
                    if raw is not None and json.loads(raw).get("type") == "results.changed":
                        self.pushes += 1
                        again = True
                    # as the page: one fetch at a time, one more after it when a push came meanwhile
                    if again and (fetching is None or fetching.done()):
                        again = False
                        fetching = asyncio.ensure_future(self._fetch(client))
                if fetching is not None:
                    await fetching
        except Exception as exc:  # noqa: BLE001 - reported in the result, the burst's figures still stand
            self.error = f"{type(exc).__name__}: {exc}"
            self._ready.set()


def _run_wrk(wrk: str, args: list[str], server_pid: int, folder: Path, threads: int) -> dict:
    """Run wrk with a script from lua_burst writing into ``folder`` and return its JSON line, with requests per
    second over the time from wrk's start to its last thread's last response (wrk itself sleeps for -d: it is
    stopped with SIGINT once every thread is done), the CPU per request of the server and PostgreSQL, and
    ``ended_at``: the Unix time of the last response."""
    for old in folder.glob("done-*"):
        old.unlink()
    before = cpu_seconds(server_pid)
    started = time.time()
    process = subprocess.Popen([wrk, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while process.poll() is None and len(list(folder.glob("done-*"))) < threads:
        time.sleep(0.02)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    after = cpu_seconds(server_pid)
    done = [path.stat().st_mtime for path in folder.glob("done-*")]
    ended = max(done) if len(done) == threads else time.time()
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise CommandError(f"wrk printed no report:\n{stdout}\n{stderr}")
    row = json.loads(lines[-1])
    row["all_threads_done"] = len(done) == threads
    row["wall_s"] = round(ended - started, 3)
    row["rps"] = round(row["requests"] / row["wall_s"], 1) if row["wall_s"] > 0 else 0.0
    row["ended_at"] = ended
    for key, name in (("web_cpu_ms", "server"), ("db_cpu_ms", "postgres")):
        if name in before and row["requests"]:
            row[key] = round((after[name] - before[name]) * 1000 / row["requests"], 3)
    return row


def _staff_session(account) -> str:
    """A session of an editor of ``account`` (the live results page needs one); its key."""
    user, _created = get_user_model().objects.get_or_create(username=f"bench-collect-{account.slug}", is_staff=True)
    Membership.objects.get_or_create(user=user, account=account, defaults={"role": Membership.ROLE_EDITOR})
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def _stored(round_: Round) -> dict:
    round_.refresh_from_db()
    tally = Tally.objects.filter(round=round_, question__key="ok", bucket="").first()
    return {
        "responses": Response.objects.filter(round=round_).count(),
        "submissions": Submission.objects.filter(response__round=round_).count(),
        "counter_responded": round_.responded,
        "tally_answered_ok": tally.count if tally else 0,
    }


class Command(BaseCommand):
    help = "Burst of form submissions beside the trivial JSON view against uvicorn; counts what was stored."

    def add_arguments(self, parser):
        parser.add_argument("--slug", default="bench-collect")
        parser.add_argument("--submissions", type=int, default=2000)
        parser.add_argument("--concurrency", type=int, default=50, help="connections (clients) in flight")
        parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
        parser.add_argument("--client", choices=["wrk", "python"], default=None, help="default: wrk when installed")
        parser.add_argument("--threads", type=int, default=2, help="wrk threads")
        parser.add_argument("--backlog", type=int, default=16384, help="uvicorn --backlog (capped by somaxconn)")
        parser.add_argument("--resend-share", type=float, default=RESEND_SHARE)

    def handle(self, *args, **opts):
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        if engine != "postgresql":
            self.stderr.write("warning: not on PostgreSQL; set DATABASE_URL for the real figure")
        count, concurrency = opts["submissions"], opts["concurrency"]
        if count < 1 or concurrency < 1 or opts["threads"] < 1:
            raise CommandError("--submissions, --concurrency and --threads must be positive")
        wrk = shutil.which("wrk")
        client = opts["client"] or ("wrk" if wrk else "python")
        if client == "wrk" and wrk is None:
            raise CommandError("wrk is not installed (Debian: apt-get install wrk); or --client python")
        account, _created = account_get_or_create(slug=opts["slug"], name="Bench collect")
        run = uuid.uuid4().hex[:8]
        form = form_create(account=account, key=f"bench-{run}", title_vi="Điểm danh sức khỏe", questions=QUESTIONS)
        round_ = Round.objects.get(form=form)
        _token, raw = token_issue(account=account, name=f"bench-collect-{run}", scopes=[ApiToken.SCOPE_FORMS_RESPOND])
        path = f"/api/v1/accounts/{account.slug}/forms/{form.pk}/responses/"
        options = [o["key"] for o in form.questions.get(key="where").options]
        resend_count = max(1, int(count * opts["resend_share"]))
        limits = {"open_files": raise_open_files(), "somaxconn": somaxconn(), "backlog": opts["backlog"]}
        load = {
            "loadavg_before": Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
        }

        port = free_port()
        env = dict(os.environ, DEBUG="0", LOG_LEVEL="WARNING")
        # keep-alive longer than the run: wrk parks finished connections, and a close would count as an error
        extra = ("--backlog", str(opts["backlog"]), "--timeout-keep-alive", str(WRK_CAP_S))
        server = subprocess.Popen(
            uvicorn_command(port, workers=opts["workers"], extra=extra), env=env, cwd=settings.BASE_DIR
        )
        base = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_until_serving(port)
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc
            if client == "wrk":
                result = self._wrk_runs(
                    wrk,
                    base,
                    server.pid,
                    account,
                    form,
                    round_,
                    path,
                    raw,
                    run,
                    options,
                    count,
                    concurrency,
                    resend_count,
                    opts["threads"],
                )
            else:
                result = self._python_runs(base, server.pid, path, raw, run, options, count, concurrency, resend_count)
        finally:
            server.terminate()
            server.wait(timeout=30)
        load["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
        return self._report(result, round_, engine, opts, client, count, concurrency, resend_count, limits, load)

    # --- the two load generators  ---
    def _python_runs(self, base, server_pid, path, token, run, options, count, concurrency, resend_count) -> dict:
        submissions = []
        for i in range(count):
            answers = {"ok": i % 7 != 0, "temp": 36 + (i % 50) / 10, "where": options[i % 3]}
            body = {"citizen_id": f"bench-{run}-{i}", "client_id": str(uuid.uuid4()), "answers": answers}
            submissions.append(("POST", path, json.dumps(body).encode()))
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        asyncio.run(_load(base, [("GET", "/healthz", None)] * 200, concurrency, {}))  # warm the pools
        before = cpu_seconds(server_pid)
        trivial = asyncio.run(_load(base, [("GET", "/healthz", None)] * count, concurrency, {}))
        middle = cpu_seconds(server_pid)
        burst = asyncio.run(_load(base, submissions, concurrency, headers))
        after = cpu_seconds(server_pid)
        resent = asyncio.run(_load(base, submissions[:resend_count], concurrency, headers))
        for row, (start, end) in ((trivial, (before, middle)), (burst, (middle, after))):
            for key, name in (("web_cpu_ms", "server"), ("db_cpu_ms", "postgres")):
                if name in start and row["requests"]:
                    row[key] = round((end[name] - start[name]) * 1000 / row["requests"], 3)
        return {"trivial": trivial, "burst": burst, "resent": resent, "ids_201": None, "live": None}

    def _wrk_runs(
        self,
        wrk,
        base,
        server_pid,
        account,
        form,
        round_,
        path,
        token,
        run,
        options,
        count,
        concurrency,
        resend_count,
        threads,
    ) -> dict:
        threads = min(threads, concurrency)
        timeout = f"{WRK_TIMEOUT_S}s"

        def connections(total: int) -> int:
            return max(threads, min(concurrency, total) // threads * threads)

        def args(total: int) -> list[str]:
            return ["-t", str(threads), "-c", str(connections(total)), "-d", f"{WRK_CAP_S}s", "--timeout", timeout]

        def script(name: str, **kwargs) -> Path:
            target = folder / f"{name}.lua"
            target.write_text(lua_burst(threads=threads, dir=str(folder), **kwargs))
            return target

        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            posts = {"mode": "post", "path": path, "token": token, "run": run, "options": options}
            warm = script("warm", mode="get", path="/healthz", total=min(2000, count))
            trivial_script = script("trivial", mode="get", path="/healthz", total=count)
            burst_script = script("burst", total=count, record=True, **posts)
            resend_script = script("resend", total=resend_count, **posts)
            # warm the processes and their pools
            _run_wrk(wrk, [*args(min(2000, count)), "-s", str(warm), base], server_pid, folder, threads)
            trivial = _run_wrk(wrk, [*args(count), "-s", str(trivial_script), base], server_pid, folder, threads)
            live = LiveWatch(
                base,
                f"/ws/staff/{account.slug}/forms/{form.pk}/",
                f"/staff/{account.slug}/forms/{form.pk}/live/",
                _staff_session(account),
            )
            live.start()
            try:
                burst = _run_wrk(wrk, [*args(count), "-s", str(burst_script), base], server_pid, folder, threads)
                final = Round.objects.get(pk=round_.pk).responded
                deadline = time.monotonic() + LIVE_WATCH_S
                while live.first_time_at(final) is None and time.monotonic() < deadline and not live.error:
                    time.sleep(0.05)
            finally:
                live.stop()
            seen_at = live.first_time_at(final)
            ids_201: list[str] = []
            other_ids: list[str] = []
            for name in sorted(folder.glob("ids-*.txt")):
                for line in name.read_text().splitlines():
                    status, _sep, client_id = line.partition(" ")
                    (ids_201 if status == "201" else other_ids).append(client_id)
            resent = _run_wrk(wrk, [*args(resend_count), "-s", str(resend_script), base], server_pid, folder, threads)
        live_row = {
            "final_count": final,
            "seen_after_last_response_s": None if seen_at is None else round(max(0.0, seen_at - burst["ended_at"]), 3),
            "seen_before_last_response": seen_at is not None and seen_at < burst["ended_at"],
            "pushes": live.pushes,
            "fetches": len(live.seen),
            "failed_fetches": live.failed_fetches,
            "error": live.error,
        }
        return {"trivial": trivial, "burst": burst, "resent": resent, "ids_201": (ids_201, other_ids), "live": live_row}

    # --- the count and the table  ---
    def _report(self, result, round_, engine, opts, client, count, concurrency, resend_count, limits, load):
        trivial, burst, resent = result["trivial"], result["burst"], result["resent"]
        stored = _stored(round_)
        created = burst["statuses"].get("201", 0)
        exact = all(value == count for value in stored.values()) and created == count
        ids_check = None
        if result["ids_201"] is not None:
            ids_201, other_ids = result["ids_201"]
            in_db = {
                str(u) for u in Submission.objects.filter(response__round=round_).values_list("client_id", flat=True)
            }
            answered = set(ids_201)
            ids_check = {
                "ids_answered_201": len(ids_201),
                "ids_answered_201_twice": len(ids_201) - len(answered),
                "ids_answered_other_2xx": len(other_ids),
                "ids_201_missing_in_db": len(answered - in_db),
                "ids_in_db_never_answered": len(in_db - answered - set(other_ids)),
            }
            exact = exact and ids_check["ids_answered_201_twice"] == 0 and ids_check["ids_201_missing_in_db"] == 0
            exact = exact and ids_check["ids_in_db_never_answered"] == 0
        resends_ok = resent["statuses"] == {"200": resend_count} and _stored(round_) == stored
        self.stdout.write(f"{'endpoint':<30}{'req/s':>9}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}  statuses")
        for name, row in (("trivial JSON view", trivial), ("form submissions (POST)", burst), ("resent ids", resent)):
            self.stdout.write(
                f"{name:<30}{row['rps']:>9}{row['p50_ms']:>10}{row['p99_ms']:>10}{row['errors']:>8}  {row['statuses']}"
            )
        self.stdout.write(
            f"sent {count} submissions ({concurrency} clients, {opts['workers']} workers, {client}); stored {stored}; "
            f"resent {resend_count} client ids: {'all 200, nothing stored' if resends_ok else resent['statuses']}"
        )
        if ids_check is not None:
            self.stdout.write(f"per client id: {ids_check}")
        if result["live"] is not None:
            self.stdout.write(f"live results page: {result['live']}")
        self.stdout.write(f"limits: {limits}; load average {load}")
        ratio = round(burst["rps"] / trivial["rps"], 3) if trivial["rps"] else 0
        self.stdout.write(f"submissions/trivial requests per second: {ratio}; stored = sent: {exact and resends_ok}")
        for row in (trivial, burst, resent):
            row.pop("ended_at", None)
        output = {
            "database": engine,
            "client": client,
            "workers": opts["workers"],
            "concurrency": concurrency,
            "submissions": count,
            "trivial": trivial,
            "burst": burst,
            "resent": resent,
            "stored": stored,
            "per_client_id": ids_check,
            "live": result["live"],
            "limits": limits,
            "load": load,
            "stored_equals_sent": exact and resends_ok,
            "ratio_rps": ratio,
        }
        self.stdout.write(json.dumps(output))
        if not (exact and resends_ok):
            raise CommandError("stored != sent")
