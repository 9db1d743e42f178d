from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction

from faq.models import FaqEntry, Synonym, UnansweredQuestion

pytestmark = pytest.mark.django_db


def test_validity_order_is_enforced_by_the_database(tenant_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        FaqEntry.objects.create(
            account=tenant_a.account,
            key="k",
            question="Q?",
            answer="A",
            valid_from=datetime.date(2025, 2, 1),
            valid_until=datetime.date(2025, 1, 1),
        )


def test_is_valid_on_is_inclusive():
    entry = FaqEntry(valid_from=datetime.date(2025, 1, 1), valid_until=datetime.date(2025, 1, 31))
    assert not entry.is_valid_on(datetime.date(2024, 12, 31))
    assert entry.is_valid_on(datetime.date(2025, 1, 1))
    assert entry.is_valid_on(datetime.date(2025, 1, 31))
    assert not entry.is_valid_on(datetime.date(2025, 2, 1))
    assert FaqEntry().is_valid_on(datetime.date(1990, 1, 1))


def test_synonym_and_unanswered_unique_per_account(tenant_a, tenant_b):
    Synonym.objects.create(account=tenant_a.account, term="gpkd", expansion="x")
    Synonym.objects.create(account=tenant_b.account, term="gpkd", expansion="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Synonym.objects.create(account=tenant_a.account, term="gpkd", expansion="y")
    UnansweredQuestion.objects.create(
        account=tenant_a.account, normalized="a", normalized_hash="h", sample_text="a", decision="fallback"
    )
    UnansweredQuestion.objects.create(
        account=tenant_b.account, normalized="a", normalized_hash="h", sample_text="a", decision="fallback"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        UnansweredQuestion.objects.create(
            account=tenant_a.account, normalized="a", normalized_hash="h", sample_text="a", decision="fallback"
        )
