"""Tenant isolation for EVERY API route: the URL resolver is walked, so a route added later is covered too.

Agency A's token may never read or change agency B's data: not through B's slug, and not through B's object
ids under A's slug. Nothing is stored by a refused call."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

from broadcasts.personal.services import notification_create
from broadcasts.services import Actor
from tests.broadcasts.conftest import draft
from tests.collect.builders import GOOD, QUESTIONS, make_form
from tests.personal.conftest import VALUES, approved_template

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
JSON = "application/json"


def _routes(resolver=None, prefix: str = "") -> list[str]:
    resolver = resolver or get_resolver()
    found = []
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            found.append(route)
    return found


def api_routes() -> list[str]:
    return [r for r in _routes() if r.startswith("api/v1/")]


def _fill(route: str, slug: str, pk: int, key: str = "vaccination") -> str:
    return "/" + route.replace("<slug:slug>", slug).replace("<id:pk>", str(pk)).replace("<slug:key>", key)


def _row_counts() -> dict[str, int]:
    return {
        m._meta.label: m.objects.count()
        for m in apps.get_models()
        if m._meta.app_label in {"oa_platform", "faq", "broadcasts", "personal", "collect"}
    }


def test_every_api_route_is_account_scoped():
    routes = api_routes()
    assert "api/v1/accounts/<slug:slug>/messages/" in routes
    assert len(routes) >= 5
    for route in routes:
        assert route.startswith("api/v1/accounts/<slug:slug>/"), f"{route} is not under an account"


@pytest.mark.parametrize("route", api_routes())
def test_another_agencys_token_is_refused_everywhere(route, tenant_a, tenant_b, api_client):
    # given: a notice, a form, a personal notice template and a notification of agency B, and agency A's token
    # with every scope
    notice_b = draft(tenant_b)
    form_b = make_form(tenant_b.account)
    approved_template(tenant_b, key="vaccination")
    notification_b, _ = notification_create(
        account=tenant_b.account,
        actor=Actor(user=tenant_b.broadcaster),
        template_key="vaccination",
        phone="0912345678",
        personalisation=VALUES,
    )
    if "/forms/" in route:
        pk_b, title_b = form_b.pk, form_b.title_vi
    elif "/notifications/" in route:
        pk_b, title_b = notification_b.pk, "Trạm y tế"
    else:
        pk_b, title_b = notice_b.pk, notice_b.title_vi
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {tenant_a.token}")
    before = _row_counts()
    body = json.dumps(
        {
            "citizen_id": "x",
            "text": "hi",
            "title_vi": "t",
            "body_vi": "b",
            "category": "general",
            "key": "k",
            "questions": QUESTIONS,
            "client_id": "7f1c4c4e-8a4b-4c55-9a55-0d9a2b8c1f00",
            "answers": GOOD,
        }
    )
    for method in METHODS:
        # when: A's token is used on B's slug, and on A's slug with B's object id
        on_b = api_client.generic(method.upper(), _fill(route, tenant_b.account.slug, pk_b), body, JSON)
        # then
        assert on_b.status_code in (403, 404, 405), (method, route, on_b.status_code)
        if "<id:pk>" in route or "<slug:key>" in route:
            on_a = api_client.generic(method.upper(), _fill(route, tenant_a.account.slug, pk_b), body, JSON)
            assert on_a.status_code in (404, 405), (method, route, on_a.status_code)
            assert str(title_b) not in on_a.content.decode()
            assert "Trạm y tế" not in on_a.content.decode()
    assert _row_counts() == before


@pytest.mark.parametrize("route", api_routes())
def test_no_token_and_a_wrong_token_are_401(route, tenant_a, api_client):
    url = _fill(route, tenant_a.account.slug, 1)
    assert api_client.get(url).status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Token oa_not-a-real-token")
    assert api_client.post(url, {}, format="json").status_code == 401
