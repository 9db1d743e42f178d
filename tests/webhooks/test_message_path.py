"""A Zalo message's path reads in one direction (issue 13): webhook view -> channel type (verify, parse) ->
stored event -> task -> conversations.inbound -> chat engine -> conversations.outbox -> channel type (send)."""

from __future__ import annotations

import pytest

from oa_platform.channel_types import zalo
from oa_platform.conversations import inbound, outbox
from tests.test_import_graph import ROOT, import_graph
from tests.webhooks.conftest import post_zalo, zalo_event, zalo_mac

pytestmark = pytest.mark.django_db


def test_a_zalo_message_walks_the_layers_once_in_order(
    client, channels_a, fake_api, monkeypatch, django_capture_on_commit_callbacks
):
    # given: every layer of the path records that it ran
    walk: list[str] = []

    def spy(owner, name, label):
        real = getattr(owner, name)

        def wrapper(*args, **kwargs):
            walk.append(label)
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    spy(zalo.ZaloType, "receive", "channel type: verify + parse")
    spy(inbound, "event_store", "stored event")
    spy(inbound, "webhook_event_process", "task -> conversations.inbound")
    spy(inbound, "chat_receive", "chat engine")
    spy(inbound, "outbound_enqueue", "conversations.outbox")
    spy(outbox, "message_deliver", "outbox task")
    spy(zalo.ZaloType, "send", "channel type: send")
    # when a citizen writes on Zalo
    body, ts = zalo_event("xin chào")
    monkeypatch.setattr("oa_platform.webhooks.views.event_store", inbound.event_store)
    monkeypatch.setattr("oa_platform.tasks.webhook_event_process", inbound.webhook_event_process)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_zalo(client, "agency-a", body, zalo_mac(body, ts))
    # then: each layer once, in this order, and the reply went out on Zalo
    assert response.status_code == 200, response.content
    assert walk == [
        "channel type: verify + parse",
        "stored event",
        "task -> conversations.inbound",
        "chat engine",
        "conversations.outbox",
        "outbox task",
        "channel type: send",
    ]
    assert len(fake_api.sent) == 1


def test_the_layers_import_only_downwards():
    graph = import_graph(ROOT)

    def imports(module: str) -> set[str]:
        return graph[module]

    upper = ("oa_platform.webhooks", "oa_platform.conversations")  # the engine and hand-off live in conversations
    apps = ("broadcasts", "faq")
    for module in (m for m in graph if m.startswith("oa_platform.channel_types")):
        assert not {t for t in imports(module) if t.startswith(upper + apps)}, module
    for module in ("oa_platform.conversations.inbound", "oa_platform.conversations.outbox"):
        assert not {t for t in imports(module) if t.startswith("oa_platform.webhooks")}, module
    assert {"oa_platform.channel_types", "oa_platform.conversations.inbound"} <= imports("oa_platform.webhooks.views")
