"""A request's pooled database connection goes back to the pool as soon as its response is built
(oa_platform.db_release), not only once the response has been sent: under uvicorn a burst of thousands of
clients otherwise drains the pool and the worker's one sync thread blocks in getconn (500s after 10 s)."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import connection

from oa_platform.models import ApiToken
from tests import factories
from tests.collect.builders import GOOD, make_form

# PostgreSQL with its pool (the setting under test), outside a test transaction (which it must leave alone).
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_connection_is_back_in_the_pool_when_the_response_is_built(client):
    if "pool" not in connection.settings_dict.get("OPTIONS", {}):
        pytest.skip("DB_POOL is off")
    # given: a form and a token
    account = factories.make_account("pool-test")
    form = make_form(account)
    token = factories.make_token(account, scopes=[ApiToken.SCOPE_FORMS_RESPOND])
    body = {"citizen_id": "p-1", "client_id": str(uuid.uuid4()), "answers": GOOD}
    connection.close()
    # when: a submission through the API (the test client keeps Django's request_finished from closing it)
    response = client.post(
        f"/api/v1/accounts/{account.slug}/forms/{form.pk}/responses/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    # then: stored, and this thread holds no connection any more
    assert response.status_code == 201
    assert connection.connection is None


def test_a_connection_inside_a_transaction_is_left_alone(client):
    from django.db import transaction  # the transaction a test (or a caller) holds around the request

    with transaction.atomic():
        assert client.get("/healthz").status_code == 200
        factories.make_account("still-here")  # the same connection, still usable inside the transaction
        assert connection.connection is not None
