"""Builders for test data. Each returns saved rows; names are unique per call."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model

from oa_platform.models import Citizen, Membership, OfficialAccount
from oa_platform.services import account_create, citizen_get_or_create, follow_create, token_issue

_seq = itertools.count(1)


def make_account(slug: str | None = None, **kwargs) -> OfficialAccount:
    n = next(_seq)
    slug = slug or f"agency-{n}"
    return account_create(slug=slug, name=kwargs.pop("name", f"Agency {slug}"), **kwargs)


def make_staff(account: OfficialAccount | None, role: str = Membership.ROLE_MANAGER, username: str | None = None, **kw):
    User = get_user_model()
    username = username or f"staff{next(_seq)}"
    user = User.objects.create_user(username=username, password="pw-Staff-123", is_staff=True, **kw)
    if account is not None:
        Membership.objects.create(user=user, account=account, role=role)
    return user


def make_token(account: OfficialAccount, scopes=None, name: str = "test") -> str:
    _token, raw = token_issue(account=account, name=name, scopes=scopes)
    return raw


def make_citizen(external_id: str | None = None, channel: str = Citizen.CHANNEL_WEB, **kwargs) -> Citizen:
    citizen, _created = citizen_get_or_create(channel=channel, external_id=external_id or f"cit-{next(_seq)}", **kwargs)
    return citizen


def make_follower(account: OfficialAccount, **kwargs) -> Citizen:
    citizen = make_citizen(**kwargs)
    follow_create(account=account, citizen=citizen)
    return citizen
