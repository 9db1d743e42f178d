"""Who a form's rounds are for: the account's followers (of one topic, in one area), its staff, or the people of a
list of phones. The round's audience count, the "not answered" list and the messages on opening and reminding
all read ``audience_citizens``, so they always agree."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from oa_platform.collect.models import AnswerLink, Form, Response, Round
from oa_platform.errors import ValidationFailed
from oa_platform.models import Area, Citizen, Follow, Membership, OfficialAccount, Topic
from oa_platform.phones import normalize_phone


def audience_citizens(form: Form) -> QuerySet[Citizen]:
    """The citizens a round of ``form`` is for (a queryset, no duplicates)."""
    account = form.account
    if form.audience == Form.AUDIENCE_STAFF:
        ids = Membership.objects.filter(account=account, test_citizen__isnull=False).values("test_citizen_id")
        return Citizen.objects.filter(pk__in=ids)
    if form.audience == Form.AUDIENCE_LIST:
        # People of the list the account can reach: its followers and the citizens of its own channels.
        followers = Follow.objects.filter(account=account, is_active=True).values("citizen_id")
        return Citizen.objects.filter(Q(account=account) | Q(pk__in=followers), phone__in=form.audience_phones or [""])
    return Citizen.objects.filter(pk__in=_audience_follows(form).values("citizen_id"))


def _audience_follows(form: Form) -> QuerySet[Follow]:
    """The active follows of the account that make a followers audience (its topic, its area)."""
    follows = Follow.objects.filter(account=form.account, is_active=True)
    if form.audience_topic:
        follows = follows.filter(subscriptions__topic__key=form.audience_topic)
    if form.audience_area_id:
        # As broadcasts do: an area the follower chose lies in it, or, having chosen none, their home area does.
        path = Area.objects.filter(pk=form.audience_area_id).values_list("path", flat=True).first() or "-"
        inside = Area.objects.filter(Q(path=path) | Q(path__startswith=path + "/")).values("pk")
        follows = follows.filter(Q(areas__in=inside) | Q(areas__isnull=True, citizen__home_area__in=inside))
    return follows


def audience_has(form: Form, citizen: Citizen, *, created: bool = False) -> bool:
    """Whether ``citizen`` is in the audience of ``form``'s rounds now (as ``audience_citizens`` says), by one
    indexed lookup of this one person: its cost does not grow with the audience or the responses (a list's
    phones are already loaded with the form). ``created``: the citizen was created in this transaction, so no
    follow and no staff membership names them yet: known without a query."""
    account = form.account
    if form.audience == Form.AUDIENCE_STAFF:
        return not created and Membership.objects.filter(account=account, test_citizen=citizen).exists()
    if form.audience == Form.AUDIENCE_LIST:
        if not citizen.phone or citizen.phone not in set(form.audience_phones or ()):
            return False
        if citizen.account_id == account.pk:
            return True
        return not created and Follow.objects.filter(account=account, citizen=citizen, is_active=True).exists()
    return not created and _audience_follows(form).filter(citizen=citizen).exists()


def non_responders(*, form: Form, round_: Round) -> QuerySet[Citizen]:
    """The round's audience who have not answered it, by id."""
    answered = Response.objects.filter(round=round_).values("citizen_id")
    return audience_citizens(form).exclude(pk__in=answered).order_by("pk")


def phones_clean(raw) -> tuple[list[str], list[str]]:
    """Phones typed or copied (a list of strings): (E.164 phones without repeats, the entries that are not
    phones). At most Form.AUDIENCE_PHONES_MAX."""
    phones, bad = [], []
    for entry in raw or []:
        entry = str(entry).strip()
        if not entry:
            continue
        try:
            phones.append(normalize_phone(entry))
        except ValueError:
            bad.append(entry[:40])
    return list(dict.fromkeys(phones)), bad


def audience_clean(*, account: OfficialAccount, audience: dict | None) -> dict:
    """The Form fields of an audience ({kind, topic, area, phones, list_name}), checked against the account:
    a topic of this account, a known area code, a list with at least one phone and none that is not one."""
    audience = audience or {}
    kind = audience.get("kind") or Form.AUDIENCE_FOLLOWERS
    if kind not in dict(Form.AUDIENCE_CHOICES):
        raise ValidationFailed(_("Unknown audience."), fields={"audience": _("followers, staff or list.")})
    fields = {
        "audience": kind,
        "audience_topic": "",
        "audience_area": None,
        "audience_phones": [],
        "audience_list_name": "",
    }
    if kind == Form.AUDIENCE_FOLLOWERS:
        topic = audience.get("topic") or ""
        if topic and not Topic.objects.filter(account=account, key=topic).exists():
            raise ValidationFailed(_("Unknown topic."), fields={"audience": _("No such topic in this account.")})
        area = None
        if audience.get("area"):
            area = Area.objects.filter(code=str(audience["area"])[:20]).first()
            if area is None:
                raise ValidationFailed(_("Unknown area."), fields={"audience": _("No such area.")})
        fields.update(audience_topic=topic, audience_area=area)
    elif kind == Form.AUDIENCE_LIST:
        phones, bad = phones_clean(audience.get("phones"))
        if bad:
            raise ValidationFailed(
                _("Some entries are not phone numbers."),
                fields={"audience": _("Not phone numbers: %(list)s") % {"list": ", ".join(bad[:10])}},
            )
        if not phones:
            raise ValidationFailed(_("The list has no phone."), fields={"audience": _("At least one phone.")})
        if len(phones) > Form.AUDIENCE_PHONES_MAX:
            raise ValidationFailed(
                _("The list is too long."),
                fields={"audience": _("At most %(n)s phones.") % {"n": Form.AUDIENCE_PHONES_MAX}},
            )
        fields.update(audience_phones=phones, audience_list_name=str(audience.get("list_name") or "")[:200])
    return fields


def answering_as(*, account: OfficialAccount, citizen: Citizen) -> Citizen:
    """The person ``citizen`` answers ``account``'s forms as: a browser's web identity that opened a personal
    link answers as the person the link was sent to; anyone else as themselves."""
    if citizen.account_id is not None or citizen.pk is None:
        return citizen
    link = AnswerLink.objects.filter(account=account, web_citizen=citizen).select_related("citizen").first()
    return link.citizen if link is not None else citizen
