"""Tenant isolation of the whole admin: for EVERY model registered in admin.site (also those of faq and
broadcasts), the manager of agency A — the strongest non-superuser — attacks agency B's rows through every
admin surface and B's rows stay invisible and untouched.

Rows come from tests/oa_platform/admin_builders.py; a tenant-scoped model without a builder fails loudly.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import models
from django.urls import reverse

from oa_platform.admin_scoping import (
    SharedReferenceAdmin,
    SuperuserOnlyAdmin,
    TenantScopedAdmin,
    filter_by_accounts,
    is_shared_model,
    tenant_paths_for,
)
from oa_platform.models import Membership, OfficialAccount
from tests.oa_platform.admin_builders import BUILDERS

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.oa_platform.admin_urls")]

REGISTRY = dict(admin.site._registry)
LABELS = sorted(model._meta.label_lower for model in REGISTRY)
TENANT_LABELS = [
    m._meta.label_lower
    for m, a in REGISTRY.items()
    if isinstance(a, TenantScopedAdmin) and not isinstance(a, (SharedReferenceAdmin, SuperuserOnlyAdmin))
]
SUPERUSER_LABELS = [m._meta.label_lower for m, a in REGISTRY.items() if isinstance(a, SuperuserOnlyAdmin)]
SHARED_LABELS = [m._meta.label_lower for m, a in REGISTRY.items() if isinstance(a, SharedReferenceAdmin)]


def _model(label):
    return next(m for m in REGISTRY if m._meta.label_lower == label)


def _url(model, name, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{name}", args=args)


def ids_of(model, account) -> set:
    """Primary keys of ``model`` rows that belong to ``account``."""
    if model is OfficialAccount:
        return {account.pk}
    if model is get_user_model():
        return set(Membership.objects.filter(account=account).values_list("user_id", flat=True))
    if is_shared_model(model):
        return set()
    paths = tenant_paths_for(model)
    if not paths:
        return set()
    return set(filter_by_accounts(model._default_manager.all(), paths, {account.pk}).values_list("pk", flat=True))


def foreign_ids(model, tenant_a, tenant_b) -> set:
    """Rows of ``model`` that only B may see."""
    return ids_of(model, tenant_b.account) - ids_of(model, tenant_a.account)


def snapshot(obj) -> dict | None:
    fresh = type(obj)._base_manager.filter(pk=obj.pk).first()
    if fresh is None:
        return None
    return {f.attname: getattr(fresh, f.attname) for f in fresh._meta.concrete_fields}


class _FormParser(HTMLParser):
    """Collect what a browser would post from the admin's main form (id ``<model>_form``)."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside, self.data = form_id, False, {}
        self._select = self._textarea = None
        self._select_has_selected = False

    def _add(self, name, value):
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside or "name" not in a and tag != "option":
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(a["name"], a.get("value", "on"))
                return
            self._add(a["name"], a.get("value", ""))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value", ""))
        elif tag == "textarea":
            self._textarea = a["name"]
            self._add(self._textarea, "")

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data


def form_data(response, model) -> dict:
    parser = _FormParser(f"{model._meta.model_name}_form")
    parser.feed(response.content.decode())
    return {k: v if len(v) > 1 else v[0] for k, v in parser.data.items()}


def relation_fields(model):
    return [
        f
        for f in model._meta.get_fields()
        if f.concrete and f.is_relation and (f.many_to_one or f.one_to_one or f.many_to_many) and f.editable
    ]


@pytest.fixture
def built(request, tenant_a, tenant_b):
    label = request.param
    if label not in BUILDERS:
        pytest.fail(
            f"The admin registers {label} but tests/oa_platform/admin_builders.py has no builder for it: "
            "add one so the tenant-isolation test covers it."
        )
    return _model(label), BUILDERS[label](tenant_a.account), BUILDERS[label](tenant_b.account)


def test_every_registered_admin_is_scoped():
    unscoped = [label for label in LABELS if not isinstance(REGISTRY[_model(label)], TenantScopedAdmin)]
    assert not unscoped, f"admins not built on oa_platform.admin_scoping: {unscoped}"


def test_every_tenant_model_has_a_builder():
    missing = sorted(set(TENANT_LABELS) - set(BUILDERS))
    assert not missing, f"add builders to tests/oa_platform/admin_builders.py for: {missing}"


@pytest.mark.parametrize("built", TENANT_LABELS, indirect=True)
def test_changelist_search_and_filters_hide_other_agency(client, tenant_a, tenant_b, built):
    model, obj_a, obj_b = built
    model_admin = REGISTRY[model]
    client.force_login(tenant_a.manager)
    url = _url(model, "changelist")
    # given the control: A's manager sees A's row
    response = client.get(url)
    assert response.status_code == 200
    assert obj_a.pk in {o.pk for o in response.context["cl"].queryset}
    assert obj_b.pk not in {o.pk for o in response.context["cl"].queryset}
    assert _url(model, "change", obj_b.pk) not in response.content.decode()
    # searching for B's row by its name finds nothing of B
    if model_admin.search_fields:
        response = client.get(url, {"q": str(obj_b)[:40]})
        assert obj_b.pk not in {o.pk for o in response.context["cl"].queryset}
    # filter choices never list B's rows, and filtering on B's related row shows nothing of B
    for spec in response.context["cl"].filter_specs:
        field = getattr(spec, "field", None)
        if field is None or not getattr(field, "is_relation", False):
            continue
        offered = {pk for pk, _label in getattr(spec, "lookup_choices", [])}
        assert not offered & foreign_ids(field.related_model, tenant_a, tenant_b), spec.title
        for foreign in foreign_ids(field.related_model, tenant_a, tenant_b):
            response = client.get(url, {f"{spec.field_path}__{field.target_field.name}__exact": foreign})
            if response.status_code == 200:
                assert obj_b.pk not in {o.pk for o in response.context["cl"].queryset}


@pytest.mark.parametrize("built", TENANT_LABELS, indirect=True)
def test_other_agency_object_urls_are_closed(client, tenant_a, tenant_b, built):
    model, obj_a, obj_b = built
    before = snapshot(obj_b)
    client.force_login(tenant_a.manager)
    for name in ("change", "delete", "history"):
        response = client.get(_url(model, name, obj_b.pk))
        assert response.status_code in (302, 403, 404), name
        assert str(obj_b) not in response.content.decode() or not str(obj_b)
    # posting a change or a delete to B's row does nothing
    own_form = client.get(_url(model, "change", obj_a.pk))
    data = form_data(own_form, model) if own_form.status_code == 200 else {}
    client.post(_url(model, "change", obj_b.pk), data)
    client.post(_url(model, "delete", obj_b.pk), {"post": "yes"})
    assert snapshot(obj_b) == before


@pytest.mark.parametrize("built", TENANT_LABELS, indirect=True)
def test_dropdowns_offer_nothing_of_other_agency(client, tenant_a, tenant_b, built):
    model, obj_a, _obj_b = built
    client.force_login(tenant_a.manager)
    pages = [client.get(_url(model, "change", obj_a.pk)), client.get(_url(model, "add"))]
    assert pages[0].status_code == 200
    for response in pages:
        if response.status_code != 200:
            continue
        all_forms = [response.context["adminform"].form]
        for inline in response.context["inline_admin_formsets"]:
            all_forms += list(inline.formset.forms) + [inline.formset.empty_form]
        for form in all_forms:
            for name, field in form.fields.items():
                if isinstance(field, forms.ModelChoiceField):
                    leaked = {o.pk for o in field.queryset} & foreign_ids(field.queryset.model, tenant_a, tenant_b)
                    assert not leaked, f"{name} offers {field.queryset.model.__name__} {leaked} of agency B"


@pytest.mark.parametrize("built", TENANT_LABELS, indirect=True)
def test_posting_other_agency_foreign_keys_is_refused(client, tenant_a, tenant_b, built):
    model, obj_a, obj_b = built
    client.force_login(tenant_a.manager)
    change_url = _url(model, "change", obj_a.pk)
    page = client.get(change_url)
    assert page.status_code == 200
    data = form_data(page, model)
    form_fields = page.context["adminform"].form.fields
    b_rows_before = ids_of(model, tenant_b.account)
    targets = [f for f in relation_fields(model) if f.name in form_fields]
    can_change = REGISTRY[model].has_change_permission(page.wsgi_request, obj_a)
    if can_change:
        # control: the unchanged form saves
        response = client.post(change_url, data)
        assert response.status_code == 302, getattr(response.context["adminform"].form, "errors", response)
    for field in targets:
        foreign = foreign_ids(field.related_model, tenant_a, tenant_b)
        if not foreign:
            continue
        own_value = getattr(obj_a, field.attname) if not field.many_to_many else None
        preferred = getattr(obj_b, field.attname, None) if not field.many_to_many else None
        value = preferred if preferred in foreign else sorted(foreign)[0]
        attack = {**data, field.name: [str(value)] if field.many_to_many else str(value)}
        response = client.post(change_url, attack)
        assert response.status_code in (200, 403), f"{field.name}: {response.status_code}"
        obj_a.refresh_from_db()
        if field.many_to_many:
            assert not {o.pk for o in getattr(obj_a, field.name).all()} & foreign
        else:
            assert getattr(obj_a, field.attname) == own_value
        # the same through the add form
        add = client.post(_url(model, "add"), attack)
        assert add.status_code in (200, 403), f"add {field.name}: {add.status_code}"
    assert ids_of(model, tenant_b.account) == b_rows_before


@pytest.mark.parametrize("built", TENANT_LABELS, indirect=True)
def test_actions_cannot_touch_other_agency(client, tenant_a, tenant_b, built):
    model, obj_a, obj_b = built
    client.force_login(tenant_a.manager)
    page = client.get(_url(model, "changelist"))
    before = snapshot(obj_b)
    actions = REGISTRY[model].get_actions(page.wsgi_request)
    for name in actions:
        client.post(
            _url(model, "changelist"),
            {"action": name, "_selected_action": [obj_b.pk], "post": "yes", "confirm": "yes", "index": 0},
        )
        assert snapshot(obj_b) == before, name


def _autocomplete_sources():
    for source_model, source_admin in REGISTRY.items():
        for inline in [None, *source_admin.inlines]:
            model = inline.model if inline else source_model
            for field in relation_fields(model):
                target_admin = REGISTRY.get(field.related_model)
                if target_admin is not None and target_admin.search_fields:
                    yield f"{model._meta.label_lower}.{field.name}"


@pytest.mark.parametrize("source", sorted(set(_autocomplete_sources())))
def test_autocomplete_hides_other_agency(client, tenant_a, tenant_b, source):
    label, field_name = source.rsplit(".", 1)
    app_label, model_name = label.split(".")
    for builder_label in BUILDERS:  # rows of every kind for both agencies
        BUILDERS[builder_label](tenant_a.account)
        BUILDERS[builder_label](tenant_b.account)
    from django.apps import apps

    target = apps.get_model(app_label, model_name)._meta.get_field(field_name).related_model
    foreign = foreign_ids(target, tenant_a, tenant_b)
    client.force_login(tenant_a.manager)
    for term in ("", "agency-b", "Công dân"):
        response = client.get(
            reverse("admin:autocomplete"),
            {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": term},
        )
        assert response.status_code in (200, 403, 404)
        if response.status_code == 200:
            ids = {r["id"] for r in response.json()["results"]}
            assert not ids & {str(pk) for pk in foreign}


@pytest.mark.parametrize("label", SUPERUSER_LABELS)
def test_superuser_only_models_closed_to_staff(client, tenant_a, label):
    model = _model(label)
    client.force_login(tenant_a.manager)
    assert client.get(_url(model, "changelist")).status_code == 403
    assert client.get(_url(model, "add")).status_code == 403
    if model is get_user_model():
        assert client.get(_url(model, "change", tenant_a.editor.pk)).status_code in (302, 403)


@pytest.mark.parametrize("label", SHARED_LABELS)
def test_shared_reference_models_read_only_for_staff(client, tenant_a, label):
    model = _model(label)
    obj = model._default_manager.first()
    client.force_login(tenant_a.manager)
    assert client.get(_url(model, "changelist")).status_code == 200
    assert client.get(_url(model, "add")).status_code == 403
    if obj is not None:
        before = snapshot(obj)
        client.post(_url(model, "change", obj.pk), {"name": "changed"})
        client.post(_url(model, "delete", obj.pk), {"post": "yes"})
        assert snapshot(obj) == before


def test_admin_index_lists_no_superuser_models_for_staff(client, tenant_a):
    client.force_login(tenant_a.editor)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    listed = {m["object_name"] for app in response.context["app_list"] for m in app["models"]}
    assert "User" not in listed and "ApiToken" not in listed and "Membership" not in listed
    assert "Topic" in listed


def test_relation_fields_helper_sees_foreign_keys():
    from oa_platform.models import Message

    assert "conversation" in {f.name for f in relation_fields(Message)}
    assert all(isinstance(f, models.Field) for f in relation_fields(Message))


@pytest.mark.parametrize("label", sorted(BUILDERS))
def test_builder_makes_a_row_of_the_given_agency(tenant_a, tenant_b, label):
    from django.apps import apps

    model = apps.get_model(label)
    obj = BUILDERS[label](tenant_b.account)
    assert obj.pk in ids_of(model, tenant_b.account)
    assert obj.pk not in ids_of(model, tenant_a.account)
