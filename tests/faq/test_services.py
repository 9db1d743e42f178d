from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import IntegrityError, transaction

from faq.models import FaqEntry, FaqIndexVersion, FaqVariant, Synonym, UnansweredQuestion
from faq.selectors import entries_for_account, faq_categories, unanswered_for_account
from faq.services import (
    answer_feedback,
    faq_entry_create,
    faq_entry_delete,
    faq_entry_update,
    faq_match,
    synonym_create,
    synonym_delete,
    unanswered_add_as_variant,
    unanswered_create_faq,
    unanswered_ignore,
    unanswered_record,
)
from oa_platform.errors import NotFound, ValidationFailed
from oa_platform.models import AuditLog, Conversation, Message
from tests.factories import make_citizen

pytestmark = pytest.mark.django_db


def version(account) -> int:
    return FaqIndexVersion.objects.filter(account=account).values_list("version", flat=True).first() or 0


# --- entries --------------------------------------------------------------------------------------------------
def test_create_entry_with_variants_bumps_version_and_audits(tenant_a):
    before = version(tenant_a.account)
    entry = faq_entry_create(
        account=tenant_a.account,
        key="ho-chieu",
        question="Làm hộ chiếu ở đâu?",
        answer="Tại phòng xuất nhập cảnh.",
        variants=["làm passport ở đâu", "làm passport ở đâu", " "],
        tags=["xuất nhập cảnh"],
        actor=tenant_a.editor,
    )
    assert list(entry.variants.values_list("text", flat=True)) == ["làm passport ở đâu"]
    assert entry.language == tenant_a.account.default_language
    assert version(tenant_a.account) == before + 1
    assert AuditLog.objects.filter(action="faq_create", account=tenant_a.account, actor=tenant_a.editor).exists()


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"key": "Not Kebab"}, "key"),
        ({"key": ""}, "key"),
        ({"question": "  "}, "question"),
        ({"answer": ""}, "answer"),
        ({"question": "x" * 501}, "question"),
        ({"valid_from": "2025-02-01", "valid_until": "2025-01-01"}, "valid_until"),
        ({"valid_from": "yesterday"}, "valid_from"),
        ({"language": "fr"}, "language"),
        ({"tags": [1, 2]}, "tags"),
    ],
)
def test_create_entry_rejects_bad_input_and_stores_nothing(tenant_a, kwargs, field):
    values = {"key": "ok-key", "question": "Câu hỏi?", "answer": "Trả lời.", **kwargs}
    with pytest.raises(ValidationFailed) as exc:
        faq_entry_create(account=tenant_a.account, **values)
    assert field in exc.value.fields
    assert not FaqEntry.objects.filter(account=tenant_a.account).exists()


def test_key_is_unique_per_account_not_globally(tenant_a, tenant_b, faqs_a):
    faq_entry_create(account=tenant_b.account, key="gplx-mat", question="Mất bằng lái?", answer="Cấp lại.")
    with pytest.raises(ValidationFailed):
        faq_entry_create(account=tenant_a.account, key="gplx-mat", question="Mất bằng lái?", answer="Cấp lại.")
    with pytest.raises(IntegrityError), transaction.atomic():
        FaqEntry.objects.create(account=tenant_a.account, key="gplx-mat", question="q?", answer="a")


def test_update_changes_fields_and_variants_and_bumps(tenant_a, faqs_a):
    entry = faqs_a[0]
    before = version(tenant_a.account)
    faq_entry_update(entry=entry, answer="Câu trả lời mới.", variants=["một cách hỏi khác"], actor=tenant_a.editor)
    entry.refresh_from_db()
    assert entry.answer == "Câu trả lời mới."
    assert list(entry.variants.values_list("text", flat=True)) == ["một cách hỏi khác"]
    assert version(tenant_a.account) > before
    log = AuditLog.objects.filter(action="faq_update").latest("id")
    assert set(log.changes) == {"answer", "variants"}


def test_update_without_change_does_not_bump(tenant_a, faqs_a):
    entry = faqs_a[0]
    before = version(tenant_a.account)
    faq_entry_update(entry=entry, answer=entry.answer, variants=list(entry.variants.values_list("text", flat=True)))
    assert version(tenant_a.account) == before


def test_delete_and_direct_orm_writes_bump_version(tenant_a, faqs_a):
    # given
    account = tenant_a.account
    v0 = version(account)
    # when: the admin writes directly (signals)
    FaqVariant.objects.create(entry=faqs_a[1], text="mất gplx")
    v1 = version(account)
    FaqVariant.objects.filter(entry=faqs_a[1]).first().delete()
    v2 = version(account)
    Synonym.objects.create(account=account, term="gpkd", expansion="giấy phép kinh doanh")
    v3 = version(account)
    faq_entry_delete(entry=faqs_a[2], actor=tenant_a.editor)
    v4 = version(account)
    # then
    assert v0 < v1 < v2 < v3 < v4


def test_other_tenants_version_is_untouched(tenant_a, tenant_b, faqs_a, faqs_b):
    before = version(tenant_b.account)
    faq_entry_update(entry=faqs_a[0], answer="Khác.")
    assert version(tenant_b.account) == before


def test_account_cascade_delete_works(tenant_a, faqs_a):
    account = tenant_a.account
    unanswered_record(account=account, text="giá vàng hôm nay", decision="fallback")
    account.memberships.all().delete()
    agency = account.agency
    account.delete()
    agency.delete()
    assert not FaqEntry.objects.exists()
    assert not FaqIndexVersion.objects.filter(account_id=account.pk).exists()


def test_synonym_create_and_delete(tenant_a):
    syn = synonym_create(account=tenant_a.account, term="GPKD", expansion="giấy phép kinh doanh")
    assert syn.term == "gpkd"
    with pytest.raises(ValidationFailed):
        synonym_create(account=tenant_a.account, term="gpkd", expansion="x")
    v = version(tenant_a.account)
    synonym_delete(synonym=syn)
    assert version(tenant_a.account) > v


# --- matching -------------------------------------------------------------------------------------------------
def test_match_answers_with_answer_text(tenant_a, faqs_a):
    result = faq_match(account=tenant_a.account, text="ad ơi cho em hỏi làm căn cước công dân lần đầu như thế nào")
    assert result.decision == "answer"
    assert result.faq == "cccd-cap-lan-dau"
    assert result.answer.startswith("Mang giấy khai sinh")
    assert result.candidates[0].key == "cccd-cap-lan-dau"


def test_match_falls_back_on_unrelated_and_never_answers_other_tenant(tenant_a, tenant_b, faqs_a, faqs_b):
    assert faq_match(account=tenant_a.account, text="giá vàng hôm nay bao nhiêu").decision == "fallback"
    result = faq_match(account=tenant_a.account, text="Đăng ký tạm trú như thế nào?")
    assert result.faq != "dang-ky-tam-tru"
    assert all(c.key != "dang-ky-tam-tru" for c in result.candidates)
    assert faq_match(account=tenant_b.account, text="Đăng ký tạm trú như thế nào?").faq == "dang-ky-tam-tru"


def test_match_without_any_faq(tenant_a):
    result = faq_match(account=tenant_a.account, text="làm cccd")
    assert (result.decision, result.faq, result.answer) == ("fallback", None, "")


def test_inactive_entry_is_not_matched(tenant_a, faqs_a):
    faq_entry_update(entry=faqs_a[1], is_active=False)
    result = faq_match(account=tenant_a.account, text="Mất giấy phép lái xe thì cấp lại thế nào?")
    assert result.faq != "gplx-mat"


def test_entry_outside_validity_is_not_matched(tenant_a, faqs_a):
    faq_entry_update(entry=faqs_a[1], valid_from=datetime.date(2030, 1, 1), valid_until=datetime.date(2030, 6, 30))
    question = "Mất giấy phép lái xe thì cấp lại thế nào?"
    # 23:30 UTC on 31 Dec 2029 is already 1 Jan 2030 in Ho Chi Minh City (UTC+7)
    with time_machine.travel(datetime.datetime(2029, 12, 31, 16, 0, tzinfo=datetime.UTC), tick=False):
        assert faq_match(account=tenant_a.account, text=question).faq != "gplx-mat"
    with time_machine.travel(datetime.datetime(2029, 12, 31, 17, 30, tzinfo=datetime.UTC), tick=False):
        assert faq_match(account=tenant_a.account, text=question).faq == "gplx-mat"
    with time_machine.travel(datetime.datetime(2030, 6, 30, 16, 59, tzinfo=datetime.UTC), tick=False):
        assert faq_match(account=tenant_a.account, text=question).faq == "gplx-mat"
    with time_machine.travel(datetime.datetime(2030, 6, 30, 17, 0, tzinfo=datetime.UTC), tick=False):
        assert faq_match(account=tenant_a.account, text=question).faq != "gplx-mat"


def test_account_synonym_is_used(tenant_a):
    faq_entry_create(
        account=tenant_a.account, key="giay-phep-kinh-doanh", question="Xin giấy phép kinh doanh ở đâu?", answer="Sở KH"
    )
    faq_entry_create(account=tenant_a.account, key="ho-chieu", question="Làm hộ chiếu ở đâu?", answer="XNC")
    before = faq_match(account=tenant_a.account, text="xin zzgp ở đâu")
    synonym_create(account=tenant_a.account, term="zzgp", expansion="giấy phép kinh doanh")
    after = faq_match(account=tenant_a.account, text="xin zzgp ở đâu")
    assert after.candidates and after.candidates[0].key == "giay-phep-kinh-doanh"
    assert after.score > before.score


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "😀😀🙏",
        "a" * 10_000,
        "làm cccd " * 1500,
        "\x00\x01\x02 cccd \x1b[31m \u200b\ufeff",
        "'; DROP TABLE faq_faqentry; --",
        "<script>alert(1)</script> làm cccd",
        "làm 身份证 ở đâu?",
        None,
        12345,
    ],
)
def test_match_and_record_never_raise_on_bad_input(tenant_a, faqs_a, text):
    result = faq_match(account=tenant_a.account, text=text)
    assert result.decision in ("answer", "suggest", "fallback")
    if result.decision != "answer":
        unanswered_record(account=tenant_a.account, text=text, decision=result.decision, faq_key=result.faq)
    assert FaqEntry.objects.filter(account=tenant_a.account).count() == 3


# --- unanswered -------------------------------------------------------------------------------------------------
def test_unanswered_sample_drops_nul_bytes(tenant_a):
    item = unanswered_record(account=tenant_a.account, text="\x00 đổi cccd\x00 ở đâu", decision="suggest")
    item.refresh_from_db()
    assert item.sample_text == "đổi cccd ở đâu"


def test_unanswered_dedups_by_normalised_text(tenant_a):
    account = tenant_a.account
    first = unanswered_record(account=account, text="Lịch cắt điện tuần này?", decision="fallback")
    unanswered_record(account=account, text="lich cat dien tuan nay", decision="fallback")
    unanswered_record(account=account, text="  LỊCH CẮT ĐIỆN   TUẦN NÀY  ", decision="suggest", faq_key="gplx-mat")
    unanswered_record(account=account, text="thời tiết ngày mai", decision="fallback")
    first.refresh_from_db()
    assert first.count == 3
    assert first.sample_text == "LỊCH CẮT ĐIỆN   TUẦN NÀY"
    assert (first.decision, first.faq_key) == ("suggest", "gplx-mat")
    assert first.last_seen >= first.first_seen
    assert [u.count for u in unanswered_for_account(account=account)] == [3, 1]


def test_unanswered_is_per_account(tenant_a, tenant_b):
    unanswered_record(account=tenant_a.account, text="giá vàng", decision="fallback")
    unanswered_record(account=tenant_b.account, text="giá vàng", decision="fallback")
    assert unanswered_for_account(account=tenant_a.account).get().count == 1
    assert unanswered_for_account(account=tenant_b.account).get().count == 1


def test_unanswered_rejects_unknown_decision_and_skips_empty(tenant_a):
    with pytest.raises(ValidationFailed):
        unanswered_record(account=tenant_a.account, text="x", decision="answer")
    assert unanswered_record(account=tenant_a.account, text="   ", decision="fallback") is None
    assert not UnansweredQuestion.objects.exists()


def test_unanswered_ignored_stays_ignored_resolved_reopens(tenant_a, faqs_a):
    item = unanswered_record(account=tenant_a.account, text="giá vàng", decision="fallback")
    unanswered_ignore(item=item, actor=tenant_a.editor)
    unanswered_record(account=tenant_a.account, text="giá vàng", decision="fallback")
    item.refresh_from_db()
    assert (item.status, item.count) == ("ignored", 2)
    other = unanswered_record(account=tenant_a.account, text="mất bằng lái làm sao", decision="suggest")
    unanswered_add_as_variant(item=other, entry=faqs_a[1], actor=tenant_a.editor)
    unanswered_record(account=tenant_a.account, text="mất bằng lái làm sao", decision="suggest")
    other.refresh_from_db()
    assert other.status == "open"


def test_unanswered_record_is_one_statement_and_returns_the_stored_row(tenant_a, django_assert_num_queries):
    # given: an item counted once and resolved
    account = tenant_a.account
    first = unanswered_record(account=account, text="giá vàng hôm nay", decision="fallback")
    UnansweredQuestion.objects.filter(pk=first.pk).update(status="resolved")
    # when: it comes back, as a suggestion this time
    with django_assert_num_queries(1):
        again = unanswered_record(account=account, text="Giá vàng hôm nay?", decision="suggest", faq_key="gplx-mat")
    # then: the same row, counted, reopened, first_seen kept; the returned object is the stored row
    stored = UnansweredQuestion.objects.get()
    assert again.pk == first.pk == stored.pk
    assert (again.count, again.status, again.decision, again.faq_key) == (2, "open", "suggest", "gplx-mat")
    assert (stored.count, stored.status, stored.sample_text) == (2, "open", "Giá vàng hôm nay?")
    assert again.first_seen == stored.first_seen == first.first_seen
    assert again.last_seen == stored.last_seen > first.last_seen
    assert again.account_id == account.pk and again.resolved_entry_id is None


def test_add_as_variant_teaches_the_matcher(tenant_a, faqs_a):
    text = "bị rớt mất bằng lái xe ngoài đường"
    item = unanswered_record(account=tenant_a.account, text=text, decision="fallback")
    unanswered_add_as_variant(item=item, entry=faqs_a[1], actor=tenant_a.editor)
    item.refresh_from_db()
    assert (item.status, item.resolved_entry) == ("resolved", faqs_a[1])
    assert faqs_a[1].variants.filter(text=text).exists()
    assert faq_match(account=tenant_a.account, text=text).faq == "gplx-mat"
    assert AuditLog.objects.filter(action="unanswered_variant", actor=tenant_a.editor).exists()


def test_add_as_variant_of_other_tenants_entry_is_refused(tenant_a, tenant_b, faqs_b):
    item = unanswered_record(account=tenant_a.account, text="tạm trú", decision="fallback")
    with pytest.raises(NotFound):
        unanswered_add_as_variant(item=item, entry=faqs_b[0], actor=tenant_a.editor)
    assert faqs_b[0].variants.count() == 1
    item.refresh_from_db()
    assert item.status == "open"


def test_create_faq_from_unanswered(tenant_a):
    item = unanswered_record(account=tenant_a.account, text="xin giấy phép xây dựng ở đâu ạ", decision="fallback")
    entry = unanswered_create_faq(
        item=item, key="giay-phep-xay-dung", question="Xin giấy phép xây dựng ở đâu?", answer="UBND quận."
    )
    assert list(entry.variants.values_list("text", flat=True)) == ["xin giấy phép xây dựng ở đâu ạ"]
    item.refresh_from_db()
    assert (item.status, item.resolved_entry) == ("resolved", entry)


def test_create_faq_with_bad_key_leaves_item_open(tenant_a):
    item = unanswered_record(account=tenant_a.account, text="xin giấy phép xây dựng", decision="fallback")
    with pytest.raises(ValidationFailed):
        unanswered_create_faq(item=item, key="Bad Key", question="Q?", answer="A")
    item.refresh_from_db()
    assert item.status == "open"
    assert not FaqEntry.objects.exists()


# --- feedback ---------------------------------------------------------------------------------------------------
def _exchange(account, text="Mất giấy phép lái xe thì cấp lại thế nào?"):
    citizen = make_citizen()
    conversation = Conversation.objects.create(account=account, citizen=citizen)
    inbound = Message.objects.create(
        conversation=conversation, direction=Message.DIRECTION_IN, sender=Message.SENDER_CITIZEN, text=text
    )
    reply = Message.objects.create(
        conversation=conversation,
        direction=Message.DIRECTION_OUT,
        sender=Message.SENDER_BOT,
        text="Nộp đơn...",
        decision="answer",
        faq_key="gplx-mat",
        in_reply_to=inbound,
    )
    return inbound, reply


def test_not_helpful_feedback_is_logged_once(tenant_a, faqs_a):
    inbound, reply = _exchange(tenant_a.account)
    answer_feedback(account=tenant_a.account, message=reply, helpful=False)
    answer_feedback(account=tenant_a.account, message=reply, helpful=False)
    reply.refresh_from_db()
    assert reply.helpful is False
    item = UnansweredQuestion.objects.get(account=tenant_a.account)
    assert (item.decision, item.faq_key, item.count, item.sample_text) == ("not_helpful", "gplx-mat", 1, inbound.text)


def test_helpful_feedback_logs_nothing(tenant_a, faqs_a):
    _inbound, reply = _exchange(tenant_a.account)
    answer_feedback(account=tenant_a.account, message=reply, helpful=True)
    reply.refresh_from_db()
    assert reply.helpful is True
    assert not UnansweredQuestion.objects.exists()


def test_feedback_guards_tenant_and_sender(tenant_a, tenant_b):
    inbound, reply = _exchange(tenant_a.account)
    with pytest.raises(NotFound):
        answer_feedback(account=tenant_b.account, message=reply, helpful=False)
    with pytest.raises(ValidationFailed):
        answer_feedback(account=tenant_a.account, message=inbound, helpful=False)
    assert not UnansweredQuestion.objects.exists()


# --- selectors ----------------------------------------------------------------------------------------------------
def test_categories_fall_back_to_tags_and_skip_inactive(tenant_a, tenant_b):
    faq_entry_create(account=tenant_a.account, key="a", question="Câu a?", answer="a", tags=["căn cước", "cư trú"])
    faq_entry_create(account=tenant_a.account, key="b", question="Câu b?", answer="b", tags=["căn cước"])
    faq_entry_create(account=tenant_a.account, key="c", question="Câu c?", answer="c", tags=["cũ"], is_active=False)
    faq_entry_create(account=tenant_b.account, key="d", question="Câu d?", answer="d", tags=["khác"])
    assert faq_categories(account=tenant_a.account) == ["căn cước", "cư trú"]
    faq_entry_create(account=tenant_a.account, key="e", question="Câu e?", answer="e", category="Giấy tờ")
    assert faq_categories(account=tenant_a.account) == ["Giấy tờ"]
    assert [e.key for e in entries_for_account(account=tenant_b.account)] == ["d"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_unanswered_upsert_is_race_safe():
    # given: a new question arriving in 8 connections at once
    from tests.concurrency import all_at_once
    from tests.factories import make_account

    account = make_account("race-account")
    # when
    _results, errors = all_at_once(
        lambda: unanswered_record(account=account, text="lịch cắt điện tuần này", decision="fallback"), 8
    )
    # then: one row counted eight times
    assert errors == []
    assert UnansweredQuestion.objects.get(account=account).count == 8
