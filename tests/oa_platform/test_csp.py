"""Every HTML page carries the Content-Security-Policy (no inline script or style, no javascript: URLs, never
framed) and X-Frame-Options DENY. The routes are discovered from the URL configuration and the admin's
registry, so a page added later is checked without touching this test."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib import admin
from django.template.loader import get_template
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from oa_platform.models import Conversation, Message
from tests import factories

# A value for each path parameter a route may take; {slug} and the ids are filled per test below.
PARAM_VALUES = {"slug": "{slug}", "pk": "{pk}", "id": "{pk}", "object_id": "{pk}", "action": "submit"}
# Pages that are not HTML by design and that the walk may still reach (JSON, XML, the schema).
SKIP_PREFIXES = ("/webhooks/", "/api/v1/", "/static/", "/i18n/")


def _walk(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def _concrete(route: str, *, slug: str, pk: int) -> str | None:
    """A request path for a route of the URL configuration, or None when it cannot be filled in."""
    if route.startswith("^") or "(?P" in route:  # the admin's regex routes are covered by its registry
        return None
    path = "/" + route
    for name in re.findall(r"<(?:\w+:)?(\w+)>", path):
        if name not in PARAM_VALUES:
            return None
        path = re.sub(rf"<(?:\w+:)?{name}>", PARAM_VALUES[name], path)
    return path.format(slug=slug, pk=pk)


def _admin_paths(objects: dict) -> list[str]:
    paths = [reverse("admin:index")]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        paths.append(reverse("admin:{}_{}_changelist".format(*info)))
        paths.append(reverse("admin:{}_{}_add".format(*info)))
        obj = objects.get(model) or model._default_manager.first()
        if obj is not None:
            paths.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
    return paths


def assert_policy(response, path: str) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    assert policy, f"{path}: no Content-Security-Policy"
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in policy.split(";") if d.strip())
    assert directives.get("script-src") == "'self'", f"{path}: {policy}"
    assert directives.get("style-src") == "'self'", f"{path}: {policy}"
    assert directives.get("frame-ancestors") == "'none'", f"{path}: {policy}"
    assert directives.get("object-src") == "'none'", f"{path}: {policy}"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers.get("X-Frame-Options") == "DENY", path


@pytest.mark.django_db
def test_every_html_page_sends_the_policy(client, tenant_a):
    # given: an account with a conversation, and the platform operator (sees every page of the admin)
    account = tenant_a.account
    citizen = factories.make_follower(account, display_name="Công dân")
    conversation = Conversation.objects.create(account=account, citizen=citizen)
    Message.objects.create(conversation=conversation, direction=Message.DIRECTION_IN, text="xin chào")
    operator = factories.make_staff(None, username="operator", is_superuser=True)
    routes = [
        p for r in _walk(get_resolver().url_patterns) if (p := _concrete(r, slug=account.slug, pk=conversation.pk))
    ]
    paths = [p for p in routes if not p.startswith(SKIP_PREFIXES)] + _admin_paths({Conversation: conversation})
    checked = set()
    # when: every discovered page is opened anonymously (citizen pages, login) and as the operator
    for user in (None, operator):
        if user is not None:
            client.force_login(user)
        for path in paths:
            response = client.get(path)
            # then: every HTML answer carries the policy, whatever its status (200, 302 to login, 403, 404)
            if response.headers.get("Content-Type", "").startswith("text/html"):
                assert_policy(response, path)
                if response.status_code == 200:
                    checked.add(path)
    # the walk really reached the citizen pages, the staff inbox and the admin
    must = {
        "/",
        f"/oa/{account.slug}/",
        f"/staff/{account.slug}/",
        f"/staff/{account.slug}/inbox/",
        f"/staff/{account.slug}/inbox/{conversation.pk}/",
        "/admin/",
    }
    must |= {"/api/docs/", "/admin/login/"}
    assert must <= checked, must - checked
    assert sum(p.startswith("/admin/") for p in checked) > 30


@pytest.mark.django_db
def test_error_pages_send_the_policy(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert_policy(response, "/no-such-page/")


def test_policy_is_set_for_the_running_django():
    """Django 6 uses its own middleware; Django 5.2 (Python 3.11) uses django-csp with the same directives."""
    import django

    middleware = (
        "django.middleware.csp.ContentSecurityPolicyMiddleware"
        if django.VERSION >= (6, 0)
        else "csp.middleware.CSPMiddleware"
    )
    assert middleware in settings.MIDDLEWARE
    assert settings.MIDDLEWARE.index(middleware) < settings.MIDDLEWARE.index(
        "django.middleware.clickjacking.XFrameOptionsMiddleware"
    )


TEMPLATES_WITH_MARKUP = [
    "oa/base.html",
    "oa/account.html",
    "oa/home.html",
    "oa/_avatar.html",
    "staff/home.html",
    "staff/inbox.html",
    "admin/base_site.html",
    "admin/broadcasts/notice/change_form.html",
    "admin/faq/try.html",
    "admin/faq/import.html",
    "admin/faq/tools.html",
    "admin/faq/unanswered_add_variant.html",
    "admin/faq/unanswered_create_faq.html",
    "admin/faq/faqentry/change_list.html",
    "admin/oa_platform/apitoken/token_created.html",
    "admin/oa_platform/citizen/erase_confirmation.html",
    "admin/oa_platform/membership/user_created.html",
]


@pytest.mark.parametrize("name", TEMPLATES_WITH_MARKUP)
def test_templates_have_no_inline_script_style_or_handler(name):
    """What the policy would block: inline <script>/<style>, style="..." and on...= handlers, javascript: URLs."""
    source = open(get_template(name).origin.name, encoding="utf-8").read()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source), name
    assert "<style" not in source, name
    assert not re.search(r"\sstyle\s*=", source), name
    assert not re.search(r"\son[a-z]+\s*=", source), name
    assert "javascript:" not in source.lower(), name
