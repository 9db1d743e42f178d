"""The FAQ services and reads the console's FAQ section uses: search without diacritics, the review queue
grouped by similar text, and handling a group at once (tenant-guarded, all or nothing)."""

from __future__ import annotations

import pytest

from faq import index
from faq.models import FaqEntry, UnansweredQuestion
from faq.review import group_items, guess_language, similar, unanswered_groups
from faq.selectors import entries_search, entry_for_account
from faq.services import (
    faq_entry_create,
    faq_key_suggest,
    faq_match,
    unanswered_group_add_as_variant,
    unanswered_group_create_faq,
    unanswered_group_ignore,
    unanswered_record,
)
from oa_platform.errors import NotFound, ValidationFailed
from tests.factories import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_index_cache():
    index.index_forget()
    yield
    index.index_forget()


def passport(account, **kw):
    return faq_entry_create(
        account=account,
        key=kw.pop("key", "ho-chieu-le-phi"),
        question="Lệ phí cấp hộ chiếu là bao nhiêu?",
        answer="Lệ phí cấp hộ chiếu phổ thông là 200.000 đồng.",
        variants=["Làm hộ chiếu hết bao nhiêu tiền?"],
        **kw,
    )


def test_search_finds_accented_entries_typed_without_diacritics():
    a = make_account("agency-a")
    entry = passport(a, tags=["xuất nhập cảnh"])
    faq_entry_create(account=a, key="dang-ky-xe", question="Đăng ký xe máy ở đâu?", answer="Công an xã.")
    # question, variant, answer and tag words, any case, with or without diacritics
    for query in ("le phi ho chieu", "LỆ PHÍ", "bao nhieu tien", "200.000 dong", "xuat nhap canh", "ho-chieu-le"):
        assert entries_search(account=a, query=query) == [entry], query
    assert entries_search(account=a, query="ho chieu xe may") == []
    assert len(entries_search(account=a, query="  ")) == 2


def test_search_and_lookup_never_cross_tenants():
    a, b = make_account("agency-a"), make_account("agency-b")
    entry = passport(a)
    assert entries_search(account=b, query="ho chieu") == []
    assert entry_for_account(account=b, pk=entry.pk) is None
    assert entry_for_account(account=a, pk=str(entry.pk)) == entry
    assert entry_for_account(account=a, pk="x") is None


def test_key_suggest_is_folded_kebab_case_and_free():
    a = make_account("agency-a")
    assert faq_key_suggest(account=a, question="Đổi căn cước ở đâu?") == "doi-can-cuoc-o-dau"
    faq_entry_create(account=a, key="doi-can-cuoc-o-dau", question="Đổi căn cước ở đâu?", answer="Công an xã.")
    assert faq_key_suggest(account=a, question="Đổi căn cước ở đâu?") == "doi-can-cuoc-o-dau-2"
    assert faq_key_suggest(account=a, question="???") == "faq"


def test_similar_questions_form_one_group_and_other_agencies_stay_apart():
    a, other = make_account("agency-a"), make_account("agency-b", name="Sở Giao thông")
    for text in ("đổi bằng lái xe ở đâu", "Doi bang lai xe o dau", "Doi bang lai xe may o dau"):
        unanswered_record(account=a, text=text, decision="fallback")
    unanswered_record(account=a, text="giá vàng hôm nay", decision="fallback")
    referred = unanswered_record(account=a, text="đăng kiểm ô tô", decision="fallback")
    UnansweredQuestion.objects.filter(pk=referred.pk).update(decision="other_agency", referred_to=other)
    # when
    groups = unanswered_groups(account=a)
    # then the driving licence questions are one group, counted together, newest wording first
    assert [g.count for g in groups] == [3, 1, 1]
    licence = groups[0]
    assert len(licence.items) == 2 and licence.newest.sample_text == "Doi bang lai xe may o dau"
    assert licence.referred_to is None
    agency = next(g for g in groups if g.referred_to_id)
    assert agency.referred_to == other and agency.item_ids == [referred.pk]
    # another account's queue is its own
    assert unanswered_groups(account=other) == []


def test_similarity_rule():
    assert similar(frozenset("doi cccd".split()), frozenset("doi cccd o dau".split()))
    assert not similar(frozenset(["cccd"]), frozenset("doi cccd o dau".split()))
    assert not similar(frozenset("le phi ho chieu".split()), frozenset("le phi dang ky xe".split()))
    assert group_items([]) == []


def test_guess_language():
    assert guess_language("đổi cccd ở đâu") == "vi"
    assert guess_language("doi cccd o dau") == "vi"
    assert guess_language("how do I renew my passport") == "en"
    assert guess_language("护照怎么办") == "zh-hans"


def test_group_add_as_variant_teaches_every_wording_and_resolves():
    a = make_account("agency-a")
    entry = passport(a)
    one = unanswered_record(account=a, text="ho chieu mat bao nhieu tien", decision="fallback")
    two = unanswered_record(account=a, text="phí làm hộ chiếu mất bao nhiêu tiền", decision="fallback")
    assert one.pk != two.pk
    # when
    unanswered_group_add_as_variant(account=a, item_ids=[one.pk, str(two.pk)], entry=entry)
    # then both wordings are variants, both items resolved by the entry, and the matcher answers them
    texts = set(entry.variants.values_list("text", flat=True))
    assert {"ho chieu mat bao nhieu tien", "phí làm hộ chiếu mất bao nhiêu tiền"} <= texts
    for item in (one, two):
        item.refresh_from_db()
        assert (item.status, item.resolved_entry) == (UnansweredQuestion.STATUS_RESOLVED, entry)
    result = faq_match(account=a, text="phí làm hộ chiếu mất bao nhiêu tiền")
    assert (result.decision, result.faq) == ("answer", entry.key)


def test_group_services_refuse_another_agencys_items_and_entries():
    a, b = make_account("agency-a"), make_account("agency-b")
    entry_a, entry_b = passport(a), passport(b)
    item_b = unanswered_record(account=b, text="ho chieu mat bao lau", decision="fallback")
    item_a = unanswered_record(account=a, text="ho chieu mat bao lau", decision="fallback")
    with pytest.raises(NotFound):
        unanswered_group_add_as_variant(account=a, item_ids=[item_a.pk, item_b.pk], entry=entry_a)
    with pytest.raises(NotFound):
        unanswered_group_add_as_variant(account=a, item_ids=[item_a.pk], entry=entry_b)
    with pytest.raises(NotFound):
        unanswered_group_ignore(account=a, item_ids=[item_b.pk])
    with pytest.raises(ValidationFailed):
        unanswered_group_ignore(account=a, item_ids=[])
    with pytest.raises(ValidationFailed):
        unanswered_group_ignore(account=a, item_ids=["x"])
    # nothing half-stored
    assert entry_a.variants.count() == 1
    assert set(UnansweredQuestion.objects.values_list("status", flat=True)) == {"open"}


def test_group_create_faq_is_all_or_nothing():
    a = make_account("agency-a")
    passport(a)
    one = unanswered_record(account=a, text="cấp lại căn cước bị mất", decision="fallback")
    two = unanswered_record(account=a, text="cap lai can cuoc bi mat o dau", decision="fallback")
    # a taken key: nothing created, nothing resolved
    with pytest.raises(ValidationFailed) as caught:
        unanswered_group_create_faq(
            account=a, item_ids=[one.pk, two.pk], key="ho-chieu-le-phi", question="Cấp lại căn cước?", answer="..."
        )
    assert caught.value.fields == {"key": "taken"}
    assert FaqEntry.objects.filter(account=a).count() == 1
    # then with a free key
    entry = unanswered_group_create_faq(
        account=a,
        item_ids=[one.pk, two.pk],
        key="cccd-cap-lai",
        question="Cấp lại căn cước bị mất ở đâu?",
        answer="Tại công an xã nơi cư trú.",
        variants=["mất thẻ căn cước"],
    )
    assert set(entry.variants.values_list("text", flat=True)) == {
        "mất thẻ căn cước",
        "cấp lại căn cước bị mất",
        "cap lai can cuoc bi mat o dau",
    }
    assert set(UnansweredQuestion.objects.values_list("status", flat=True)) == {"resolved"}


def test_group_ignore_dismisses_and_repeats_only_count():
    a = make_account("agency-a")
    item = unanswered_record(account=a, text="giá vàng hôm nay", decision="fallback")
    unanswered_group_ignore(account=a, item_ids=[item.pk])
    unanswered_record(account=a, text="giá vàng hôm nay", decision="fallback")
    item.refresh_from_db()
    assert (item.status, item.count) == (UnansweredQuestion.STATUS_IGNORED, 2)
    assert unanswered_groups(account=a) == []


def test_group_add_as_variant_skips_a_too_long_text_but_refuses_when_none_fits():
    a = make_account("agency-a")
    entry = passport(a)
    long_item = unanswered_record(account=a, text="hộ chiếu " * 80, decision="fallback")
    with pytest.raises(ValidationFailed):
        unanswered_group_add_as_variant(account=a, item_ids=[long_item.pk], entry=entry)
    long_item.refresh_from_db()
    assert long_item.status == "open"
    short = unanswered_record(account=a, text="ho chieu bao nhieu", decision="fallback")
    unanswered_group_add_as_variant(account=a, item_ids=[long_item.pk, short.pk], entry=entry)
    assert entry.variants.filter(text="ho chieu bao nhieu").exists()
    assert not entry.variants.filter(text__startswith="hộ chiếu hộ chiếu").exists()
    assert set(UnansweredQuestion.objects.values_list("status", flat=True)) == {"resolved"}
