"""Builders for test data. Each returns saved rows; names are unique per call."""

from __future__ import annotations

import datetime as dt
import itertools

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from broadcasts.models import BroadcastSettings
from oa_platform.models import Citizen, Membership, OfficialAccount
from oa_platform.services import account_create, citizen_get_or_create, follow_create, token_issue

_seq = itertools.count(1)


# A test account has no quiet hours unless the test sets them: the default (21:00-06:00 in the account's
# time zone) would make a notice's dispatch time depend on the hour the suite runs.
NO_QUIET_HOURS = (dt.time(0, 0), dt.time(0, 0))


def make_account(
    slug: str | None = None, *, quiet_hours: tuple[dt.time, dt.time] = NO_QUIET_HOURS, **kwargs
) -> OfficialAccount:
    n = next(_seq)
    slug = slug or f"agency-{n}"
    account = account_create(slug=slug, name=kwargs.pop("name", f"Agency {slug}"), **kwargs)
    set_quiet_hours(account, *quiet_hours)
    return account


def set_quiet_hours(account: OfficialAccount, start: dt.time, end: dt.time) -> None:
    """The account's quiet hours, local time; start == end means none."""
    BroadcastSettings.objects.update_or_create(account=account, defaults={"quiet_start": start, "quiet_end": end})


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


def make_citizen(
    external_id: str | None = None, channel: str = Citizen.CHANNEL_WEB, account: OfficialAccount | None = None, **kwargs
) -> Citizen:
    """A citizen of ``account`` (None: a web browser identity, shared by the accounts it follows)."""
    external_id = external_id or f"cit-{next(_seq)}"
    citizen, _created = citizen_get_or_create(account=account, channel=channel, external_id=external_id, **kwargs)
    return citizen


def make_citizen_of(account: OfficialAccount, channel: str = Citizen.CHANNEL_WEB, **kwargs) -> Citizen:
    """A citizen reached through ``account``: its own on an integration's channel, a browser identity on web."""
    return make_citizen(channel=channel, account=None if channel == Citizen.CHANNEL_WEB else account, **kwargs)


def make_follower(account: OfficialAccount, **kwargs) -> Citizen:
    citizen = make_citizen_of(account, **kwargs)
    follow_create(account=account, citizen=citizen)
    return citizen


def migrate_to(targets: list[tuple[str, str]]):
    """Migrate the test database to ``targets`` (app, migration) and return the models of that state."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps
