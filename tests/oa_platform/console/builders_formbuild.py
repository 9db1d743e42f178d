"""Isolation builders of the console's form builder (see isolation_builders.py)."""

from __future__ import annotations

from tests.collect.builders import make_form
from tests.oa_platform.console.isolation_builders import url_builder


@url_builder("staff:form-new")
def new_form(account):
    return {"slug": account.slug}


@url_builder("staff:form-questions", "staff:form-round", "staff:form-schedule", "staff:form-details")
def form_questions(account):
    form = make_form(account)
    return {"slug": account.slug, "pk": form.pk}


@url_builder("staff:form-question-edit", "staff:form-question-move")
def a_question(account):
    form = make_form(account)
    return {"slug": account.slug, "pk": form.pk, "qid": form.questions.first().pk}
