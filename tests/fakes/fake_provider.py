"""A real HTTP provider on loopback for tests and benchmarks.

It accepts any POST, records it (time, path, idempotency key) and answers per a script of faults consumed
one per request: "500", "timeout" (sleeps past the client's timeout), "429:<seconds>" (Retry-After),
"400:<reason>" (permanent refusal), "zns-error:<code>" (200 with a ZNS error body), "ok". With an empty
script every request succeeds after ``delay`` seconds. A repeated idempotency key returns the first
message id and is not counted as a new successful send (as real providers deduplicate), unless
``honour_keys=False``: then, like a provider that ignores the header, every accepted post is a new message.
``posts`` counts the accepted posts per idempotency key either way (what the citizen's phone would receive).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeProvider:
    def __init__(self, *, delay: float = 0.0, timeout_sleep: float = 2.0, honour_keys: bool = True):
        self.delay = delay
        self.honour_keys = honour_keys
        self.posts: Counter[str] = Counter()  # idempotency key -> accepted posts that became a message
        self.timeout_sleep = timeout_sleep
        self.script: list[str] = []
        self.per_key_script: dict[str, list[str]] = {}
        self.requests: list[dict] = []
        self.successes: Counter[str] = Counter()  # idempotency key -> accepted sends (first one only)
        self.replays: Counter[str] = Counter()  # idempotency key -> requests answered from the dedup table
        self.message_ids: dict[str, str] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeProvider:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _next_fault(self, key: str) -> str:
        with self.lock:
            if self.per_key_script.get(key):
                return self.per_key_script[key].pop(0)
            if self.script:
                return self.script.pop(0)
        return "ok"

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in separate writes: avoid 40 ms delayed ACKs

            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, body: dict, headers: dict | None = None) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self):  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                key = self.headers.get("Idempotency-Key", "")
                fault = fake._next_fault(key)
                with fake.lock:
                    fake.requests.append(
                        {
                            "t": time.monotonic(),
                            "path": self.path,
                            "key": key,
                            "fault": fault,
                            "body": raw[:2000],
                            "headers": dict(self.headers),
                        }
                    )
                if fake.delay:
                    time.sleep(fake.delay)
                if fault == "500":
                    return self._answer(500, {"message": "internal error"})
                if fault == "timeout":
                    time.sleep(fake.timeout_sleep)
                    return self._answer(504, {"message": "too late"})
                if fault.startswith("429"):
                    wait = fault.split(":", 1)[1] if ":" in fault else "1"
                    return self._answer(429, {"message": "slow down"}, {"Retry-After": wait})
                if fault.startswith("400"):
                    reason = fault.split(":", 1)[1] if ":" in fault else "bad request"
                    return self._answer(400, {"message": reason})
                if fault.startswith("zns-error"):
                    return self._answer(200, {"error": int(fault.split(":", 1)[1]), "message": "template rejected"})
                with fake.lock:
                    if key and key in fake.message_ids and fake.honour_keys:
                        fake.replays[key] += 1
                        message_id = fake.message_ids[key]
                    else:
                        message_id = f"m{sum(fake.posts.values()) + 1}"
                        if key:
                            fake.message_ids.setdefault(key, message_id)
                        fake.posts[key] += 1
                        if fake.posts[key] == 1:
                            fake.successes[key] += 1
                return self._answer(200, {"message_id": message_id, "error": 0, "data": {"msg_id": message_id}})

        return Handler


if __name__ == "__main__":  # run standalone: python -m tests.fakes.fake_provider [delay]
    import sys

    provider = FakeProvider(delay=float(sys.argv[1]) if len(sys.argv) > 1 else 0.0).start()
    print(provider.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        provider.stop()
