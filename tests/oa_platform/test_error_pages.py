"""Error pages: an HTML request gets the site's styled, translated 400/403/404/500 page (with the Content-Security-
Policy and the way back), an /api/ request keeps the API's JSON error shape. A finished notice offers no Delete
button, and its delete address is the styled 403 (issue 14: it was Django's bare "403 Forbidden")."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.template.loader import get_template
from django.urls import reverse
from django.utils import translation

from tests.broadcasts.conftest import approved, draft
from tests.oa_platform.test_csp import assert_policy

pytestmark = pytest.mark.django_db

# (language, the 403 heading, the 404 heading, the 500 heading) as each catalogue says them
HEADINGS = [
    ("vi", "Bạn không có quyền thực hiện việc này", "Không tìm thấy trang", "Hệ thống đang gặp sự cố"),
    ("en", "You do not have permission to do this", "Page not found", "Something went wrong"),
]


def styled(response, heading: str, path: str) -> str:
    page = response.content.decode()
    assert response["Content-Type"].startswith("text/html"), path
    assert "oa/oa.css" in page and 'class="topbar"' in page, f"{path}: not the site's page"
    assert heading in page, f"{path}: {heading!r} missing"
    assert "<style" not in page and "style=" not in page
    assert_policy(response, path)
    return page


@pytest.mark.parametrize("language, _403, heading, _500", HEADINGS)
def test_an_unknown_page_is_the_styled_translated_404(client, language, _403, heading, _500):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = styled(response, heading, "/no-such-page/")
    assert f'href="{reverse("home")}"' in page


@pytest.mark.parametrize("language, heading, _404, _500", HEADINGS)
def test_a_refused_admin_page_is_the_styled_translated_403(client, tenant_a, language, heading, _404, _500):
    # given: a broadcaster (may not manage memberships)
    client.force_login(tenant_a.broadcaster)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    # when
    path = reverse("admin:oa_platform_membership_changelist")
    response = client.get(path)
    # then: the styled page with the way back to the admin's index
    assert response.status_code == 403
    page = styled(response, heading, path)
    assert f'href="{reverse("admin:index")}"' in page


@pytest.mark.urls("tests.oa_platform.error_urls")
@pytest.mark.parametrize("language, _403, _404, heading", HEADINGS)
def test_a_failing_view_is_the_styled_translated_500(client, language, _403, _404, heading):
    client.raise_request_exception = False
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get("/broken/")
    assert response.status_code == 500
    page = styled(response, heading, "/broken/")
    assert "boom" not in page


def test_the_500_page_renders_with_an_empty_context_and_no_database(django_assert_num_queries):
    # Django renders 500.html with no request and no context; whatever failed may be the database.
    with django_assert_num_queries(0), translation.override("vi"):
        page = get_template("500.html").render()
    assert "Hệ thống đang gặp sự cố" in page and "oa/oa.css" in page
    assert 'id="lang-form"' not in page  # no form that would need a CSRF token the page cannot have


def test_a_browser_request_django_cannot_read_is_the_styled_400(client, settings):
    # too many form fields: Django refuses the request before any view runs
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 2
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post("/admin/login/", data={"a": "1", "b": "2", "c": "3"}, headers={"Accept": "text/html"})
    assert response.status_code == 400
    styled(response, "Bad request", "/admin/login/")


@pytest.mark.urls("tests.oa_platform.error_urls")
def test_api_errors_keep_the_json_shape(client, tenant_a):
    # an unknown API address: 404 JSON (the handler already did this; kept)
    response = client.get("/api/v1/nothing/", headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    # a failing API view: 500 JSON, not the HTML page
    client.raise_request_exception = False
    response = client.get("/api/v1/broken/", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "server_error"


@pytest.mark.parametrize("language, heading, _404, _500", HEADINGS)
def test_a_finished_notice_offers_no_delete_and_its_delete_address_is_the_styled_403(
    client, tenant_a, language, heading, _404, _500
):
    # given: an approved notice and a draft; the manager may delete notices
    finished = approved(tenant_a)
    assert finished.status != "draft"
    still_draft = draft(tenant_a, title_vi="Nháp")
    client.force_login(tenant_a.manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    delete_path = reverse("admin:broadcasts_notice_delete", args=[finished.pk])
    # when / then: the finished notice's page has no Delete link, the draft's still has one
    page = client.get(reverse("admin:broadcasts_notice_change", args=[finished.pk])).content.decode()
    assert delete_path not in page and "deletelink" not in page
    draft_page = client.get(reverse("admin:broadcasts_notice_change", args=[still_draft.pk])).content.decode()
    assert reverse("admin:broadcasts_notice_delete", args=[still_draft.pk]) in draft_page
    # and the delete address, reached anyway, is the styled 403 and deletes nothing
    for response in (client.get(delete_path), client.post(delete_path, {"post": "yes"})):
        assert response.status_code == 403
        styled(response, heading, delete_path)
    finished.refresh_from_db()


def test_bulk_delete_from_the_list_refuses_a_finished_notice(client, tenant_a):
    # given: an approved notice; the manager selects it in the list and picks "delete selected"
    finished = approved(tenant_a)
    client.force_login(tenant_a.manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    url = reverse("admin:broadcasts_notice_changelist")
    data = {"action": "delete_selected", "_selected_action": [finished.pk]}
    # when: the confirmation step; then: Django says the permission is lacking
    response = client.post(url, data)
    assert response.status_code == 200 and response.context["perms_lacking"]
    # when: confirmed anyway; then: the styled 403, and the notice is still there (it was deleted before)
    response = client.post(url, {**data, "post": "yes"})
    assert response.status_code == 403
    styled(response, HEADINGS[0][1], url)
    finished.refresh_from_db()
