"""Coalesced live pushes (oa_platform.live.group_send_coalesced): in a server process at most one send per group
per window, the first at once and one more at the window's end for what came in between, so that the last
change is always told; outside a server every call is a send."""

from __future__ import annotations

import asyncio
import threading

import pytest

from oa_platform import live


class Handle:
    def add_done_callback(self, callback) -> None:
        pass


class FakeLoop:
    """The parts of an event loop the coalescing uses, on a clock the test moves."""

    def __init__(self):
        self.now = 100.0
        self.later: list[tuple[float, object, tuple]] = []
        self.tasks: list = []

    def time(self) -> float:
        return self.now

    def call_later(self, delay, callback, *args):
        self.later.append((self.now + delay, callback, args))

    def create_task(self, coroutine):
        self.tasks.append(coroutine)
        return Handle()

    def run_due(self) -> None:
        due = [entry for entry in self.later if entry[0] <= self.now]
        self.later = [entry for entry in self.later if entry[0] > self.now]
        for _at, callback, args in due:
            callback(*args)


@pytest.fixture
def sent(monkeypatch):
    """The events that reach the channel layer, in order."""
    events: list[tuple[str, dict]] = []

    class Layer:
        async def group_send(self, group, event):
            events.append((group, event))

    monkeypatch.setattr(live, "get_channel_layer", Layer)
    monkeypatch.setattr(live, "_last_sent", {})
    monkeypatch.setattr(live, "_due", set())
    monkeypatch.setattr(live, "_sending", set())
    return events


def _run(loop: FakeLoop) -> None:
    for coroutine in loop.tasks:
        asyncio.run(coroutine)
    loop.tasks.clear()


def test_a_burst_is_told_at_once_and_once_more_at_the_end_of_the_window(sent):
    loop, event = FakeLoop(), {"type": "collect.changed", "round": 1}
    # given/when: 50 changes of one round within a window
    for _ in range(50):
        live._coalesce(loop, "collect.r1", event, 0.25)
        loop.now += 0.001
    _run(loop)
    # then: one send at once, one more scheduled for the window's end
    assert sent == [("collect.r1", event)]
    assert [round(at - 100.0, 3) for at, *_ in loop.later] == [0.25]
    # when: the window ends
    loop.now = 100.25
    loop.run_due()
    _run(loop)
    # then: the last change is told; a change a window later is told at once again
    assert len(sent) == 2
    loop.now = 101.0
    live._coalesce(loop, "collect.r1", event, 0.25)
    _run(loop)
    assert len(sent) == 3 and not loop.later


def test_each_group_has_its_own_window(sent):
    loop = FakeLoop()
    for group in ("collect.r1", "collect.r2", "collect.r1", "collect.r2"):
        live._coalesce(loop, group, {"type": "collect.changed"}, 0.25)
    _run(loop)
    assert [group for group, _event in sent] == ["collect.r1", "collect.r2"] and len(loop.later) == 2


def test_outside_a_server_every_change_is_sent_at_once(sent, monkeypatch):
    monkeypatch.setattr(live, "server_loop", lambda: None)
    for _ in range(3):
        live.group_send_coalesced("collect.r9", {"type": "collect.changed"}, every_s=0.25)
    assert len(sent) == 3


def test_in_a_server_the_request_thread_hands_the_send_to_the_servers_loop(sent, monkeypatch):
    # given: a server's event loop running in its own thread, as uvicorn's
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(live, "server_loop", lambda: loop)

    async def drain():  # handed over after the pushes: runs once the loop has taken them
        await asyncio.gather(*live._sending)

    try:
        # when: a request thread (this one) tells a change twice within the window
        live.group_send_coalesced("collect.r5", {"type": "collect.changed"}, every_s=60)
        live.group_send_coalesced("collect.r5", {"type": "collect.changed"}, every_s=60)
        asyncio.run_coroutine_threadsafe(drain(), loop).result(5)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
    # then: sent once, from the server's loop; the second change waits for the window's end
    assert sent == [("collect.r5", {"type": "collect.changed"})] and live._due == {"collect.r5"}
