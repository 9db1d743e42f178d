"""Issue 15's bad input, end to end through the staff console (the API's answers are in test_api.py, the file
reader's in test_lists.py): each is a clear error or a row problem, never a 500, and nothing is half-stored or
sent; whatever a sender typed is shown escaped."""

from __future__ import annotations

import asyncio

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from broadcasts.personal.models import ListRow, Notification, RecipientList
from broadcasts.personal.services import template_save
from broadcasts.services import Actor
from oa_platform.models import Conversation
from tests.personal.conftest import BODY, approved_template, web_person

pytestmark = pytest.mark.django_db

HEADER = "phone,name,date,place\n"
SCRIPT = "<script>alert(1)</script>"


def _upload(client, tenant, data: bytes, *, name: str = "list.csv", template: str = "vaccination"):
    """The broadcaster uploads ``data``; returns the page the console lands on."""
    client.force_login(tenant.broadcaster)
    answer = client.post(
        reverse("staff:personal", args=[tenant.account.slug]),
        {"template": template, "file": SimpleUploadedFile(name, data)},
        follow=True,
    )
    assert answer.status_code == 200
    return answer.content.decode()


def _nothing_stored():
    assert not RecipientList.objects.exists() and not ListRow.objects.exists() and not Notification.objects.exists()


def test_an_unknown_template_is_a_clear_error(client, tenant_a, tenant_b):
    approved_template(tenant_b)  # another agency's template of that key does not exist here
    client.cookies["django_language"] = "en"
    page = _upload(client, tenant_a, (HEADER + "0912345678,An,05/12,T1\n").encode())
    assert "No such template." in page
    _nothing_stored()


def test_an_unapproved_template_is_a_clear_error(client, tenant_a):
    template_save(
        account=tenant_a.account, actor=Actor(user=tenant_a.broadcaster), key="vaccination", name="n", body_vi=BODY
    )
    client.cookies["django_language"] = "en"
    page = _upload(client, tenant_a, (HEADER + "0912345678,An,05/12,T1\n").encode())
    assert "This template has not been approved yet." in page
    _nothing_stored()


def test_an_empty_file_is_a_clear_error(client, tenant_a):
    approved_template(tenant_a)
    client.cookies["django_language"] = "en"
    for data, message in (
        (b"", "The file is empty."),
        (HEADER.encode(), "The list has no rows."),
        # a BOM alone (an empty sheet saved as "CSV UTF-8"): refused, by its missing header
        (b"\xef\xbb\xbf", "The first row must name a phone or a citizen_id column."),
    ):
        assert message in _upload(client, tenant_a, data), data
    _nothing_stored()


def test_a_50_mb_file_is_refused_whole_and_nothing_is_stored(client, tenant_a, settings):
    # given: the deployment's default cap (20 MB) and a 50 MB list of valid rows
    approved_template(tenant_a)
    assert settings.MAX_UPLOAD_BYTES == 20 * 1024 * 1024
    row = b"0912345678,An,05/12,T1\n"
    data = HEADER.encode() + row * (50 * 1024 * 1024 // len(row))
    client.cookies["django_language"] = "en"
    # when: it reaches the console (Django alone, without the ASGI cap in front: see the next test)
    page = _upload(client, tenant_a, data)
    # then
    assert "The file is larger than 20 MB." in page
    _nothing_stored()


def test_a_50_mb_upload_is_a_413_before_django_reads_it(tenant_a):
    # the production server (ASGI): the body cap answers from the declared length, nothing is read or stored
    from oa_platform.asgi import application  # the ASGI stack only; importing it at the top sets up Django twice

    sent, read = [], []

    async def receive():
        read.append(1)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": f"/staff/{tenant_a.account.slug}/personal/",
        "headers": [
            (b"content-type", b"multipart/form-data; boundary=x"),
            (b"content-length", str(50 * 1024 * 1024).encode()),
        ],
        "query_string": b"",
    }
    asyncio.run(application(scope, receive, send))
    assert sent[0]["status"] == 413 and not read
    assert b"larger than 20 MB" in sent[1]["body"]
    _nothing_stored()


def test_a_value_of_10000_characters_is_a_row_problem_and_is_not_sent(client, tenant_a):
    approved_template(tenant_a)
    web_person(tenant_a.account, phone="+84912345679", external_id="w2")
    data = (HEADER + f"0912345678,{'x' * 10_000},05/12,T1\n0912345679,An,05/12,T1\n").encode()
    page = _upload(client, tenant_a, data)
    checked = RecipientList.objects.get()
    assert checked.rows_invalid == 1 and checked.problems == {"too_long": 1}
    assert "too_long:name" in page and "x" * 1000 not in page
    # nothing is sent while it is there, unless the sender skips it
    client.post(reverse("staff:personal-submit", args=[tenant_a.account.slug, checked.pk]))
    checked.refresh_from_db()
    assert checked.status == RecipientList.STATUS_CHECKED and not Notification.objects.exists()


def test_a_foreign_phone_is_a_row_problem_when_the_account_allows_only_vietnam(client, tenant_a):
    approved_template(tenant_a)
    page = _upload(client, tenant_a, (HEADER + "+14155550100,An,05/12,T1\n0912345678,An,05/12,T1\n").encode())
    checked = RecipientList.objects.get()
    assert checked.problems == {"foreign_phone": 1} and "foreign_phone" in page


def test_html_typed_by_a_sender_is_escaped_on_every_page_that_shows_it(
    client, tenant_a, django_capture_on_commit_callbacks
):
    # given: a template named with HTML, a list whose file name, a column and a value hold a script
    approved_template(tenant_a, name=f"Lịch {SCRIPT}")
    person = web_person(tenant_a.account, phone="+84912345678")
    slug = tenant_a.account.slug
    # a refused header: the error message names the column
    page = _upload(client, tenant_a, f"phone,name,date,place,{SCRIPT}\n0912345678,a,b,c,d\n".encode())
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and SCRIPT not in page
    _nothing_stored()
    # a list named and filled with scripts
    page = _upload(client, tenant_a, (HEADER + f"0912345678,{SCRIPT},05/12,T1\n").encode(), name=f"{SCRIPT}.csv")
    checked = RecipientList.objects.get()
    home = client.get(reverse("staff:personal", args=[slug])).content.decode()
    for html in (page, home):
        assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # when: it is approved and sent in-app
    client.post(reverse("staff:personal-submit", args=[slug, checked.pk]))
    client.force_login(tenant_a.approver)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("staff:personal-approve", args=[slug, checked.pk]))
    assert Notification.objects.get().status == "sent"
    # then: the staff inbox shows the message as text
    client.force_login(tenant_a.manager)
    conversation = Conversation.objects.get(account=tenant_a.account, citizen=person)
    inbox = client.get(reverse("staff:conversation", args=[slug, conversation.pk])).content.decode()
    assert SCRIPT not in inbox and "&lt;script&gt;" in inbox


def test_every_formula_cell_is_prefixed_in_the_row_report(client, tenant_a):
    approved_template(tenant_a)
    rows = "".join(f"09123456{i}0,{cell},05/12,T1\n" for i, cell in enumerate(("=1+1", "+SUM(A1)", "-2+3", "@A1")))
    _upload(client, tenant_a, (HEADER + rows).encode())
    checked = RecipientList.objects.get()
    report = client.get(reverse("staff:personal-report", args=[tenant_a.account.slug, checked.pk]))
    text = b"".join(report.streaming_content).decode("utf-8-sig")
    for cell in ("=1+1", "+SUM(A1)", "-2+3", "@A1"):
        assert f"'{cell}" in text
    lines = text.splitlines()[1:]
    assert len(lines) == 4 and not any(cell.startswith(tuple("=+-@")) for line in lines for cell in line.split(","))
