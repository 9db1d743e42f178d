"""The web form page /f/<slug>/<id>/ (server side): rendered in the citizen's language under the strict CSP,
answers posted by its script stored once per client id for this browser, another account's form a 404."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.template.loader import get_template

from oa_platform.collect.models import Response
from tests.collect.builders import GOOD, make_form
from tests.oa_platform.test_csp import assert_policy

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_the_page_shows_every_question_and_keeps_the_policy(client, tenant_a):
    form = make_form(tenant_a.account)
    response = client.get(f"/f/{tenant_a.account.slug}/{form.pk}/")
    assert response.status_code == 200
    assert_policy(response, "form page")
    html = response.content.decode()
    for key in ("name", "notes", "people", "damage", "needs", "since", "phone", "area", "injured"):
        assert f'data-key="{key}"' in html
    assert "Báo cáo thiệt hại do lũ" in html and "oa_cid" in response.cookies
    client.cookies["django_language"] = "en"
    english = client.get(f"/f/{tenant_a.account.slug}/{form.pk}/").content.decode()
    assert "Flood damage report" in english and "People in the household" in english
    client.cookies["django_language"] = "zh-hans"
    assert "洪水损失报告" in client.get(f"/f/{tenant_a.account.slug}/{form.pk}/").content.decode()


def test_the_template_has_no_inline_script_style_or_handler():
    source = open(get_template("collect/form.html").origin.name, encoding="utf-8").read()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source)
    assert "<style" not in source and not re.search(r"\sstyle\s*=", source)
    assert not re.search(r"\son[a-z]+\s*=", source)


def test_the_service_worker_is_served_under_f(client):
    response = client.get("/f/sw.js")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")
    assert b"caches" in response.content


def test_answers_from_the_page_are_stored_once_per_client_id(client, tenant_a):
    form = make_form(tenant_a.account)
    client.get(f"/f/{tenant_a.account.slug}/{form.pk}/")
    url = f"/f/{tenant_a.account.slug}/{form.pk}/responses/"
    body = {"client_id": str(uuid.uuid4()), "answers": GOOD}
    first, again = post(client, url, body), post(client, url, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    stored = Response.objects.get()
    assert stored.channel == Response.CHANNEL_WEB and stored.citizen.account is None


@pytest.mark.parametrize(
    "body",
    [
        {"client_id": "not-a-uuid", "answers": GOOD},
        {"answers": GOOD},
        {"client_id": "7f1c4c4e-8a4b-4c55-9a55-0d9a2b8c1f00", "answers": GOOD | {"people": 500}},
        ["a", "list"],
    ],
)
def test_bad_submissions_from_the_page_are_4xx_and_store_nothing(client, tenant_a, body):
    form = make_form(tenant_a.account)
    response = post(client, f"/f/{tenant_a.account.slug}/{form.pk}/responses/", body)
    assert response.status_code == 400 and "error" in response.json()
    assert not Response.objects.exists()
    assert (
        client.post(
            f"/f/{tenant_a.account.slug}/{form.pk}/responses/", b"{", content_type="application/json"
        ).status_code
        == 400
    )


def test_another_accounts_form_is_not_found_under_this_slug(client, tenant_a, tenant_b):
    form_b = make_form(tenant_b.account)
    assert client.get(f"/f/{tenant_a.account.slug}/{form_b.pk}/").status_code == 404
    url = f"/f/{tenant_a.account.slug}/{form_b.pk}/responses/"
    assert post(client, url, {"client_id": str(uuid.uuid4()), "answers": GOOD}).status_code == 404
    assert client.get(f"/f/{tenant_a.account.slug}/99999999999999999999999/").status_code == 404
    assert not Response.objects.exists()


def test_submissions_from_one_browser_or_one_ip_are_rate_limited_with_retry_after(client, tenant_a, settings):
    from django.test import Client  # a second browser on the same IP; the fixture's client is the first

    # given: at most 2 submissions per browser and 4 per IP per minute
    settings.COLLECT_RATE_CITIZEN, settings.COLLECT_RATE_IP = (2, 60), (4, 60)
    form = make_form(tenant_a.account)
    page, url = f"/f/{tenant_a.account.slug}/{form.pk}/", f"/f/{tenant_a.account.slug}/{form.pk}/responses/"
    client.get(page)
    # when: the browser sends three different submissions
    statuses = [post(client, url, {"client_id": str(uuid.uuid4()), "answers": GOOD}).status_code for _ in range(2)]
    refused = post(client, url, {"client_id": str(uuid.uuid4()), "answers": GOOD})
    # then: the third is refused with 429 and a Retry-After (30 s: a token every 60/2 s), nothing more stored
    assert statuses == [201, 200] and refused.status_code == 429
    assert refused["Retry-After"] == "30" and refused.json()["error"]["code"] == "rate_limited"
    assert Response.objects.count() == 1
    # and another browser behind the same IP gets the IP's last token (the refused one spent one), then the limit
    other = Client()
    other.get(page)
    assert post(other, url, {"client_id": str(uuid.uuid4()), "answers": GOOD}).status_code == 201
    blocked = post(other, url, {"client_id": str(uuid.uuid4()), "answers": GOOD})
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) >= 1
    assert Response.objects.count() == 2
