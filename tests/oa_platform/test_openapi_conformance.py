"""The OpenAPI schema describes what the API returns: real responses of every operation (successes and the
errors: missing or bad token 401, scope and tenant 403, unknown id 404, empty strings and bad input 400, wrong
status 409, oversize body 413) are checked against the schema served at /api/schema/ with ``jsonschema``:
the status code must be declared, the content type too, and a JSON body must validate."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from jsonschema import Draft7Validator, FormatChecker

from broadcasts.fanout import dispatcher_tick
from oa_platform.models import ApiToken
from tests import factories
from tests.broadcasts.conftest import follower
from tests.broadcasts.test_cap import CAP
from tests.collect.builders import GOOD, QUESTIONS

pytestmark = pytest.mark.django_db

FORMATS = FormatChecker(formats=())


@FORMATS.checks("uri")
def _is_uri(value) -> bool:
    if not isinstance(value, str):
        return True  # formats constrain strings only
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


@FORMATS.checks("date-time")
def _is_date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    try:
        return dt.datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def json_schema(node):
    """OpenAPI 3.0 schema -> JSON Schema: ``nullable: true`` becomes a null alternative."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if "type" in node and isinstance(node["type"], str):
            node["type"] = [node["type"], "null"]
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


class Conformance:
    """Checks responses against the spec and remembers which (method, path, status) were seen."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.components = json_schema(spec["components"])
        # literal paths first: /notices/cap/ is not /notices/{id}/
        self.routes = sorted(
            ((re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path) for path in spec["paths"]),
            key=lambda route: route[1].count("{"),
        )
        self.seen: set[tuple[str, str, str]] = set()

    def check(self, method: str, url: str, response) -> None:
        path = next((template for pattern, template in self.routes if pattern.match(url.split("?")[0])), None)
        assert path is not None, f"{url} is not in the schema"
        operation = self.spec["paths"][path][method.lower()]
        code = str(response.status_code)
        where = f"{method} {path} -> {code}"
        assert code in operation["responses"], f"{where}: status not declared ({sorted(operation['responses'])})"
        declared = operation["responses"][code].get("content") or {}
        ctype = response.get("Content-Type", "").split(";")[0].strip()
        if not declared:
            assert not response.content, f"{where}: a body ({ctype}) the schema does not describe"
        else:
            assert ctype in declared, f"{where}: content type {ctype} not in {sorted(declared)}"
            if ctype == "application/json":
                schema = {**json_schema(declared[ctype]["schema"]), "components": self.components}
                errors = sorted(Draft7Validator(schema, format_checker=FORMATS).iter_errors(response.json()), key=str)
                assert not errors, f"{where}: " + "; ".join(
                    f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
                )
        self.seen.add((method.upper(), path, code))


@pytest.fixture
def api(client, api_client):
    spec = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    conformance = Conformance(spec)

    def call(method: str, url: str, *, token: str | None = None, body=None, raw=None, content_type=None, **extra):
        api_client.credentials(**({"HTTP_AUTHORIZATION": f"Token {token}"} if token is not None else {}))
        kwargs = {"data": raw, "content_type": content_type or "application/json"} if raw is not None else {}
        if body is not None:
            kwargs = {"data": body, "format": "json"}
        response = getattr(api_client, method.lower())(url, **kwargs, **extra)
        conformance.check(method, url, response)
        return response

    call.conformance = conformance
    return call


def test_every_response_of_every_operation_matches_the_schema(
    api, tenant_a, tenant_b, settings, django_capture_on_commit_callbacks
):
    slug = tenant_a.account.slug
    base = f"/api/v1/accounts/{slug}/notices/"
    token = tenant_a.token
    other_account = tenant_b.token
    reader = factories.make_token(tenant_a.account, scopes=[ApiToken.SCOPE_READ], name="reader")
    approver = factories.make_token(tenant_a.account, scopes=ApiToken.ALL_SCOPES, name="approver")
    follower(tenant_a.account, topics=["storm-flood"])
    notice_body = {"category": "storm-flood", "severity": "severe", "title_vi": "Bão", "body_vi": "Bão số 3"}

    # create: with no link, with a link, and refused ones
    first = api("POST", base, token=token, body=notice_body)
    assert first.status_code == 201 and first.json()["notice"]["link"] == ""
    assert first.json()["notice"]["references"] is None
    nid = first.json()["notice"]["id"]
    linked = api("POST", base, token=token, body=notice_body | {"link": "https://example.gov.vn/bao"})
    assert linked.status_code == 201
    for bad in ({"title_vi": ""}, {"category": ""}, {"body_vi": "  "}, {"link": "javascript:alert(1)"}):
        assert api("POST", base, token=token, body=notice_body | bad).status_code == 400, bad
    assert api("POST", base, token=token, raw=b'{"category": ').status_code == 400
    oversize = b'{"title_vi": "' + b"a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'
    assert api("POST", base, token=token, raw=oversize).status_code == 413
    assert api("POST", base, token=reader, body=notice_body).status_code == 403

    # reads
    assert api("GET", base, token=token).status_code == 200
    for suffix in ("", "preview/", "progress/", "cap/"):
        assert api("GET", f"{base}{nid}/{suffix}", token=token).status_code == 200
        assert api("GET", f"{base}987654/{suffix}", token=token).status_code == 404
    assert api("GET", f"{base}99999999999999999999999/", token=token).status_code == 404

    # submit, approve (not by the same token), wrong statuses
    assert api("POST", f"{base}{nid}/submit/", token=token, body={"send_at": "tomorrow"}).status_code == 400
    assert api("POST", f"{base}{nid}/submit/", token=token, body={}).status_code == 200
    assert api("POST", f"{base}{nid}/submit/", token=token, body={}).status_code == 409
    assert api("POST", f"{base}{nid}/approve/", token=token).status_code == 403
    assert api("POST", f"{base}{nid}/approve/", token=approver).status_code == 200
    assert api("POST", f"{base}{nid}/approve/", token=approver).status_code == 409
    with django_capture_on_commit_callbacks(execute=True):  # the chunk tasks run eagerly after the commit
        dispatcher_tick()
    assert api("GET", f"{base}{nid}/", token=token).json()["notice"]["status"] == "sent"

    # follow-up: a correction references the original (an integer, not null)
    draft_id = linked.json()["notice"]["id"]
    assert api("POST", f"{base}{nid}/follow-up/", token=token, body={"kind": ""}).status_code == 400
    assert api("POST", f"{base}{draft_id}/follow-up/", token=token, body={"kind": "update"}).status_code == 409
    correction = api("POST", f"{base}{nid}/follow-up/", token=token, body={"kind": "update"})
    assert correction.status_code == 201 and correction.json()["notice"]["references"] == nid

    # cancel
    assert api("POST", f"{base}{draft_id}/cancel/", token=token).status_code == 200
    assert api("POST", f"{base}{draft_id}/cancel/", token=token).status_code == 409

    # CAP import
    expires = (timezone.now() + dt.timedelta(hours=6)).replace(microsecond=0).isoformat()
    cap = CAP.format(expires=expires).encode()
    assert api("POST", f"{base}cap/", token=token, raw=cap, content_type="application/xml").status_code == 201
    assert api("POST", f"{base}cap/", token=token, raw=b"<alert", content_type="application/xml").status_code == 400

    # chat
    chat = f"/api/v1/accounts/{slug}/messages/"
    assert api("POST", chat, token=token, body={"citizen_id": "c1", "text": "xin chào"}).status_code == 200
    for bad in ({"citizen_id": "c1", "text": ""}, {"citizen_id": "", "text": "hi"}, {"citizen_id": "c1", "text": "  "}):
        assert api("POST", chat, token=token, body=bad).status_code == 400, bad
    assert api("POST", chat, token=token, body={"citizen_id": "c2", "text": "hi", "phone": "12"}).status_code == 400

    # personal notices: a template approved by another token, a notification, its reference, its history
    accounts = f"/api/v1/accounts/{slug}/"
    template = {"key": "card", "name": "Card", "body_vi": "Căn cước của ((name)) đã có"}
    assert api("POST", f"{accounts}templates/", token=token, body=template).status_code == 201
    assert api("POST", f"{accounts}templates/", token=token, body=template | {"link": "ftp://x"}).status_code == 400
    assert api("POST", f"{accounts}templates/", token=reader, body=template).status_code == 403
    assert api("POST", f"{accounts}templates/card/approve/", token=token).status_code == 403
    assert api("POST", f"{accounts}templates/nope/approve/", token=approver).status_code == 404
    assert api("POST", f"{accounts}templates/card/approve/", token=approver).status_code == 200
    assert api("POST", f"{accounts}templates/card/approve/", token=approver).status_code == 409
    personal = {"template": "card", "phone": "0912345678", "personalisation": {"name": "An"}, "reference": "c-1"}
    created = api("POST", f"{accounts}notifications/", token=token, body=personal)
    assert created.status_code == 201
    assert api("POST", f"{accounts}notifications/", token=token, body=personal).status_code == 200
    other = personal | {"personalisation": {"name": "Bình"}}
    assert api("POST", f"{accounts}notifications/", token=token, body=other).status_code == 409
    assert api("POST", f"{accounts}notifications/", token=token, body=personal | {"phone": "12"}).status_code == 400
    assert api("POST", f"{accounts}notifications/", token=token, body=personal | {"template": "x"}).status_code == 404
    pid = created.json()["notification"]["id"]
    assert api("GET", f"{accounts}notifications/{pid}/", token=token).status_code == 200
    assert api("GET", f"{accounts}notifications/987654/", token=token).status_code == 404
    callback = {"url": "https://example.gov.vn/hook", "secret": "s" * 20}
    assert api("PUT", f"{accounts}notifications/callback/", token=token, body=callback).status_code == 200
    assert api("PUT", f"{accounts}notifications/callback/", token=token, body={"url": "x"}).status_code == 400

    # forms: create, respond (created, duplicate, invalid, reused client id, closed round), results
    forms = f"/api/v1/accounts/{slug}/forms/"
    created = api("POST", forms, token=token, body={"key": "checkin", "title_vi": "Điểm danh", "questions": QUESTIONS})
    assert created.status_code == 201
    fid = created.json()["id"]
    assert (
        api("POST", forms, token=token, body={"key": "checkin", "title_vi": "t", "questions": QUESTIONS}).status_code
        == 409
    )
    assert api("POST", forms, token=token, body={"key": "x", "title_vi": "t", "questions": []}).status_code == 400
    answer = {"citizen_id": "c1", "client_id": "7f1c4c4e-8a4b-4c55-9a55-0d9a2b8c1f00", "answers": GOOD}
    assert api("POST", f"{forms}{fid}/responses/", token=token, body=answer).status_code == 201
    assert api("POST", f"{forms}{fid}/responses/", token=token, body=answer).status_code == 200
    reused = answer | {"answers": GOOD | {"people": 2}}
    assert api("POST", f"{forms}{fid}/responses/", token=token, body=reused).status_code == 409
    invalid = answer | {"client_id": "7f1c4c4e-8a4b-4c55-9a55-0d9a2b8c1f01", "answers": {"people": 99}}
    assert api("POST", f"{forms}{fid}/responses/", token=token, body=invalid).status_code == 400
    assert api("POST", f"{forms}987654/responses/", token=token, body=answer).status_code == 404
    assert api("GET", f"{forms}{fid}/results/", token=token).status_code == 200
    assert api("GET", f"{forms}{fid}/results/?round=987654", token=token).status_code == 404
    assert api("GET", f"{forms}{fid}/results/?round=x", token=token).status_code == 400
    questions_url = f"{forms}{fid}/questions/"
    assert api("PUT", questions_url, token=token, body={"questions": QUESTIONS}).status_code == 200
    assert api("PUT", questions_url, token=token, body={"questions": []}).status_code == 400
    answered_removed = {"questions": [q for q in QUESTIONS if q["key"] != "people"]}
    assert api("PUT", questions_url, token=token, body=answered_removed).status_code == 409
    assert api("PUT", f"{forms}987654/questions/", token=token, body={"questions": QUESTIONS}).status_code == 404
    settings_url = f"{forms}{fid}/settings/"
    daily = {
        "schedule": {"repeat": "daily", "open_time": "08:00", "remind_time": "09:00"},
        "audience": {"kind": "staff"},
    }
    assert api("PUT", settings_url, token=token, body=daily).status_code == 200
    assert (
        api("PUT", settings_url, token=token, body={"audience": {"kind": "list", "phones": ["x"]}}).status_code == 400
    )
    assert api("PUT", f"{forms}987654/settings/", token=token, body=daily).status_code == 404
    closed = {"opens_at": "2026-01-01T00:00:00Z", "closes_at": "2026-01-02T00:00:00Z"}
    old = {"key": "old", "title_vi": "t", "late_policy": "refuse", "questions": QUESTIONS, "round": closed}
    old_id = api("POST", forms, token=token, body=old).json()["id"]
    late = answer | {"client_id": "7f1c4c4e-8a4b-4c55-9a55-0d9a2b8c1f02"}
    assert api("POST", f"{forms}{old_id}/responses/", token=token, body=late).status_code == 409

    # every operation: no token, a malformed header, an unknown token, another account's token
    operations = [(method.upper(), path) for path, ops in api.conformance.spec["paths"].items() for method in ops]
    for method, path in operations:
        url = (
            path.replace("{slug}", slug)
            .replace("{id}", str(fid if "/forms/" in path else nid))
            .replace("{key}", "card")
        )
        assert api(method, url).status_code == 401
        assert api(method, url, token="").status_code == 401  # "Authorization: Token " with nothing after
        assert api(method, url, token="oa_unknown").status_code == 401
        assert api(method, url, token=other_account).status_code == 403

    # then every operation was seen succeeding and refusing
    seen = api.conformance.seen
    for method, path in operations:
        codes = {code for m, p, code in seen if (m, p) == (method, path)}
        assert codes & {"200", "201"} and {"401", "403"} <= codes, (method, path, codes)
