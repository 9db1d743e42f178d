from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from faq.models import FaqEntry, FaqIndexVersion, Synonym, UnansweredQuestion
from faq.services import faq_entry_update, faq_match, synonym_create, unanswered_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_a(client, tenant_a):
    client.force_login(tenant_a.editor)
    return client


def version(account) -> int:
    return FaqIndexVersion.objects.filter(account=account).values_list("version", flat=True).first() or 0


def inline_management(entry=None, variants=()):
    data = {
        "variants-TOTAL_FORMS": str(len(variants) + 1),
        "variants-INITIAL_FORMS": str(len(variants)),
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
    }
    for i, v in enumerate(variants):
        data[f"variants-{i}-id"] = str(v.pk)
        data[f"variants-{i}-text"] = v.text
        if entry is not None:
            data[f"variants-{i}-entry"] = str(entry.pk)
    return data


# --- entries -----------------------------------------------------------------------
def test_changelist_shows_only_own_entries_and_search_works(editor_a, faqs_a, faqs_b):
    url = reverse("admin:faq_faqentry_changelist")
    response = editor_a.get(url)
    assert response.status_code == 200
    assert "gplx-mat" in response.text
    assert "dang-ky-tam-tru" not in response.text
    response = editor_a.get(url, {"q": "tạm trú"})
    assert "dang-ky-tam-tru" not in response.text
    response = editor_a.get(url, {"q": "bằng lái"})  # a variant's text
    assert "gplx-mat" in response.text and "cccd-cap-lan-dau" not in response.text


def test_other_tenants_entry_cannot_be_opened_changed_or_deleted(editor_a, faqs_b):
    entry = faqs_b[0]
    change = reverse("admin:faq_faqentry_change", args=[entry.pk])
    assert editor_a.get(change).status_code in (302, 403, 404)
    response = editor_a.post(change, {"question": "hacked?", "answer": "hacked", **inline_management()})
    assert response.status_code in (302, 403, 404)
    delete = reverse("admin:faq_faqentry_delete", args=[entry.pk])
    editor_a.post(delete, {"post": "yes"})
    entry.refresh_from_db()
    assert entry.answer == "Khai báo trên VNeID hoặc tại công an xã."
    # bulk delete action with B's id
    editor_a.post(
        reverse("admin:faq_faqentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes", "index": 0},
    )
    assert FaqEntry.objects.filter(pk=entry.pk).exists()


def test_edit_entry_with_inline_variants_bumps_version_and_answers(editor_a, tenant_a, faqs_a):
    # given
    entry = faqs_a[1]
    faq_match(account=tenant_a.account, text="x")  # cache the index
    before = version(tenant_a.account)
    variants = list(entry.variants.all())
    data = {
        "question": entry.question,
        "answer": "Đáp án mới\n<b>in đậm</b>",
        "language": "vi",
        "category": "Giao thông",
        "tags": "gplx, bằng lái",
        "is_active": "on",
        **inline_management(entry, variants),
        "variants-1-text": "đánh rơi bằng lái ngoài đường",
    }
    # when
    response = editor_a.post(reverse("admin:faq_faqentry_change", args=[entry.pk]), data)
    # then
    assert response.status_code == 302, response.text[:2000]
    entry.refresh_from_db()
    assert entry.tags == ["gplx", "bằng lái"]
    assert entry.variants.filter(text="đánh rơi bằng lái ngoài đường").exists()
    assert version(tenant_a.account) > before
    result = faq_match(account=tenant_a.account, text="đánh rơi bằng lái ngoài đường")
    assert (result.faq, result.answer) == ("gplx-mat", "Đáp án mới\n<b>in đậm</b>")


def test_add_entry_into_other_tenants_account_is_refused(editor_a, tenant_a, tenant_b):
    data = {
        "account": str(tenant_b.account.pk),
        "key": "chen-vao",
        "question": "Câu hỏi chen vào?",
        "answer": "x",
        "language": "vi",
        **inline_management(),
    }
    response = editor_a.post(reverse("admin:faq_faqentry_add"), data)
    assert response.status_code in (200, 403)
    assert not FaqEntry.objects.filter(key="chen-vao").exists()
    data["account"] = str(tenant_a.account.pk)
    response = editor_a.post(reverse("admin:faq_faqentry_add"), data)
    assert response.status_code == 302
    assert FaqEntry.objects.get(key="chen-vao").account == tenant_a.account


def test_broadcaster_has_no_faq_admin(client, tenant_a, faqs_a):
    client.force_login(tenant_a.broadcaster)
    assert client.get(reverse("admin:faq_faqentry_changelist")).status_code == 403
    assert client.get(reverse("admin:faq_faqentry_try", args=[tenant_a.account.slug])).status_code == 404
    assert client.get(reverse("admin:faq_unansweredquestion_changelist")).status_code == 403


def test_manager_has_faq_admin(client, tenant_a, faqs_a):
    client.force_login(tenant_a.manager)
    assert client.get(reverse("admin:faq_faqentry_changelist")).status_code == 200


# --- try a question -----------------------------------------------------------------------
def test_try_box_shows_decision_and_candidates(editor_a, tenant_a, faqs_a):
    url = reverse("admin:faq_faqentry_try", args=[tenant_a.account.slug])
    assert editor_a.get(url).status_code == 200
    response = editor_a.post(url, {"text": "ad ơi làm căn cước công dân lần đầu như thế nào"})
    assert response.status_code == 200
    assert '<code class="decision">answer</code>' in response.text
    assert "cccd-cap-lan-dau" in response.text
    assert "Mang giấy khai sinh" in response.text
    # nothing logged: an editor trying is not a citizen asking
    assert not UnansweredQuestion.objects.exists()


def test_try_box_escapes_answers_and_input(editor_a, tenant_a, faqs_a):
    faq_entry_update(entry=faqs_a[1], answer="<script>alert('x')</script> Nộp đơn")
    url = reverse("admin:faq_faqentry_try", args=[tenant_a.account.slug])
    response = editor_a.post(url, {"text": "Mất giấy phép lái xe thì cấp lại thế nào? <img src=x onerror=alert(1)>"})
    assert response.status_code == 200
    assert "<script>alert(" not in response.text
    assert "&lt;script&gt;" in response.text
    assert "<img src=x" not in response.text


@pytest.mark.parametrize(
    "text, status",
    [
        ("", 400),
        ("   ", 400),
        ("😀🙏😀", 200),
        ("a" * 10_000, 200),
        ("a" * 10_001, 400),
        ("\x01\x02 cccd \x1b[0m \u200b", 200),
        ("cccd\x00", 400),
        ("' OR 1=1; DROP TABLE faq_faqentry; --", 200),
        ("làm 身份证 ở đâu? how much", 200),
    ],
)
def test_try_box_bad_input_never_500(editor_a, tenant_a, faqs_a, text, status):
    url = reverse("admin:faq_faqentry_try", args=[tenant_a.account.slug])
    response = editor_a.post(url, {"text": text})
    assert response.status_code == status
    if status == 200:
        assert 'class="decision"' in response.text
    assert FaqEntry.objects.count() == 3


def test_try_box_of_other_tenant_is_404(editor_a, tenant_b, faqs_b):
    url = reverse("admin:faq_faqentry_try", args=[tenant_b.account.slug])
    assert editor_a.get(url).status_code == 404
    assert editor_a.post(url, {"text": "Đăng ký tạm trú như thế nào?"}).status_code == 404


def test_tools_page_lists_only_own_accounts(editor_a, tenant_a, tenant_b):
    response = editor_a.get(reverse("admin:faq_faqentry_tools"))
    assert response.status_code == 200
    assert tenant_a.account.slug in response.text
    assert tenant_b.account.slug not in response.text


# --- import / export -----------------------------------------------------------------------
def _json_file(slug, faqs, name="faq.json"):
    doc = {"accounts": [{"slug": slug, "name": "x", "language": "vi", "faqs": faqs}]}
    return SimpleUploadedFile(name, json.dumps(doc, ensure_ascii=False).encode(), content_type="application/json")


FAQ_ITEM = {"key": "ho-chieu", "question": "Làm hộ chiếu ở đâu?", "variants": ["làm passport"], "answer": "XNC"}


def test_import_json_into_own_account(editor_a, tenant_a):
    url = reverse("admin:faq_faqentry_import", args=[tenant_a.account.slug])
    response = editor_a.post(url, {"file": _json_file(tenant_a.account.slug, [FAQ_ITEM])})
    assert response.status_code == 302
    entry = FaqEntry.objects.get(account=tenant_a.account, key="ho-chieu")
    assert list(entry.variants.values_list("text", flat=True)) == ["làm passport"]
    assert faq_match(account=tenant_a.account, text="Làm hộ chiếu ở đâu?").faq == "ho-chieu"


def test_import_cannot_target_other_account(editor_a, tenant_a, tenant_b):
    # B's slug in a file posted to A's import page
    url = reverse("admin:faq_faqentry_import", args=[tenant_a.account.slug])
    response = editor_a.post(url, {"file": _json_file(tenant_b.account.slug, [FAQ_ITEM])})
    assert response.status_code == 400
    # a brand-new account's slug: staff cannot create accounts
    response = editor_a.post(url, {"file": _json_file("tai-khoan-moi", [FAQ_ITEM])})
    assert response.status_code == 400
    # B's import page
    url_b = reverse("admin:faq_faqentry_import", args=[tenant_b.account.slug])
    assert editor_a.get(url_b).status_code == 404
    assert editor_a.post(url_b, {"file": _json_file(tenant_b.account.slug, [FAQ_ITEM])}).status_code == 404
    assert not FaqEntry.objects.exists()
    assert not FaqEntry.objects.filter(account__slug="tai-khoan-moi").exists()


def test_import_malformed_file_shows_error_and_stores_nothing(editor_a, tenant_a):
    url = reverse("admin:faq_faqentry_import", args=[tenant_a.account.slug])
    bad = [FAQ_ITEM, {"key": "thieu-tra-loi", "question": "Không có câu trả lời?"}]
    response = editor_a.post(url, {"file": _json_file(tenant_a.account.slug, bad)}, follow=True)
    assert response.status_code == 400
    assert "thieu-tra-loi" in response.text
    garbage = SimpleUploadedFile("x.json", b"\x00\xffnot json")
    assert editor_a.post(url, {"file": garbage}).status_code == 400
    assert editor_a.post(url, {}).status_code == 400
    assert not FaqEntry.objects.exists()


def test_import_csv_upload(editor_a, tenant_a):
    url = reverse("admin:faq_faqentry_import", args=[tenant_a.account.slug])
    data = 'key,question,answer,variants\nho-chieu,Làm hộ chiếu ở đâu?,XNC,"làm passport\nxin hộ chiếu"\n'
    response = editor_a.post(url, {"file": SimpleUploadedFile("faq.csv", data.encode("utf-8-sig"))})
    assert response.status_code == 302
    assert FaqEntry.objects.get(account=tenant_a.account, key="ho-chieu").variants.count() == 2


def test_export_views_are_scoped(editor_a, tenant_a, tenant_b, faqs_a, faqs_b):
    response = editor_a.get(reverse("admin:faq_faqentry_export", args=[tenant_a.account.slug, "json"]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    doc = json.loads(response.content)
    assert [f["key"] for f in doc["accounts"][0]["faqs"]] == [e.key for e in faqs_a]
    response = editor_a.get(reverse("admin:faq_faqentry_export", args=[tenant_a.account.slug, "csv"]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert {r["key"] for r in rows} == {e.key for e in faqs_a}
    for fmt in ("json", "csv"):
        url = reverse("admin:faq_faqentry_export", args=[tenant_b.account.slug, fmt])
        assert editor_a.get(url).status_code == 404
    assert editor_a.get(reverse("admin:faq_faqentry_export", args=[tenant_a.account.slug, "xml"])).status_code == 404


def test_export_actions_on_selected_entries(editor_a, faqs_a, faqs_b):
    url = reverse("admin:faq_faqentry_changelist")
    selected = [faqs_a[0].pk, faqs_a[2].pk, faqs_b[0].pk]  # B's id is silently out of scope
    response = editor_a.post(url, {"action": "export_json", "_selected_action": selected, "index": 0})
    doc = json.loads(response.content)
    assert [[f["key"] for f in a["faqs"]] for a in doc["accounts"]] == [["cccd-cap-lan-dau", "tiem-chung-tre-em"]]
    response = editor_a.post(url, {"action": "export_csv", "_selected_action": selected, "index": 0})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert [r["key"] for r in rows] == ["cccd-cap-lan-dau", "tiem-chung-tre-em"]


# --- synonyms -----------------------------------------------------------------------
def test_synonym_admin_scoped_and_bumps(editor_a, tenant_a, tenant_b):
    synonym_create(account=tenant_b.account, term="bimat", expansion="bí mật của B")
    before = version(tenant_a.account)
    url = reverse("admin:faq_synonym_add")
    response = editor_a.post(url, {"account": tenant_a.account.pk, "term": " GPKD ", "expansion": "giấy phép kd"})
    assert response.status_code == 302
    assert Synonym.objects.get(account=tenant_a.account).term == "gpkd"
    assert version(tenant_a.account) > before
    response = editor_a.post(url, {"account": tenant_b.account.pk, "term": "x", "expansion": "y"})
    assert not Synonym.objects.filter(account=tenant_b.account, term="x").exists()
    listing = editor_a.get(reverse("admin:faq_synonym_changelist"))
    assert "gpkd" in listing.text and "bimat" not in listing.text


# --- unanswered review -----------------------------------------------------------------------
@pytest.fixture
def unanswered_a(tenant_a):
    for _ in range(3):
        unanswered_record(account=tenant_a.account, text="đánh rơi bằng lái ngoài đường", decision="suggest")
    unanswered_record(account=tenant_a.account, text="xin giấy phép xây dựng nhà ở", decision="fallback")
    for _ in range(2):
        unanswered_record(account=tenant_a.account, text="giá vàng hôm nay", decision="fallback")
    return list(UnansweredQuestion.objects.filter(account=tenant_a.account).order_by("-count"))


@pytest.fixture
def unanswered_b(tenant_b):
    return unanswered_record(account=tenant_b.account, text="câu hỏi bí mật của B", decision="fallback")


def test_unanswered_listed_by_frequency_and_scoped(editor_a, unanswered_a, unanswered_b):
    response = editor_a.get(reverse("admin:faq_unansweredquestion_changelist"))
    assert response.status_code == 200
    text = response.text
    positions = [text.index(item.sample_text) for item in unanswered_a]
    assert positions == sorted(positions)
    assert "bí mật của B" not in text
    assert editor_a.get(reverse("admin:faq_unansweredquestion_change", args=[unanswered_b.pk])).status_code in (
        302,
        403,
        404,
    )


def test_unanswered_ignore_action(editor_a, unanswered_a, unanswered_b):
    url = reverse("admin:faq_unansweredquestion_changelist")
    item = unanswered_a[2]
    editor_a.post(url, {"action": "ignore", "_selected_action": [item.pk, unanswered_b.pk], "index": 0})
    item.refresh_from_db()
    unanswered_b.refresh_from_db()
    assert (item.status, unanswered_b.status) == ("ignored", "open")
    assert item.sample_text not in editor_a.get(url).text  # open items only by default
    assert item.sample_text in editor_a.get(url, {"status": "ignored"}).text
    assert item.sample_text in editor_a.get(url, {"status": "all"}).text


def test_unanswered_add_as_variant_two_steps(editor_a, tenant_a, faqs_a, faqs_b, unanswered_a):
    url = reverse("admin:faq_unansweredquestion_changelist")
    item = unanswered_a[0]
    # step 1: the intermediate form lists only this account's entries
    response = editor_a.post(url, {"action": "add_as_variant", "_selected_action": [item.pk], "index": 0})
    assert response.status_code == 200
    assert "gplx-mat" in response.text and "dang-ky-tam-tru" not in response.text
    # an entry of B is not a valid choice
    response = editor_a.post(
        url,
        {"action": "add_as_variant", "_selected_action": [item.pk], "apply": "1", "entry": faqs_b[0].pk, "index": 0},
    )
    assert response.status_code == 200
    assert not faqs_b[0].variants.filter(text=item.sample_text).exists()
    # step 2
    response = editor_a.post(
        url,
        {"action": "add_as_variant", "_selected_action": [item.pk], "apply": "1", "entry": faqs_a[1].pk, "index": 0},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.resolved_entry_id) == ("resolved", faqs_a[1].pk)
    assert faq_match(account=tenant_a.account, text=item.sample_text).faq == "gplx-mat"


def test_unanswered_create_faq_flow(editor_a, tenant_a, unanswered_a, unanswered_b):
    item = unanswered_a[1]
    url = reverse("admin:faq_unansweredquestion_changelist")
    response = editor_a.post(url, {"action": "create_faq", "_selected_action": [item.pk], "index": 0})
    form_url = reverse("admin:faq_unansweredquestion_create_faq", args=[item.pk])
    assert response.status_code == 302 and response["Location"] == form_url
    assert item.sample_text in editor_a.get(form_url).text
    bad = editor_a.post(form_url, {"key": "Bad Key", "question": "Q?", "answer": "A"})
    assert bad.status_code == 400
    response = editor_a.post(
        form_url,
        {
            "key": "giay-phep-xay-dung",
            "question": "Xin giấy phép xây dựng ở đâu?",
            "answer": "UBND quận.",
            "tags": "xd",
        },
    )
    assert response.status_code == 302
    entry = FaqEntry.objects.get(account=tenant_a.account, key="giay-phep-xay-dung")
    assert entry.tags == ["xd"]
    item.refresh_from_db()
    assert item.status == "resolved"
    # B's item
    url_b = reverse("admin:faq_unansweredquestion_create_faq", args=[unanswered_b.pk])
    assert editor_a.get(url_b).status_code == 404
    assert editor_a.post(url_b, {"key": "k", "question": "Q?", "answer": "A"}).status_code == 404
    assert not FaqEntry.objects.filter(account__slug=unanswered_b.account.slug).exists()
