from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from faq import index
from faq.models import FaqEntry, FaqIndexVersion
from faq.services import faq_entry_update, faq_match, synonym_create

pytestmark = pytest.mark.django_db

QUESTION = "Mất giấy phép lái xe thì cấp lại thế nào?"


def test_index_is_built_once_and_reused(tenant_a, faqs_a):
    builds = index.builds
    for _ in range(5):
        faq_match(account=tenant_a.account, text=QUESTION)
    assert index.builds == builds + 1


def test_a_cached_match_costs_one_small_query(tenant_a, faqs_a):
    faq_match(account=tenant_a.account, text=QUESTION)
    with CaptureQueriesContext(connection) as queries:
        faq_match(account=tenant_a.account, text="làm cccd lần đầu")
    assert len(queries) == 1
    assert "faq_faqindexversion" in queries[0]["sql"]


def test_change_in_another_process_rebuilds(tenant_a, faqs_a):
    # given: this process has the index cached
    faq_match(account=tenant_a.account, text=QUESTION)
    builds = index.builds
    # when: another process changes the answer and bumps the stamp (plain SQL, no signals in this process)
    FaqEntry.objects.filter(account=tenant_a.account, key="gplx-mat").update(answer="Đáp án mới từ tiến trình khác.")
    FaqIndexVersion.objects.filter(account=tenant_a.account).update(version=F("version") + 1)
    result = faq_match(account=tenant_a.account, text=QUESTION)
    # then
    assert index.builds == builds + 1
    assert result.answer == "Đáp án mới từ tiến trình khác."


def test_change_without_bump_is_not_seen_so_the_stamp_is_what_matters(tenant_a, faqs_a):
    faq_match(account=tenant_a.account, text=QUESTION)
    FaqEntry.objects.filter(account=tenant_a.account, key="gplx-mat").update(answer="Không ai bump.")
    assert faq_match(account=tenant_a.account, text=QUESTION).answer != "Không ai bump."


def test_service_edit_rebuilds_only_that_account(tenant_a, tenant_b, faqs_a, faqs_b):
    faq_match(account=tenant_a.account, text=QUESTION)
    faq_match(account=tenant_b.account, text="tạm trú")
    builds = index.builds
    faq_entry_update(entry=faqs_a[1], answer="Mới.")
    assert faq_match(account=tenant_a.account, text=QUESTION).answer == "Mới."
    faq_match(account=tenant_b.account, text="tạm trú")
    assert index.builds == builds + 1


def test_synonym_change_rebuilds(tenant_a, faqs_a):
    faq_match(account=tenant_a.account, text=QUESTION)
    builds = index.builds
    synonym_create(account=tenant_a.account, term="bl", expansion="bằng lái")
    faq_match(account=tenant_a.account, text=QUESTION)
    assert index.builds == builds + 1


def test_rolled_back_bump_does_not_poison_the_cache(tenant_a, faqs_a):
    # A version number reused after a rollback still differs in changed_at, so the cache rebuilds.
    faq_match(account=tenant_a.account, text=QUESTION)
    stamp = index.current_stamp(tenant_a.account.pk)
    FaqIndexVersion.objects.filter(account=tenant_a.account).update(changed_at=stamp[1].replace(year=2001))
    builds = index.builds
    faq_match(account=tenant_a.account, text=QUESTION)
    assert index.builds == builds + 1


def test_language_change_rebuilds(tenant_a, faqs_a):
    faq_match(account=tenant_a.account, text=QUESTION)
    builds = index.builds
    account = tenant_a.account
    account.default_language = "en"
    account.save()
    faq_match(account=account, text=QUESTION)
    assert index.builds == builds + 1
    assert index.index_for(account).matcher.language == "en"


def test_match_carries_the_topics_of_the_same_index(tenant_a, faqs_a):
    # given: categories on active entries, one inactive, one not valid yet, and tags only on another account
    import datetime

    from django.utils import timezone

    from faq.selectors import faq_categories
    from faq.services import faq_entry_create

    account = tenant_a.account
    faq_entry_create(account=account, key="t1", question="Câu một?", answer="a", category="Cư trú")
    faq_entry_create(account=account, key="t2", question="Câu hai?", answer="a", category="Cư trú")
    faq_entry_create(account=account, key="t3", question="Câu ba?", answer="a", category="Ẩn", is_active=False)
    later = timezone.localdate() + datetime.timedelta(days=30)
    faq_entry_create(account=account, key="t4", question="Câu bốn?", answer="a", category="Sau", valid_from=later)
    # when
    result = faq_match(account=account, text="qwxz blorp")
    # then: what the selector lists, without another query
    assert list(result.categories) == faq_categories(account=account)
    assert result.categories[0] == "Cư trú" and "Ẩn" not in result.categories and "Sau" not in result.categories
