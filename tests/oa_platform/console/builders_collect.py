"""Console URL builders of the collection pages (found by the console isolation test as builders_*.py)."""

from __future__ import annotations

import uuid

from oa_platform.collect.services import response_submit
from tests import factories
from tests.collect.builders import GOOD, make_form
from tests.oa_platform.console.isolation_builders import url_builder


@url_builder("staff:forms")
def forms_page(account):
    make_form(account)
    return {"slug": account.slug}


@url_builder("staff:form-results", "staff:form-results-live", "staff:form-export", "staff:form-remind")
def a_form_with_an_answer(account):
    form = make_form(account)
    citizen = factories.make_follower(account, channel="generic", display_name="Người trả lời", phone="0912345678")
    response_submit(form=form, citizen=citizen, client_id=uuid.uuid4(), answers=GOOD)
    return {"slug": account.slug, "pk": form.pk}
