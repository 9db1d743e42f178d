"""Every console URL is closed to another agency's staff: discovered from the URL resolver, so a new console
URL without a builder in isolation_builders.py fails here instead of going untested."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from oa_platform.models import Membership
from tests.factories import make_account, make_staff
from tests.oa_platform.console.isolation_builders import ACCOUNTLESS, URL_BUILDERS

pytestmark = pytest.mark.django_db

# What another agency's staff may get back: the page does not exist for them, or the method is refused
# before anything is read.
CLOSED = {404, 405}


def _staff_url_names(patterns=None, namespace: str | None = None) -> list[str]:
    names = []
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            names += _staff_url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and namespace == "staff" and pattern.name:
            names.append(f"staff:{pattern.name}")
    return sorted(set(names))


STAFF_URLS = _staff_url_names()


def test_the_console_urls_are_discovered():
    assert "staff:inbox" in STAFF_URLS and "staff:reply" in STAFF_URLS


@pytest.mark.parametrize("name", [n for n in STAFF_URLS if n not in ACCOUNTLESS])
def test_console_url_is_closed_to_another_agency(client, name):
    assert name in URL_BUILDERS, f"{name} has no builder in tests/oa_platform/console/isolation_builders.py"
    # given something of agency A behind the URL, and a manager of agency B
    a, b = make_account("agency-a"), make_account("agency-b")
    kwargs = URL_BUILDERS[name](a)
    owner = make_staff(a, Membership.ROLE_MANAGER, "owner-a")
    outsider = make_staff(b, Membership.ROLE_MANAGER, "outsider-b")
    url = reverse(name, kwargs=kwargs)
    # then A's own manager reaches it (the builder built something real)
    client.force_login(owner)
    assert client.get(url).status_code not in {404, 500}
    # when B's manager asks for it, under A's slug and under B's own slug with A's ids
    client.force_login(outsider)
    urls = [url]
    if set(kwargs) - {"slug"}:
        urls.append(reverse(name, kwargs={**kwargs, "slug": b.slug}))
    for target in urls:
        # then it does not exist for them, read or write
        assert client.get(target).status_code in CLOSED, target
        assert client.post(target, {"text": "x", "title": "x"}).status_code in CLOSED, target
