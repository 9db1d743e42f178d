"""Issue 14: a Vietnamese admin page shows none of Django's English strings. Django's own vi catalogue lacks
many admin strings ("Show counts", "Run", "Search %(name)s", "- Select an option -", the delete
confirmation); the project's catalogue (LOCALE_PATHS) supplies them. Every page of every registered admin is
requested (changelist, add form, change form, delete confirmation, the bulk-delete confirmation, a form
posted empty) as a superuser and as a manager, and its visible text searched for the English strings."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import django
import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.oa_platform.admin_builders import BUILDERS
from tests.oa_platform.test_admin_i18n import read_po

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.oa_platform.admin_urls")]

ENGLISH = (
    "Show counts",
    "Hide counts",
    "- Select an option -",
    "Run",
    "Search",
    "Please correct the error below.",
    "Please correct the errors below.",
    "Are you sure",
    "Official Account",
    "Save and add another",
    "Save and continue editing",
    "Filter",
    "Action:",
    "Go",
    "Delete",
    "Skip to main content",
    "Toggle navigation",
    "Toggle theme",
    "Breadcrumbs",
    "Sidebar",
    "Logout",
    "Log out",
    "entries",
    "Add link",
    "Select all objects on this page",
    "Select this object",
    "Change password",
    "Forgotten your",
)
# A phrase counts as shown when it stands alone: "Go" is not "Google", "Run" is not "Running".
PATTERNS = {phrase: re.compile(rf"(?<!\w){re.escape(phrase)}(?!\w)") for phrase in ENGLISH}
VISIBLE_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}


class VisibleText(HTMLParser):
    """Text nodes outside <script>/<style>, attributes a person sees or hears (placeholder, title,
    aria-label, alt) and the labels of submit buttons."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        values = dict(attrs)
        for name, value in attrs:
            if value and name in VISIBLE_ATTRIBUTES:
                self.chunks.append(value)
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.chunks.append(values["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.chunks.append(" ".join(data.split()))


def english_on(response) -> list[str]:
    parser = VisibleText()
    parser.feed(response.content.decode())
    return sorted(
        {f"{phrase!r} in {chunk!r}" for chunk in parser.chunks for phrase, rx in PATTERNS.items() if rx.search(chunk)}
    )


def vietnamese_client(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    if user is not None:
        client.force_login(user)
    return client


def registered():
    return sorted(admin.site._registry, key=lambda model: model._meta.label)


def admin_url(model, name, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{name}", args=args)


def pages_of(client, objects) -> dict[str, object]:
    """Every admin page of every registered model (those the user may open), by URL."""
    pages = {"admin:index": client.get(reverse("admin:index"))}
    pages["password_change"] = client.get(reverse("admin:password_change"))
    for model in registered():
        obj = objects.get(model)
        urls = [admin_url(model, "changelist"), admin_url(model, "add")]
        if obj is not None:
            urls += [admin_url(model, "change", obj.pk), admin_url(model, "delete", obj.pk)]
        for url in urls:
            pages[url] = client.get(url)
        if client.get(admin_url(model, "add")).status_code == 200:
            pages[f"POST {admin_url(model, 'add')}"] = client.post(admin_url(model, "add"), {})
        if obj is not None:
            pages[f"delete_selected {model._meta.label}"] = client.post(
                admin_url(model, "changelist"),
                {"action": "delete_selected", "_selected_action": [obj.pk], "index": 0},
            )
    return {url: response for url, response in pages.items() if response.status_code == 200}


@pytest.fixture
def objects(tenant_a):
    built = {}
    for model in registered():
        build = BUILDERS.get(model._meta.label_lower)
        if build is not None:
            built[model] = build(tenant_a.account)
    return built


def test_login_page_in_vietnamese():
    response = vietnamese_client().get(reverse("admin:login"))
    assert response.status_code == 200
    assert english_on(response) == []
    assert "Tài khoản chính thức" in response.content.decode()


@pytest.mark.parametrize("who", ["superuser", "manager"])
def test_every_admin_page_in_vietnamese_has_no_english_django_strings(tenant_a, objects, who):
    user = factories.make_staff(None, username="root", is_superuser=True) if who == "superuser" else tenant_a.manager
    pages = pages_of(vietnamese_client(user), objects)
    # the pages really were rendered: the index, changelists, forms and confirmations of every model
    assert len(pages) > (3 * len(admin.site._registry) if who == "superuser" else 20), sorted(pages)
    assert any(url.startswith("delete_selected ") for url in pages)
    assert any(url.endswith("/delete/") for url in pages) and any(url.endswith("/change/") for url in pages)
    english = {url: found for url, response in pages.items() if (found := english_on(response))}
    assert not english, "\n".join(f"{url}: {found}" for url, found in sorted(english.items()))


def test_the_checker_sees_english():
    """The checker itself: it finds the English strings of an untranslated page and ignores scripts."""

    class Page:
        content = (
            b'<a href="?_facets=True">Show counts</a><button>Run</button><input type="submit" value="Go">'
            b'<input placeholder="Search FAQ"><script>var Run = "Delete";</script><p>Google Running</p>'
        )

    assert english_on(Page) == [
        "'Go' in 'Go'",
        "'Run' in 'Run'",
        "'Search' in 'Search FAQ'",
        "'Show counts' in 'Show counts'",
    ]


DJANGO_JS_SOURCE = Path(django.__file__).parent / "contrib/admin/locale/en/LC_MESSAGES/djangojs.po"


def admin_js_catalog(client) -> dict:
    response = client.get(reverse("admin:jsi18n"))
    assert response.status_code == 200
    match = re.search(r"const newcatalog = (\{.*?\});\n", response.content.decode(), re.DOTALL)
    return json.loads(match[1])


@pytest.mark.parametrize("language", ["vi", "zh-hans"])
def test_admin_javascript_catalogue_translates_every_django_admin_js_string(tenant_a, language):
    """The admin's JavaScript strings (calendar, clock, filtered select, the "Run rather than Save" warning)
    come from djangojs; Django's own vi and zh_Hans catalogues lack some, the project's djangojs.po
    (LOCALE_PATHS, merged into the admin's JavaScriptCatalog) supplies them."""
    client = vietnamese_client(tenant_a.manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    catalog = admin_js_catalog(client)
    sources = read_po(DJANGO_JS_SOURCE)
    assert len(sources) > 40
    missing = []
    for entry in sources:
        key = entry["msgid"] if "msgctxt" not in entry else f"{entry['msgctxt']}\x04{entry['msgid']}"
        text = catalog.get(key)
        text = text[0] if isinstance(text, list) else text
        if not text or text == entry["msgid"]:
            missing.append(key)
    assert missing == []
