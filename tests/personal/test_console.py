import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from broadcasts.personal.models import Notification, RecipientList, Template, TemplateVersion
from tests.personal.conftest import approved_template, web_person

pytestmark = pytest.mark.django_db

CSV = (
    "phone,name,date,place\n"
    "0912345678,<script>alert(1)</script>,05/12,Trạm 1\n"
    '0912345679,=HYPERLINK("http://evil"),05/12,Trạm 1\n'
    "12,Chi,05/12,Trạm 1\n"
)


def test_upload_report_submit_and_approval_by_another_person(client, tenant_a, django_capture_on_commit_callbacks):
    approved_template(tenant_a)
    web_person(tenant_a.account, phone="+84912345678", external_id="w1")
    web_person(tenant_a.account, phone="+84912345679", external_id="w2")
    slug = tenant_a.account.slug
    client.force_login(tenant_a.broadcaster)
    home = client.get(reverse("staff:personal", args=[slug]))
    assert home.status_code == 200 and "Lịch tiêm" in home.content.decode()
    # when: the list is uploaded
    answer = client.post(
        reverse("staff:personal", args=[slug]),
        {"template": "vaccination", "file": SimpleUploadedFile("hẹn tiêm.csv", CSV.encode())},
    )
    checked = RecipientList.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse("staff:personal-list", args=[slug, checked.pk])
    page = client.get(answer["Location"]).content.decode()
    # then: escaped values, the bad row, the plan; its author sees the phones in full (others masked: test_privacy)
    assert "+84912345678" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "invalid_phone" in page and "inapp: 2" in page
    # the CSV report: formulas prefixed
    report = b"".join(client.get(reverse("staff:personal-report", args=[slug, checked.pk])).streaming_content)
    text = report.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "+84912345679" in text
    # submit needs the skip choice while a row is invalid
    client.post(reverse("staff:personal-submit", args=[slug, checked.pk]))
    checked.refresh_from_db()
    assert checked.status == "checked"
    client.post(reverse("staff:personal-submit", args=[slug, checked.pk]), {"skip_invalid": "1"})
    checked.refresh_from_db()
    assert checked.status == "pending_approval"
    # the author cannot approve (not an approver); the approver can
    assert client.post(reverse("staff:personal-approve", args=[slug, checked.pk])).status_code == 403
    client.force_login(tenant_a.approver)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("staff:personal-approve", args=[slug, checked.pk]))
    checked.refresh_from_db()
    assert checked.status == "sent"
    assert list(Notification.objects.values_list("status", "channel")) == [("sent", "inapp")] * 2


def test_an_approver_cannot_approve_their_own_list(client, tenant_a):
    approved_template(tenant_a)
    slug = tenant_a.account.slug
    client.force_login(tenant_a.approver)
    client.post(
        reverse("staff:personal", args=[slug]),
        {"template": "vaccination", "file": SimpleUploadedFile("a.csv", b"phone,name,date,place\n0912345678,A,B,C\n")},
    )
    checked = RecipientList.objects.get()
    client.post(reverse("staff:personal-submit", args=[slug, checked.pk]))
    page = client.post(reverse("staff:personal-approve", args=[slug, checked.pk]), follow=True).content.decode()
    checked.refresh_from_db()
    assert checked.status == "pending_approval" and not Notification.objects.exists()
    assert "own list" in page or "của mình" in page


def test_a_file_in_another_encoding_is_a_clear_error(client, tenant_a):
    approved_template(tenant_a)
    client.force_login(tenant_a.broadcaster)
    data = "phone,name,date,place\n0912345678,Lê Văn Ân,B,C\n".encode("cp1258")
    page = client.post(
        reverse("staff:personal", args=[tenant_a.account.slug]),
        {"template": "vaccination", "file": SimpleUploadedFile("a.csv", data)},
        follow=True,
    ).content.decode()
    assert "UTF-8" in page and "Windows-1258" in page
    assert not RecipientList.objects.exists()


def test_the_page_and_the_errors_speak_the_users_language(client, api_client, tenant_a):
    approved_template(tenant_a)
    client.force_login(tenant_a.broadcaster)
    client.cookies["django_language"] = "en"
    assert "Send to a list" in client.get(reverse("staff:personal", args=[tenant_a.account.slug])).content.decode()
    client.cookies["django_language"] = "zh-hans"
    assert "按名单发送" in client.get(reverse("staff:personal", args=[tenant_a.account.slug])).content.decode()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {tenant_a.token}")
    answer = api_client.post(
        f"/api/v1/accounts/{tenant_a.account.slug}/notifications/",
        {
            "template": "vaccination",
            "phone": "+14155550100",
            "personalisation": {"name": "a", "date": "b", "place": "c"},
        },
        format="json",
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert answer.json()["error"]["message"] == "Tài khoản này chỉ cho phép số điện thoại Việt Nam."


def test_a_template_written_in_the_console_is_approved_by_another_person(client, tenant_a):
    slug = tenant_a.account.slug
    client.force_login(tenant_a.broadcaster)
    form = client.get(reverse("staff:personal-template-new", args=[slug])).content.decode()
    assert "data-sms-counter" in form and "personal_template.js" in form
    bad = client.post(reverse("staff:personal-template-new", args=[slug]), {"key": "x y", "name": "n", "body_vi": "b"})
    assert bad.status_code == 400
    bad = client.post(
        reverse("staff:personal-template-new", args=[slug]),
        {"key": "card", "name": "n", "body_vi": "b", "link": "javascript:alert(1)"},
    )
    assert bad.status_code == 400 and not Template.objects.exists()
    body = {
        "key": "card",
        "name": "Căn cước",
        "body_vi": "Căn cước của ((name)) đã có",
        "sms_text": "Can cuoc ((name))",
    }
    assert client.post(reverse("staff:personal-template-new", args=[slug]), body).status_code == 302
    # the author cannot approve it (and a broadcaster is not an approver)
    approve = reverse("staff:personal-template-approve", args=[slug, "card"])
    assert client.post(approve).status_code == 403
    client.force_login(tenant_a.approver)
    client.post(approve)
    assert TemplateVersion.objects.get().status == "approved"
    assert "Căn cước" in client.get(reverse("staff:personal", args=[slug])).content.decode()
