"""Live push of notices to open chat pages: ONE group send per notice to the account group; each consumer
filters in memory against a snapshot of its citizen (``citizen_snapshot``) with ``notice_for``."""

from __future__ import annotations

from broadcasts.models import Delivery, Notice
from oa_platform import live
from oa_platform.models import Area, Citizen, Follow
from oa_platform.url_policy import is_web_url

# Follow-ups and test notices pushed live name their citizens; above this the push uses the audience filters.
LIVE_IDS_MAX = 5000


def notice_payload(notice: Notice) -> dict:
    """Every language's text, so one event serves every citizen; ``notice_for`` picks theirs."""
    return {
        "id": notice.pk,
        "kind": notice.kind,
        "severity": notice.severity,
        "category": notice.category,
        "link": notice.link if is_web_url(notice.link) else "",
        "references": notice.references_id,
        "sent_at": (notice.started_at.isoformat() if notice.started_at else None),
        "texts": {
            "vi": {"title": notice.title_vi, "body": notice.body_vi},
            "en": {"title": notice.title_en, "body": notice.body_en},
            "zh-hans": {"title": notice.title_zh, "body": notice.body_zh},
        },
    }


def notice_audience(notice: Notice) -> dict:
    """Filters of the push; an empty list means "no restriction". ``citizen_ids`` names the recipients of
    test notices and follow-ups (small sets); None otherwise."""
    audience = {"topics": [], "area_paths": [], "languages": [], "citizen_ids": None}
    if notice.mode == Notice.MODE_TEST or notice.references_id is not None:
        ids = list(
            Delivery.objects.filter(notice=notice, channel=Delivery.CHANNEL_INAPP)
            .order_by("citizen_id")
            .values_list("citizen_id", flat=True)[: LIVE_IDS_MAX + 1]
        )
        if len(ids) <= LIVE_IDS_MAX or notice.mode == Notice.MODE_TEST:
            audience["citizen_ids"] = ids[:LIVE_IDS_MAX]
            return audience
        notice = notice.references or notice  # a large follow-up: the original's filters
    if not notice.audience_all:  # as in fanout.audience_from: "all followers" lifts only the topic filter
        audience["topics"] = list(notice.audience_topics or [notice.category])
    audience["area_paths"] = list(Area.objects.filter(code__in=notice.audience_areas).values_list("path", flat=True))
    audience["languages"] = list(notice.audience_languages)
    return audience


def notice_push(*, notice_id: int) -> bool:
    """One group_send for the whole notice (channel-layer operations do not grow with recipients)."""
    notice = Notice.objects.select_related("references").filter(pk=notice_id).first()
    if notice is None:
        return False
    event = {"type": "notice.push", "notice": notice_payload(notice), "audience": notice_audience(notice)}
    return live.group_send(live.account_group(notice.account_id), event)


def citizen_snapshot(*, account_id: int, citizen_id: int) -> dict:
    """What the consumer needs to filter pushes for one citizen (sync DB read; wrap in database_sync_to_async)."""
    citizen = Citizen.objects.select_related("home_area").filter(pk=citizen_id).first()
    follow = Follow.objects.filter(account_id=account_id, citizen_id=citizen_id).first()
    following = bool(follow and follow.is_active)
    topics: list[str] = []
    area_paths: list[str] = []
    if follow is not None:
        topics = list(follow.subscriptions.values_list("topic__key", flat=True))
        area_paths = list(follow.areas.values_list("path", flat=True))
    if not area_paths and citizen is not None and citizen.home_area_id:
        area_paths = [citizen.home_area.path]
    return {
        "account_id": account_id,
        "citizen_id": citizen_id,
        "following": following,
        "topics": topics,
        "area_paths": area_paths,
        "language": citizen.language if citizen else "vi",
    }


def _in_areas(mine: list[str], wanted: list[str]) -> bool:
    return any(p == w or p.startswith(w + "/") for p in mine for w in wanted)


def notice_for(snapshot: dict, event: dict) -> dict | None:
    """Pure: the notice in the citizen's language when this citizen is targeted by the push, else None."""
    audience = event.get("audience") or {}
    ids = audience.get("citizen_ids")
    if ids is not None:
        if snapshot.get("citizen_id") not in ids:
            return None
    else:
        if not snapshot.get("following"):
            return None
        if audience.get("topics") and not set(audience["topics"]) & set(snapshot.get("topics") or []):
            return None
        if audience.get("area_paths") and not _in_areas(snapshot.get("area_paths") or [], audience["area_paths"]):
            return None
        if audience.get("languages") and snapshot.get("language") not in audience["languages"]:
            return None
    notice = event.get("notice") or {}
    language = snapshot.get("language") or "vi"
    texts = notice.get("texts") or {}
    text = texts.get(language) or {}
    if not (text.get("title") and text.get("body")):
        text = texts.get("vi") or {}
    return {
        "id": notice.get("id"),
        "kind": notice.get("kind"),
        "severity": notice.get("severity"),
        "category": notice.get("category"),
        "link": notice.get("link") if is_web_url(notice.get("link") or "") else "",
        "references": notice.get("references"),
        "sent_at": notice.get("sent_at"),
        "title": text.get("title", ""),
        "body": text.get("body", ""),
    }
