"""Isolation builders of the console's FAQ section (see isolation_builders.py)."""

from __future__ import annotations

import itertools

from faq.services import faq_entry_create, synonym_create, unanswered_record
from tests.oa_platform.console.isolation_builders import url_builder

_seq = itertools.count(1)


def entry_of(account):
    n = next(_seq)
    return faq_entry_create(
        account=account,
        key=f"le-phi-{n}",
        question=f"Lệ phí cấp hộ chiếu lần {n}?",
        answer="200.000 đồng.",
        variants=["Làm hộ chiếu hết bao nhiêu tiền?"],
    )


@url_builder("staff:faq", "staff:faq-add", "staff:faq-try", "staff:faq-review", "staff:faq-synonyms")
def faq_account(account):
    entry_of(account)
    unanswered_record(account=account, text=f"hộ chiếu mất bao lâu {next(_seq)}", decision="fallback")
    return {"slug": account.slug}


@url_builder("staff:faq-review-variant", "staff:faq-review-dismiss")
def faq_review_posts(account):
    entry_of(account)
    unanswered_record(account=account, text=f"hộ chiếu mất bao lâu {next(_seq)}", decision="fallback")
    return {"slug": account.slug}


@url_builder("staff:faq-edit", "staff:faq-toggle", "staff:faq-delete")
def an_entry(account):
    return {"slug": account.slug, "pk": entry_of(account).pk}


@url_builder("staff:faq-synonym-delete")
def a_synonym(account):
    synonym = synonym_create(account=account, term=f"gpkd{next(_seq)}", expansion="giấy phép kinh doanh")
    return {"slug": account.slug, "pk": synonym.pk}
