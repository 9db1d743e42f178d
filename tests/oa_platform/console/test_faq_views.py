"""The console's FAQ pages: entries, the review queue (one click adds a question as a variant), "try a
question", by role and in each language."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from faq import index
from faq.models import FaqEntry, Synonym, UnansweredQuestion
from faq.services import faq_entry_create, faq_match, synonym_create, unanswered_record
from oa_platform.models import Membership
from tests.factories import make_account, make_staff
from tests.oa_platform.test_admin_vi_strings import english_on

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_index_cache():
    index.index_forget()
    yield
    index.index_forget()


@pytest.fixture
def account():
    account = make_account("congan-demo", name="Công an Demo")
    faq_entry_create(
        account=account,
        key="ho-chieu-le-phi",
        question="Lệ phí cấp hộ chiếu là bao nhiêu?",
        answer="Lệ phí cấp hộ chiếu phổ thông là 200.000 đồng.",
        variants=["Làm hộ chiếu hết bao nhiêu tiền?"],
    )
    faq_entry_create(
        account=account,
        key="dang-ky-xe",
        question="Thủ tục đăng ký xe máy mới mua?",
        answer="Mang giấy tờ xe và căn cước đến công an xã.",
        category="Giao thông",
    )
    return account


def client_for(account, role=Membership.ROLE_EDITOR, language="vi") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(make_staff(account, role, f"{role}-{language}"))
    return client


def url(name, account, *args):
    return reverse(f"staff:{name}", args=[account.slug, *args])


def entry(account, key="ho-chieu-le-phi") -> FaqEntry:
    return FaqEntry.objects.get(account=account, key=key)


def test_only_editors_and_managers_open_the_faq(account):
    for role, status in [
        (Membership.ROLE_EDITOR, 200),
        (Membership.ROLE_MANAGER, 200),
        (Membership.ROLE_BROADCASTER, 403),
        (Membership.ROLE_APPROVER, 403),
    ]:
        client = client_for(account, role)
        for name in ("faq", "faq-review", "faq-try", "faq-add"):
            assert client.get(url(name, account)).status_code == status, (role, name)


def test_list_searches_without_diacritics(account):
    client = client_for(account)
    page = client.get(url("faq", account), {"q": "le phi ho chieu"}).content.decode()
    assert "Lệ phí cấp hộ chiếu là bao nhiêu?" in page and "đăng ký xe máy" not in page
    assert "1 trên 2 câu hỏi" in page
    # a variant's words find the entry too, and the whole list has both with links to their edit pages
    assert "Lệ phí cấp hộ chiếu" in client.get(url("faq", account), {"q": "het bao nhieu tien"}).content.decode()
    page = client.get(url("faq", account)).content.decode()
    assert (
        url("faq-edit", account, entry(account).pk) in page
        and url("faq-edit", account, entry(account, "dang-ky-xe").pk) in page
    )


def test_create_an_entry_with_variants_one_per_line(account):
    client = client_for(account)
    response = client.post(
        url("faq-add", account),
        {
            "key": "",
            "question": "Đổi căn cước ở đâu?",
            "variants": "đổi cccd ở đâu\n\n  doi can cuoc o dau  \n",
            "answer": "Tại công an xã nơi cư trú.",
            "language": "vi",
            "tags": "căn cước, cư trú",
            "is_active": "on",
        },
    )
    assert response.status_code == 302 and response["Location"] == url("faq", account)
    created = entry(account, "doi-can-cuoc-o-dau")
    assert list(created.variants.values_list("text", flat=True)) == ["đổi cccd ở đâu", "doi can cuoc o dau"]
    assert created.tags == ["căn cước", "cư trú"] and created.is_active
    assert "Đã thêm câu hỏi" in client.get(response["Location"]).content.decode()


def test_invalid_entry_shows_errors_by_field_and_stores_nothing(account):
    client = client_for(account)
    before = FaqEntry.objects.count()
    response = client.post(
        url("faq-add", account),
        {"key": "ho-chieu-le-phi", "question": "Hộ chiếu?", "answer": "", "language": "vi"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Chưa lưu" in page and "Hãy điền mục này." in page
    # the service's own check (a taken key) shows by its field
    response = client.post(
        url("faq-add", account),
        {"key": "ho-chieu-le-phi", "question": "Hộ chiếu?", "answer": "Có.", "language": "vi"},
    )
    assert response.status_code == 400
    assert "Mã này đã được dùng" in response.content.decode()
    # dates out of order
    response = client.post(
        url("faq-add", account),
        {
            "question": "Hộ chiếu?",
            "answer": "Có.",
            "language": "vi",
            "valid_from": "10/12/2026",
            "valid_until": "01/12/2026",
        },
    )
    assert response.status_code == 400 and "Ngày hết hiệu lực phải sau ngày bắt đầu." in response.content.decode()
    assert FaqEntry.objects.count() == before


def test_edit_replaces_variants_and_keeps_the_key(account):
    client = client_for(account)
    target = entry(account)
    page = client.get(url("faq-edit", account, target.pk)).content.decode()
    assert "Làm hộ chiếu hết bao nhiêu tiền?" in page and "ho-chieu-le-phi" in page
    response = client.post(
        url("faq-edit", account, target.pk),
        {
            "question": "Lệ phí làm hộ chiếu?",
            "variants": "hộ chiếu bao nhiêu tiền\nphí hộ chiếu",
            "answer": "200.000 đồng.",
            "language": "vi",
            "valid_from": "2026-12-01",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.question == "Lệ phí làm hộ chiếu?" and target.key == "ho-chieu-le-phi"
    assert list(target.variants.values_list("text", flat=True)) == ["hộ chiếu bao nhiêu tiền", "phí hộ chiếu"]
    assert str(target.valid_from) == "2026-12-01"
    # a blank question is refused, nothing changed
    response = client.post(url("faq-edit", account, target.pk), {"question": "", "answer": "x", "language": "vi"})
    assert response.status_code == 400
    target.refresh_from_db()
    assert target.question == "Lệ phí làm hộ chiếu?" and target.variants.count() == 2


def test_toggle_and_delete_after_confirmation(account):
    client = client_for(account)
    target = entry(account)
    assert client.get(url("faq-toggle", account, target.pk)).status_code == 405
    assert client.post(url("faq-toggle", account, target.pk), {"q": "ho chieu"})["Location"].endswith("?q=ho+chieu")
    target.refresh_from_db()
    assert not target.is_active
    assert "Đã tắt" in client.get(url("faq", account)).content.decode()
    client.post(url("faq-toggle", account, target.pk))
    target.refresh_from_db()
    assert target.is_active
    # the confirmation page, then the delete
    page = client.get(url("faq-delete", account, target.pk)).content.decode()
    assert "Xoá câu hỏi này?" in page and "Không thể hoàn tác" in page
    assert client.post(url("faq-delete", account, target.pk)).status_code == 302
    assert not FaqEntry.objects.filter(pk=target.pk).exists()
    assert client.get(url("faq-edit", account, target.pk)).status_code == 404


def checked_radio(page: str, group: int) -> str:
    match = re.search(rf'<input type="radio" name="entry" value="(\w+)" id="g{group}-c?\w*" checked>', page)
    return match[1] if match else ""


def test_review_preselects_the_nearest_entry_and_one_click_adds_the_variant(account):
    # given two ways of asking the passport fee the bot did not answer, and an unrelated question
    first = unanswered_record(account=account, text="ho chieu mat bao nhieu tien", decision="fallback")
    second = unanswered_record(account=account, text="phí làm hộ chiếu mất bao nhiêu tiền", decision="suggest")
    unanswered_record(account=account, text="giá vàng hôm nay", decision="fallback")
    client = client_for(account)
    page = client.get(url("faq-review", account)).content.decode()
    # then the passport group comes with the passport entry checked
    passport = entry(account)
    assert "phí làm hộ chiếu mất bao nhiêu tiền" in page
    assert checked_radio(page, 1) == str(passport.pk)
    assert "Tiếng Việt" in page and "Hỏi 2 lần" in page
    # when the editor clicks "add as variant" with what is preselected (the form's hidden items and entry)
    items = re.search(r'action="[^"]*/review/variant/".*?</form>', page, re.S)[0]
    ids = re.findall(r'name="items" value="(\d+)"', items)
    assert sorted(ids) == sorted([str(first.pk), str(second.pk)])
    response = client.post(url("faq-review-variant", account), {"items": ids, "entry": checked_radio(page, 1)})
    # then both wordings teach the entry, the group leaves the queue, and the bot answers them now
    assert response.status_code == 302 and response["Location"] == url("faq-review", account)
    assert passport.variants.filter(text="phí làm hộ chiếu mất bao nhiêu tiền").exists()
    page = client.get(response["Location"]).content.decode()
    assert "Đã thêm" in page and "ho chieu mat bao nhieu tien" not in page.split("</ul>", 1)[-1]
    tried = client.get(url("faq-try", account), {"q": "phí làm hộ chiếu mất bao nhiêu tiền"}).content.decode()
    assert "Trả lời ngay" in tried and "200.000 đồng" in tried


def test_review_other_entry_choice_dismiss_and_create(account):
    other_agency = make_account("so-gtvt", name="Sở Giao thông vận tải")
    item = unanswered_record(account=account, text="đăng kiểm ô tô ở đâu", decision="fallback")
    UnansweredQuestion.objects.filter(pk=item.pk).update(decision="other_agency", referred_to=other_agency)
    gold = unanswered_record(account=account, text="giá vàng hôm nay", decision="fallback")
    client = client_for(account)
    page = client.get(url("faq-review", account)).content.decode()
    assert "Thuộc cơ quan khác" in page and "Sở Giao thông vận tải" in page
    # questions the bot fell back on: their faint candidates are listed but none is preselected
    assert checked_radio(page, 1) == checked_radio(page, 2) == ""
    assert "Không câu hỏi nào đủ gần" in page
    # "other entry" picks from the list
    target = entry(account, "dang-ky-xe")
    client.post(url("faq-review-variant", account), {"items": [item.pk], "entry": "other", "other_entry": target.pk})
    assert target.variants.filter(text="đăng kiểm ô tô ở đâu").exists()
    # no entry chosen: a flash, nothing changed
    client.post(url("faq-review-variant", account), {"items": [gold.pk], "entry": "other", "other_entry": ""})
    gold.refresh_from_db()
    assert gold.status == "open"
    # another agency's entry or item does not exist here
    foreign = faq_entry_create(account=other_agency, key="dk", question="Đăng kiểm?", answer="Có.")
    assert client.post(url("faq-review-variant", account), {"items": [gold.pk], "entry": foreign.pk}).status_code == 302
    assert not foreign.variants.exists()
    foreign_item = unanswered_record(account=other_agency, text="đăng kiểm", decision="fallback")
    response = client.post(url("faq-review-dismiss", account), {"items": [foreign_item.pk]})
    assert response.status_code == 404
    # create a new entry from the group: prefilled with its text
    page = client.get(url("faq-add", account), {"items": str(gold.pk)}).content.decode()
    assert "giá vàng hôm nay" in page and f'name="items" value="{gold.pk}"' in page
    assert client.get(url("faq-add", account), {"items": "x"}).status_code == 404
    assert client.get(url("faq-add", account), {"items": str(foreign_item.pk)}).status_code == 404
    assert client.get(url("faq-add", account), {"items": ",".join(map(str, range(1, 300)))}).status_code == 404
    response = client.post(
        url("faq-add", account),
        {"items": [gold.pk], "question": "Giá vàng hôm nay?", "answer": "Xem trang SJC.", "language": "vi"},
    )
    assert response.status_code == 302 and response["Location"] == url("faq-review", account)
    gold.refresh_from_db()
    assert gold.status == "resolved" and gold.resolved_entry.key == "gia-vang-hom-nay"
    # dismiss
    again = unanswered_record(account=account, text="thời tiết mai thế nào", decision="fallback")
    assert client.post(url("faq-review-dismiss", account), {"items": [again.pk]}).status_code == 302
    again.refresh_from_db()
    assert again.status == "ignored"
    assert "Không còn câu hỏi nào" in client.get(url("faq-review", account)).content.decode()


def test_try_shows_the_decision_in_words_and_links_candidates(account):
    client = client_for(account)
    page = client.get(url("faq-try", account), {"q": "Lệ phí cấp hộ chiếu là bao nhiêu?"}).content.decode()
    assert "Trả lời ngay" in page and "200.000 đồng" in page
    assert url("faq-edit", account, entry(account).pk) in page and "Chắc chắn: bot trả lời bằng mục này" in page
    page = client.get(url("faq-try", account), {"q": "thời tiết Paris ngày mai"}).content.decode()
    assert "Không có câu trả lời" in page and "answer" not in re.sub(r"<[^>]+>", "", page).split()
    # nothing was recorded by trying
    assert not UnansweredQuestion.objects.exists()
    assert client.get(url("faq-try", account), {"q": "x" * 2001}).status_code == 400


def test_try_names_the_other_agency(account):
    other = make_account("so-gtvt", name="Sở Giao thông vận tải")
    faq_entry_create(
        account=other,
        key="dang-kiem",
        question="Đăng kiểm ô tô ở đâu?",
        answer="Tại trung tâm đăng kiểm.",
        variants=["đăng kiểm xe ô tô"],
    )
    page = client_for(account).get(url("faq-try", account), {"q": "Đăng kiểm ô tô ở đâu?"}).content.decode()
    assert "Chuyển sang cơ quan khác" in page and "Sở Giao thông vận tải" in page


def test_synonyms_add_refuse_a_duplicate_and_delete(account):
    client = client_for(account)
    assert faq_match(account=account, text="lpcc").decision != "answer"
    response = client.post(
        url("faq-synonyms", account), {"term": "LPCC", "expansion": "lệ phí hộ chiếu", "language": ""}
    )
    assert response.status_code == 302
    synonym = Synonym.objects.get(account=account)
    assert synonym.term == "lpcc"
    page = client.get(url("faq-synonyms", account)).content.decode()
    assert "Đã thêm" in page and "lệ phí hộ chiếu" in page
    # the same term again: refused by its field, nothing stored
    response = client.post(url("faq-synonyms", account), {"term": "lpcc", "expansion": "x", "language": ""})
    assert response.status_code == 400 and "Mã này đã được dùng" not in response.content.decode()
    assert "Từ này đã có." in response.content.decode()
    assert client.post(url("faq-synonyms", account), {"term": "", "expansion": ""}).status_code == 400
    assert Synonym.objects.count() == 1
    # another agency's synonym does not exist here
    other = synonym_create(account=make_account("agency-b"), term="gpkd", expansion="giấy phép kinh doanh")
    assert client.post(url("faq-synonym-delete", account, other.pk)).status_code == 404
    assert client.post(url("faq-synonym-delete", account, synonym.pk)).status_code == 302
    assert list(Synonym.objects.all()) == [other]


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", ["Answer now", "Unanswered"]), ("zh-hans", ["立即回答", "未回答"])],
)
def test_faq_pages_are_translated(account, language, words):
    client = client_for(account, language=language)
    tried = client.get(url("faq-try", account), {"q": "Lệ phí cấp hộ chiếu là bao nhiêu?"}).content.decode()
    assert words[0] in tried and words[1] in tried


def test_vietnamese_faq_pages_have_no_untranslated_english(account):
    item = unanswered_record(account=account, text="ho chieu mat bao lau", decision="fallback")
    client = client_for(account)
    target = entry(account)
    pages = {
        "list": client.get(url("faq", account), {"q": "ho chieu"}),
        "add": client.get(url("faq-add", account)),
        "add-invalid": client.post(url("faq-add", account), {"question": "x", "valid_from": "32/13/2026"}),
        "from-review": client.get(url("faq-add", account), {"items": str(item.pk)}),
        "edit": client.get(url("faq-edit", account, target.pk)),
        "delete": client.get(url("faq-delete", account, target.pk)),
        "review": client.get(url("faq-review", account)),
        "try": client.get(url("faq-try", account), {"q": "ho chieu"}),
        "synonyms": client.get(url("faq-synonyms", account)),
        "synonyms-invalid": client.post(url("faq-synonyms", account), {"term": ""}),
    }
    assert {name: r.status_code for name, r in pages.items()} == {
        **{name: 200 for name in pages},
        "add-invalid": 400,
        "synonyms-invalid": 400,
    }
    english = {name: found for name, response in pages.items() if (found := english_on(response))}
    assert not english, english
