"""The console shell: access by account and role, navigation by role, the base page in each language."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from oa_platform.console.access import EDITORS, console_view, role_allows
from oa_platform.console.nav import nav_items
from oa_platform.models import Membership
from tests.factories import make_account, make_staff

pytestmark = pytest.mark.django_db


@console_view(roles=EDITORS)
def editors_page(request, slug):
    return HttpResponse(f"{request.account.slug}:{request.role}")


def _get(user, slug):
    request = RequestFactory().get(f"/staff/{slug}/x/")
    request.user = user
    return editors_page(request, slug)


def test_console_view_resolves_own_account_and_checks_role():
    # given two agencies and their staff
    a, b = make_account("agency-a"), make_account("agency-b")
    editor = make_staff(a, Membership.ROLE_EDITOR, "ed")
    broadcaster = make_staff(a, Membership.ROLE_BROADCASTER, "br")
    manager = make_staff(a, Membership.ROLE_MANAGER, "mg")
    # then each may open what the role covers, and another agency's slug does not exist for them
    assert _get(editor, "agency-a").content == b"agency-a:editor"
    assert _get(manager, "agency-a").content == b"agency-a:manager"
    with pytest.raises(PermissionDenied):
        _get(broadcaster, "agency-a")
    with pytest.raises(Http404):
        _get(editor, b.slug)


def test_console_view_rechecks_membership_each_request():
    a = make_account("agency-a")
    editor = make_staff(a, Membership.ROLE_EDITOR, "ed")
    assert _get(editor, "agency-a").status_code == 200
    Membership.objects.filter(user=editor).delete()
    with pytest.raises(Http404):
        _get(editor, "agency-a")


def test_role_allows():
    assert role_allows(Membership.ROLE_MANAGER, EDITORS)
    assert role_allows(Membership.ROLE_EDITOR, None)
    assert not role_allows(None, None)
    assert not role_allows(Membership.ROLE_BROADCASTER, EDITORS)


def test_nav_lists_only_resolvable_sections_the_role_covers():
    a = make_account("agency-a")
    request = RequestFactory().get("/staff/agency-a/")
    editor_labels = [i.url for i in nav_items(request=request, account=a, role=Membership.ROLE_EDITOR)]
    broadcaster_urls = [i.url for i in nav_items(request=request, account=a, role=Membership.ROLE_BROADCASTER)]
    # the inbox is for everyone; FAQ pages (when they exist) only for editors and managers
    assert editor_labels and all(u.startswith("/staff/agency-a/") for u in editor_labels)
    assert all("/faq/" not in u for u in broadcaster_urls)
    assert nav_items(request=request, account=a, role=None) == []


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/staff/agency-a/", ["/staff/agency-a/"]),
        ("/staff/agency-a/faq/review/", ["/staff/agency-a/faq/"]),
        ("/staff/agency-a/me/chat/", []),  # a page of no section: Today is not lit for it
    ],
)
def test_nav_lights_the_section_of_the_page_and_today_only_on_its_own_page(path, current):
    a = make_account("agency-a")
    items = nav_items(request=RequestFactory().get(path), account=a, role=Membership.ROLE_MANAGER)
    assert [i.url for i in items if i.current] == current


@pytest.mark.parametrize(
    ("language", "title"), [("vi", "Chọn tài khoản"), ("en", "Choose an account"), ("zh-hans", "选择账号")]
)
def test_home_lists_accounts_in_the_staff_language(client, language, title):
    # given a person in two accounts
    a, b = make_account("agency-a"), make_account("agency-b")
    user = make_staff(a, Membership.ROLE_EDITOR, "ed")
    Membership.objects.create(user=user, account=b, role=Membership.ROLE_EDITOR)
    client.force_login(user)
    client.cookies["django_language"] = language
    # when they open the console
    page = client.get("/staff/").content.decode()
    # then the page is in their language, with both accounts and the shared stylesheet
    assert title in page
    assert "/staff/agency-a/" in page and "/staff/agency-b/" in page
    assert "oa/oa.css" in page
