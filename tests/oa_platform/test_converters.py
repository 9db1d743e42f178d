"""Every route that takes a row's id takes it with the one bounded converter (<id:...>): an id too large for a
bigint column is a 404 on each of them, never a 500, and no project route takes an unbounded <int:...>."""

import re

import pytest
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse

from oa_platform.converters import ID_MAX, IdConverter
from oa_platform.routing import websocket_urlpatterns

TOO_LARGE = (str(ID_MAX + 1), "9" * 19, "1" * 25)


def _routes(resolver=None, prefix: str = "") -> list[str]:
    found = []
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if not route.startswith("admin/"):  # Django's admin has its own <path:object_id> routes
                found += _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            found.append(route)
    return found


ID_ROUTES = [r for r in _routes() if "<id:" in r]


def _fill(route: str, big: str) -> str:
    """The route with slugs filled in, its last id ``big`` and every other id 1."""
    ids = re.findall(r"<id:\w+>", route)
    url = re.sub(r"<slug:\w+>", "x", route)
    for name in ids[:-1]:
        url = url.replace(name, "1", 1)
    return "/" + url.replace(ids[-1], big, 1)


def test_the_project_routes_take_ids_with_the_bounded_converter_only():
    assert len(ID_ROUTES) >= 30
    for route in _routes() + [str(p.pattern) for p in websocket_urlpatterns]:
        assert "<int:" not in route, f"{route}: use <id:...> (oa_platform.converters)"


@pytest.mark.parametrize("route", ID_ROUTES)
def test_a_too_large_id_does_not_match_the_route(route):
    assert resolve(_fill(route, str(ID_MAX))).route == route  # the largest bigint still matches
    for big in TOO_LARGE:
        with pytest.raises(Resolver404):
            resolve(_fill(route, big))


@pytest.mark.django_db
@pytest.mark.parametrize("route", ID_ROUTES)
def test_a_too_large_id_is_a_404_for_a_signed_in_manager_and_a_token(route, tenant_a, client, api_client):
    # given: a manager signed in to the console and a token with every scope, both of account "a"
    url = _fill(route, str(ID_MAX + 1)).replace("/x/", f"/{tenant_a.account.slug}/")
    client.force_login(tenant_a.manager)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {tenant_a.token}")
    # when / then: GET and POST answer 404 (the route does not match), never 500
    for method in ("get", "post"):
        assert getattr(client, method)(url).status_code == 404, (method, url)
        assert getattr(api_client, method)(url, {}, format="json").status_code == 404, (method, url)
    # and the largest id a bigint holds reaches the view, which finds nothing in this account
    largest = _fill(route, str(ID_MAX)).replace("/x/", f"/{tenant_a.account.slug}/")
    client_for = api_client if largest.startswith("/api/") else client
    assert client_for.get(largest).status_code in (404, 405), largest


def test_reverse_refuses_an_id_out_of_range():
    assert reverse("api-personal-notification", kwargs={"slug": "a", "pk": ID_MAX}).endswith(f"/{ID_MAX}/")
    assert IdConverter().to_python("0042") == 42
    for bad in (ID_MAX + 1, -1):
        with pytest.raises(ValueError):
            IdConverter().to_url(bad)
