"""Behind a reverse proxy on another host, citizens keep their own address (and rate-limit bucket): `make
serve-prod` runs uvicorn with --proxy-headers --forwarded-allow-ips from FORWARDED_ALLOW_IPS, and a header
from any other address is ignored.

The "other host" is another loopback address (Linux answers on all of 127.0.0.0/8): the trusted proxy
connects from 127.0.0.2, a stranger from 127.0.0.3."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.test import override_settings

from oa_platform.local_server import free_port, wait_until_serving
from oa_platform.management.commands.serve import uvicorn_config
from tests.workers import db_url, stop

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
PROXY, STRANGER = "127.0.0.2", "127.0.0.3"
CITIZEN_1, CITIZEN_2, SPOOFED = "203.0.113.10", "203.0.113.20", "198.51.100.7"


def serve_prod_command(port: int, forwarded_allow_ips: str) -> list[str]:
    """The uvicorn command `make serve-prod` runs, as make prints it (make -n runs nothing)."""
    printed = subprocess.run(
        ["make", "-n", "serve-prod", f"VENV={VENV}", f"PORT={port}", f"FORWARDED_ALLOW_IPS={forwarded_allow_ips}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.replace("\\\n", " ")
    lines = [line for line in printed.splitlines() if "oa_platform.asgi:application" in line]
    assert len(lines) == 1, printed
    return shlex.split(lines[0])


def test_serve_prod_passes_the_trusted_proxies_to_uvicorn():
    command = serve_prod_command(8000, "10.0.0.5,10.0.0.6")
    assert "--proxy-headers" in command
    assert command[command.index("--forwarded-allow-ips") + 1] == "10.0.0.5,10.0.0.6"


def test_serve_prod_trusts_only_the_local_proxy_by_default():
    env = {k: v for k, v in os.environ.items() if k != "FORWARDED_ALLOW_IPS"}
    printed = subprocess.run(
        ["make", "-n", "serve-prod", f"VENV={VENV}"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert '--forwarded-allow-ips "127.0.0.1,::1"' in printed


def test_the_serve_command_uses_the_setting():
    with override_settings(FORWARDED_ALLOW_IPS="10.0.0.5"):
        config = uvicorn_config(host="127.0.0.1", port=8000)
    assert config.proxy_headers and config.forwarded_allow_ips == "10.0.0.5"


@pytest.fixture
def prod_server(transactional_db, tmp_path):
    """`make serve-prod`'s own command (2 workers) trusting the proxy at 127.0.0.2, on loopback only, against
    the test database and Redis."""
    port = free_port()
    command = serve_prod_command(port, PROXY)
    command[command.index("--host") + 1] = "127.0.0.1"  # the test opens nothing to the network
    env = {**os.environ, "DATABASE_URL": db_url(), "REDIS_URL": settings.REDIS_URL, "DB_POOL_MIN": "0"}
    log = tmp_path / "uvicorn.log"
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_until_serving(port, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(server)


def _chat(base: str, token: str, *, source: str, forwarded_for: str, citizen: str) -> int:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=20) as client:
        response = client.post(
            f"{base}/api/v1/accounts/agency-a/messages/",
            json={"citizen_id": citizen, "text": "xin chào"},
            headers={"Authorization": f"Token {token}", "X-Forwarded-For": forwarded_for},
        )
    return response.status_code


def _buckets() -> set[str]:
    """The addresses the chat's flood control has a token bucket for in Redis (oa_platform.ratelimit: a bucket
    refills continuously, so which addresses were charged is what a test can read exactly)."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = "oa:bucket:chat:ip:"
    return {key.decode()[len(prefix) :] for key in client.scan_iter(match=prefix + "*")}


@pytest.mark.postgres
@pytest.mark.redis
def test_citizens_behind_a_trusted_proxy_get_their_own_buckets_and_a_strangers_header_is_ignored(prod_server, tenant_a):
    # given two citizens behind the proxy on another host
    assert _chat(prod_server, tenant_a.token, source=PROXY, forwarded_for=CITIZEN_1, citizen="c1") == 200
    assert _chat(prod_server, tenant_a.token, source=PROXY, forwarded_for=CITIZEN_2, citizen="c2") == 200
    assert _chat(prod_server, tenant_a.token, source=PROXY, forwarded_for=CITIZEN_1, citizen="c3") == 200
    # then each is counted under their own address, none under the proxy's
    assert _buckets() == {CITIZEN_1, CITIZEN_2}
    # when a host that is not the proxy sends the header
    assert _chat(prod_server, tenant_a.token, source=STRANGER, forwarded_for=SPOOFED, citizen="c4") == 200
    # then it is ignored: the request counts against the stranger's own address
    assert _buckets() == {CITIZEN_1, CITIZEN_2, STRANGER}
