"""Isolation builders for the console's personal notice pages (registered into isolation_builders.URL_BUILDERS)."""

from __future__ import annotations

import itertools

from django.core.files.uploadedfile import SimpleUploadedFile

from broadcasts.personal.lists import list_upload
from broadcasts.personal.services import template_approve, template_save
from broadcasts.services import Actor
from tests import factories
from tests.oa_platform.console.isolation_builders import url_builder

_seq = itertools.count(1)


def a_recipient_list(account):
    author = factories.make_staff(account, "broadcaster")
    version = template_save(
        account=account, actor=Actor(user=author), key=f"t{next(_seq)}", name="Lịch tiêm", body_vi="Chào ((name))"
    )
    template_approve(template=version.template, actor=Actor(user=factories.make_staff(account, "approver")))
    data = f"phone,name\n0912345678,Công dân {account.slug}\n12,x\n".encode()
    return list_upload(
        account=account,
        actor=Actor(user=author),
        template_key=version.template.key,
        fileobj=SimpleUploadedFile("list.csv", data),
        file_name="list.csv",
    )


@url_builder("staff:personal")
def personal_home(account):
    a_recipient_list(account)
    return {"slug": account.slug}


@url_builder(
    "staff:personal-list",
    "staff:personal-submit",
    "staff:personal-approve",
    "staff:personal-cancel",
    "staff:personal-report",
)
def personal_list(account):
    return {"slug": account.slug, "pk": a_recipient_list(account).pk}


@url_builder("staff:personal-template-new")
def personal_template_new(account):
    return {"slug": account.slug}


@url_builder("staff:personal-template-approve")
def personal_pending_template(account):
    author = factories.make_staff(account, "broadcaster")
    version = template_save(account=account, actor=Actor(user=author), key=f"p{next(_seq)}", name="n", body_vi="x")
    return {"slug": account.slug, "key": version.template.key}
